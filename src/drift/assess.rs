//! The assessment of a new text of a watched source against what was read
//! before and the accepted baseline: the events it makes, and the state it
//! leaves.

use super::diff;
use super::event::{Event, EventKind, Place, Reading, RequirementEdit, RuleEdit, Witnessed, lower};
use super::sources::{ResultState, SourceState, Sources};
use crate::input::{self, Input, InputFormat};
use crate::policy::{Policy, check};
use crate::stable_hash::fnv;

/// The diff's rule changes and verdict changes as data.
fn diff_edits(d: &diff::DiffReport) -> (Vec<RuleEdit>, Vec<RequirementEdit>) {
    let place = |a: &Option<diff::RuleAt>, r: &diff::RuleChange| {
        a.as_ref().map(|a| Place {
            file: a.file.clone(),
            line: a.line,
            text: a.text.clone(),
            table: r.table.clone(),
            chain: r.chain.clone(),
            phase: String::new(),
        })
    };
    let rules = d
        .rules
        .iter()
        .map(|r| RuleEdit {
            change: r.change,
            old: place(&r.old, r),
            new: place(&r.new, r),
        })
        .collect();
    let requirements = d
        .requirements
        .iter()
        .filter(|r| !r.changes.is_empty())
        .map(|r| RequirementEdit {
            policy: r.policy.clone(),
            requirement: r.requirement.clone(),
            what: {
                // The directions whose connections changed: the diff keeps
                // no other, and "tcp 443" alone does not say which way.
                let mut dirs: Vec<String> = Vec::new();
                for c in &r.changes {
                    let d = lower(&c.direction);
                    if !dirs.contains(&d) {
                        dirs.push(d);
                    }
                }
                format!("{} {} {}", r.protocols.join("+"), r.ports, dirs.join("+"))
            },
            before: r.before.into(),
            after: r.after,
            witnesses: r
                .changes
                .iter()
                .map(|c| Witnessed {
                    direction: lower(&c.direction),
                    witness: c.witness.to_string(),
                    peers: c
                        .some_peers()
                        .and_then(|p| crate::eval::address_set_text(c.family, p, 4)),
                    before: Some(c.before.name().into()),
                    after: c.after.name().into(),
                    rule_before: c.before_by.first().map(Place::of),
                    rule_after: c.after_by.first().map(Place::of),
                })
                .collect(),
        })
        .collect();
    (rules, requirements)
}

fn event(kind: EventKind, source: &str, key: &str, summary: String, details: String) -> Event {
    let id = fnv(format!("{kind:?}\0{source}\0{key}").as_bytes());
    Event {
        id,
        kind,
        source: source.to_string(),
        summary,
        details,
        rules: Vec::new(),
        requirements: Vec::new(),
    }
}

/// A failure as text: the witness and the rule behind it.
fn failure_text(f: &check::Failure) -> String {
    let mut s = format!("    witness: {}\n", f.witness);
    for c in &f.culprits {
        s.push_str(&format!(
            "    {} {}:{}:{}  {}  ({} {}, {})\n",
            if c.kind == check::CulpritKind::Policy {
                "chain policy"
            } else {
                "rule"
            },
            c.file,
            c.line,
            c.column,
            c.text.trim(),
            c.table,
            c.chain,
            c.phase
        ));
    }
    s
}

/// Parses the text read of a source (a file's includes come from the
/// bundle it was kept as, [`input::read_bundled`]): the text hashed is the
/// text assessed, even if the file or a file it includes changes again
/// meanwhile, and an old version reads as it was.
pub fn parse(name: &str, path: Option<&std::path::Path>, text: &str, format: InputFormat) -> Input {
    match path {
        Some(p) => input::load_kept(p, text, format),
        None => input::parse_text(name, text, format),
    }
}

/// What the policies say about a parsed source.
pub fn results(input: &Input, policies: &[Policy]) -> (Vec<ResultState>, check::InputReport) {
    let report = check::check_input(input, policies);
    let states = report
        .results
        .iter()
        .map(|r| {
            let first = r.failures.first();
            ResultState {
                policy: r.policy.clone(),
                requirement: r.requirement.clone(),
                status: r.status,
                what: super::event::what(&r.protocols, &r.ports, &r.directions),
                culprit: first
                    .and_then(|f| f.culprits.first())
                    .map(|c| format!("{}:{}: {}", c.file, c.line, c.text.trim())),
                witness: first.map(|f| f.witness.to_string()),
            }
        })
        .collect();
    (states, report)
}

