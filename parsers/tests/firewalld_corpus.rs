//! The firewalld reader against real configuration files written by others
//! (`../shared/corpus/firewalld`): firewalld's own stock zones, services,
//! policies, helpers and ICMP types, its test zones and policies, and
//! `/etc/firewalld` files from public repositories.
//!
//! A configuration is a folder, so files are read as firewalld reads them:
//! the upstream (`upstream-*`) files as one stock folder (what
//! `/usr/lib/firewalld` holds), once alone over the built-in stock table and
//! once as the stock beneath firewalld's test zones and policies; each
//! real-world repository's files (`realworld-<owner>-<repo>-…`) together,
//! as that repository's `/etc/firewalld`, over the upstream stock. XML
//! schemas (`*.xsd`) are not configuration and are counted apart.
//!
//! Every file must be read without a panic, and every error must be one
//! this test explains. Run with
//! `cargo test -p driftwall-parsers --test firewalld_corpus -- --nocapture`
//! to see the groups and the rates.

use driftwall_parsers::firewalld::{FileText, Files, Folder, read};
use std::collections::BTreeMap;
use std::path::Path;

#[path = "../../tests/support/common.rs"]
mod support;

/// Where a corpus file goes in a configuration folder: its kind (`zones`,
/// `services`, ..., `conf`, `direct`) and its file name there.
fn place(rest: &str) -> Option<(&'static str, String)> {
    if rest == "firewalld.conf" {
        return Some(("conf", rest.to_string()));
    }
    if rest == "direct.xml" {
        return Some(("direct", rest.to_string()));
    }
    for (prefix, kind) in [
        ("zones-", "zones"),
        ("zone-", "zones"),
        ("testzone-", "zones"),
        ("services-", "services"),
        ("service-", "services"),
        ("policies-", "policies"),
        ("policy-", "policies"),
        ("testpolicy-", "policies"),
        ("ipsets-", "ipsets"),
        ("ipset-", "ipsets"),
        ("icmptypes-", "icmptypes"),
        ("icmptype-", "icmptypes"),
        ("helpers-", "helpers"),
        ("helper-", "helpers"),
    ] {
        if let Some(name) = rest.strip_prefix(prefix) {
            return Some((kind, name.to_string()));
        }
    }
    None
}

fn put(folder: &mut Folder, kind: &str, name: &str, text: String) {
    let path = match kind {
        "conf" | "direct" => format!("{}/{name}", folder.dir),
        _ => format!("{}/{kind}/{name}", folder.dir),
    };
    let file: FileText = (path, text);
    match kind {
        "conf" => folder.conf = Some(file),
        "direct" => folder.direct = Some(file),
        "zones" => folder.zones.push(file),
        "services" => folder.services.push(file),
        "policies" => folder.policies.push(file),
        "ipsets" => folder.ipsets.push(file),
        "icmptypes" => folder.icmptypes.push(file),
        _ => folder.helpers.push(file),
    }
}

/// The errors a group may have, with why. A new one fails the test until
/// it is understood and either fixed or listed here.
const EXPLAINED: &[(&str, &str)] = &[
    (
        "`!!",
        "gucci-on-fleek's files are templates: `!!name!!` placeholders are filled in \
         before deployment, and firewalld refuses them as they stand",
    ),
    (
        "expected a whitespace not '+'",
        "SIPTEK-Edge-Proxy's public.xml is a shell template (`name=\"\"+extern_nic+\"\"`): \
         not XML until the script fills it in",
    ),
];

#[derive(Default)]
struct Tally {
    groups: usize,
    files: usize,
    clean_groups: usize,
    rules: usize,
    errors: usize,
    skipped_notes: usize,
}

