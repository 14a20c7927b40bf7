//! Files as they were at a Git revision, for `driftwall diff --base REV`:
//! read with `git show`, their nft includes read from the same revision
//! (not from the working tree, which holds the new version).

use crate::input::{self, Input, InputFormat};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A file of a repository at a revision.
struct AtRevision {
    top: PathBuf,
    rev: String,
}

impl AtRevision {
    fn git(&self, args: &[&str]) -> Result<Vec<u8>, String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.top)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(out.stdout)
    }

    fn show(&self, rel: &str) -> Result<String, String> {
        let bytes = self
            .git(&["show", &format!("{}:{rel}", self.rev)])
            .map_err(|e| format!("{}:{rel}: {e}", self.rev))?;
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// The files (blobs) of a folder at the revision.
    fn list(&self, dir: &str) -> Result<Vec<String>, String> {
        let spec = if dir.is_empty() {
            self.rev.clone()
        } else {
            format!("{}:{dir}", self.rev)
        };
        let out = self
            .git(&["ls-tree", &spec])
            .map_err(|e| format!("{spec}: {e}"))?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .filter(|(meta, _)| meta.split_whitespace().nth(1) == Some("blob"))
            .map(|(_, name)| name.to_string())
            .collect())
    }

    /// Shown as git writes it: `REV:path`.
    fn shown(&self, rel: &str) -> String {
        format!("{}:{rel}", self.rev)
    }

    /// The repository path of a file shown by [`Self::shown`].
    fn rel_of<'a>(&self, shown: &'a str) -> &'a str {
        shown
            .strip_prefix(&format!("{}:", self.rev))
            .unwrap_or(shown)
    }

    /// An nft `include` read from the revision: relative to the including
    /// file's folder, globs expanded over the revision's folder.
    fn include(&self, including: &str, pattern: &str) -> Result<Vec<(String, String)>, String> {
        if pattern.starts_with('/') {
            return Err(format!(
                "cannot include `{pattern}` as of {}: an absolute path is not in the repository",
                self.rev
            ));
        }
        let base = Path::new(self.rel_of(including))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let full = normalize(&base.join(pattern)).ok_or_else(|| {
            format!(
                "cannot include `{pattern}` as of {}: it leads out of the repository",
                self.rev
            )
        })?;
        let (dir, name) = match full.rsplit_once('/') {
            Some((d, n)) => (d.to_string(), n.to_string()),
            None => (String::new(), full.clone()),
        };
        if !name.contains(['*', '?', '[']) {
            return Ok(vec![(
                self.shown(&full),
                self.show(&full)
                    .map_err(|e| format!("cannot read included file: {e}"))?,
            )]);
        }
        let mut names: Vec<String> = self
            .list(&dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|n| input::glob_match(&name, n))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| {
                let rel = if dir.is_empty() {
                    n
                } else {
                    format!("{dir}/{n}")
                };
                Ok((self.shown(&rel), self.show(&rel)?))
            })
            .collect()
    }
}

/// `a/./b/../c` as `a/c`; `None` when `..` climbs above the top.
fn normalize(p: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => {
                parts.pop()?;
            }
            _ => {}
        }
    }
    Some(parts.join("/"))
}

/// Reads and parses `file` as it was at `rev` in its repository.
pub fn load_at(rev: &str, file: &Path, format: InputFormat) -> Result<Input, String> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let top = Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !top.status.success() {
        return Err(format!(
            "{}: not in a Git repository ({})",
            file.display(),
            String::from_utf8_lossy(&top.stderr).trim()
        ));
    }
    let top = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim());
    let name = file
        .file_name()
        .ok_or_else(|| format!("{}: not a file", file.display()))?;
    let rel = dir.join(name);
    let rel = rel.strip_prefix(&top).map_err(|_| {
        format!(
            "{}: outside the repository at {}",
            file.display(),
            top.display()
        )
    })?;
    let rel = rel.to_string_lossy().into_owned();
    let repo = AtRevision {
        top,
        rev: rev.to_string(),
    };
    let text = repo.show(&rel).map_err(|e| {
        format!("{e} (a new file has no base to compare with; `driftwall check` it)")
    })?;
    Ok(input::load_text_with(
        &repo.shown(&rel),
        text,
        format,
        &|including: &str, pattern: &str| repo.include(including, pattern),
    ))
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    #[test]
    fn include_paths_stay_in_the_repository() {
        assert_eq!(
            normalize(Path::new("fw/./rules/../base.nft")).as_deref(),
            Some("fw/base.nft")
        );
        assert_eq!(normalize(Path::new("../x")), None);
    }
}
