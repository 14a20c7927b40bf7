//! The ufw reader on arbitrary configurations: the input is split at NUL
//! bytes into ufw.conf, the defaults file and the six rule files. It must
//! not panic, and every rule and note must point into its own file.
#![no_main]

use driftwall_parsers::ufw::{Files, read};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text
        .split('\0')
        .map(|p| Some((String::from("f"), p.to_string())));
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
    for table in &rs.tables {
        for chain in &table.chains {
            for rule in &chain.rules {
                let s = rule.span;
                let source = rs.sources.get(s.file as usize).expect("the span's file");
                assert!(source.text.get(s.start as usize..s.end as usize).is_some());
            }
        }
    }
    for k in &rs.skipped {
        assert!(rs.sources.get(k.span.file as usize).is_some());
    }
});
