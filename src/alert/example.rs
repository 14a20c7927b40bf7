//! The example alert of docs/alerts/, made by the real pipeline: the web
//! server example with its HTTPS rule broken, assessed by the daemon's drift
//! code against its baseline, through the lifecycle, rendered.

use super::lifecycle::{Lifecycle, Mail, Settings};
use crate::drift::assess;
use crate::drift::sources::Sources;
use crate::input::InputFormat;

pub const HOST: &str = "fw1.example.org";
pub const SOURCE: &str = "/etc/iptables/rules.v4";
pub const ACCEPT: &str = "driftwall baseline accept --config /etc/driftwall/driftwall.yaml";
/// 2026-11-26 09:14:05 UTC: fixed, so the example does not change by itself.
pub const AT_MS: u64 = 1_795_684_445_000;

const RULES: &str = include_str!("../../examples/web-server.rules");
const POLICY: &str = include_str!("../../examples/web-server.policy.yaml");
const BLOCK: &str =
    "-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset\n";

/// The alert: HTTPS was open to everyone in the accepted baseline; a rule
/// that rejects it for a partner network comes in.
pub fn mail() -> Mail {
    let policy = crate::policy::load_str_for(
        "web-server.policy.yaml",
        POLICY,
        Some(&crate::policy::Role::default()),
    )
    .unwrap_or_else(|e| panic!("the example policy is valid: {e:?}"));
    let policies = [policy];
    let mut state = Sources::default();
    let before = RULES.replace(BLOCK, "");
    assess::assess(
        &mut state,
        SOURCE,
        None,
        &before,
        None,
        InputFormat::Iptables,
        &policies,
    );
    let events = assess::assess(
        &mut state,
        SOURCE,
        None,
        RULES,
        None,
        InputFormat::Iptables,
        &policies,
    );
    let settings = Settings::standard(HOST);
    let mut l = Lifecycle::default();
    l.add_events(&events, AT_MS - 30_000);
    let mut mails = l.tick(AT_MS, &super::firing(&state), &settings, false);
    mails.retain(|m| m.notices.iter().any(|n| n.group == "web-server"));
    mails
        .pop()
        .unwrap_or_else(|| panic!("the example makes an alert"))
}
