//! File writes that a crash cannot tear: the daemon's state, the spool, the
//! outbox and report files all go through here.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The default of `--max-input-size`: far above any firewall file or
/// policy seen, far below what would exhaust a machine.
pub const DEFAULT_READ_LIMIT: u64 = 256 << 20;

static READ_LIMIT: AtomicU64 = AtomicU64::new(DEFAULT_READ_LIMIT);
/// Whether `--max-input-size` set the limit: then it stands over the
/// daemon's `max_source_size`.
static LIMIT_GIVEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Sets the limit [`read_input`] enforces (`--max-input-size`).
pub fn set_read_limit(bytes: u64) {
    READ_LIMIT.store(bytes, Ordering::Relaxed);
    LIMIT_GIVEN.store(true, Ordering::Relaxed);
}

/// Sets the limit unless `--max-input-size` gave one (the daemon's
/// `max_source_size`).
pub fn default_read_limit(bytes: u64) {
    if !LIMIT_GIVEN.load(Ordering::Relaxed) {
        READ_LIMIT.store(bytes, Ordering::Relaxed);
    }
}

/// `1048576`, `512K`, `256M`, `1G`: a size in bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (num, shift) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (t.get(..i).unwrap_or_default(), 10),
        Some((i, 'M' | 'm')) => (t.get(..i).unwrap_or_default(), 20),
        Some((i, 'G' | 'g')) => (t.get(..i).unwrap_or_default(), 30),
        _ => (t, 0),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1u64 << shift))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a size, expected e.g. 1048576, 512K, 256M or 1G"))
}

/// The limit [`read_input`] enforces now.
pub fn read_limit() -> u64 {
    READ_LIMIT.load(Ordering::Relaxed)
}

/// Reads a file the user named (a ruleset, an included file, a policy, a
/// configuration): only a regular file, and only up to [`read_limit`]
/// bytes. A device, FIFO or folder is refused before it is read (reading
/// `/dev/zero` never ends); a file past the limit is refused once the limit
/// is reached, without reading the rest.
pub fn read_input(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file (a device, a FIFO or a socket)"
        };
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{what}: only regular files are read"),
        ));
    }
    let limit = read_limit();
    let mut data = Vec::with_capacity(meta.len().min(limit) as usize);
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!(
                "larger than {}, the most driftwall reads; --max-input-size (or the daemon's max_source_size) raises the limit",
                size_text(limit)
            ),
        ));
    }
    Ok(data)
}

/// A size as people write it: `256 MiB`, `512 KiB`, `100 bytes`.
fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Text without a leading byte-order mark, which editors on Windows add
/// and which would make the first line unreadable, the mark invisible.
pub fn without_bom(text: String) -> String {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// A policy's or configuration's bytes as text: UTF-8 (with a leading
/// byte-order mark dropped), or an error that says where the first byte
/// that is not lies, by line and column.
pub fn utf8_text(bytes: Vec<u8>) -> std::io::Result<String> {
    match String::from_utf8(bytes) {
        Ok(t) => Ok(without_bom(t)),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // The prefix is valid UTF-8 by definition.
            let before = std::str::from_utf8(valid).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text: line {line}, column {column} holds a byte that is not"),
            ))
        }
    }
}

/// Removes the temporary files [`write_atomic`] leaves when the process is
/// killed between creating one and renaming it (`.NAME.tmp-PID-N`), in
/// `dir` and its folders one level down, but for this process's own. The
/// daemon calls it at start, when no other writer of its state runs.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let own = format!("-{}-", std::process::id());
    let mut removed = 0;
    let mut folders = vec![dir.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        folders.extend(
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir()),
        );
    }
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let stale = name.starts_with('.')
                && name.split_once(".tmp-").is_some_and(|(_, rest)| {
                    !rest.is_empty() && !format!("-{rest}").starts_with(&own)
                });
            if stale && e.path().is_file() && std::fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// Writes a file so that it is either the old one or the whole new one.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    // A bare file name has the empty path as parent, which cannot be opened.
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // Unique per writer: the delivery thread and the main loop may write at once.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{n}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        // A full disk must not fill the folder with empty temporary files.
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename itself is durable only once the folder is synced.
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("driftwall-fsutil-{}", std::process::id()));
        let path = dir.join("x.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["x.json"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
