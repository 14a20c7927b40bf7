//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) through the parsers as an
//! ordinary test, so inputs the fuzzer found interesting keep being checked
//! on stable Rust without cargo-fuzz: no panic, and every position returned
//! points into the input.

use driftwall_parsers::iptables::{detect_family, parse};
use driftwall_parsers::model::Family;
use std::path::Path;

/// Runs what the `iptables` fuzz target runs.
fn check_iptables(name: &str, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = detect_family(name, &text);
    for family in [Family::Ipv4, Family::Ipv6] {
        let parsed = parse(name, &text, family);
        for e in &parsed.errors {
            assert!(e.line >= 1 && e.column >= 1, "{name}: {e:?}");
            assert!(
                text.get(e.start as usize..e.end as usize).is_some(),
                "{name}: error range off the text: {e:?}"
            );
        }
        for rule in parsed
            .ruleset
            .tables
            .iter()
            .flat_map(|t| &t.chains)
            .flat_map(|c| &c.rules)
        {
            assert!(
                text.get(rule.span.start as usize..rule.span.end as usize)
                    .is_some(),
                "{name}: rule span off the text"
            );
        }
    }
}

/// Runs what the `nft` fuzz target runs.
fn check_nft(name: &str, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = driftwall_parsers::nft::parse(name, &text);
    for e in &parsed.errors {
        assert!(e.line >= 1 && e.column >= 1, "{name}: {e:?}");
        assert!(
            text.get(e.start as usize..e.end as usize).is_some(),
            "{name}: error range off the text: {e:?}"
        );
    }
    for rule in parsed
        .ruleset
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
    {
        assert!(
            text.get(rule.span.start as usize..rule.span.end as usize)
                .is_some(),
            "{name}: rule span off the text"
        );
    }
}

/// Runs what the `nft_json` fuzz target runs.
fn check_nft_json(name: &str, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = driftwall_parsers::nft::parse_json(name, &text);
    for e in &parsed.errors {
        assert!(
            e.line >= 1 && e.column >= 1 && !e.message.is_empty(),
            "{name}: {e:?}"
        );
    }
}

/// Runs what the `ufw` fuzz target runs: the input split at NUL bytes
/// into ufw.conf, the defaults file and the six rule files.
fn check_ufw(name: &str, data: &[u8]) {
    use driftwall_parsers::ufw::{Files, read};
    let text = String::from_utf8_lossy(data);
    let mut parts = text
        .split('\0')
        .map(|p| Some((name.to_string(), p.to_string())));
    let files = Files {
        dir: "fuzz".into(),
        ufw_conf: parts.next().flatten(),
        defaults: parts.next().flatten(),
        before_rules: parts.next().flatten(),
        before6_rules: parts.next().flatten(),
        user_rules: parts.next().flatten(),
        user6_rules: parts.next().flatten(),
        after_rules: parts.next().flatten(),
        after6_rules: parts.next().flatten(),
        ..Files::default()
    };
    let rs = read(&files).parsed.ruleset;
    for rule in rs
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
    {
        let s = rule.span;
        let source = rs.sources.get(s.file as usize);
        assert!(
            source.is_some_and(|f| f.text.get(s.start as usize..s.end as usize).is_some()),
            "{name}: rule span off its file"
        );
    }
}

/// Runs what the `firewalld` fuzz target runs: the input split at NUL
/// bytes into firewalld.conf, a zone, a service, a policy, an ipset and
/// direct.xml.
fn check_firewalld(name: &str, data: &[u8]) {
    use driftwall_parsers::firewalld::{Files, Folder, read};
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0').map(str::to_string);
    let mut next = |path: &str| parts.next().map(|t| (path.to_string(), t));
    let user = Folder {
        dir: "/etc/firewalld".into(),
        conf: next("/etc/firewalld/firewalld.conf"),
        zones: next("/etc/firewalld/zones/public.xml")
            .into_iter()
            .collect(),
        services: next("/etc/firewalld/services/s.xml").into_iter().collect(),
        policies: next("/etc/firewalld/policies/p.xml").into_iter().collect(),
        ipsets: next("/etc/firewalld/ipsets/i.xml").into_iter().collect(),
        direct: next("/etc/firewalld/direct.xml"),
        ..Folder::default()
    };
    let r = read(&Files { user, stock: None });
    let rs = &r.parsed.ruleset;
    for rule in rs
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
    {
        let s = rule.span;
        let source = rs.sources.get(s.file as usize);
        assert!(
            source.is_some_and(|f| f.text.get(s.start as usize..s.end as usize).is_some()),
            "{name}: rule span off its source"
        );
    }
    for e in &r.parsed.errors {
        assert!(e.line >= 1 && e.column >= 1, "{name}: {e:?}");
    }
}

