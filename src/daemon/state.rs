//! What the daemon keeps on disk: per watched source, the last good text
//! and what the policies said about it, and the accepted baseline. Written
//! atomically (temporary file, fsync, rename, fsync of the folder), so a
//! crash leaves the old state or the new one, never half of either.

use crate::drift::sources::Sources;
use crate::drift::text::Text;
use crate::fsutil::write_atomic;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub const STATE_VERSION: u32 = 1;

/// Why the state file cannot be used. The daemon stops rather than start
/// afresh over it, which would lose the baseline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("{path}: cannot read the state: {error}")]
    Unreadable { path: String, error: std::io::Error },
    #[error("{path}: the state is not readable ({error}); move it away to start afresh")]
    Corrupt {
        path: String,
        error: serde_json::Error,
    },
    #[error("{path}: state version {found} is not {STATE_VERSION}")]
    Version { path: String, found: u32 },
    #[error(
        "{path}: cannot read a text the state names ({what}); move the state folder away to start afresh"
    )]
    Text { path: String, what: String },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// The watched sources; flattened, so the file keeps its fields at the
    /// top level as before the split.
    #[serde(flatten)]
    pub sources: Sources,
    /// The alert lifecycle: groups, events not sent yet, what each group
    /// last said; kept here so a restart resumes it.
    #[serde(default)]
    pub alerts: crate::alert::lifecycle::Lifecycle,
}

impl State {
    pub fn path(state_dir: &Path) -> std::path::PathBuf {
        state_dir.join("state.json")
    }

