//! The daemon's state as the metrics show it: a [`Snapshot`] made from the
//! watched sources, their baseline and the live-ruleset comparisons, at the
//! end of every turn.

use super::config::{Config, Watch};
use crate::drift::sources::Sources;
use crate::metrics::{LiveRow, RequirementRow, Snapshot, SourceRow};
use std::time::{SystemTime, UNIX_EPOCH};

/// The name a watched source is kept under (as `super::source_name`).
fn live_name(argv: &[String]) -> String {
    format!("live: {}", argv.join(" "))
}

pub fn snapshot(config: &Config, state: &Sources, last_assessment: Option<SystemTime>) -> Snapshot {
    let mut requirements = Vec::new();
    let mut sources = Vec::new();
    for (name, cur) in &state.current {
        let baseline = state.baseline.get(name);
        let accepted = baseline.filter(|b| b.accepted);
        for r in &cur.results {
            requirements.push(RequirementRow {
                policy: r.policy.clone(),
                requirement: r.requirement.clone(),
                source: name.clone(),
                status: r.status,
                accepted: accepted.is_some_and(|b| {
                    b.results.iter().any(|x| {
                        x.policy == r.policy
                            && x.requirement == r.requirement
                            && x.status == r.status
                    })
                }),
            });
        }
        sources.push(SourceRow {
            source: name.clone(),
            parses: cur.error.is_none(),
            rules: cur.rules,
            differs_from_baseline: baseline.is_some_and(|b| b.hash != cur.hash),
        });
    }
    let live = config
        .watch
        .iter()
        .filter_map(|w| match w {
            Watch::Command {
                argv,
                compare_with: Some(file),
                ..
            } => {
                let name = live_name(argv);
                Some(LiveRow {
                    differs: state.live_differs.contains_key(&name),
                    source: name,
                    compared_with: file.display().to_string(),
                })
            }
            _ => None,
        })
        .collect();
    Snapshot {
        requirements,
        sources,
        live,
        last_assessment: last_assessment
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64()),
        rescan_interval_seconds: config.rescan_interval.as_secs_f64(),
    }
}