/// Runs what the `pf` fuzz target runs: the loader gives the input back
/// for every `include` and `load anchor`, so loops are replayed too.
fn check_pf(name: &str, data: &[u8]) {
    use driftwall_parsers::pf::ast::Item;
    fn check_items(name: &str, items: &[Item], len: usize) {
        for item in items {
            let span = match item {
                Item::Rule(r) => r.span,
                Item::Anchor(a) => {
                    check_items(name, a.body.as_deref().unwrap_or(&[]), len);
                    a.span
                }
                Item::LoadAnchor(l) => l.span,
                Item::Antispoof(a) => a.span,
                Item::Ether(e) => e.span,
            };
            assert!(span.line >= 1 && span.column >= 1, "{name}: {span:?}");
            assert!(
                span.start <= span.end && span.end as usize <= len,
                "{name}: span off the text: {span:?}"
            );
        }
    }
    let text = String::from_utf8_lossy(data);
    let _ = driftwall_parsers::pf::looks_like_pf(&text);
    let again = text.to_string();
    let loader = move |_: &str, _: &str| -> Result<Vec<(String, String)>, String> {
        Ok(vec![("again.conf".to_string(), again.clone())])
    };
    let parsed = driftwall_parsers::pf::parse(name, &text, &loader);
    for e in &parsed.errors {
        assert!(
            e.line >= 1 && e.column >= 1 && !e.message.is_empty(),
            "{name}: {e:?}"
        );
        if e.path == name {
            assert!(
                text.get(e.start as usize..e.end as usize).is_some(),
                "{name}: error range off the text: {e:?}"
            );
        }
    }
    check_items(name, &parsed.ruleset.items, text.len());
    // The semantics too: whatever parses is lowered without a panic.
    let loader = move |_: &str, _: &str| -> Result<Vec<(String, String)>, String> {
        Ok(vec![("again.conf".to_string(), text.to_string())])
    };
    let _ = driftwall_parsers::pf::parse_ruleset(name, &String::from_utf8_lossy(data), &loader);
}

#[test]
fn fuzz_corpus_inputs_parse_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let targets =
        std::fs::read_dir(&root).unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()));
    let mut replayed = 0;
    for target in targets.filter_map(Result::ok).filter(|e| e.path().is_dir()) {
        let target_name = target.file_name().to_string_lossy().into_owned();
        let check: fn(&str, &[u8]) = match target_name.as_str() {
            "iptables" => check_iptables,
            "nft" => check_nft,
            "nft_json" => check_nft_json,
            "ufw" => check_ufw,
            "pf" => check_pf,
            "firewalld" => check_firewalld,
            // The driftwall crate's readers: tests/fuzz_inputs.rs replays these.
            "policy" | "config" | "probe" => continue,
            other => panic!("fuzz corpus `{other}` has no replay here; add one for its target"),
        };
        let mut files: Vec<_> = std::fs::read_dir(target.path())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files.iter().filter(|f| f.is_file()) {
            let data = std::fs::read(file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            let name = format!(
                "{target_name}/{}",
                file.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            );
            if std::panic::catch_unwind(|| check(&name, &data)).is_err() {
                panic!(
                    "{name} fails; reproduce with `cargo +nightly fuzz run {target_name} {}`",
                    file.display()
                );
            }
            replayed += 1;
        }
    }
    assert!(
        replayed >= 10,
        "only {replayed} fuzz corpus files under {}",
        root.display()
    );
}
