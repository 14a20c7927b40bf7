//! The iptables-save / iptables-restore parser on arbitrary input, in both
//! families: it must not panic, must not hang, and everything it returns
//! must point into the input.
#![no_main]

use driftwall_parsers::iptables::{detect_family, parse};
use driftwall_parsers::model::Family;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = detect_family("fuzz.rules", &text);
    for family in [Family::Ipv4, Family::Ipv6] {
        let parsed = parse("fuzz.rules", &text, family);
        for e in &parsed.errors {
            assert!(e.line >= 1 && e.column >= 1, "{e:?}");
            assert!(e.start <= e.end, "{e:?}");
            assert!(
                text.get(e.start as usize..e.end as usize).is_some(),
                "error range off the text or a char boundary: {e:?}"
            );
            assert!(!e.message.is_empty(), "{e:?}");
        }
        for table in &parsed.ruleset.tables {
            for chain in &table.chains {
                for rule in &chain.rules {
                    let s = rule.span;
                    assert!(
                        text.get(s.start as usize..s.end as usize).is_some(),
                        "rule span off the text: {s:?}"
                    );
                }
            }
        }
    }
});
