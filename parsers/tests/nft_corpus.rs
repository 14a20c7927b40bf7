//! The nft language parser against `../shared/corpus/nftables`: the
//! nftables test suite's `nft list ruleset` dumps and feature probes,
//! upstream examples and real `/etc/nftables.conf` files must parse or fail
//! with an error that names a construct driftwall does not support; the `ok`
//! rules of the `tests/py` `.t` files must parse and their `fail` rules be
//! rejected; the fuzzed "bogons" must be rejected; nothing may panic.
//!
//! The corpus is found as for `tests/corpus.rs` (`DRIFTWALL_CORPUS` or
//! `../shared/corpus`); absent, the tests print why and pass unless
//! `DRIFTWALL_REQUIRE_ALL` is set.
//!
//! `cargo test -p driftwall-parsers --test nft_corpus -- --nocapture` prints
//! the rates and every file that does not parse.

#[path = "../../tests/support/common.rs"]
mod support;

use driftwall_parsers::nft::parse_with;
use driftwall_parsers::{ErrorKind, Parsed};
use std::path::{Path, PathBuf};

fn corpus_dir() -> Option<PathBuf> {
    support::corpus("nftables")
}

/// Every file below `dir`, sorted, as (name relative to dir, path).
fn files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display()))
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap_or(&p).display().to_string(), p));
            }
        }
    }
    out.sort();
    out
}

/// Parses a file, following includes on disk, under `catch_unwind`.
fn parse_file(path: &Path) -> Result<Parsed, String> {
    let text = String::from_utf8_lossy(&std::fs::read(path).expect("read")).into_owned();
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let loader = move |_including: &str, pattern: &str| -> Result<Vec<(String, String)>, String> {
        let p = dir.join(pattern.trim_start_matches("./"));
        // The corpus keeps included sets in their folders; globs are rare there.
        if pattern.contains('*') {
            let parent = p.parent().unwrap_or(Path::new(".")).to_path_buf();
            let suffix = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .trim_start_matches('*')
                .to_string();
            let mut found: Vec<PathBuf> = std::fs::read_dir(&parent)
                .map_err(|e| format!("cannot read included file `{}`: {e}", p.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|q| q.to_string_lossy().ends_with(&suffix))
                .collect();
            found.sort();
            return found
                .into_iter()
                .map(|q| {
                    Ok((
                        q.display().to_string(),
                        std::fs::read_to_string(&q).map_err(|e| e.to_string())?,
                    ))
                })
                .collect();
        }
        if p.exists() && !p.is_file() {
            return Err(format!(
                "cannot include `{}`: not a regular file",
                p.display()
            ));
        }
        let text = std::fs::read_to_string(&p)
            .map_err(|e| format!("cannot read included file `{}`: {e}", p.display()))?;
        Ok(vec![(p.display().to_string(), text)])
    };
    let shown = path.display().to_string();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parse_with(&shown, &text, &loader)
    }))
    .map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

/// Real files that nft itself refuses (`nft -c -f` on nftables 1.1), with why.
const INVALID: &[(&str, &str)] = &[
    (
        "realworld-SvyatBeloz-nftables-config-nftables-wg.conf",
        "uses $wg0_peers_ipv6, whose define is commented out",
    ),
    (
        "realworld-SvyatBeloz-nftables-config-nftables-all.conf",
        "uses $wg0_peers_ipv6, whose define is commented out; nft also refuses `limit rate over { ... }`",
    ),
    (
        "realworld-SvyatBeloz-nftables-config-nftables-mc.conf",
        "`limit rate over { 15/minute, 3/second }`: a limit takes one rate, not a set",
    ),
    (
        "realworld-SvyatBeloz-nftables-config-nftables-web.conf",
        "`... accept limit rate over 5/second drop`: nft refuses a statement after a terminal one",
    ),
];

/// Whether an error says the construct is not supported (rather than that
/// the input is wrong), or names a file the corpus does not have.
fn names_unsupported(kind: ErrorKind, message: &str) -> bool {
    kind == ErrorKind::Unsupported || message.contains("cannot read included file")
}