/// Parse errors an alert quotes: a file replaced by something else
/// entirely (a log, a binary) gives one a line, and ten thousand lines in
/// an email, the state file and the spool help no one; the count of the
/// rest goes with the first few. As many as the human report draws.
const ALERT_ERRORS: usize = input::QUOTED_ERRORS;

/// The events of a new text of `source`, and the state it leaves. The first
/// reading is the baseline. `parsed` is `text` parsed already, if the
/// caller has it ([`input::read_bundled`] parses to know what to keep).
pub fn assess(
    state: &mut Sources,
    source: &str,
    path: Option<&std::path::Path>,
    text: &str,
    parsed: Option<Input>,
    format: InputFormat,
    policies: &[Policy],
) -> Vec<Event> {
    let hash = fnv(text.as_bytes());
    let previous = state.current.get(source).cloned();
    if previous.as_ref().is_some_and(|p| p.hash == hash) {
        return Vec::new();
    }
    let input = parsed.unwrap_or_else(|| parse(source, path, text, format));
    let mut events = Vec::new();
    state.seq += 1;
    let seq = state.seq;
    if !input.errors.is_empty() {
        let mut msg = input
            .errors
            .iter()
            .take(ALERT_ERRORS)
            .map(|e| format!("{}:{}:{}: {}", e.path, e.line, e.column, e.message))
            .collect::<Vec<_>>()
            .join("\n");
        if let Some(more) = input.errors.len().checked_sub(ALERT_ERRORS)
            && more > 0
        {
            msg.push_str(&format!(
                "\n... and {more} more parse error{} (`driftwall parse` lists every one)",
                if more == 1 { "" } else { "s" }
            ));
        }
        events.push(event(
            EventKind::ParseError,
            source,
            &format!("{seq}\0{hash}"),
            format!(
                "{source} no longer parses ({} error(s)); its last good state stays in force",
                input.errors.len()
            ),
            format!("{msg}\n"),
        ));
        let kept = previous.unwrap_or(SourceState {
            hash: String::new(),
            text: Default::default(),
            text_file: None,
            results: Vec::new(),
            error: None,
            accepted: false,
            rules: None,
        });
        state.current.insert(
            source.to_string(),
            SourceState {
                hash,
                error: Some(msg),
                ..kept
            },
        );
        return events;
    }
    let (results, report) = results(&input, policies);
    let first = !state.baseline.contains_key(source);
    if first {
        // No baseline yet: this reading is it; what fails is said once.
        for r in report
            .results
            .iter()
            .filter(|r| r.status != check::Status::Pass)
        {
            let mut d = format!(
                "{}/{} ({} {} {}) is {} in {source}:\n",
                r.policy,
                r.requirement,
                r.protocols.join("+"),
                r.ports,
                r.directions
                    .iter()
                    .map(|d| format!("{d:?}").to_lowercase())
                    .collect::<Vec<_>>()
                    .join("+"),
                r.status.name()
            );
            for f in r.failures.iter().take(3) {
                d.push_str(&failure_text(f));
            }
            let mut e = event(
                EventKind::FailingAtStart,
                source,
                &format!("{}/{}\0{hash}", r.policy, r.requirement),
                format!(
                    "{}/{} {} at the first reading of {source}",
                    r.policy,
                    r.requirement,
                    r.status.name()
                ),
                d,
            );
            e.requirements
                .push(RequirementEdit::of(r, Reading::Unknown, r.status));
            events.push(e);
        }
    } else if let Some(prev) = &previous {
        for (r, new) in report.results.iter().zip(&results) {
            let old = prev
                .results
                .iter()
                .find(|o| o.policy == new.policy && o.requirement == new.requirement)
                .map(|o| Reading::from(o.status))
                .unwrap_or(Reading::Unknown);
            if old == Reading::from(new.status) {
                continue;
            }
            let mut d = format!(
                "{}/{} ({} {}): {old} -> {}\n",
                r.policy,
                r.requirement,
                r.protocols.join("+"),
                r.ports,
                new.status
            );
            for f in r.failures.iter().take(3) {
                d.push_str(&failure_text(f));
            }
            let mut e = event(
                EventKind::RequirementChanged,
                source,
                &format!(
                    "{seq}\0{}/{}\0{old}\0{}\0{hash}",
                    r.policy, r.requirement, new.status
                ),
                format!(
                    "{}/{}: {old} -> {} ({source})",
                    r.policy, r.requirement, new.status
                ),
                d,
            );
            e.requirements.push(RequirementEdit::of(r, old, new.status));
            events.push(e);
        }
    }
    // Against the baseline: what changed, rule by rule and packet by packet.
    if let Some(base) = state.baseline.get(source).filter(|b| b.hash != hash) {
        let old = parse(source, path, &base.text, format);
        let d = diff::diff(&old, &input, policies);
        // A baseline kept before files were kept with their includes holds
        // the file alone. The first bundle of that same file that changes
        // no rule and no verdict is what the baseline meant: it takes the
        // old text's place, kept as accepted as it was, without an event.
        if input::kept_file_text(text).as_deref() == Some(base.text.as_str())
            && d.rules.is_empty()
            && d.equivalent()
        {
            if let Some(base) = state.baseline.get_mut(source) {
                base.text = text.into();
                base.hash = hash.clone();
            }
        } else if d.rules.is_empty() && d.equivalent() {
            // Only comments, blank lines or spacing changed: no rule and no
            // verdict differs from the baseline, so there is nothing to say
            // (an alert of "0 rule changes" is noise, issue 18).
        } else {
            let mut text = diff::render_human(&d);
            text = text.replacen(&format!("{source} -> {source}\n"), "", 1);
            let mut e = event(
                EventKind::RulesetChanged,
                source,
                &format!("{seq}\0{}\0{hash}", base.hash),
                format!(
                    "{source} differs from its baseline: {} rule change(s), {} requirement(s) with connections that change verdict",
                    d.rules.len(),
                    d.requirements
                        .iter()
                        .filter(|r| !r.changes.is_empty())
                        .count()
                ),
                text,
            );
            (e.rules, e.requirements) = diff_edits(&d);
            events.push(e);
        }
    }
    let new_state = SourceState {
        hash,
        text: text.into(),
        text_file: None,
        results,
        error: None,
        accepted: false,
        rules: u64::try_from(input.ruleset.rule_count()).ok(),
    };
    if first {
        state.baseline.insert(source.to_string(), new_state.clone());
    }
    state.current.insert(source.to_string(), new_state);
    events
}

