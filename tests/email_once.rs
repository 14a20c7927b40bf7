//! Issue 20: an alert email tells each thing once. Whatever the lifecycle
//! puts in a message (a requirement's change, the same change seen against
//! the baseline, the alert it raises, a digest of several notices), every
//! requirement appears in exactly one section of the text part and one of
//! the HTML part, and every changed rule in one diff; and the HTML part's
//! elements all close, in order.
//!
//! The scenarios run the daemon's own pipeline without the daemon: the
//! drift assessment of each new text of a file, the alert lifecycle, the
//! renderer.

use driftwall::alert::lifecycle::{Lifecycle, Mail, Settings};
use driftwall::alert::message::{self, Rendered};
use driftwall::drift::assess;
use driftwall::drift::sources::Sources;
use driftwall::input::InputFormat;
use driftwall::policy::{self, Policy};
use std::time::Duration;

const RULES: &str = include_str!("../examples/web-server.rules");
const POLICY: &str = include_str!("../examples/web-server.policy.yaml");
const BLOCK: &str =
    "-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset\n";
const ACCEPT: &str = "driftwall baseline accept --config /etc/driftwall/driftwall.yaml";
const IDS: [&str; 5] = [
    "web-server/https-open",
    "web-server/http-open",
    "web-server/ssh-closed-to-the-world",
    "web-server/telnet-closed",
    "web-server/dns-out",
];

/// A host's watched files, as the daemon keeps them, with a clock.
struct Host {
    state: Sources,
    life: Lifecycle,
    policies: Vec<Policy>,
    settings: Settings,
    now: u64,
}

impl Host {
    fn new(settings: Settings) -> Host {
        let policy = policy::load_str_for(
            "web-server.policy.yaml",
            POLICY,
            Some(&policy::Role::default()),
        )
        .expect("the example policy is valid");
        Host {
            state: Sources::default(),
            life: Lifecycle::default(),
            policies: vec![policy],
            settings,
            now: 1_795_684_445_000,
        }
    }

    /// Quick lifecycle: every message goes out at the next tick.
    fn quick() -> Host {
        Host::new(Settings {
            group_wait: Duration::ZERO,
            group_interval: Duration::ZERO,
            ..Settings::standard("fw1")
        })
    }

    /// A new text of `source`, assessed as the daemon does.
    fn write(&mut self, source: &str, text: &str) {
        let events = assess::assess(
            &mut self.state,
            source,
            None,
            text,
            None,
            InputFormat::Iptables,
            &self.policies,
        );
        self.life.add_events(&events, self.now);
    }

    /// A second later: the messages due.
    fn tick(&mut self) -> Vec<Mail> {
        self.now += 1000;
        let firing = driftwall::alert::firing(&self.state);
        self.life.tick(self.now, &firing, &self.settings, false)
    }

    /// The one message due now, rendered and checked.
    fn one(&mut self) -> Rendered {
        let mut mails = self.tick();
        assert_eq!(mails.len(), 1, "{mails:#?}");
        let r = message::render(&mails.remove(0), "fw1", ACCEPT);
        each_once(&r);
        r
    }
}

/// How often `needle` occurs in `haystack`.
fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// No requirement is named twice in either part; every rule diff line
/// (`+ file:line`) is there once.
fn each_once(r: &Rendered) {
    // Shown with --nocapture, to read what the scenarios send.
    println!("Subject: {}\n\n{}", r.subject, r.text);
    for id in IDS {
        // `web-server/http-open` is not a part of `web-server/https-open`,
        // but check whole words anyway: followed by a blank, a newline or a tag.
        let named = |part: &str| {
            [" ", "\n", "<"]
                .iter()
                .map(|end| count(part, &format!("{id}{end}")))
                .sum::<usize>()
        };
        assert!(named(&r.text) <= 1, "{id} twice in the text:\n{}", r.text);
        assert!(named(&r.html) <= 1, "{id} twice in the HTML:\n{}", r.html);
        assert_eq!(
            named(&r.text),
            named(&r.html),
            "{id}: the text and the HTML tell the same story:\n{}\n{}",
            r.text,
            r.html
        );
    }
    balanced(&r.html);
    for line in r.text.lines().filter(|l| l.starts_with("  + ")) {
        assert_eq!(count(&r.text, line), 1, "`{line}` twice:\n{}", r.text);
    }
}