#[test]
fn dumps_examples_and_real_files_parse() {
    let Some(dir) = corpus_dir() else { return };
    let (mut ok, mut unsupported, mut invalid, mut wrong, mut panics) =
        (0, 0, 0, Vec::new(), Vec::new());
    let mut total = 0;
    for (name, path) in files(&dir) {
        let short = name.rsplit('/').next().unwrap_or(&name);
        if short.starts_with("tests-bogons-")
            || short.ends_with(".t")
            || short.ends_with(".md")
            || name.contains("nftables.d/")
        {
            continue;
        }
        total += 1;
        match parse_file(&path) {
            Err(p) => panics.push(format!("{name}: panic: {p}")),
            Ok(parsed) if parsed.errors.is_empty() => ok += 1,
            Ok(parsed)
                if parsed
                    .errors
                    .iter()
                    .all(|e| names_unsupported(e.kind, &e.message)) =>
            {
                unsupported += 1
            }
            // An include that is not in the corpus: what its definitions
            // would have given is missing, and the file says so first.
            Ok(parsed)
                if parsed
                    .errors
                    .first()
                    .is_some_and(|e| names_unsupported(e.kind, &e.message))
                    && parsed.errors.iter().all(|e| {
                        names_unsupported(e.kind, &e.message)
                            || e.message.starts_with("undefined variable")
                            || e.message.starts_with("no set or map")
                    }) =>
            {
                unsupported += 1
            }
            Ok(_) if INVALID.iter().any(|(n, _)| *n == short) => invalid += 1,
            Ok(parsed) => {
                let e = parsed
                    .errors
                    .iter()
                    .find(|e| !names_unsupported(e.kind, &e.message))
                    .expect("one");
                wrong.push(format!("{name}:{}:{}: {}", e.line, e.column, e.message));
            }
        }
    }
    println!(
        "nft files: {total}; parsed {ok}, unsupported construct named {unsupported}, rejected as nft rejects them {invalid}, wrong {}, panics {}",
        wrong.len(),
        panics.len()
    );
    for w in wrong.iter().chain(&panics) {
        println!("  {w}");
    }
    assert!(panics.is_empty(), "{panics:#?}");
    assert!(
        wrong.is_empty(),
        "{} files fail with an error that is not 'unsupported'",
        wrong.len()
    );
}

#[test]
fn bogons_are_rejected_without_panic() {
    let Some(dir) = corpus_dir() else { return };
    let (mut rejected, mut accepted, mut panics) = (0, Vec::new(), Vec::new());
    for (name, path) in files(&dir)
        .into_iter()
        .filter(|(n, _)| n.starts_with("tests-bogons-"))
    {
        match parse_file(&path) {
            Err(p) => panics.push(format!("{name}: {p}")),
            Ok(parsed) if parsed.errors.is_empty() => accepted.push(name),
            Ok(_) => rejected += 1,
        }
    }
    println!(
        "bogons: {rejected} rejected, {} accepted, {} panics",
        accepted.len(),
        panics.len()
    );
    for a in &accepted {
        println!("  accepted: {a}");
    }
    assert!(panics.is_empty(), "{panics:#?}");
    assert!(
        accepted.is_empty(),
        "{} bogons are accepted: {accepted:#?}",
        accepted.len()
    );
}

/// One rule line of a `tests/py` file with what it expects.
struct PyCase {
    file: String,
    line: usize,
    rule: String,
    ok: bool,
}

