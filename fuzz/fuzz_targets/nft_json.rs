//! The `nft -j` JSON reader on arbitrary input: no panic, no hang.
#![no_main]

use driftwall_parsers::nft::parse_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = parse_json("fuzz.json", &text);
    for e in &parsed.errors {
        assert!(e.line >= 1 && e.column >= 1, "{e:?}");
        assert!(!e.message.is_empty(), "{e:?}");
    }
});