/// Every element of the HTML part is closed, in order: escaped text holds
/// no `<`, so every `<` is markup.
fn balanced(html: &str) {
    let mut open: Vec<&str> = Vec::new();
    for tag in html.split('<').skip(1) {
        let name = tag
            .split(|c: char| c == '>' || c.is_whitespace())
            .next()
            .unwrap_or_default();
        match name.strip_prefix('/') {
            Some(closed) => assert_eq!(open.pop(), Some(closed), "in\n{html}"),
            None if name.starts_with('!') || ["meta", "br"].contains(&name) => {}
            None => open.push(name),
        }
    }
    assert!(open.is_empty(), "{open:?} not closed in\n{html}");
}

/// Fails unless the text part holds every one of `wants`.
fn says(r: &Rendered, wants: &[&str]) {
    for want in wants {
        assert!(r.text.contains(want), "`{want}` in\n{}", r.text);
    }
}

fn named(r: &Rendered, id: &str) -> bool {
    r.text.contains(&format!("requirement {id}\n"))
}

#[test]
fn a_broken_requirement_is_one_section_with_witness_and_both_rules() {
    let mut h = Host::quick();
    h.write("/etc/rules.v4", &RULES.replace(BLOCK, ""));
    assert!(h.tick().is_empty(), "everything passes at first");
    h.write("/etc/rules.v4", RULES);
    let r = h.one();
    assert_eq!(
        r.subject,
        "[driftwall] fw1: HTTPS (tcp 443 in) now rejected – 1 requirement broken"
    );
    assert!(named(&r, "web-server/https-open"), "{}", r.text);
    says(
        &r,
        &[
            "== HTTPS (tcp 443 inbound) is now rejected for 192.0.2.0/24\n",
            "in /etc/rules.v4: pass -> fail",
            "witness: tcp 192.0.2.1:49152 -> 198.51.100.20:443 in on eth0 (inbound): allow -> reject",
            "decided now by: /etc/rules.v4:12  -A INPUT -s 192.0.2.0/24",
            "in the baseline: /etc/rules.v4:12  -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT",
            "  + /etc/rules.v4:12  -A INPUT -s 192.0.2.0/24",
            ACCEPT,
            "delete the + rule at /etc/rules.v4:12",
        ],
    );
    // Once: the rule that now decides is named in the section and in the
    // diff, and nowhere else.
    assert_eq!(
        count(&r.text, "-j REJECT --reject-with tcp-reset"),
        2,
        "{}",
        r.text
    );
    assert!(!r.text.contains(" is fail"), "{}", r.text);
    // Put back as it was: what was restored, and nothing left to undo.
    h.write("/etc/rules.v4", &RULES.replace(BLOCK, ""));
    let r = h.one();
    assert_eq!(
        r.subject,
        "[driftwall] fw1: HTTPS (tcp 443 in) passes again – 1 requirement recovered"
    );
    says(
        &r,
        &[
            "== HTTPS (tcp 443 inbound) passes again\n",
            "in /etc/rules.v4: fail -> pass\n",
            "== /etc/rules.v4 is back to its accepted baseline\n",
        ],
    );
    assert!(!r.text.contains("== What to do"), "{}", r.text);
}

#[test]
fn a_recovery_says_what_was_restored() {
    let mut h = Host::quick();
    h.write("/etc/rules.v4", RULES);
    let first = h.one();
    assert_eq!(
        first.subject,
        "[driftwall] fw1: HTTPS (tcp 443 in) rejected – 1 requirement failing at the first reading"
    );
    h.write("/etc/rules.v4", &RULES.replace(BLOCK, ""));
    let r = h.one();
    assert_eq!(
        r.subject,
        "[driftwall] fw1: HTTPS (tcp 443 in) allowed again – 1 requirement recovered"
    );
    says(
        &r,
        &[
            "== HTTPS (tcp 443 inbound) is allowed again for 192.0.2.0/24\n",
            "in /etc/rules.v4: fail -> pass",
            "reject -> allow",
            "decided now by: /etc/rules.v4:12  -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT",
            "  - /etc/rules.v4:12  -A INPUT -s 192.0.2.0/24",
            "put the - rule back where it was (/etc/rules.v4:12 in the baseline)",
        ],
    );
}

