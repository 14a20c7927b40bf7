use super::*;
use crate::model::{Action, Chain, Match, Policy, RejectKind};

const CONF: &str = "# /etc/ufw/ufw.conf\nENABLED=yes\nLOGLEVEL=low\n";
const DEFAULTS: &str = "IPV6=yes\nDEFAULT_INPUT_POLICY=\"DROP\"\nDEFAULT_OUTPUT_POLICY=\"ACCEPT\"\n\
                        DEFAULT_FORWARD_POLICY=\"DROP\"\nDEFAULT_APPLICATION_POLICY=\"SKIP\"\n";
const BEFORE: &str = "*filter\n:ufw-before-input - [0:0]\n:ufw-before-output - [0:0]\n\
:ufw-before-forward - [0:0]\n:ufw-not-local - [0:0]\n\
-A ufw-before-input -i lo -j ACCEPT\n\
-A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
-A ufw-before-input -m conntrack --ctstate INVALID -j ufw-logging-deny\n\
-A ufw-before-input -m conntrack --ctstate INVALID -j DROP\n\
-A ufw-before-input -j ufw-not-local\n\
-A ufw-not-local -m addrtype --dst-type LOCAL -j RETURN\n\
-A ufw-not-local -m addrtype --dst-type MULTICAST -j RETURN\n\
-A ufw-not-local -m addrtype --dst-type BROADCAST -j RETURN\n\
-A ufw-not-local -m limit --limit 3/min --limit-burst 10 -j ufw-logging-deny\n\
-A ufw-not-local -j DROP\nCOMMIT\n";
const BEFORE6: &str = "*filter\n:ufw6-before-input - [0:0]\n:ufw6-before-output - [0:0]\n\
:ufw6-before-forward - [0:0]\n-A ufw6-before-input -i lo -j ACCEPT\nCOMMIT\n";
const AFTER: &str = "*filter\n:ufw-after-input - [0:0]\n:ufw-after-output - [0:0]\n\
:ufw-after-forward - [0:0]\n-A ufw-after-input -p udp --dport 137 -j ufw-skip-to-policy-input\nCOMMIT\n";
const AFTER6: &str = "*filter\n:ufw6-after-input - [0:0]\n:ufw6-after-output - [0:0]\n\
:ufw6-after-forward - [0:0]\nCOMMIT\n";
const USER: &str = "*filter\n:ufw-user-input - [0:0]\n:ufw-user-output - [0:0]\n\
:ufw-user-forward - [0:0]\n:ufw-user-limit - [0:0]\n:ufw-user-limit-accept - [0:0]\n\
### RULES ###\n\
### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n\
-A ufw-user-input -p tcp --dport 22 -j ACCEPT\n\
### tuple ### limit tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in\n\
-A ufw-user-input -p tcp --dport 2222 -m conntrack --ctstate NEW -m recent --set\n\
-A ufw-user-input -p tcp --dport 2222 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j ufw-user-limit\n\
-A ufw-user-input -p tcp --dport 2222 -j ufw-user-limit-accept\n\
-A ufw-user-limit -j REJECT\n-A ufw-user-limit-accept -j ACCEPT\nCOMMIT\n";
const USER6: &str = "*filter\n:ufw6-user-input - [0:0]\n:ufw6-user-output - [0:0]\n\
:ufw6-user-forward - [0:0]\n:ufw6-user-limit - [0:0]\n:ufw6-user-limit-accept - [0:0]\nCOMMIT\n";

fn file(name: &str, text: &str) -> Option<FileText> {
    Some((format!("/etc/ufw/{name}"), text.to_string()))
}

fn stock() -> Files {
    Files {
        dir: "/etc/ufw".into(),
        ufw_conf: file("ufw.conf", CONF),
        defaults: Some(("/etc/default/ufw".into(), DEFAULTS.into())),
        before_rules: file("before.rules", BEFORE),
        before6_rules: file("before6.rules", BEFORE6),
        user_rules: file("user.rules", USER),
        user6_rules: file("user6.rules", USER6),
        after_rules: file("after.rules", AFTER),
        after6_rules: file("after6.rules", AFTER6),
        sysctl: None,
        before_init: None,
        after_init: None,
    }
}