/// The live ruleset against the file it is loaded from.
pub fn compare_live(
    live_name: &str,
    live: &Input,
    file_name: &str,
    file: &Input,
    policies: &[Policy],
) -> Option<Event> {
    let d = diff::diff(file, live, policies);
    // pfctl prints its own normalized form of each rule (`pass in` is
    // `pass in all flags S/SA keep state`), never the file's text: for pf,
    // as between two formats, only what the rules do can tell the two apart.
    let by_text = d.same_format && live.format != InputFormat::Pf;
    if d.equivalent() && (d.rules.is_empty() || !by_text) {
        return None;
    }
    let key = format!(
        "{}\0{}",
        fnv(live
            .ruleset
            .sources
            .first()
            .map(|s| s.text.as_bytes())
            .unwrap_or(b"")),
        fnv(file
            .ruleset
            .sources
            .first()
            .map(|s| s.text.as_bytes())
            .unwrap_or(b""))
    );
    let mut e = event(
        EventKind::LiveDiffers,
        live_name,
        &key,
        format!(
            "the ruleset loaded in the kernel differs from {file_name}: this host's firewall changes at the next reboot"
        ),
        diff::render_human(&d),
    );
    (e.rules, e.requirements) = diff_edits(&d);
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "policy: p\nrequirements:\n  - id: ssh-open\n    expect: allow\n    \
                          direction: inbound\n    protocol: tcp\n    ports: [22]\n";

    /// The tests' policy, read as a host's.
    fn policy() -> crate::policy::Policy {
        crate::policy::load_str_for("p.yaml", POLICY, Some(&crate::policy::Role::default()))
            .expect("policy")
    }

    /// A watched file replaced by something that is not a ruleset at all:
    /// the alert quotes its first errors and counts the rest.
    #[test]
    fn a_parse_error_alert_quotes_the_first_errors_and_counts_the_rest() {
        let policies = [policy()];
        let mut state = Sources::default();
        let good = "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n";
        let first = assess(
            &mut state,
            "r",
            None,
            good,
            None,
            InputFormat::Iptables,
            &policies,
        );
        assert!(first.is_empty(), "{first:?}");
        let mut bad = String::from("*filter\n");
        for i in 1..=(ALERT_ERRORS + 5) {
            bad.push_str(&format!(
                "-A INPUT -p tcp --dport {} -j ACCEPT\n",
                70_000 + i
            ));
        }
        bad.push_str("COMMIT\n");
        let events = assess(
            &mut state,
            "r",
            None,
            &bad,
            None,
            InputFormat::Iptables,
            &policies,
        );
        let [e] = events.as_slice() else {
            panic!("one event: {events:#?}");
        };
        assert_eq!(e.kind, EventKind::ParseError);
        assert!(e.summary.contains("25 error(s)"), "{}", e.summary);
        let quoted = e.details.lines().filter(|l| l.starts_with("r:")).count();
        assert_eq!(quoted, ALERT_ERRORS, "{}", e.details);
        assert!(e.details.contains("r:21:"), "{}", e.details);
        assert!(!e.details.contains("r:22:"), "{}", e.details);
        assert!(
            e.details.contains("... and 5 more parse errors"),
            "{}",
            e.details
        );
    }

    #[test]
    fn a_state_from_before_bundles_reads_on_with_its_includes() {
        let dir = std::env::temp_dir().join(format!("driftwall-assess-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch");
        let top = dir.join("pf.conf");
        let text = "block in all\ninclude \"ssh.conf\"\n";
        std::fs::write(&top, text).expect("write");
        std::fs::write(dir.join("ssh.conf"), "pass in proto tcp to port 22\n").expect("write");
        let policies = [policy()];
        let name = top.display().to_string();
        let mut state = Sources::default();
        // What a daemon before bundles kept: pf.conf's text alone.
        let events = assess(
            &mut state,
            &name,
            Some(&top),
            text,
            None,
            InputFormat::Pf,
            &policies,
        );
        assert!(
            events.is_empty(),
            "SSH passes through the included file: {events:?}"
        );
        let statuses = |state: &Sources| -> Vec<check::Status> {
            state.current[&name]
                .results
                .iter()
                .map(|r| r.status)
                .collect()
        };
        assert_eq!(statuses(&state), [check::Status::Pass]);
        // The first reading after the upgrade keeps the bundle: a new text,
        // but no rule and no verdict changed against the old baseline, whose
        // includes were read from the disk, so the bundle takes its place
        // without an event.
        let read = input::read_bundled(&top, InputFormat::Pf).expect("read");
        assert_ne!(read.text, text);
        let events = assess(
            &mut state,
            &name,
            Some(&top),
            &read.text,
            read.input,
            InputFormat::Pf,
            &policies,
        );
        assert!(events.is_empty(), "{events:#?}");
        assert_eq!(state.current[&name].text.as_str(), read.text);
        assert_eq!(state.baseline[&name].text.as_str(), read.text);
        assert_eq!(state.baseline[&name].hash, state.current[&name].hash);
        // From now on the included file's edit shows against what it was.
        std::fs::write(dir.join("ssh.conf"), "block in proto tcp to port 22\n").expect("write");
        let read = input::read_bundled(&top, InputFormat::Pf).expect("read");
        let events = assess(
            &mut state,
            &name,
            Some(&top),
            &read.text,
            read.input,
            InputFormat::Pf,
            &policies,
        );
        let changed = events
            .iter()
            .find(|e| e.kind == EventKind::RulesetChanged)
            .expect("a change against the baseline");
        let ssh = dir.join("ssh.conf").display().to_string();
        assert!(
            changed.rules.iter().any(|r| r
                .old
                .as_ref()
                .is_some_and(|p| p.file == ssh && p.text.starts_with("pass in"))
                && r.new
                    .as_ref()
                    .is_some_and(|p| p.text.starts_with("block in"))),
            "{:#?}",
            changed.rules
        );
        assert!(
            events
                .iter()
                .any(|e| e.kind == EventKind::RequirementChanged),
            "{events:#?}"
        );
        assert_eq!(statuses(&state), [check::Status::Fail]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Issue 18: an edit that touched only a comment raised a "rules
    /// changed" alert with 0 rule changes.
    #[test]
    fn an_edit_of_comments_alone_says_nothing() {
        let policies = [policy()];
        let mut state = Sources::default();
        let rules = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";
        let run = |state: &mut Sources, text: &str| {
            assess(
                state,
                "r.rules",
                None,
                text,
                None,
                InputFormat::Iptables,
                &policies,
            )
        };
        assert!(run(&mut state, rules).is_empty());
        let commented = format!("# who may log in\n{rules}\n");
        assert!(run(&mut state, &commented).is_empty());
        // A real change still speaks.
        let closed = commented.replace("-j ACCEPT", "-j DROP");
        assert!(
            run(&mut state, &closed)
                .iter()
                .any(|e| e.kind == EventKind::RulesetChanged)
        );
    }
}
