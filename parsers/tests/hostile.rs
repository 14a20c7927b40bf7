//! Inputs built to break a reader (issue 18): each gives a clear error at
//! its line and column, or a bounded result; never a panic, a stack
//! overflow or an allocation of gigabytes.

use driftwall_parsers::nft;

fn nft_errors(text: &str) -> Vec<String> {
    let parsed = nft::parse("hostile.nft", text);
    parsed
        .errors
        .iter()
        .map(|e| format!("{}:{}:{}: {}", e.path, e.line, e.column, e.message))
        .collect()
}

/// 20,000 nested anonymous sets overflowed the stack (exit 134); nft
/// refuses them ("memory exhausted").
#[test]
fn deeply_nested_sets_are_refused_at_their_place() {
    let n = 20_000;
    let text = format!(
        "table inet t {{ chain c {{ type filter hook input priority 0; tcp dport {}22{} accept }} }}\n",
        "{".repeat(n),
        "}".repeat(n)
    );
    let errors = nft_errors(&text);
    assert!(
        errors.first().is_some_and(
            |e| e.starts_with("hostile.nft:1:") && e.contains("sets nested more than 256 deep")
        ),
        "{errors:?}"
    );
    // Nesting that real files use still reads.
    let ok = "table inet t { chain c { type filter hook input priority 0; tcp dport {{{ 22, 23 }}} accept } }\n";
    assert!(nft_errors(ok).is_empty());
}

/// `define dK = { $d(K-1), $d(K-1) }` doubled at each level: 22 levels
/// took 2.27 GB, 24 aborted on a failed allocation.
#[test]
fn definitions_that_double_are_stopped() {
    let mut text = String::from("define d0 = { 1 }\n");
    for k in 1..24 {
        text.push_str(&format!("define d{k} = {{ $d{}, $d{} }}\n", k - 1, k - 1));
    }
    text.push_str(
        "table inet t { chain c { type filter hook input priority 0; tcp dport $d23 accept } }\n",
    );
    let errors = nft_errors(&text);
    assert!(
        errors
            .first()
            .is_some_and(|e| e.contains("variables expand to more than")),
        "{errors:?}"
    );
}
