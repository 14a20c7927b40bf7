//! Files as they were at a Git revision, for `driftwall diff --base REV`:
//! read with `git show`, their nft includes read from the same revision
//! (not from the working tree, which holds the new version).

use crate::input::{self, Input, InputFormat};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a file could not be read at a revision. The messages say where, as
/// git names it (`REV:path`). Each message holds its cause's, so none is
/// marked as a `source`: a report that prints the chain would repeat it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    /// git ran and refused; its own message.
    #[error("{0}")]
    Git(String),
    /// A git failure about one object (`REV:path` or a tree).
    #[error("{at}: {error}")]
    At { at: String, error: Box<GitError> },
    #[error("cannot include `{pattern}` as of {rev}: an absolute path is not in the repository")]
    AbsoluteInclude { pattern: String, rev: String },
    #[error("cannot include `{pattern}` as of {rev}: it leads out of the repository")]
    IncludeOutside { pattern: String, rev: String },
    #[error("cannot read included file: {0}")]
    Include(Box<GitError>),
    #[error("{path}: {error}")]
    Folder { path: String, error: std::io::Error },
    #[error("{file}: not in a Git repository ({git})")]
    NotARepository { file: String, git: String },
    #[error("{file}: not a file")]
    NotAFile { file: String },
    #[error("{file}: outside the repository at {top}")]
    OutsideRepository { file: String, top: String },
    /// The file is not in the revision (typically: it is new).
    #[error("{0} (a new file has no base to compare with; `driftwall check` it)")]
    NoBase(Box<GitError>),
}

/// A file of a repository at a revision.
struct AtRevision {
    top: PathBuf,
    rev: String,
}