#[test]
fn every_firewalld_file_is_read_alone_or_with_its_siblings() {
    let Some(dir) = support::corpus("firewalld") else {
        return;
    };
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    let read_text = |name: &str| -> String {
        let bytes = std::fs::read(dir.join(name)).expect("corpus file");
        String::from_utf8_lossy(&bytes).into_owned()
    };

    let mut stock = Folder {
        dir: "/usr/lib/firewalld".to_string(),
        ..Folder::default()
    };
    let mut tests = Folder {
        dir: "/etc/firewalld (firewalld's test zones and policies)".to_string(),
        ..Folder::default()
    };
    let mut groups: BTreeMap<String, Folder> = BTreeMap::new();
    let mut schemas = 0;
    let mut unplaced = Vec::new();
    for name in &names {
        if name.ends_with(".xsd") {
            schemas += 1;
            continue;
        }
        let text = read_text(name);
        if let Some(rest) = name.strip_prefix("upstream-") {
            let Some((kind, file)) = place(rest) else {
                unplaced.push(name.clone());
                continue;
            };
            let test = rest.starts_with("test");
            let target = if test { &mut tests } else { &mut stock };
            put(target, kind, &file, text);
        } else if let Some(rest) = name.strip_prefix("realworld-") {
            // The repository is everything before `firewalld-` or
            // `firewalld.conf`, which starts the path inside /etc/firewalld.
            let Some(at) = rest
                .find("firewalld-")
                .or_else(|| rest.find("firewalld.conf"))
            else {
                unplaced.push(name.clone());
                continue;
            };
            let (repo, inner) = rest.split_at(at);
            let inner = inner.strip_prefix("firewalld-").unwrap_or(inner);
            let Some((kind, file)) = place(inner) else {
                unplaced.push(name.clone());
                continue;
            };
            let folder = groups
                .entry(repo.trim_end_matches('-').to_string())
                .or_default();
            folder.dir = format!("{}/etc/firewalld", repo.trim_end_matches('-'));
            put(folder, kind, &file, text);
        } else {
            unplaced.push(name.clone());
        }
    }
    assert!(
        unplaced.is_empty(),
        "files this test cannot place: {unplaced:?}"
    );

    let count = |f: &Folder| {
        f.zones.len()
            + f.services.len()
            + f.policies.len()
            + f.ipsets.len()
            + f.icmptypes.len()
            + f.helpers.len()
            + usize::from(f.conf.is_some())
            + usize::from(f.direct.is_some())
    };
    let mut runs: Vec<(String, Files)> = vec![
        (
            "upstream stock, over the built-in table".to_string(),
            Files {
                user: stock.clone(),
                stock: None,
            },
        ),
        (
            "upstream test zones and policies, over the upstream stock".to_string(),
            Files {
                user: tests.clone(),
                stock: Some(stock.clone()),
            },
        ),
    ];
    for (repo, folder) in &groups {
        runs.push((
            format!("realworld {repo}"),
            Files {
                user: folder.clone(),
                stock: Some(stock.clone()),
            },
        ));
    }

    let mut tally = Tally::default();
    let mut unexplained = Vec::new();
    for (label, files) in &runs {
        tally.groups += 1;
        tally.files += count(&files.user);
        let result = std::panic::catch_unwind(|| read(files));
        let Ok(r) = result else {
            unexplained.push(format!("{label}: the reader panicked"));
            continue;
        };
        let rules = r.parsed.ruleset.rule_count();
        tally.rules += rules;
        tally.errors += r.parsed.errors.len();
        tally.skipped_notes += r.parsed.ruleset.skipped.len();
        if r.parsed.errors.is_empty() {
            tally.clean_groups += 1;
        }
        println!(
            "{label}: {} files, {rules} rules, {} errors, {} notes",
            count(&files.user),
            r.parsed.errors.len(),
            r.parsed.ruleset.skipped.len()
        );
        for s in &r.parsed.ruleset.skipped {
            println!("    note {}: {}", r.parsed.ruleset.path(&s.span), s.what);
        }
        for e in &r.parsed.errors {
            let text = e.to_string();
            println!("    error {text}");
            if !EXPLAINED.iter().any(|(needle, _)| text.contains(needle)) {
                unexplained.push(text);
            }
        }
        // Every rule points into a source it names.
        for rule in r
            .parsed
            .ruleset
            .tables
            .iter()
            .flat_map(|t| &t.chains)
            .flat_map(|c| &c.rules)
        {
            assert!(
                (rule.span.file as usize) < r.parsed.ruleset.sources.len(),
                "{label}: a rule's span names no source"
            );
        }
    }
    let total = tally.files + schemas;
    println!(
        "firewalld corpus: {total} files ({} configuration files in {} readings, {schemas} XML schemas not configuration); \
         {}/{} readings without error ({:.0}%); {} rules; {} errors; {} notes (not evaluated)",
        tally.files,
        tally.groups,
        tally.clean_groups,
        tally.groups,
        100.0 * tally.clean_groups as f64 / tally.groups.max(1) as f64,
        tally.rules,
        tally.errors,
        tally.skipped_notes
    );
    assert!(
        Path::new(&dir).is_dir() && total == names.len(),
        "every corpus file is counted"
    );
    assert!(unexplained.is_empty(), "unexplained: {unexplained:#?}");
}

