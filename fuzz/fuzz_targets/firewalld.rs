//! The firewalld reader on arbitrary configurations: the input is split at
//! NUL bytes into firewalld.conf, a zone, a service, a policy, an ipset and
//! direct.xml. It must not panic, and every rule must point into its own
//! source.
#![no_main]

use driftwall_parsers::firewalld::{Files, Folder, read};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0').map(str::to_string);
    let mut next = |path: &str| parts.next().map(|t| (path.to_string(), t));
    let user = Folder {
        dir: "/etc/firewalld".into(),
        conf: next("/etc/firewalld/firewalld.conf"),
        zones: next("/etc/firewalld/zones/public.xml").into_iter().collect(),
        services: next("/etc/firewalld/services/s.xml").into_iter().collect(),
        policies: next("/etc/firewalld/policies/p.xml").into_iter().collect(),
        ipsets: next("/etc/firewalld/ipsets/i.xml").into_iter().collect(),
        direct: next("/etc/firewalld/direct.xml"),
        ..Folder::default()
    };
    let rs = read(&Files { user, stock: None }).parsed.ruleset;
    for table in &rs.tables {
        for chain in &table.chains {
            for rule in &chain.rules {
                let s = rule.span;
                let source = rs.sources.get(s.file as usize);
                assert!(
                    source.is_some_and(|f| f.text.get(s.start as usize..s.end as usize).is_some()),
                    "rule span off its source: {s:?}"
                );
            }
        }
    }
});
