//! ufw's configuration files in the corpus (`../shared/corpus/ufw`), read
//! the way ufw loads them: each file as part of the configuration it came
//! from (`upstream-conf-*`, `jbq-ufw-2012-conf-*`, `realworld-<owner>-<repo>-*`),
//! with what the corpus does not hold said, and filled from ufw's own
//! shipped files so that the rest can still be read.
//!
//! ufw's test outputs (`tests-result-*`) and application profiles
//! (`*appprofile*`, `applications.d`) are not configuration and are left out.
//!
//! Run with `cargo test -p driftwall-parsers --test ufw_corpus -- --nocapture`
//! to see what each configuration was read from.

use driftwall_parsers::ufw::{self, FileText, Files};
use std::collections::BTreeMap;
use std::path::Path;

#[path = "../../tests/support/common.rs"]
mod support;

/// The slots of a configuration, by the ending of a corpus file's name.
const SLOTS: &[(&str, &str)] = &[
    ("before6.rules", "before6.rules"),
    ("before.rules", "before.rules"),
    ("after6.rules", "after6.rules"),
    ("after.rules", "after.rules"),
    ("user6.rules", "user6.rules"),
    ("user.rules", "user.rules"),
    ("ufw.conf", "ufw.conf"),
    ("ufw.defaults", "defaults"),
    // /etc/default/ufw saved under its own name.
    ("-ufw", "defaults"),
];

/// A configuration file's group and slot, or `None` for what is not one.
fn classify(name: &str) -> Option<(String, &'static str)> {
    if name.starts_with("tests-") || name.contains("appprofile") || name.contains("applications.d")
    {
        return None;
    }
    for (ending, slot) in SLOTS {
        if let Some(group) = name.strip_suffix(ending) {
            let group = group.trim_end_matches(['-', '.']);
            // jiho-dev's repository holds two configurations: a copy of
            // /etc/ufw from 2019 and a before.rules of its own.
            return Some((group.to_string(), slot));
        }
    }
    None
}

fn slot_mut<'a>(files: &'a mut Files, slot: &str) -> &'a mut Option<FileText> {
    match slot {
        "before.rules" => &mut files.before_rules,
        "before6.rules" => &mut files.before6_rules,
        "after.rules" => &mut files.after_rules,
        "after6.rules" => &mut files.after6_rules,
        "user.rules" => &mut files.user_rules,
        "user6.rules" => &mut files.user6_rules,
        "ufw.conf" => &mut files.ufw_conf,
        _ => &mut files.defaults,
    }
}

const ALL_SLOTS: &[&str] = &[
    "ufw.conf",
    "defaults",
    "before.rules",
    "before6.rules",
    "user.rules",
    "user6.rules",
    "after.rules",
    "after6.rules",
];

#[test]
fn every_ufw_configuration_of_the_corpus_is_read_as_ufw_loads_it() {
    let Some(dir) = support::corpus("ufw") else {
        return;
    };
    let read = |name: &str| -> FileText {
        let path = dir.join(name);
        let text = std::fs::read(&path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        (format!("ufw/{name}"), text)
    };
    let mut groups: BTreeMap<String, Files> = BTreeMap::new();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the corpus folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut left_out = Vec::new();
    for name in &names {
        match classify(name) {
            Some((group, slot)) => {
                let files = groups.entry(group.clone()).or_insert_with(|| Files {
                    dir: format!("ufw/{group}"),
                    ..Files::default()
                });
                *slot_mut(files, slot) = Some(read(name));
            }
            None => left_out.push(name.as_str()),
        }
    }
    assert!(groups.contains_key("upstream-conf"), "{groups:?}");
    let stock = groups.get("upstream-conf").cloned().unwrap_or_default();
    println!(
        "left out (test outputs, application profiles): {}",
        left_out.len()
    );
    let mut problems = Vec::new();
    for (group, mut files) in groups {
        let mut missing = Vec::new();
        for slot in ALL_SLOTS {
            let mine = slot_mut(&mut files, slot);
            if mine.is_some() {
                continue;
            }
            missing.push(*slot);
            let mut filler = stock.clone();
            *mine = slot_mut(&mut filler, slot).clone();
            if *slot == "ufw.conf" {
                // A configuration saved for its rules is meant to be on.
                *mine = Some(("ufw's ufw.conf, enabled".into(), "ENABLED=yes\n".into()));
            }
        }
        // ufw ships with ENABLED=no: read its rules as they load when enabled.
        if group == "upstream-conf"
            && let Some((_, text)) = files.ufw_conf.as_mut()
        {
            *text = text.replace("ENABLED=no", "ENABLED=yes");
        }
        let result = ufw::read(&files);
        let rs = &result.parsed.ruleset;
        let own: Vec<&str> = ALL_SLOTS
            .iter()
            .copied()
            .filter(|s| !missing.contains(s))
            .collect();
        println!(
            "{group}: read {}; not in the corpus, taken from ufw's stock files: {}; \
             {} rules, ipv6 {}, defaults in/out/fwd {:?}/{:?}/{:?}, {} errors",
            own.join(", "),
            if missing.is_empty() {
                "nothing".to_string()
            } else {
                missing.join(", ")
            },
            rs.rule_count(),
            if result.settings.ipv6 { "on" } else { "off" },
            result.settings.input,
            result.settings.output,
            result.settings.forward,
            result.parsed.errors.len()
        );
        for e in &result.parsed.errors {
            println!("    {e}");
        }
        for s in &rs.skipped {
            println!("    not evaluated: {}", s.what);
        }
        if rs.rule_count() == 0 {
            problems.push(format!("{group}: no rules"));
        }
        if group == "upstream-conf" && !result.parsed.errors.is_empty() {
            problems.push(format!("{group}: ufw's own files have errors"));
        }
        // Every chain ufw-init makes is there, so every jump of a file lands.
        let unlanded = rs
            .tables
            .iter()
            .flat_map(|t| &t.chains)
            .flat_map(|c| &c.rules)
            .filter(|r| {
                matches!(&r.action, driftwall_parsers::model::Action::Unknown { text } if text.contains("a chain ufw creates"))
            })
            .count();
        if unlanded > 0 {
            problems.push(format!(
                "{group}: {unlanded} jumps to chains that are not there"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        Path::new(&dir).join("upstream-conf-ufw.conf").exists(),
        "the corpus holds ufw's own configuration"
    );
}