/// A firewalld folder from the disk: `firewalld.conf`, `direct.xml` and
/// each kind's `*.xml`, sorted.
fn folder_at(dir: &Path) -> Folder {
    let text = |p: &Path| {
        std::fs::read(p).ok().map(|b| {
            (
                p.display().to_string(),
                String::from_utf8_lossy(&b).into_owned(),
            )
        })
    };
    let xml_in = |kind: &str| -> Vec<FileText> {
        let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join(kind))
            .map(|r| r.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        paths.retain(|p| p.extension().is_some_and(|x| x == "xml"));
        paths.sort();
        paths.iter().filter_map(|p| text(p)).collect()
    };
    Folder {
        dir: dir.display().to_string(),
        conf: text(&dir.join("firewalld.conf")),
        zones: xml_in("zones"),
        services: xml_in("services"),
        policies: xml_in("policies"),
        ipsets: xml_in("ipsets"),
        icmptypes: xml_in("icmptypes"),
        helpers: xml_in("helpers"),
        direct: text(&dir.join("direct.xml")),
    }
}

/// Configurations written to show one refusal each (or none), beside the
/// real-world ones. (A zone bound to an undefined ipset passes
/// `--check-config` but fails when firewalld applies it; driftwall reports
/// it as an error, so it is not among these.)
const CRAFTED: &[(&str, &[(&str, &str)])] = &[
    (
        "valid",
        &[(
            "zones/public.xml",
            "<zone><service name=\"ssh\"/><port port=\"8000-8010\" protocol=\"tcp\"/><rule family=\"ipv4\" priority=\"-3\"><source address=\"192.0.2.0/24\"/><port port=\"22\" protocol=\"tcp\"/><reject type=\"icmp-host-prohibited\"/></rule></zone>",
        )],
    ),
    (
        "bad-target",
        &[("zones/public.xml", "<zone target=\"BOGUS\"/>")],
    ),
    (
        "equal-range",
        &[(
            "zones/public.xml",
            "<zone><port port=\"80-80\" protocol=\"tcp\"/></zone>",
        )],
    ),
    (
        "port-protocol",
        &[(
            "zones/public.xml",
            "<zone><port port=\"1\" protocol=\"icmp\"/></zone>",
        )],
    ),
    (
        "unknown-service",
        &[(
            "zones/public.xml",
            "<zone><service name=\"no-such-service\"/></zone>",
        )],
    ),
    (
        "two-actions",
        &[(
            "zones/public.xml",
            "<zone><rule><source address=\"192.0.2.1\"/><accept/><drop/></rule></zone>",
        )],
    ),
    (
        "bad-address",
        &[(
            "zones/public.xml",
            "<zone><source address=\"300.1.1.1\"/></zone>",
        )],
    ),
    (
        "reject-type-without-family",
        &[(
            "zones/public.xml",
            "<zone><rule><service name=\"ssh\"/><reject type=\"icmp-host-prohibited\"/></rule></zone>",
        )],
    ),
    (
        "unknown-element",
        &[("zones/public.xml", "<zone><servce name=\"ssh\"/></zone>")],
    ),
    (
        "catch-all-at-a-priority",
        &[(
            "zones/public.xml",
            "<zone><rule priority=\"100\"><reject/></rule></zone>",
        )],
    ),
    (
        "policy-zero-priority",
        &[
            ("zones/public.xml", "<zone/>"),
            (
                "policies/p.xml",
                "<policy priority=\"0\"><ingress-zone name=\"ANY\"/><egress-zone name=\"HOST\"/></policy>",
            ),
        ],
    ),
    (
        "undefined-default-zone",
        &[("firewalld.conf", "DefaultZone=nothere\n")],
    ),
    (
        "interface-in-two-zones",
        &[
            (
                "zones/public.xml",
                "<zone><interface name=\"eth0\"/></zone>",
            ),
            ("zones/work.xml", "<zone><interface name=\"eth0\"/></zone>"),
        ],
    ),
    (
        "unknown-icmp-block",
        &[(
            "zones/public.xml",
            "<zone><icmp-block name=\"no-such-type\"/></zone>",
        )],
    ),
    (
        "forward-port-without-target",
        &[(
            "zones/public.xml",
            "<zone><forward-port port=\"80\" protocol=\"tcp\"/></zone>",
        )],
    ),
    (
        "policy-unknown-zone",
        &[
            ("zones/public.xml", "<zone/>"),
            (
                "policies/p.xml",
                "<policy><ingress-zone name=\"nozone\"/><egress-zone name=\"HOST\"/></policy>",
            ),
        ],
    ),
    (
        "reversed-range",
        &[(
            "zones/public.xml",
            "<zone><port port=\"90-80\" protocol=\"udp\"/></zone>",
        )],
    ),
    (
        "rule-priority-out-of-range",
        &[(
            "zones/public.xml",
            "<zone><rule priority=\"40000\"><source address=\"192.0.2.1\"/><accept/></rule></zone>",
        )],
    ),
    (
        "rule-missing-attribute",
        &[(
            "zones/public.xml",
            "<zone><rule><source address=\"192.0.2.1\"/><port port=\"22\"/><accept/></rule></zone>",
        )],
    ),
    (
        "rule-unknown-element",
        &[(
            "zones/public.xml",
            "<zone><rule><source address=\"192.0.2.1\"/><accpt/></rule></zone>",
        )],
    ),
    (
        "rule-bad-address",
        &[(
            "zones/public.xml",
            "<zone><rule><source address=\"192.0.2.300\"/><accept/></rule></zone>",
        )],
    ),
    (
        "bad-zone-priority-rule",
        &[(
            "zones/public.xml",
            "<zone><rule priority=\"abc\"><source address=\"192.0.2.1\"/><accept/></rule></zone>",
        )],
    ),
    (
        "policy-host-to-host",
        &[
            ("zones/public.xml", "<zone/>"),
            (
                "policies/p.xml",
                "<policy><ingress-zone name=\"HOST\"/><egress-zone name=\"HOST\"/></policy>",
            ),
        ],
    ),
];