#[test]
fn several_requirements_and_files_each_get_one_section() {
    let mut h = Host::quick();
    let open = RULES.replace(BLOCK, "");
    h.write("/etc/a.v4", &open);
    h.write("/etc/b.v4", &open);
    assert!(h.tick().is_empty());
    // HTTP and HTTPS closed for a network in both files, telnet opened in one.
    let web = "-A INPUT -s 192.0.2.0/24 -p tcp -m multiport --dports 80,443 -j DROP\n";
    let broken = open.replace(
        "-A INPUT -p tcp -m multiport",
        &format!("{web}-A INPUT -p tcp -m multiport"),
    );
    h.write("/etc/a.v4", &broken);
    h.write(
        "/etc/b.v4",
        &broken.replace("COMMIT", "-A INPUT -p tcp --dport 23 -j ACCEPT\nCOMMIT"),
    );
    let r = h.one();
    for id in [
        "web-server/https-open",
        "web-server/http-open",
        "web-server/telnet-closed",
    ] {
        assert!(named(&r, id), "{id} in\n{}", r.text);
    }
    assert!(
        r.subject.ends_with("– 3 requirements broken in 2 files"),
        "{}",
        r.subject
    );
    says(
        &r,
        &[
            "== HTTPS (tcp 443 inbound) is now dropped for 192.0.2.0/24\n",
            "== HTTP (tcp 80 inbound) is now dropped for 192.0.2.0/24\n",
            "== Telnet (tcp+udp 23 inbound) is now allowed",
            "in /etc/a.v4: pass -> fail",
            "in /etc/b.v4: pass -> fail",
            "== Rules changed in /etc/a.v4 against the accepted baseline",
            "== Rules changed in /etc/b.v4 against the accepted baseline",
        ],
    );
    assert_eq!(count(&r.text, "== What to do"), 1, "{}", r.text);
}

#[test]
fn a_digest_tells_each_requirement_once_with_its_history() {
    let mut h = Host::new(Settings {
        group_wait: Duration::ZERO,
        group_interval: Duration::ZERO,
        max_per_hour: Some(1),
        ..Settings::standard("fw1")
    });
    let open = RULES.replace(BLOCK, "");
    h.write("/etc/rules.v4", &open);
    h.write("/etc/rules.v4", RULES);
    assert_eq!(h.tick().len(), 1, "the first message");
    // Three more changes within the hour: held back for the digest.
    for text in [&open, RULES, &open] {
        h.write("/etc/rules.v4", text);
        assert!(h.tick().is_empty());
    }
    h.now += 3_600_000;
    let r = h.one();
    assert!(
        r.subject
            .starts_with("[driftwall] fw1: digest of 3 alerts held back by max_per_hour: "),
        "{}",
        r.subject
    );
    assert!(named(&r, "web-server/https-open"), "{}", r.text);
    // Its history, in order, with the times of the notices.
    let history = r
        .text
        .lines()
        .find(|l| l.starts_with("   in /etc/rules.v4: "))
        .unwrap_or_default();
    assert_eq!(count(history, " -> "), 3, "{history}");
    assert!(
        history.starts_with("   in /etc/rules.v4: fail -> pass ("),
        "{history}"
    );
    // Back at the baseline: no rule differs, nothing to revert.
    assert!(!r.text.contains("== Rules changed"), "{}", r.text);
    says(&r, &["== /etc/rules.v4 is back to its accepted baseline\n"]);
}

#[test]
fn a_parse_error_and_its_fix_name_the_file_not_the_requirements() {
    let mut h = Host::quick();
    h.write("/etc/rules.v4", RULES);
    h.one();
    h.write(
        "/etc/rules.v4",
        &RULES.replace("COMMIT\n", "-A INPUT --bogus\nCOMMIT\n"),
    );
    let broken = h.tick();
    let r = broken
        .iter()
        .map(|m| message::render(m, "fw1", ACCEPT))
        .find(|r| r.subject.contains("does not parse"))
        .expect("a message about the parse error");
    each_once(&r);
    assert_eq!(r.subject, "[driftwall] fw1: /etc/rules.v4 does not parse");
    assert!(
        r.text
            .contains("/etc/rules.v4:18:10: unknown option `--bogus`"),
        "{}",
        r.text
    );
    h.write("/etc/rules.v4", RULES);
    let fixed: Vec<Rendered> = h
        .tick()
        .iter()
        .map(|m| message::render(m, "fw1", ACCEPT))
        .collect();
    let r = fixed
        .iter()
        .find(|r| r.subject.contains("parses again"))
        .unwrap_or_else(|| panic!("{fixed:#?}"));
    each_once(r);
    assert!(
        r.text.contains("It was: /etc/rules.v4 does not parse"),
        "{}",
        r.text
    );
}

