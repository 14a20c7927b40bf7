//! What the daemon keeps on disk: per watched source, the last good text
//! and what the policies said about it, and the accepted baseline. Written
//! atomically (temporary file, fsync, rename, fsync of the folder), so a
//! crash leaves the old state or the new one, never half of either.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

pub const STATE_VERSION: u32 = 1;

/// One requirement's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultState {
    pub policy: String,
    pub requirement: String,
    /// `pass`, `fail` or `indeterminate`.
    pub status: String,
}

/// A watched source as last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceState {
    /// FNV-1a of the text, to tell a touch from a change.
    pub hash: String,
    /// The last text that parsed (the last good state stays in force).
    pub text: String,
    pub results: Vec<ResultState>,
    /// The parse error of the latest text, if it did not parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// In the baseline: a person accepted it (`driftwall baseline accept`),
    /// so the results it holds are known and wanted, and a requirement that
    /// still fails the same way is not alerted on again. (The baseline made
    /// at the first reading is not accepted: its failures are reported.)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accepted: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// The latest state of each source, by its name (a path, or `live:` and the command).
    pub current: BTreeMap<String, SourceState>,
    /// The accepted state each source is compared with.
    pub baseline: BTreeMap<String, SourceState>,
    /// How many changes have been assessed: part of event ids, so the same
    /// change recurring later is a new event, while one recomputed after a
    /// crash (the state was not saved) keeps its id.
    #[serde(default)]
    pub seq: u64,
    /// For each live ruleset, the texts (hashes) last compared with its file,
    /// so one difference is reported once.
    #[serde(default)]
    pub compared: BTreeMap<String, String>,
    /// Live rulesets that differ from their file now, with what differs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub live_differs: BTreeMap<String, String>,
    /// The alert lifecycle: groups, events not sent yet, what each group
    /// last said; kept here so a restart resumes it.
    #[serde(default)]
    pub alerts: crate::alert::lifecycle::Lifecycle,
}

/// A stable 64-bit hash (FNV-1a) as hex: the same on every run and machine.
pub fn fnv(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl State {
    pub fn path(state_dir: &Path) -> std::path::PathBuf {
        state_dir.join("state.json")
    }

    /// The state in `state_dir`, or an empty one if there is none yet.
    pub fn load(state_dir: &Path) -> Result<State, String> {
        let p = State::path(state_dir);
        match std::fs::read(&p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State {
                version: STATE_VERSION,
                ..State::default()
            }),
            Err(e) => Err(format!("{}: cannot read the state: {e}", p.display())),
            Ok(bytes) => {
                let s: State = serde_json::from_slice(&bytes).map_err(|e| {
                    format!(
                        "{}: the state is not readable ({e}); move it away to start afresh",
                        p.display()
                    )
                })?;
                if s.version != STATE_VERSION {
                    return Err(format!(
                        "{}: state version {} is not {STATE_VERSION}",
                        p.display(),
                        s.version
                    ));
                }
                Ok(s)
            }
        }
    }

    pub fn save(&self, state_dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomic(&State::path(state_dir), &text)
    }
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
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    // The rename itself is durable only once the folder is synced.
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_stable() {
        assert_eq!(fnv(b""), "cbf29ce484222325");
        assert_eq!(fnv(b"a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn state_round_trips_atomically() {
        let dir = std::env::temp_dir().join(format!("driftwall-state-{}", std::process::id()));
        let mut s = State {
            version: STATE_VERSION,
            ..State::default()
        };
        s.current.insert(
            "/etc/x".into(),
            SourceState {
                hash: fnv(b"x"),
                text: "x".into(),
                results: vec![],
                error: None,
                accepted: false,
            },
        );
        s.save(&dir).unwrap();
        assert_eq!(State::load(&dir).unwrap(), s);
        // No temporary file is left behind.
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["state.json"]);
        std::fs::write(State::path(&dir), b"{not json").unwrap();
        assert!(State::load(&dir).unwrap_err().contains("not readable"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