fn with_defaults(edit: impl Fn(&str) -> String) -> Files {
    let mut files = stock();
    files.defaults = Some(("/etc/default/ufw".into(), edit(DEFAULTS)));
    files
}

fn chain<'a>(read: &'a Read, family: Family, name: &str) -> &'a Chain {
    read.parsed
        .ruleset
        .tables
        .iter()
        .filter(|t| t.family == family && t.name == "filter")
        .find_map(|t| t.chain(name))
        .unwrap_or_else(|| panic!("no chain {name} in {family:?}"))
}

fn targets(read: &Read, family: Family, name: &str) -> Vec<String> {
    chain(read, family, name)
        .rules
        .iter()
        .map(|r| match &r.action {
            Action::Jump { chain } => chain.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn the_stock_configuration_loads_without_errors() {
    let read = read(&stock());
    assert!(read.parsed.errors.is_empty(), "{:?}", read.parsed.errors);
    assert!(read.settings.enabled && read.settings.ipv6);
    assert_eq!(read.parsed.ruleset.families, [Family::Ipv4, Family::Ipv6]);
}

#[test]
fn builtin_chains_jump_to_the_primary_chains_in_ufw_init_order() {
    let read = read(&stock());
    for (family, t) in [(Family::Ipv4, ""), (Family::Ipv6, "6")] {
        for (builtin, d) in [
            ("INPUT", "input"),
            ("OUTPUT", "output"),
            ("FORWARD", "forward"),
        ] {
            let want: Vec<String> = [
                "before-logging",
                "before",
                "after",
                "after-logging",
                "reject",
                "track",
            ]
            .iter()
            .map(|p| format!("ufw{t}-{p}-{d}"))
            .collect();
            assert_eq!(
                targets(&read, family, builtin),
                want,
                "{builtin} {family:?}"
            );
        }
    }
}

#[test]
fn the_before_chains_jump_to_the_user_chains_last() {
    let read = read(&stock());
    let input = targets(&read, Family::Ipv4, "ufw-before-input");
    assert_eq!(input.last().map(String::as_str), Some("ufw-user-input"));
    assert_eq!(
        targets(&read, Family::Ipv6, "ufw6-before-output"),
        ["ufw6-user-output"]
    );
}

#[test]
fn wiring_rules_are_named_as_ufw_init_steps() {
    let read = read(&stock());
    let rs = &read.parsed.ruleset;
    let rule = &chain(&read, Family::Ipv4, "INPUT").rules[1];
    assert_eq!(
        rs.path(&rule.span),
        "ufw (ufw-init: ufw_start, primary chains)"
    );
    assert_eq!(rs.text(&rule.span), "-A INPUT -j ufw-before-input");
    let hook = chain(&read, Family::Ipv6, "ufw6-before-input")
        .rules
        .last()
        .map(|r| r.span);
    assert_eq!(
        hook.map(|s| rs.path(&s)),
        Some("ufw (ufw-init: ufw_start, user chains hooked into the before chains, ip6tables)")
    );
    let user = &chain(&read, Family::Ipv4, "ufw-user-input").rules[0];
    assert_eq!(
        (rs.path(&user.span), user.span.line),
        ("/etc/ufw/user.rules", 9)
    );
}

#[test]
fn default_policies_become_builtin_policies_and_chains() {
    let read = read(&stock());
    assert_eq!(
        chain(&read, Family::Ipv4, "INPUT").policy,
        Some(Policy::Drop)
    );
    assert_eq!(
        chain(&read, Family::Ipv4, "OUTPUT").policy,
        Some(Policy::Accept)
    );
    assert_eq!(
        chain(&read, Family::Ipv6, "FORWARD").policy,
        Some(Policy::Drop)
    );
    assert_eq!(
        targets(&read, Family::Ipv4, "ufw-skip-to-policy-input"),
        ["Drop"]
    );
    assert_eq!(
        targets(&read, Family::Ipv4, "ufw-skip-to-policy-output"),
        ["Accept"]
    );
    // ACCEPT output: new TCP and UDP connections are tracked (accepted).
    assert_eq!(targets(&read, Family::Ipv4, "ufw-track-output").len(), 2);
    assert!(
        chain(&read, Family::Ipv4, "ufw-track-input")
            .rules
            .is_empty()
    );
}

#[test]
fn a_reject_default_drops_in_the_builtin_chain_and_rejects_in_the_reject_chain() {
    let read = read(&with_defaults(|d| {
        d.replace(
            "DEFAULT_INPUT_POLICY=\"DROP\"",
            "DEFAULT_INPUT_POLICY=\"REJECT\"",
        )
    }));
    assert!(read.parsed.errors.is_empty(), "{:?}", read.parsed.errors);
    assert_eq!(
        chain(&read, Family::Ipv4, "INPUT").policy,
        Some(Policy::Drop)
    );
    let reject = &chain(&read, Family::Ipv4, "ufw-reject-input").rules;
    assert_eq!(reject.len(), 1);
    assert_eq!(
        reject[0].action,
        Action::Reject {
            with: RejectKind::IcmpPortUnreachable
        }
    );
    assert_eq!(
        chain(&read, Family::Ipv6, "ufw6-reject-input").rules[0].action,
        Action::Reject {
            with: RejectKind::Icmp6PortUnreachable
        }
    );
    assert_eq!(
        read.parsed.ruleset.path(&reject[0].span),
        "ufw (ufw-init: ufw_start, reject policy)"
    );
}

#[test]
fn ipv6_off_drops_all_ipv6_but_loopback() {
    let read = read(&with_defaults(|d| d.replace("IPV6=yes", "IPV6=no")));
    assert!(!read.settings.ipv6);
    let input = chain(&read, Family::Ipv6, "INPUT");
    assert_eq!(input.policy, Some(Policy::Drop));
    assert_eq!(input.rules.len(), 1);
    assert_eq!(
        chain(&read, Family::Ipv6, "FORWARD").policy,
        Some(Policy::Drop)
    );
    let v6_tables = read
        .parsed
        .ruleset
        .tables
        .iter()
        .filter(|t| t.family == Family::Ipv6);
    assert!(
        v6_tables
            .flat_map(|t| &t.chains)
            .all(|c| !c.name.starts_with("ufw"))
    );
}

#[test]
fn a_disabled_ufw_loads_nothing_and_says_so() {
    let mut files = stock();
    files.ufw_conf = file("ufw.conf", "ENABLED=no\n");
    let read = read(&files);
    assert!(!read.settings.enabled);
    assert!(read.parsed.ruleset.tables.is_empty());
    assert_eq!(read.parsed.ruleset.families, [Family::Ipv4, Family::Ipv6]);
    let off = &read.parsed.ruleset.skipped[0];
    assert!(off.what.starts_with("ufw is off"), "{}", off.what);
    assert_eq!(
        (read.parsed.ruleset.path(&off.span), off.span.line),
        ("/etc/ufw/ufw.conf", 1)
    );
}

#[test]
fn init_scripts_are_reported_as_not_evaluated() {
    let mut files = stock();
    files.before_init = file("before.init", "#!/bin/sh\niptables -I INPUT -j DROP\n");
    let read = read(&files);
    let skipped = &read.parsed.ruleset.skipped;
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].what.contains("before.init"));
    assert_eq!(read.parsed.ruleset.text(&skipped[0].span), "#!/bin/sh");
}

#[test]
fn limit_rules_keep_an_unknown_match() {
    let read = read(&stock());
    let rules = &chain(&read, Family::Ipv4, "ufw-user-input").rules;
    let limit = &rules[2];
    assert!(
        limit
            .matches
            .iter()
            .any(|m| matches!(m, Match::Unknown { text } if text.contains("recent"))),
        "{:?}",
        limit.matches
    );
    assert_eq!(
        limit.action,
        Action::Jump {
            chain: "ufw-user-limit".into()
        }
    );
}

#[test]
fn not_local_returns_every_locally_delivered_packet() {
    let read = read(&stock());
    let not_local = &chain(&read, Family::Ipv4, "ufw-not-local").rules;
    assert!(not_local[0].matches.is_empty());
    assert_eq!(not_local[0].action, Action::Return);
    assert!(matches!(&not_local[1].matches[..], [Match::Unknown { .. }]));
}

#[test]
fn not_local_reached_from_elsewhere_stays_unknown() {
    let mut files = stock();
    files.before_rules = file(
        "before.rules",
        &BEFORE.replace("COMMIT", "-A ufw-before-forward -j ufw-not-local\nCOMMIT"),
    );
    let read = read(&files);
    let not_local = &chain(&read, Family::Ipv4, "ufw-not-local").rules;
    assert!(matches!(&not_local[0].matches[..], [Match::Unknown { .. }]));
}

#[test]
fn absent_files_are_errors_that_name_them() {
    let mut files = stock();
    files.before_rules = None;
    files.user6_rules = None;
    let read = read(&files);
    let paths: Vec<&str> = read.parsed.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/etc/ufw/before.rules", "/etc/ufw/user6.rules"]);
    // Without user6.rules nothing hooks the IPv6 user chains in.
    let hooks = targets(&read, Family::Ipv6, "ufw6-before-input");
    assert!(!hooks.iter().any(|t| t == "ufw6-user-input"), "{hooks:?}");
    files.defaults = None;
    let read = super::read(&files);
    assert!(read.parsed.ruleset.tables.is_empty());
    assert!(
        read.parsed
            .errors
            .iter()
            .any(|e| e.message.contains("aborts"))
    );
}

#[test]
fn an_unknown_policy_word_is_an_error_at_its_line() {
    let read = read(&with_defaults(|d| d.replace("\"ACCEPT\"", "\"ALLOW\"")));
    let e = &read.parsed.errors[0];
    assert_eq!((e.path.as_str(), e.line), ("/etc/default/ufw", 3));
    assert!(e.message.contains("expected ACCEPT, DROP or REJECT"));
}

#[test]
fn before_rules_flush_what_an_earlier_step_put_in_their_chains() {
    // `iptables-restore -n` flushes a user chain the file declares.
    let mut files = stock();
    files.after_rules = file(
        "after.rules",
        "*filter\n:ufw-before-input - [0:0]\n:ufw-after-input - [0:0]\nCOMMIT\n",
    );
    let read = read(&files);
    assert_eq!(
        targets(&read, Family::Ipv4, "ufw-before-input"),
        ["ufw-user-input"]
    );
}

#[test]
fn the_sysctl_file_is_ipt_sysctl_or_ufws_own() {
    assert_eq!(sysctl_path("", "").as_deref(), Some("/etc/ufw/sysctl.conf"));
    assert_eq!(
        sysctl_path("IPT_SYSCTL=/etc/x.conf\n", "").as_deref(),
        Some("/etc/x.conf")
    );
    assert_eq!(sysctl_path("IPT_SYSCTL=/a\n", "IPT_SYSCTL=\n"), None);
}

#[test]
fn forwarding_turned_off_by_sysctl_is_said() {
    let mut files = stock();
    files.sysctl = file(
        "sysctl.conf",
        "net/ipv4/ip_forward=0\nnet/ipv6/conf/all/forwarding=1\n",
    );
    let read = read(&files);
    assert_eq!(read.settings.ipv4_forwarding, Some(false));
    assert_eq!(read.settings.ipv6_forwarding, Some(true));
    let notes: Vec<(&str, u32)> = read
        .parsed
        .ruleset
        .skipped
        .iter()
        .map(|k| (read.parsed.ruleset.path(&k.span), k.span.line))
        .collect();
    assert_eq!(notes, [("/etc/ufw/sysctl.conf", 1)]);
}
