//! What the daemon keeps on disk: per watched source, the last good text
//! and what the policies said about it, and the accepted baseline. Written
//! atomically (temporary file, fsync, rename, fsync of the folder), so a
//! crash leaves the old state or the new one, never half of either.

use crate::drift::sources::Sources;
use crate::fsutil::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const STATE_VERSION: u32 = 1;

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