    /// The state in `state_dir`, or an empty one if there is none yet.
    pub fn load(state_dir: &Path) -> Result<State, StateError> {
        let p = State::path(state_dir);
        match std::fs::read(&p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State {
                version: STATE_VERSION,
                ..State::default()
            }),
            Err(error) => Err(StateError::Unreadable {
                path: p.display().to_string(),
                error,
            }),
            Ok(bytes) => {
                let mut s: State =
                    serde_json::from_slice(&bytes).map_err(|error| StateError::Corrupt {
                        path: p.display().to_string(),
                        error,
                    })?;
                if s.version != STATE_VERSION {
                    return Err(StateError::Version {
                        path: p.display().to_string(),
                        found: s.version,
                    });
                }
                s.read_texts(state_dir)?;
                Ok(s)
            }
        }
    }

    /// The folder of the sources' texts, each kept once however many
    /// states hold it.
    pub fn texts_dir(state_dir: &Path) -> std::path::PathBuf {
        state_dir.join("texts")
    }

    /// Puts back the texts the state file names. A text read once is
    /// shared by every state that names it, as it was when saved.
    fn read_texts(&mut self, state_dir: &Path) -> Result<(), StateError> {
        let dir = State::texts_dir(state_dir);
        let mut read: BTreeMap<String, Text> = BTreeMap::new();
        let sources = &mut self.sources;
        for s in sources
            .current
            .values_mut()
            .chain(sources.baseline.values_mut())
        {
            let Some(name) = s.text_file.take() else {
                continue;
            };
            if let Some(t) = read.get(&name) {
                s.text = t.clone();
                continue;
            }
            let path = dir.join(&name);
            let unreadable = |what: &str| StateError::Text {
                path: path.display().to_string(),
                what: what.to_string(),
            };
            if !Text::is_file_name(&name) {
                return Err(unreadable("not a name the daemon gives a text"));
            }
            let bytes = std::fs::read(&path).map_err(|e| unreadable(&e.to_string()))?;
            let text = Text::from(String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8"))?);
            // A file that is not the text it is named for was changed by
            // something else: better stop than diff against it.
            if text.file_name() != name {
                return Err(unreadable("not the text it is named for"));
            }
            read.insert(name, text.clone());
            s.text = text;
        }
        Ok(())
    }

    /// Writes the state: first each text not kept yet, in `texts/`, then
    /// the state file naming them, atomically. A text is written once,
    /// whatever the number of saves; what no longer names it is removed by
    /// [`State::remove_unused_texts`].
    pub fn save(&self, state_dir: &Path) -> std::io::Result<()> {
        let dir = State::texts_dir(state_dir);
        // Cheap: texts are shared, not copied.
        let mut on_disk = self.clone();
        let sources = &mut on_disk.sources;
        for s in sources
            .current
            .values_mut()
            .chain(sources.baseline.values_mut())
        {
            let name = s.text.file_name().to_string();
            let path = dir.join(&name);
            if !path.exists() {
                write_atomic(&path, s.text.as_bytes())?;
            }
            s.text = Text::default();
            s.text_file = Some(name);
        }
        let text = serde_json::to_vec_pretty(&on_disk).map_err(std::io::Error::other)?;
        write_atomic(&State::path(state_dir), &text)
    }

    /// Removes the texts the saved state no longer names. Only the daemon
    /// calls it, after its own save: `driftwall baseline accept` writes the
    /// state file while a daemon may run, and the daemon's request, which
    /// holds its texts whole, puts back whatever it names.
    pub fn remove_unused_texts(&self, state_dir: &Path) -> usize {
        let sources = &self.sources;
        let used: BTreeSet<&str> = sources
            .current
            .values()
            .chain(sources.baseline.values())
            .map(|s| s.text.file_name())
            .collect();
        let Ok(entries) = std::fs::read_dir(State::texts_dir(state_dir)) else {
            return 0;
        };
        let mut removed = 0;
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            // Temporary files are for `fsutil::remove_stale_temps` at start.
            if Text::is_file_name(name)
                && !used.contains(name)
                && std::fs::remove_file(e.path()).is_ok()
            {
                removed += 1;
            }
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::sources::SourceState;
    use crate::stable_hash::fnv;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("driftwall-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn source(text: &Text) -> SourceState {
        SourceState {
            hash: fnv(text.as_bytes()),
            text: text.clone(),
            text_file: None,
            results: vec![],
            error: None,
            accepted: false,
            rules: None,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[test]
    fn state_round_trips_atomically() {
        let dir = scratch("trip");
        let mut s = State {
            version: STATE_VERSION,
            ..State::default()
        };
        s.sources
            .current
            .insert("/etc/x".into(), source(&Text::from("x")));
        s.save(&dir).unwrap();
        assert_eq!(State::load(&dir).unwrap(), s);
        // No temporary file is left behind.
        assert_eq!(names(&dir), vec!["state.json", "texts"]);
        assert_eq!(names(&State::texts_dir(&dir)).len(), 1);
        std::fs::write(State::path(&dir), b"{not json").unwrap();
        let e = State::load(&dir).unwrap_err();
        assert!(matches!(e, StateError::Corrupt { .. }));
        assert!(e.to_string().contains("the state is not readable"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Issue 18: the state of a big file was as big as the file, twice
    /// over with its baseline, and rewritten at every save.
    #[test]
    fn a_text_is_kept_once_outside_the_state_file_and_shared_again_when_read() {
        let dir = scratch("once");
        let big = Text::from("-A INPUT -s 192.0.2.1 -j DROP\n".repeat(40_000));
        let mut s = State {
            version: STATE_VERSION,
            ..State::default()
        };
        s.sources.current.insert("/etc/big".into(), source(&big));
        s.sources.baseline.insert("/etc/big".into(), source(&big));
        s.save(&dir).unwrap();
        let state_file = std::fs::metadata(State::path(&dir)).unwrap().len();
        assert!(state_file < 2_000, "the state file is {state_file} bytes");
        let kept = names(&State::texts_dir(&dir));
        assert_eq!(kept, vec![big.file_name().to_string()]);
        let on_disk = std::fs::read(State::texts_dir(&dir).join(&kept[0])).unwrap();
        assert_eq!(on_disk, big.as_bytes());
        let read = State::load(&dir).unwrap();
        assert_eq!(read, s);
        let (c, b) = (
            &read.sources.current["/etc/big"],
            &read.sources.baseline["/etc/big"],
        );
        assert!(
            std::ptr::eq(c.text.as_str(), b.text.as_str()),
            "one text in memory"
        );
        assert!(c.text_file.is_none());

        // A second save writes no text again; a new current text is one
        // more file, and the old one goes once nothing names it.
        let before = std::fs::metadata(State::texts_dir(&dir).join(&kept[0]))
            .unwrap()
            .modified()
            .unwrap();
        let mut s2 = read.clone();
        s2.save(&dir).unwrap();
        let after = std::fs::metadata(State::texts_dir(&dir).join(&kept[0]))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after);
        let small = Text::from("-A INPUT -j ACCEPT\n");
        s2.sources.current.insert("/etc/big".into(), source(&small));
        s2.save(&dir).unwrap();
        assert_eq!(
            s2.remove_unused_texts(&dir),
            0,
            "the baseline still names it"
        );
        assert_eq!(names(&State::texts_dir(&dir)).len(), 2);
        s2.sources
            .baseline
            .insert("/etc/big".into(), source(&small));
        s2.save(&dir).unwrap();
        assert_eq!(s2.remove_unused_texts(&dir), 1);
        assert_eq!(
            names(&State::texts_dir(&dir)),
            vec![small.file_name().to_string()]
        );
        assert_eq!(State::load(&dir).unwrap(), s2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_state_with_its_texts_inline_still_reads_and_a_changed_text_file_is_refused() {
        let dir = scratch("inline");
        std::fs::create_dir_all(&dir).unwrap();
        // As states were written before the texts had files of their own.
        std::fs::write(
            State::path(&dir),
            r#"{"version":1,"current":{"/etc/x":{"hash":"h","text":"old text","results":[]}},"baseline":{}}"#,
        )
        .unwrap();
        let s = State::load(&dir).unwrap();
        assert_eq!(s.sources.current["/etc/x"].text.as_str(), "old text");
        s.save(&dir).unwrap();
        let file = s.sources.current["/etc/x"].text.file_name().to_string();
        assert!(
            !std::fs::read_to_string(State::path(&dir))
                .unwrap()
                .contains("old text")
        );
        std::fs::write(State::texts_dir(&dir).join(&file), "other").unwrap();
        let e = State::load(&dir).unwrap_err().to_string();
        assert!(
            e.contains("not the text it is named for") && e.contains(&file),
            "{e}"
        );
        std::fs::remove_file(State::texts_dir(&dir).join(&file)).unwrap();
        let e = State::load(&dir).unwrap_err().to_string();
        assert!(e.contains("cannot read a text the state names"), "{e}");
        // A name that is not one the daemon gives is not read at all.
        let text = std::fs::read_to_string(State::path(&dir))
            .unwrap()
            .replace(&file, "../../etc/passwd");
        std::fs::write(State::path(&dir), text).unwrap();
        let e = State::load(&dir).unwrap_err().to_string();
        assert!(e.contains("not a name the daemon gives"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