#[test]
fn a_reminder_names_what_still_fails_once() {
    let mut h = Host::new(Settings {
        group_wait: Duration::ZERO,
        group_interval: Duration::ZERO,
        repeat_interval: Duration::from_secs(60),
        ..Settings::standard("fw1")
    });
    h.write("/etc/rules.v4", RULES);
    h.one();
    h.now += 60_000;
    let r = h.one();
    assert_eq!(
        r.subject,
        "[driftwall] fw1: reminder: 1 requirement still failing"
    );
    assert!(named(&r, "web-server/https-open"), "{}", r.text);
    says(
        &r,
        &[
            "== HTTPS (tcp 443 inbound) still fails\n",
            "in /etc/rules.v4: fail, as reported before\n",
        ],
    );
    assert!(
        r.text.contains(ACCEPT),
        "accepting ends the reminders:\n{}",
        r.text
    );
}

#[test]
fn an_accepted_baseline_says_what_is_accepted_as_failing() {
    let mut h = Host::quick();
    h.write("/etc/rules.v4", RULES);
    h.one();
    let request = driftwall::daemon::accept::Request {
        sources: h.state.current.clone(),
    };
    let events = driftwall::daemon::accept::apply(&mut h.state, &request, "k");
    h.life.add_events(&events, h.now);
    let r = h.one();
    assert_eq!(
        r.subject,
        "[driftwall] fw1: HTTPS (tcp 443 in) accepted as it is – 1 failing requirement accepted as the baseline"
    );
    says(
        &r,
        &[
            "== HTTPS (tcp 443 inbound) still fails, accepted as the baseline\n",
            "== the current state of /etc/rules.v4 was accepted as the baseline\n",
        ],
    );
    assert!(!r.text.contains("== What to do"), "{}", r.text);
}

#[test]
fn a_live_ruleset_that_differs_from_its_file_is_told_once_per_message() {
    let mut h = Host::quick();
    let open = RULES.replace(BLOCK, "");
    h.write("/etc/rules.v4", &open);
    assert!(h.tick().is_empty());
    let file = assess::parse("/etc/rules.v4", None, &open, InputFormat::Iptables);
    let live = assess::parse("live:iptables-save", None, RULES, InputFormat::Iptables);
    let event = assess::compare_live(
        "live:iptables-save",
        &live,
        "/etc/rules.v4",
        &file,
        &h.policies,
    )
    .expect("the live ruleset rejects HTTPS for a network");
    h.state
        .live_differs
        .insert(event.source.clone(), event.summary.clone());
    h.life.add_events(&[event], h.now);
    let mails = h.tick();
    assert!(!mails.is_empty());
    let all: Vec<Rendered> = mails
        .iter()
        .map(|m| message::render(m, "fw1", ACCEPT))
        .collect();
    for r in &all {
        each_once(r);
    }
    let r = all
        .iter()
        .find(|r| named(r, "web-server/https-open"))
        .unwrap_or_else(|| panic!("{all:#?}"));
    says(
        r,
        &[
            "== HTTPS (tcp 443 inbound) is rejected for 192.0.2.0/24 by the ruleset loaded in the kernel, not by its file\n",
            "in live:iptables-save: pass by the file, fail by the ruleset loaded in the kernel",
            "in the file: /etc/rules.v4:12  -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT",
            "== The ruleset loaded in the kernel (live:iptables-save) against its file",
            "the ruleset loaded in the kernel differs from /etc/rules.v4",
        ],
    );
    // The file is fine: nothing in it to revert.
    assert!(!r.text.contains("undo it in"), "{}", r.text);
}
