//! Inputs built to break a reader (issue 18): each gives a clear error at
//! its line and column, or a bounded result; never a panic, a stack
//! overflow or an allocation of gigabytes.

use driftwall_parsers::{iptables, model::Family, nft};

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

/// Jump loops were evaluated instead of refused; the kernel refuses them
/// ("Too many links" from iptables-restore and nft alike).
#[test]
fn jump_loops_are_refused_at_the_jump_that_closes_them() {
    let text = "*filter\n:INPUT ACCEPT [0:0]\n:a - [0:0]\n:b - [0:0]\n-A INPUT -j a\n-A a -j b\n-A b -p tcp -j a\nCOMMIT\n";
    let parsed = iptables::parse("loop.rules", text, Family::Ipv4);
    let e = parsed.errors.first().expect("an error");
    assert_eq!((e.line, e.column), (7, 1), "{e:?}");
    assert!(e.message.contains("makes a loop back to it"), "{e:?}");
    let nft_text = "table inet t {\n chain in {\n  type filter hook input priority 0;\n  jump a\n }\n chain a {\n  goto b\n }\n chain b {\n  tcp dport 1 jump a\n }\n}\n";
    let errors = nft_errors(nft_text);
    assert!(
        errors
            .first()
            .is_some_and(|e| e.starts_with("hostile.nft:10:") && e.contains("loop")),
        "{errors:?}"
    );
    // A loop no base chain reaches is not the kernel's concern either.
    let unreachable =
        "*filter\n:INPUT ACCEPT [0:0]\n:a - [0:0]\n:b - [0:0]\n-A a -j b\n-A b -j a\nCOMMIT\n";
    assert!(
        iptables::parse("u.rules", unreachable, Family::Ipv4)
            .errors
            .is_empty()
    );
}

/// nftables' jump stack holds 15 nested jumps below a base chain: the
/// kernel loads 15 and refuses 16, from nft and iptables-nft alike
/// (checked in a network namespace).
#[test]
fn nft_jumps_deeper_than_the_stack_are_refused() {
    let deep = |n: usize| {
        let mut s = String::from(
            "table inet t {\n chain in {\n  type filter hook input priority 0;\n  jump c1\n }\n",
        );
        for i in 1..n {
            s.push_str(&format!(" chain c{i} {{\n  jump c{}\n }}\n", i + 1));
        }
        s.push_str(&format!(" chain c{n} {{\n  accept\n }}\n}}\n"));
        s
    };
    assert!(nft_errors(&deep(15)).is_empty());
    let errors = nft_errors(&deep(16));
    assert!(
        errors
            .first()
            .is_some_and(|e| e.contains("jump stack of 16")),
        "{errors:?}"
    );
    // iptables-nft has the same stack (checked in a namespace too).
    let chained = |n: usize| {
        let mut chains = String::from("*filter\n:INPUT ACCEPT [0:0]\n");
        let mut rules = String::from("-A INPUT -j c1\n");
        for i in 1..=n {
            chains.push_str(&format!(":c{i} - [0:0]\n"));
            if i < n {
                rules.push_str(&format!("-A c{i} -j c{}\n", i + 1));
            }
        }
        format!("{chains}{rules}COMMIT\n")
    };
    let ok = iptables::parse("deep.rules", &chained(15), Family::Ipv4);
    assert!(ok.errors.is_empty(), "{:?}", ok.errors);
    let refused = iptables::parse("deep.rules", &chained(16), Family::Ipv4);
    assert_eq!(refused.errors.len(), 1, "{:?}", refused.errors);
}

/// Values of extensions that are not modelled were accepted past their
/// range; iptables-restore refuses them. Each case's verdict is what
/// `iptables-restore --test` (1.8.9) said of it.
#[test]
fn unmodelled_extensions_values_are_checked_as_iptables_checks_them() {
    let cases = [
        ("-m ttl --ttl-eq 255", true),
        ("-m ttl --ttl-eq 256", false),
        ("-m mark --mark 0xffffffff/0xffffffff", true),
        ("-m mark --mark 0x1ffffffff", false),
        ("-m connmark --mark 1/0x1ffffffff", false),
        ("-m limit --limit 3/min", true),
        ("-m limit --limit 5/m", true),
        ("-m limit --limit 5/sec", true),
        ("-m limit --limit 1/d", true),
        ("-m limit --limit 5", true),
        ("-m limit --limit 10000/s", true),
        ("-m limit --limit 10001/s", false),
        ("-m limit --limit 0/s", false),
        ("-m limit --limit 5/x", false),
        ("-m limit --limit 99999999999999999999/s", false),
        ("-m limit --limit-burst 10000", true),
        ("-m limit --limit-burst 10001", false),
        ("-m length --length 0:65535", true),
        ("-m length --length :100", true),
        ("-m length --length 5:3", true),
        ("-m length --length 70000", false),
    ];
    for (rule, accepted) in cases {
        let text = format!("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT {rule} -j DROP\nCOMMIT\n");
        let parsed = iptables::parse("r.rules", &text, Family::Ipv4);
        assert_eq!(
            parsed.errors.is_empty(),
            accepted,
            "{rule}: {:?}",
            parsed.errors
        );
        if !accepted {
            assert_eq!(parsed.errors[0].line, 3, "{rule}");
        }
    }
}
