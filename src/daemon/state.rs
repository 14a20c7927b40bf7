//! What the daemon keeps on disk: per watched source, the last good text
//! and what the policies said about it, and the accepted baseline. Written
//! atomically (temporary file, fsync, rename, fsync of the folder), so a
//! crash leaves the old state or the new one, never half of either.

use crate::drift::sources::Sources;
use crate::fsutil::write_atomic;
use serde::{Deserialize, Serialize};
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
                let s: State =
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
                Ok(s)
            }
        }
    }

    pub fn save(&self, state_dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomic(&State::path(state_dir), &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::sources::SourceState;
    use crate::stable_hash::fnv;

    #[test]
    fn state_round_trips_atomically() {
        let dir = std::env::temp_dir().join(format!("driftwall-state-{}", std::process::id()));
        let mut s = State {
            version: STATE_VERSION,
            ..State::default()
        };
        s.sources.current.insert(
            "/etc/x".into(),
            SourceState {
                hash: fnv(b"x"),
                text: "x".into(),
                results: vec![],
                error: None,
                accepted: false,
                rules: None,
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
        let e = State::load(&dir).unwrap_err();
        assert!(matches!(e, StateError::Corrupt { .. }));
        assert!(e.to_string().contains("the state is not readable"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