/// `firewall-offline-cmd --check-config` and the reader agree on which
/// configurations firewalld refuses: every real-world one of the corpus
/// and the crafted ones above, over the host's `/usr/lib/firewalld`.
#[test]
fn the_reader_refuses_what_firewall_offline_cmd_refuses() {
    let Some(dir) = support::corpus("firewalld") else {
        return;
    };
    let stock_dir = Path::new("/usr/lib/firewalld");
    let tool_ok = std::process::Command::new("firewall-offline-cmd")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !tool_ok || !stock_dir.is_dir() {
        support::skip(
            "firewall-offline-cmd and /usr/lib/firewalld are needed (apt-get install firewalld)",
        );
        return;
    }
    let scratch = support::Scratch::new("firewalld-check-config");
    let mut cases: Vec<(String, std::path::PathBuf)> = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("realworld-"))
        .collect();
    names.sort();
    for name in &names {
        let rest = &name["realworld-".len()..];
        let Some(at) = rest
            .find("firewalld-")
            .or_else(|| rest.find("firewalld.conf"))
        else {
            continue;
        };
        let (repo, inner) = rest.split_at(at);
        let inner = inner.strip_prefix("firewalld-").unwrap_or(inner);
        let Some((kind, file)) = place(inner) else {
            continue;
        };
        let root = scratch.path().join(repo.trim_end_matches('-'));
        let target = match kind {
            "conf" | "direct" => root.join(&file),
            _ => root.join(kind).join(&file),
        };
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(dir.join(name), &target).expect("copy");
        if !cases.iter().any(|(_, p)| *p == root) {
            cases.push((format!("realworld {}", repo.trim_end_matches('-')), root));
        }
    }
    for (label, files) in CRAFTED {
        let root = scratch.path().join("crafted").join(label);
        for (path, text) in *files {
            let target = root.join(path);
            std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
            std::fs::write(&target, text).expect("write");
        }
        if !root.join("firewalld.conf").exists() {
            std::fs::write(root.join("firewalld.conf"), "DefaultZone=public\n").expect("conf");
        }
        cases.push((format!("crafted {label}"), root));
    }
    let stock = folder_at(stock_dir);
    let mut disagree = Vec::new();
    for (label, root) in &cases {
        let out = std::process::Command::new("firewall-offline-cmd")
            .arg("--system-config")
            .arg(root)
            .arg("--check-config")
            .output()
            .expect("firewall-offline-cmd");
        let firewalld_ok = out.status.success();
        let r = read(&Files {
            user: folder_at(root),
            stock: Some(stock.clone()),
        });
        let ours_ok = r.parsed.errors.is_empty();
        println!(
            "{label}: firewalld {}, driftwall {}",
            if firewalld_ok { "accepts" } else { "refuses" },
            if ours_ok { "accepts" } else { "refuses" }
        );
        if firewalld_ok != ours_ok {
            disagree.push(format!(
                "{label}: firewalld says {:?}, driftwall says {:?}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or(""),
                r.parsed
                    .errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(disagree.is_empty(), "{disagree:#?}");
}