impl AtRevision {
    fn git(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.top)
            .args(args)
            .output()
            .map_err(GitError::Spawn)?;
        if !out.status.success() {
            return Err(GitError::Git(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(out.stdout)
    }

    fn show(&self, rel: &str) -> Result<String, GitError> {
        let at = format!("{}:{rel}", self.rev);
        let bytes = self.git(&["show", &at]).map_err(|e| GitError::At {
            at,
            error: Box::new(e),
        })?;
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// The files (blobs) of a folder at the revision.
    fn list(&self, dir: &str) -> Result<Vec<String>, GitError> {
        let spec = if dir.is_empty() {
            self.rev.clone()
        } else {
            format!("{}:{dir}", self.rev)
        };
        let out = self.git(&["ls-tree", &spec]).map_err(|e| GitError::At {
            at: spec.clone(),
            error: Box::new(e),
        })?;
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
    fn include(&self, including: &str, pattern: &str) -> Result<Vec<(String, String)>, GitError> {
        if pattern.starts_with('/') {
            return Err(GitError::AbsoluteInclude {
                pattern: pattern.to_string(),
                rev: self.rev.clone(),
            });
        }
        let base = Path::new(self.rel_of(including))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let full = normalize(&base.join(pattern)).ok_or_else(|| GitError::IncludeOutside {
            pattern: pattern.to_string(),
            rev: self.rev.clone(),
        })?;
        let (dir, name) = match full.rsplit_once('/') {
            Some((d, n)) => (d.to_string(), n.to_string()),
            None => (String::new(), full.clone()),
        };
        if !name.contains(['*', '?', '[']) {
            return Ok(vec![(
                self.shown(&full),
                self.show(&full)
                    .map_err(|e| GitError::Include(Box::new(e)))?,
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

/// Reads and parses `file` as it was at `rev` in its repository; a ufw
/// configuration folder with its files (and its defaults file) at `rev`.
pub fn load_at(rev: &str, file: &Path, format: InputFormat) -> Result<Input, GitError> {
    if format == InputFormat::Firewalld
        || (format == InputFormat::Auto && file.is_dir() && input::is_firewalld_dir(file))
    {
        let dir = if file.is_dir() {
            file
        } else {
            // A file of `zones/` (or another kind) stands for the folder above.
            let parent = file.parent().unwrap_or(Path::new("."));
            match parent.file_name().and_then(|n| n.to_str()) {
                Some(n) if input::FIREWALLD_KINDS.contains(&n) => {
                    parent.parent().unwrap_or(Path::new("."))
                }
                _ => parent,
            }
        };
        return load_firewalld_at(rev, dir);
    }
    if format == InputFormat::Ufw || (format == InputFormat::Auto && file.is_dir()) {
        let dir = if file.is_dir() {
            file
        } else {
            file.parent().unwrap_or(Path::new("."))
        };
        return load_ufw_at(rev, dir);
    }
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (dir, top) = work_tree(&dir, file)?;
    let name = file.file_name().ok_or_else(|| GitError::NotAFile {
        file: file.display().to_string(),
    })?;
    let rel = dir.join(name);
    let rel = rel
        .strip_prefix(&top)
        .map_err(|_| GitError::OutsideRepository {
            file: file.display().to_string(),
            top: top.display().to_string(),
        })?;
    let rel = rel.to_string_lossy().into_owned();
    let repo = AtRevision {
        top,
        rev: rev.to_string(),
    };
    let text = repo.show(&rel).map_err(|e| GitError::NoBase(Box::new(e)))?;
    Ok(input::load_text_with(
        &repo.shown(&rel),
        text,
        format,
        // The parsers take an include's failure as its message.
        &|including: &str, pattern: &str| {
            repo.include(including, pattern).map_err(|e| e.to_string())
        },
    ))
}

/// `dir` made absolute, and the top of the Git work tree holding it;
/// `named` is what an error names (the file asked about, or the folder).
fn work_tree(dir: &Path, named: &Path) -> Result<(PathBuf, PathBuf), GitError> {
    let dir = dir.canonicalize().map_err(|error| GitError::Folder {
        path: dir.display().to_string(),
        error,
    })?;
    let top = Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .map_err(GitError::Spawn)?;
    if !top.status.success() {
        return Err(GitError::NotARepository {
            file: named.display().to_string(),
            git: String::from_utf8_lossy(&top.stderr).trim().to_string(),
        });
    }
    let top = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim());
    Ok((dir, top))
}

/// A ufw configuration folder as it was at `rev`: each file ufw-init reads,
/// from the revision; the init scripts are taken as not executable.
fn load_ufw_at(rev: &str, dir: &Path) -> Result<Input, GitError> {
    let (dir, top) = work_tree(dir, dir)?;
    let repo = AtRevision {
        top: top.clone(),
        rev: rev.to_string(),
    };
    let rel_dir = dir
        .strip_prefix(&top)
        .map_err(|_| GitError::OutsideRepository {
            file: dir.display().to_string(),
            top: top.display().to_string(),
        })?
        .to_string_lossy()
        .into_owned();
    // The folder itself must be in the revision; a file of it may be absent.
    repo.list(&rel_dir)
        .map_err(|e| GitError::NoBase(Box::new(e)))?;
    let read = |path: &Path| -> Result<Option<(String, String)>, GitError> {
        let Some(rel) = path.strip_prefix(&top).ok().and_then(normalize) else {
            return Ok(None);
        };
        let (folder, name) = rel.rsplit_once('/').unwrap_or(("", rel.as_str()));
        if !repo
            .list(folder)
            .unwrap_or_default()
            .iter()
            .any(|n| n == name)
        {
            return Ok(None);
        }
        Ok(Some((repo.shown(&rel), repo.show(&rel)?)))
    };
    let files = input::ufw_files_with(&dir, None, &read, &|_| false)?;
    Ok(input::load_text_with(
        &repo.shown(&rel_dir),
        input::ufw_bundle(&files),
        InputFormat::Ufw,
        &|_: &str, p: &str| Err(format!("cannot include `{p}` in a ufw configuration")),
    ))
}

/// A firewalld configuration folder as it was at `rev`: `firewalld.conf`,
/// `direct.xml` and each kind's `*.xml` from the revision, over the stock
/// definitions of today (they are not in the repository).
fn load_firewalld_at(rev: &str, dir: &Path) -> Result<Input, GitError> {
    let (abs, top) = work_tree(dir, dir)?;
    let repo = AtRevision {
        top: top.clone(),
        rev: rev.to_string(),
    };
    let rel_dir = abs
        .strip_prefix(&top)
        .map_err(|_| GitError::OutsideRepository {
            file: abs.display().to_string(),
            top: top.display().to_string(),
        })?
        .to_string_lossy()
        .into_owned();
    let names = repo
        .list(&rel_dir)
        .map_err(|e| GitError::NoBase(Box::new(e)))?;
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            format!("{a}/{b}")
        }
    };
    let file = |rel: String| -> Result<(String, String), GitError> {
        Ok((repo.shown(&rel), repo.show(&rel)?))
    };
    let mut user = driftwall_parsers::firewalld::Folder {
        dir: repo.shown(&rel_dir),
        ..Default::default()
    };
    if names.iter().any(|n| n == "firewalld.conf") {
        user.conf = Some(file(join(&rel_dir, "firewalld.conf"))?);
    }
    if names.iter().any(|n| n == "direct.xml") {
        user.direct = Some(file(join(&rel_dir, "direct.xml"))?);
    }
    for kind in input::FIREWALLD_KINDS {
        // A kind's folder absent at the revision holds nothing.
        let sub = join(&rel_dir, kind);
        let mut xml: Vec<String> = repo
            .list(&sub)
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n.ends_with(".xml"))
            .collect();
        xml.sort();
        for n in xml {
            input::firewalld_put(&mut user, kind, file(join(&sub, &n))?);
        }
    }
    let stock = input::firewalld_stock(dir, None).map_err(|e| GitError::Folder {
        path: e.path,
        error: e.error,
    })?;
    Ok(input::firewalld_input(&repo.shown(&rel_dir), user, stock))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_file_outside_any_repository_says_so() {
        let dir = std::env::temp_dir().join(format!("driftwall-git-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("rules.v4");
        std::fs::write(&file, "*filter\nCOMMIT\n").unwrap();
        let e = load_at("HEAD", &file, InputFormat::Auto).unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        // git may be missing where the tests run; both errors name the cause.
        match &e {
            GitError::NotARepository { file: f, .. } => {
                assert!(
                    e.to_string()
                        .starts_with(&format!("{f}: not in a Git repository ("))
                );
            }
            GitError::Spawn(_) => assert!(e.to_string().starts_with("cannot run git: ")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn include_paths_stay_in_the_repository() {
        assert_eq!(
            normalize(Path::new("fw/./rules/../base.nft")).as_deref(),
            Some("fw/base.nft")
        );
        assert_eq!(normalize(Path::new("../x")), None);
    }
}
