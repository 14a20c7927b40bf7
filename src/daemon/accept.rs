//! `driftwall baseline accept` while the daemon runs. The command cannot
//! just rewrite the state file: the running daemon holds the state in
//! memory and would write its old baseline back at its next save. So the
//! command leaves a request in `state_dir/accept/` (atomically), which the
//! daemon, watching that folder, applies and removes once its own state
//! with the new baseline is saved. The command also applies the request to
//! the state file itself, for when no daemon runs; applying twice changes
//! nothing.

use crate::drift::event::{Event, EventKind, RequirementEdit};
use crate::drift::sources::{SourceState, Sources};
use crate::fsutil::write_atomic;
use crate::policy::check::Status;
use crate::stable_hash::fnv;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The folder of requests, in the state directory.
pub fn folder(state_dir: &Path) -> PathBuf {
    state_dir.join("accept")
}

/// What a person accepted: each source's state as they saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub sources: BTreeMap<String, SourceState>,
}

/// Leaves a request for the daemon; returns its file.
pub fn leave(state_dir: &Path, request: &Request) -> std::io::Result<PathBuf> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let path = folder(state_dir).join(format!("{now:024}-{}.json", std::process::id()));
    write_atomic(
        &path,
        &serde_json::to_vec_pretty(request).map_err(std::io::Error::other)?,
    )?;
    Ok(path)
}

/// The requests waiting, oldest first. An unreadable one is skipped with
/// a warning (and left for a person to look at).
pub fn pending(state_dir: &Path) -> Vec<(PathBuf, Request)> {
    let Ok(entries) = std::fs::read_dir(folder(state_dir)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| match std::fs::read(&p).map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice::<Request>(&b).map_err(|e| e.to_string())) {
            Ok(r) => Some((p, r)),
            Err(e) => {
                tracing::warn!(request = %p.display(), error = %e, "cannot read a baseline request; it is left in place");
                None
            }
        })
        .collect()
}

/// Makes the request's states the accepted baseline; returns one event per
/// source whose baseline changed, naming what still fails in it (those
/// alerts end: the person has seen them and wants them so).
pub fn apply(state: &mut Sources, request: &Request, key: &str) -> Vec<Event> {
    let mut events = Vec::new();
    for (name, st) in &request.sources {
        let accepted = SourceState {
            accepted: true,
            ..st.clone()
        };
        if state.baseline.get(name) == Some(&accepted) {
            continue;
        }
        state.baseline.insert(name.clone(), accepted);
        let still: Vec<RequirementEdit> = st
            .results
            .iter()
            .filter(|r| r.status != Status::Pass)
            .map(|r| RequirementEdit {
                policy: r.policy.clone(),
                requirement: r.requirement.clone(),
                what: r.what.clone(),
                before: r.status.into(),
                after: r.status,
                witnesses: Vec::new(),
            })
            .collect();
        let list = still
            .iter()
            .map(|r| format!("{}/{} ({})", r.policy, r.requirement, r.after))
            .collect::<Vec<_>>()
            .join(", ");
        let details = if still.is_empty() {
            "Every requirement passes in the accepted state.\n".to_string()
        } else {
            format!(
                "Accepted while not passing: {list}. They are not alerted on again unless their result changes.\n"
            )
        };
        events.push(Event {
            id: fnv(format!(
                "{:?}\0{name}\0{}\0{key}",
                EventKind::BaselineAccepted,
                st.hash
            )
            .as_bytes()),
            kind: EventKind::BaselineAccepted,
            source: name.clone(),
            summary: format!("the current state of {name} was accepted as the baseline"),
            details,
            rules: Vec::new(),
            requirements: still,
        });
    }
    events
}

/// Removes requests once the state holding them is saved.
pub fn done(paths: &[PathBuf]) {
    for p in paths {
        if let Err(e) = std::fs::remove_file(p) {
            tracing::warn!(request = %p.display(), error = %e, "cannot remove an applied baseline request");
        }
    }
}