/// The chains, tables and sets a `.t` file declares, and its rule lines.
fn py_cases(name: &str, text: &str) -> (String, Vec<PyCase>) {
    let mut chains: Vec<(String, String)> = Vec::new();
    let mut tables: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut sets: Vec<String> = Vec::new();
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        if let Some(rest) = line.strip_prefix(':') {
            if let Some((name, spec)) = rest.split_once(';') {
                chains.push((name.to_string(), spec.to_string()));
            }
        } else if let Some(rest) = line.strip_prefix('*') {
            let parts: Vec<&str> = rest.split(';').collect();
            if parts.len() >= 3 {
                tables.push((
                    parts[0].to_string(),
                    parts[1].to_string(),
                    parts[2].split(',').map(str::to_string).collect(),
                ));
            }
        } else if let Some(rest) = line.strip_prefix('!') {
            // `!set1 ipv4_addr;ok` or `!map1 type ... ;ok`
            let decl = rest.rsplit_once(';').map(|(d, _)| d).unwrap_or(rest);
            let mut w = decl.splitn(2, ' ');
            let (set, ty) = (w.next().unwrap_or(""), w.next().unwrap_or("").trim());
            let ty = ty.strip_prefix("type ").unwrap_or(ty);
            let (ty, mut flags) = match ty.split_once(" flags ") {
                Some((t, f)) => (t.to_string(), format!(" flags {f};")),
                None => (ty.to_string(), String::new()),
            };
            // `type ipv4_addr timeout 60s`: the timeout is a statement of its own.
            let ty = match ty.split_once(" timeout ") {
                Some((t, d)) => {
                    flags.push_str(&format!(" timeout {d};"));
                    t.to_string()
                }
                None => ty,
            };
            let kw = if ty.contains(" : ") { "map" } else { "set" };
            let typ = if ty.starts_with("typeof ") {
                ty.clone()
            } else {
                format!("type {ty}")
            };
            sets.push(format!("\t{kw} {set} {{ {typ};{flags} }}\n"));
        } else if let Some(rest) = line.strip_prefix('%') {
            // `%cnt1 type counter;ok`, `%qt1 type quota 25 mbytes;ok`: the
            // named counters, quotas and limits rules may use.
            let decl = rest.rsplit_once(';').map(|(d, _)| d).unwrap_or(rest);
            if let Some((name, body)) = decl.split_once(" type ") {
                for kind in ["counter", "quota", "limit", "synproxy", "ct helper"] {
                    if let Some(args) = body
                        .strip_prefix(kind)
                        .filter(|a| a.is_empty() || a.starts_with(' '))
                    {
                        let args = args.trim();
                        // `ct helper { type "ftp" protocol tcp; }` has its braces.
                        let block = if args.starts_with('{') {
                            args.to_string()
                        } else {
                            format!("{{ {args} }}")
                        };
                        sets.push(format!("\t{kind} {name} {block}\n"));
                    }
                }
            }
        } else if line.starts_with('?') {
            continue;
        } else {
            let fields: Vec<&str> = line.split(';').collect();
            if fields.len() < 2 || fields.len() > 3 {
                continue;
            }
            cases.push(PyCase {
                file: name.to_string(),
                line: i + 1,
                rule: fields[0].to_string(),
                ok: fields[1] == "ok",
            });
        }
    }
    // A ruleset holding the declarations, into which one rule is put at a time.
    let mut head = String::new();
    for (family, table, in_chains) in &tables {
        head.push_str(&format!("table {family} {table} {{\n"));
        head.push_str(&sets.concat());
        for c in in_chains {
            let spec = chains
                .iter()
                .find(|(n, _)| n == c)
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            head.push_str(&format!("\tchain {c} {{\n\t\t{spec};\n\t\t@RULE@\n\t}}\n"));
        }
        head.push_str("}\n");
    }
    (head, cases)
}

#[test]
fn py_rule_tests_ok_lines_parse_and_fail_lines_are_rejected() {
    let Some(dir) = corpus_dir() else { return };
    let (mut ok_pass, mut ok_total, mut fail_rejected, mut fail_total) = (0, 0, 0, 0);
    let mut bad_ok = Vec::new();
    let mut accepted_fail = Vec::new();
    let mut panics = Vec::new();
    for (name, path) in files(&dir)
        .into_iter()
        .filter(|(n, _)| n.starts_with("tests-py-") && n.ends_with(".t"))
    {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let (head, cases) = py_cases(&name, &text);
        if head.is_empty() {
            continue;
        }
        for c in cases {
            let ruleset = head.replace("@RULE@", &c.rule);
            let loader = |_: &str, _: &str| -> Result<Vec<(String, String)>, String> {
                Err("no includes".into())
            };
            let parsed = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                parse_with(&c.file, &ruleset, &loader)
            })) {
                Ok(p) => p,
                Err(_) => {
                    panics.push(format!("{}:{}: {}", c.file, c.line, c.rule));
                    continue;
                }
            };
            let accepted = parsed.errors.is_empty();
            if c.ok {
                ok_total += 1;
                if accepted
                    || parsed
                        .errors
                        .iter()
                        .all(|e| names_unsupported(e.kind, &e.message))
                {
                    ok_pass += 1;
                } else {
                    bad_ok.push(format!(
                        "{}:{}: `{}`: {}",
                        c.file, c.line, c.rule, parsed.errors[0].message
                    ));
                }
            } else {
                fail_total += 1;
                if !accepted {
                    fail_rejected += 1;
                } else {
                    accepted_fail.push(format!("{}:{}: `{}`", c.file, c.line, c.rule));
                }
            }
        }
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            100.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!(
        "tests/py: ok lines parsed {ok_pass}/{ok_total} ({:.1}%), fail lines rejected {fail_rejected}/{fail_total} ({:.1}%)",
        pct(ok_pass, ok_total),
        pct(fail_rejected, fail_total)
    );
    for b in bad_ok.iter().take(400) {
        println!("  {b}");
    }
    for a in &accepted_fail {
        println!("  fail line accepted: {a}");
    }
    assert!(panics.is_empty(), "{panics:#?}");
    assert!(bad_ok.is_empty(), "{} ok lines do not parse", bad_ok.len());
    assert!(
        accepted_fail.is_empty(),
        "{} fail lines are accepted: {accepted_fail:#?}",
        accepted_fail.len()
    );
}
