//! The pf.conf parser on arbitrary input: no panic, no hang, and every
//! position it returns points into the input. `include` and `load anchor`
//! read the input itself again, so include loops and nesting are fuzzed too.
#![no_main]

use driftwall_parsers::pf::ast::Item;
use driftwall_parsers::pf::{looks_like_pf, parse, parse_ruleset};
use libfuzzer_sys::fuzz_target;

fn check_items(items: &[Item], len: usize) {
    for item in items {
        let span = match item {
            Item::Rule(r) => r.span,
            Item::Anchor(a) => {
                check_items(a.body.as_deref().unwrap_or(&[]), len);
                a.span
            }
            Item::LoadAnchor(l) => l.span,
            Item::Antispoof(a) => a.span,
            Item::Ether(e) => e.span,
        };
        assert!(span.line >= 1 && span.column >= 1, "{span:?}");
        assert!(span.start <= span.end && span.end as usize <= len, "{span:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = looks_like_pf(&text);
    let again = text.to_string();
    let loader = move |_: &str, _: &str| -> Result<Vec<(String, String)>, String> {
        Ok(vec![("again.conf".to_string(), again.clone())])
    };
    let parsed = parse("fuzz.conf", &text, &loader);
    for e in &parsed.errors {
        assert!(e.line >= 1 && e.column >= 1, "{e:?}");
        assert!(!e.message.is_empty(), "{e:?}");
        // Errors in the top file point into it.
        if e.path == "fuzz.conf" {
            assert!(
                text.get(e.start as usize..e.end as usize).is_some(),
                "error range off the text or a char boundary: {e:?}"
            );
        }
    }
    check_items(&parsed.ruleset.items, text.len());
    // The semantics too: whatever parses is lowered without a panic.
    let again = text.to_string();
    let loader = move |_: &str, _: &str| -> Result<Vec<(String, String)>, String> {
        Ok(vec![("again.conf".to_string(), again.clone())])
    };
    let _ = parse_ruleset("fuzz.conf", &text, &loader);
});
