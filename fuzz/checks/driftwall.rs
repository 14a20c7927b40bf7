//! What the fuzz targets of the `driftwall` crate's readers check, shared
//! with `tests/fuzz_inputs.rs`, which replays their corpora on stable Rust:
//! no panic, and every error has a place in the input and a message.

// Each target uses one of these; the replay test all of them.
#![allow(dead_code)]

use driftwall::daemon::config::Config;
use driftwall::input::{InputFormat, parse_text};
use driftwall::policy::{Role, RoleKind, load_str_for};

/// A policy, read as it is checked for a host, for a gateway with a LAN,
/// and with no role.
pub fn policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let gateway = Role {
        kind: RoleKind::Gateway,
        lan_interfaces: vec![driftwall_parsers::model::Interface {
            name: "lan".into(),
            wildcard: true,
        }],
        ..Role::default()
    };
    for role in [None, Some(Role::default()), Some(gateway)] {
        if let Err(errors) = load_str_for("fuzz.yaml", &text, role.as_ref()) {
            assert!(!errors.is_empty());
            for e in &errors {
                assert!(e.line >= 1 && e.column >= 1, "{e:?}");
                assert!(!e.message.is_empty(), "{e:?}");
            }
        }
    }
}

/// The daemon's configuration.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(errors) = Config::from_str("fuzz.yaml", &text) {
        assert!(!errors.is_empty());
        for e in &errors {
            assert!(e.line >= 1 && e.column >= 1, "{e:?}");
            assert!(!e.message.is_empty(), "{e:?}");
        }
    }
}

/// A small ruleset of each family to answer probes against.
const RULES: &str = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n\
-A INPUT -i eth0 -p tcp --dport 22 -j ACCEPT\n\
-A INPUT -p udp --dport 53 -j REJECT\n\
-A FORWARD -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n";

/// The probes of `driftwall probe`: read, then answered (addresses of
/// either family, unknown interfaces, every kind).
pub fn probe(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match driftwall::commands::probe::parse_probes("fuzz.json", &text) {
        Ok(list) => {
            for format in [InputFormat::Iptables, InputFormat::Ip6tables] {
                let input = parse_text("rules", RULES, format);
                // An error (probes of two families) is an answer too.
                if let Ok(results) = driftwall::commands::probe::answer(&input, &list, &[]) {
                    assert_eq!(results.len(), list.len());
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("fuzz.json:"), "{msg}");
        }
    }
}
