//! docs/alerts/example.txt and example.html are what the code renders for
//! the example alert (src/alert/example.rs). Regenerate them with
//! `DRIFTWALL_BLESS=1 cargo test --test email_docs`.

use driftwall::alert::{example, message};
use std::path::Path;

#[test]
fn the_example_alert_in_docs_is_current() {
    let mail = example::mail();
    let r = message::render(&mail, example::HOST, example::ACCEPT);
    let text = format!("Subject: {}\n\n{}", r.subject, r.text);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/alerts");
    let mut stale = Vec::new();
    for (name, want) in [("example.txt", &text), ("example.html", &r.html)] {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_ref() != Some(want) {
            if std::env::var_os("DRIFTWALL_BLESS").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, want).unwrap();
            } else {
                stale.push(name);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/alerts/{stale:?} out of date with the renderer; rerun with DRIFTWALL_BLESS=1 (and remake example.png, see docs/alerts/README.md)"
    );
}

#[test]
fn the_example_alert_says_what_a_network_engineer_needs() {
    let r = message::render(&example::mail(), example::HOST, example::ACCEPT);
    assert_eq!(
        r.subject,
        "[driftwall] fw1.example.org: 1 requirement broke, 0 recovered (web-server)"
    );
    for want in [
        "Requirement web-server/https-open (tcp 443 inbound) in /etc/iptables/rules.v4: pass -> fail",
        "+ /etc/iptables/rules.v4:12  -A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset",
        "witness: tcp 192.0.2.",
        "allow -> reject",
        "culprit: /etc/iptables/rules.v4:12",
        example::ACCEPT,
    ] {
        assert!(r.text.contains(want), "`{want}` in\n{}", r.text);
    }
    assert!(
        r.html.contains("<table") && r.html.contains("-j REJECT") && !r.html.contains("<script")
    );
}
