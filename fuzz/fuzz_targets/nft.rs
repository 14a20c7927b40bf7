//! The nft language parser (and its lowering) on arbitrary input: no panic,
//! no hang, and every position it returns points into the input.
#![no_main]

use driftwall_parsers::nft::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = parse("fuzz.nft", &text);
    for e in &parsed.errors {
        assert!(e.line >= 1 && e.column >= 1, "{e:?}");
        assert!(
            text.get(e.start as usize..e.end as usize).is_some(),
            "error range off the text or a char boundary: {e:?}"
        );
        assert!(!e.message.is_empty(), "{e:?}");
    }
    for rule in parsed
        .ruleset
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
    {
        let s = rule.span;
        assert!(
            text.get(s.start as usize..s.end as usize).is_some(),
            "rule span off the text: {s:?}"
        );
    }
});
