//! The ruleset firewalld's nftables backend programs, one behaviour each,
//! with the firewalld source (1.3, `src/firewall/core/`) it follows.

use super::*;
use crate::model::{Action, Family, Match};

fn file(path: &str, text: &str) -> FileText {
    (format!("/etc/firewalld/{path}"), text.to_string())
}

fn xml(kind: &str, name: &str, attrs: &str, body: &str) -> FileText {
    let root = match kind {
        "zones" => "zone",
        "policies" => "policy",
        "services" => "service",
        _ => "ipset",
    };
    file(
        &format!("{kind}/{name}.xml"),
        &format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{root}{attrs}>\n{body}</{root}>\n"),
    )
}

fn zone(name: &str, body: &str) -> FileText {
    xml("zones", name, "", body)
}

struct Setup {
    default: &'static str,
    zones: Vec<FileText>,
    services: Vec<FileText>,
    policies: Vec<FileText>,
    ipsets: Vec<FileText>,
}

impl Setup {
    fn new(zones: Vec<FileText>) -> Setup {
        Setup {
            default: "public",
            zones,
            services: Vec::new(),
            policies: Vec::new(),
            ipsets: Vec::new(),
        }
    }

    fn read(self) -> Read {
        read(&Files {
            user: Folder {
                dir: "/etc/firewalld".to_string(),
                conf: Some(file(
                    "firewalld.conf",
                    &format!("DefaultZone={}\n", self.default),
                )),
                zones: self.zones,
                services: self.services,
                policies: self.policies,
                ipsets: self.ipsets,
                ..Folder::default()
            },
            stock: None,
        })
    }
}

/// The rules of one generated chain, as nft text.
fn chain<'a>(nft: &'a str, name: &str) -> Vec<&'a str> {
    let head = format!("\tchain {name} {{");
    nft.lines()
        .skip_while(|l| *l != head)
        .skip(1)
        .take_while(|l| *l != "\t}")
        .map(str::trim)
        .filter(|l| !l.starts_with("type "))
        .collect()
}

fn ok(r: &Read) {
    assert!(r.parsed.errors.is_empty(), "{:?}", r.parsed.errors);
}

/// Source bindings come first, ordered by zone name
/// (`_run_replace_zone_source` sorts its cache by zone); interface
/// bindings are inserted after them, so the last bound comes first
/// (`build_zone_source_interface_rules` "insert"); the default zone's
/// catch-all is appended (`change_default_zone`, `append=True`).
#[test]
fn dispatch_puts_sources_by_zone_name_then_interfaces_then_the_default_zone() {
    let r = Setup::new(vec![
        zone(
            "b",
            "<interface name=\"eth1\"/>\n<source address=\"10.0.0.0/8\"/>\n",
        ),
        zone("a", "<source address=\"192.168.0.0/16\"/>\n"),
        zone("c", "<interface name=\"eth2\"/>\n"),
        zone("public", "<service name=\"ssh\"/>\n"),
    ])
    .read();
    ok(&r);
    assert_eq!(
        chain(&r.nft, "filter_INPUT_ZONES"),
        [
            "ip saddr 192.168.0.0/16 goto filter_IN_a",
            "ip saddr 10.0.0.0/8 goto filter_IN_b",
            "iifname \"eth2\" goto filter_IN_c",
            "iifname \"eth1\" goto filter_IN_b",
            "goto filter_IN_public",
        ]
    );
    // Postrouting dispatches on the way out: destination and oifname.
    assert_eq!(
        chain(&r.nft, "nat_POSTROUTING_ZONES")[1],
        "ip daddr 10.0.0.0/8 goto nat_POST_b"
    );
    assert_eq!(
        chain(&r.nft, "nat_POSTROUTING_ZONES")[3],
        "oifname \"eth1\" goto nat_POST_b"
    );
    // The dispatch rule points at the binding in the zone file.
    let ruleset = &r.parsed.ruleset;
    let t = ruleset
        .tables
        .iter()
        .find(|t| t.family == Family::Ipv4)
        .expect("an IPv4 table");
    let rule = &t.chain("filter_INPUT_ZONES").expect("dispatch").rules[1];
    assert_eq!(ruleset.path(&rule.span), "/etc/firewalld/zones/b.xml");
    assert_eq!((rule.span.line, rule.span.column), (4, 1));
}

/// `build_policy_chain_rules`: the zone's chain jumps to the policies
/// before it, its five sub-chains, the policies after it, then the target:
/// `default` and `%%REJECT%%` reject with admin-prohibited, DROP drops,
/// ACCEPT accepts. `_icmp_block_inversion` (fw_policy.py) adds the ICMP
/// accept of `default` before the target, on input only, and never for
/// DROP, REJECT, or ACCEPT without inversion.
#[test]
fn targets_end_the_zone_chains_and_default_accepts_icmp_on_input_only() {
    let r = Setup::new(vec![
        zone("public", "<interface name=\"eth0\"/>\n"),
        xml(
            "zones",
            "dmz",
            " target=\"DROP\"",
            "<interface name=\"eth1\"/>\n",
        ),
        xml(
            "zones",
            "ext",
            " target=\"%%REJECT%%\"",
            "<interface name=\"eth2\"/>\n",
        ),
        xml(
            "zones",
            "lab",
            " target=\"ACCEPT\"",
            "<interface name=\"eth3\"/>\n",
        ),
    ])
    .read();
    ok(&r);
    assert_eq!(
        chain(&r.nft, "filter_IN_public"),
        [
            "jump filter_INPUT_POLICIES_pre",
            "jump filter_IN_public_pre",
            "jump filter_IN_public_log",
            "jump filter_IN_public_deny",
            "jump filter_IN_public_allow",
            "jump filter_IN_public_post",
            "jump filter_INPUT_POLICIES_post",
            "meta l4proto { icmp, ipv6-icmp } accept",
            "reject with icmpx admin-prohibited",
        ]
    );
    // Forwarded ICMP meets the target: `default` rejects it.
    assert_eq!(
        chain(&r.nft, "filter_FWD_public").last(),
        Some(&"reject with icmpx admin-prohibited")
    );
    assert_eq!(chain(&r.nft, "filter_IN_dmz").last(), Some(&"drop"));
    assert_eq!(
        chain(&r.nft, "filter_IN_ext").last(),
        Some(&"reject with icmpx admin-prohibited")
    );
    assert_eq!(chain(&r.nft, "filter_IN_lab").last(), Some(&"accept"));
    for z in ["dmz", "ext", "lab"] {
        assert!(
            !chain(&r.nft, &format!("filter_IN_{z}"))
                .iter()
                .any(|l| l.contains("l4proto { icmp")),
            "{z}"
        );
    }
    // The target rule names the zone element.
    let ruleset = &r.parsed.ruleset;
    let t = &ruleset.tables[0];
    let last = t
        .chain("filter_IN_dmz")
        .and_then(|c| c.rules.last())
        .expect("target");
    assert_eq!(last.action, Action::Drop);
    assert_eq!(ruleset.path(&last.span), "/etc/firewalld/zones/dmz.xml");
}

/// Rich rules (`_rich_rule_chain_suffix`): priority below 0 goes to
/// `_pre`, above 0 to `_post`, ordered by priority and in file order within
/// one (`_set_rule_replace_priority`); at priority 0, log to `_log`,
/// reject and drop to `_deny`, accept to `_allow`, and the zone chain
/// jumps to `_deny` before `_allow`: a drop beats an accept written first.
#[test]
fn rich_rules_go_to_the_sub_chain_their_priority_and_action_choose() {
    let rules = "<rule><port port=\"80\" protocol=\"tcp\"/><accept/></rule>\n\
        <rule><source address=\"192.0.2.0/24\"/><port port=\"80\" protocol=\"tcp\"/><drop/></rule>\n\
        <rule priority=\"5\"><port port=\"81\" protocol=\"tcp\"/><accept/></rule>\n\
        <rule priority=\"-2\"><port port=\"82\" protocol=\"tcp\"/><accept/></rule>\n\
        <rule priority=\"-5\"><port port=\"83\" protocol=\"tcp\"/><reject/></rule>\n\
        <rule priority=\"-2\"><port port=\"84\" protocol=\"tcp\"/><log prefix=\"x\"/><drop/></rule>\n\
        <rule family=\"ipv4\"><source address=\"198.51.100.0/24\"/><log level=\"warning\"/><reject type=\"tcp-reset\"/></rule>\n";
    let r = Setup::new(vec![zone("public", rules)]).read();
    ok(&r);
    assert_eq!(
        chain(&r.nft, "filter_IN_public_pre"),
        [
            "tcp dport 83 reject",
            "tcp dport 82 accept",
            "tcp dport 84 log prefix \"x\"",
            "tcp dport 84 drop",
        ]
    );
    assert_eq!(
        chain(&r.nft, "filter_IN_public_post"),
        ["tcp dport 81 accept"]
    );
    assert_eq!(
        chain(&r.nft, "filter_IN_public_deny"),
        [
            "ip saddr 192.0.2.0/24 tcp dport 80 drop",
            "ip saddr 198.51.100.0/24 reject with tcp reset",
        ]
    );
    assert_eq!(
        chain(&r.nft, "filter_IN_public_log"),
        ["ip saddr 198.51.100.0/24 log level warn"]
    );
    assert_eq!(
        chain(&r.nft, "filter_IN_public_allow"),
        ["tcp dport 80 accept"]
    );
    let jumps = chain(&r.nft, "filter_IN_public");
    let deny = jumps.iter().position(|l| l.ends_with("_deny"));
    let allow = jumps.iter().position(|l| l.ends_with("_allow"));
    assert!(deny < allow);
}

/// `_service`: included services first, then ports, protocols and source
/// ports; a service's destination limits it to that address family. A rule
/// firewalld already holds is not added again (its rule reference count).
#[test]
fn services_ports_and_source_ports_become_accepts_in_allow() {
    let mut s = Setup::new(vec![zone(
        "public",
        "<service name=\"web\"/>\n<service name=\"mdns\"/>\n<port port=\"8000-8010\" protocol=\"tcp\"/>\n\
         <port port=\"80\" protocol=\"tcp\"/>\n<source-port port=\"53\" protocol=\"udp\"/>\n\
         <protocol value=\"gre\"/>\n",
    )]);
    s.services.push(xml(
        "services",
        "web",
        "",
        "<include service=\"https\"/>\n<port port=\"80\" protocol=\"tcp\"/>\n",
    ));
    let r = s.read();
    ok(&r);
    assert_eq!(
        chain(&r.nft, "filter_IN_public_allow"),
        [
            "tcp dport 443 accept",
            "tcp dport 80 accept",
            "ip daddr 224.0.0.251 udp dport 5353 accept",
            "ip6 daddr ff02::fb udp dport 5353 accept",
            "tcp dport 8000-8010 accept",
            "udp sport 53 accept",
            "meta l4proto gre accept",
        ]
    );
}

/// `icmp-block-inversion`: the blocked types become the only ones
/// accepted (`build_policy_icmp_block_rules` puts them in `_allow`) and the
/// zone's ICMP rule rejects the rest (`build_policy_icmp_block_inversion_rules`).
#[test]
fn icmp_block_inversion_accepts_the_listed_types_and_rejects_other_icmp() {
    let plain = Setup::new(vec![zone(
        "public",
        "<icmp-block name=\"echo-request\"/>\n",
    )])
    .read();
    ok(&plain);
    assert_eq!(
        chain(&plain.nft, "filter_IN_public_deny"),
        [
            "icmp type echo-request reject with icmpx admin-prohibited",
            "icmpv6 type echo-request reject with icmpx admin-prohibited",
        ]
    );
    let inverted = Setup::new(vec![zone(
        "public",
        "<icmp-block name=\"echo-request\"/>\n<icmp-block name=\"neighbour-solicitation\"/>\n<icmp-block-inversion/>\n",
    )])
    .read();
    ok(&inverted);
    assert_eq!(
        chain(&inverted.nft, "filter_IN_public_allow"),
        [
            "icmp type echo-request accept",
            "icmpv6 type echo-request accept",
            "icmpv6 type nd-neighbor-solicit accept",
        ]
    );
    assert!(
        chain(&inverted.nft, "filter_IN_public")
            .contains(&"meta l4proto { icmp, ipv6-icmp } reject with icmpx admin-prohibited")
    );
}

/// Policies (`_get_table_chains_for_policy_dispatch`,
/// `policy_base_chain_name`, `build_policy_ingress_egress_rules`): ANY to
/// HOST is dispatched from input unconditionally, HOST to ANY from output,
/// zone to zone from forward by the zones' interfaces; a negative priority
/// dispatches before the zone (`_pre`), in priority order (the stock
/// `allow-host-ipv6`, at -15000, first).
#[test]
fn policies_dispatch_by_their_ingress_and_egress_zones_and_priority() {
    let mut s = Setup::new(vec![
        zone("public", "<interface name=\"eth0\"/>\n"),
        zone(
            "internal",
            "<interface name=\"eth1\"/>\n<interface name=\"eth2\"/>\n",
        ),
    ]);
    s.policies = vec![
        xml(
            "policies",
            "in-all",
            " priority=\"-5\" target=\"ACCEPT\"",
            "<ingress-zone name=\"ANY\"/>\n<egress-zone name=\"HOST\"/>\n",
        ),
        xml(
            "policies",
            "early",
            " priority=\"-10\" target=\"CONTINUE\"",
            "<ingress-zone name=\"ANY\"/>\n<egress-zone name=\"HOST\"/>\n<port port=\"22\" protocol=\"tcp\"/>\n",
        ),
        xml(
            "policies",
            "out",
            " priority=\"10\" target=\"REJECT\"",
            "<ingress-zone name=\"HOST\"/>\n<egress-zone name=\"ANY\"/>\n",
        ),
        xml(
            "policies",
            "lan-wan",
            " target=\"DROP\"",
            "<ingress-zone name=\"internal\"/>\n<egress-zone name=\"public\"/>\n",
        ),
    ];
    let r = s.read();
    ok(&r);
    assert_eq!(
        chain(&r.nft, "filter_INPUT_POLICIES_pre"),
        [
            "jump filter_IN_policy_allow-host-ipv6",
            "jump filter_IN_policy_early",
            "jump filter_IN_policy_in-all"
        ]
    );
    assert_eq!(
        chain(&r.nft, "filter_OUTPUT_POLICIES_post"),
        ["jump filter_OUT_policy_out"]
    );
    assert_eq!(
        chain(&r.nft, "filter_FORWARD_POLICIES_pre"),
        ["iifname { \"eth1\", \"eth2\" } oifname \"eth0\" jump filter_FWD_policy_lan-wan"]
    );
    assert_eq!(
        chain(&r.nft, "filter_IN_policy_early_allow"),
        ["tcp dport 22 accept"]
    );
    assert_eq!(
        chain(&r.nft, "filter_IN_policy_in-all").last(),
        Some(&"accept")
    );
    assert_eq!(
        chain(&r.nft, "filter_FWD_policy_lan-wan").last(),
        Some(&"drop")
    );
    assert_eq!(
        chain(&r.nft, "filter_OUT_policy_out").last(),
        Some(&"reject with icmpx admin-prohibited")
    );
}

/// A policy whose zones have no binding in the files is not applied
/// (`get_active_policies_not_derived_from_zone`), and the report says so.
#[test]
fn a_policy_of_unbound_zones_is_reported_not_evaluated() {
    let mut s = Setup::new(vec![zone("public", ""), zone("internal", "")]);
    s.policies = vec![xml(
        "policies",
        "lan",
        " target=\"CONTINUE\"",
        "<ingress-zone name=\"internal\"/>\n<egress-zone name=\"public\"/>\n",
    )];
    let r = s.read();
    assert!(!r.nft.contains("policy_lan"));
    assert!(
        r.parsed
            .ruleset
            .skipped
            .iter()
            .any(|s| s.what.contains("policy lan is not active"))
    );
}

/// Masquerade goes to the zone's postrouting chain for traffic leaving
/// through it (policy `zone_ANY_<z>`), IPv4 only, never to loopback;
/// forward ports to its prerouting chain (`zone_<z>_ANY`), as DNAT or a
/// redirect to the host.
#[test]
fn masquerade_and_forward_ports_go_to_the_zone_nat_chains() {
    let r = Setup::new(vec![zone(
        "public",
        "<masquerade/>\n<forward-port port=\"80\" protocol=\"tcp\" to-port=\"8080\" to-addr=\"10.0.0.5\"/>\n\
         <forward-port port=\"2222\" protocol=\"tcp\" to-port=\"22\"/>\n\
         <rule family=\"ipv4\"><source address=\"192.0.2.0/24\"/><forward-port port=\"443\" protocol=\"tcp\" to-port=\"8443\"/></rule>\n",
    )])
    .read();
    ok(&r);
    assert_eq!(
        chain(&r.nft, "nat_POST_public_allow"),
        ["meta nfproto ipv4 oifname != \"lo\" masquerade"]
    );
    assert_eq!(
        chain(&r.nft, "nat_PRE_public_allow"),
        [
            "meta nfproto ipv4 tcp dport 80 dnat ip to 10.0.0.5:8080",
            "meta nfproto ipv4 tcp dport 2222 redirect to :22",
            "ip saddr 192.0.2.0/24 tcp dport 443 redirect to :8443",
        ]
    );
    // Input and forward accept what a forward port rewrote.
    let input = r.parsed.ruleset.tables[0]
        .chain("filter_INPUT")
        .expect("input");
    assert!(matches!(
        input.rules[1].matches[..],
        [Match::ConnStatus {
            negated: false,
            bits: crate::model::conn_status::DNAT
        }]
    ));
}

/// What the files do not decide: an ipset without entries, and a zone the
/// user wrote but bound to nothing (NetworkManager may bind interfaces to
/// it at run time), become unknown matches.
#[test]
fn runtime_bindings_and_empty_ipsets_are_unknown() {
    let mut s = Setup::new(vec![
        zone("public", "<service name=\"ssh\"/>\n"),
        zone(
            "office",
            "<rule><source ipset=\"blocked\"/><drop/></rule>\n<service name=\"http\"/>\n",
        ),
    ]);
    s.ipsets
        .push(xml("ipsets", "blocked", " type=\"hash:net\"", ""));
    let r = s.read();
    ok(&r);
    let t = &r.parsed.ruleset.tables[0];
    let dispatch = &t.chain("filter_INPUT_ZONES").expect("dispatch").rules;
    assert_eq!(dispatch.len(), 2);
    assert!(
        matches!(&dispatch[0].matches[..], [Match::Unknown { text }] if text.contains("zone office"))
    );
    assert_eq!(
        dispatch[0].action,
        Action::Goto {
            chain: "filter_IN_office".into()
        }
    );
    // firewalld programs nothing for the zone from the files: its chains
    // are in the ruleset read, not in the text of what is programmed.
    assert!(!r.nft.contains("office"));
    let deny = &t.chain("filter_IN_office_deny").expect("deny").rules;
    assert!(
        deny[0]
            .matches
            .iter()
            .any(|m| matches!(m, Match::Unknown { text } if text.contains("ipset blocked")))
    );
    assert!(
        !deny[0]
            .matches
            .iter()
            .any(|m| matches!(m, Match::Source { .. }))
    );
}

/// What `firewall-offline-cmd --check-config` refuses is an error at the
/// element or attribute: an unknown target, a range LOW-HIGH with
/// LOW >= HIGH, an undefined service, malformed XML.
#[test]
fn invalid_values_are_errors_at_file_line_column() {
    let r = Setup::new(vec![
        xml(
            "zones",
            "public",
            " target=\"BOGUS\"",
            "<service name=\"ssh\"/>\n",
        ),
        zone(
            "work",
            "<port port=\"80-x\" protocol=\"tcp\"/>\n<service name=\"nope\"/>\n<port port=\"1\" protocol=\"icmp\"/>\n",
        ),
        file("zones/broken.xml", "<zone>\n  <service name=\"ssh\">\n</zone>\n"),
    ])
    .read();
    let errors: Vec<String> = r.parsed.errors.iter().map(|e| e.to_string()).collect();
    let find = |needle: &str| {
        errors
            .iter()
            .find(|e| e.contains(needle))
            .unwrap_or_else(|| panic!("no error with {needle}: {errors:?}"))
            .clone()
    };
    assert!(find("BOGUS").starts_with("/etc/firewalld/zones/public.xml:2:15:"));
    assert!(find("`80-x`").starts_with("/etc/firewalld/zones/work.xml:3:13:"));
    assert!(find("`nope`").starts_with("/etc/firewalld/zones/work.xml:4:1:"));
    assert!(
        find("`icmp` is not a port protocol").starts_with("/etc/firewalld/zones/work.xml:5:26:")
    );
    assert!(find("malformed XML").starts_with("/etc/firewalld/zones/broken.xml:3:"));
    // A default zone that is not defined: firewalld uses public and goes on.
    let mut s = Setup::new(Vec::new());
    s.default = "nothere";
    let r = s.read();
    ok(&r);
    let note = &r.parsed.ruleset.skipped[0];
    assert!(
        note.what
            .starts_with("default zone `nothere` is not defined")
    );
    assert_eq!(
        r.parsed.ruleset.path(&note.span),
        "/etc/firewalld/firewalld.conf"
    );
    assert!(r.nft.contains("goto filter_IN_public"));
    // An invalid rich rule: firewalld warns and loads the zone without it.
    let r = Setup::new(vec![zone(
        "public",
        "<rule><port port=\"22\" protocol=\"tcp\"/><accept/><drop/></rule>\n",
    )])
    .read();
    ok(&r);
    assert!(chain(&r.nft, "filter_IN_public_allow").is_empty());
    assert!(
        r.parsed
            .ruleset
            .skipped
            .iter()
            .any(|s| s.what.contains("one action")
                && r.parsed.ruleset.path(&s.span) == "/etc/firewalld/zones/public.xml")
    );
}

/// A file of the built-in stock table is a source of its own, so a verdict
/// a stock zone decides names it.
#[test]
fn stock_zones_come_from_the_built_in_table_without_usr_lib_firewalld() {
    let mut s = Setup::new(Vec::new());
    s.default = "home";
    let r = s.read();
    ok(&r);
    assert_eq!(
        chain(&r.nft, "filter_IN_home_allow"),
        [
            "tcp dport 22 accept",
            "ip daddr 224.0.0.251 udp dport 5353 accept",
            "ip6 daddr ff02::fb udp dport 5353 accept",
            "udp dport 137 accept",
            "udp dport 138 accept",
            "ip6 daddr fe80::/64 udp dport 546 accept",
        ]
    );
    let ruleset = &r.parsed.ruleset;
    let rule = &ruleset.tables[0]
        .chain("filter_IN_home_allow")
        .expect("allow")
        .rules[0];
    assert!(
        ruleset
            .path(&rule.span)
            .starts_with("firewalld (built-in stock")
    );
    assert!(ruleset.text(&rule.span).starts_with("zone home:"));
}

/// No input makes the reader panic; text that is not XML is an error.
#[test]
fn garbage_is_an_error_not_a_panic() {
    for text in [
        "",
        "<",
        "<zone",
        "<zone><rule priority=\"x\"/></zone>",
        "\u{feff}<zone/>",
        "<zone><port/></zone>",
    ] {
        let r = Setup::new(vec![file("zones/public.xml", text)]).read();
        let _ = r.nft;
    }
}

/// Random edits of a configuration with every kind of element (cut, doubled,
/// spliced with XML words) never make the reader panic, and every rule
/// still points into its source.
#[test]
fn edited_configurations_never_panic() {
    let base = "<zone target=\"default\">\n<interface name=\"eth0+\"/>\n<source address=\"10.0.0.0/8\"/>\n\
        <source ipset=\"s\"/>\n<service name=\"samba\"/>\n<port port=\"1-2\" protocol=\"tcp\"/>\n\
        <icmp-block name=\"echo-request\"/>\n<icmp-block-inversion/>\n<masquerade/>\n<forward/>\n\
        <forward-port port=\"80\" protocol=\"tcp\" to-port=\"81\" to-addr=\"::1\"/>\n\
        <rule family=\"ipv6\" priority=\"-7\"><source address=\"::/0\" invert=\"yes\"/><destination ipset=\"s\"/>\
        <service name=\"mdns\"/><log prefix=\"p\" level=\"info\"><limit value=\"1/m\"/></log><audit/>\
        <reject type=\"icmp6-adm-prohibited\"/></rule>\n</zone>\n";
    let words = [
        "<rule>",
        "</rule>",
        "<zone>",
        "priority=\"",
        "port=\"",
        "-",
        "\"",
        "<",
        ">",
        "/>",
        "<source mac=\"aa:bb:cc:dd:ee:ff\"/>",
        "<mark set=\"1/2\"/>",
        "&amp;",
        "<![CDATA[x]]>",
        "\u{e9}",
        "<icmp-type name=\"redirect\"/>",
        "<accept/>",
        "<drop/>",
        "65536",
        "<!-- -->",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    for _ in 0..400 {
        let mut text: Vec<char> = base.chars().collect();
        for _ in 0..1 + next(4) {
            let at = next(text.len() + 1);
            match next(3) {
                0 => {
                    let end = (at + next(30)).min(text.len());
                    text.drain(at..end);
                }
                1 => {
                    let w = words[next(words.len())];
                    for (i, c) in w.chars().enumerate() {
                        text.insert((at + i).min(text.len()), c);
                    }
                }
                _ => {
                    let end = (at + next(40)).min(text.len());
                    let copy: Vec<char> = text[at..end].to_vec();
                    for (i, c) in copy.into_iter().enumerate() {
                        text.insert((at + i).min(text.len()), c);
                    }
                }
            }
        }
        let zone_text: String = text.into_iter().collect();
        let mut s = Setup::new(vec![file("zones/public.xml", &zone_text)]);
        s.ipsets.push(xml(
            "ipsets",
            "s",
            " type=\"hash:net\"",
            "<entry>10.1.0.0/16</entry>\n",
        ));
        let r = s.read();
        let rs = &r.parsed.ruleset;
        for rule in rs
            .tables
            .iter()
            .flat_map(|t| &t.chains)
            .flat_map(|c| &c.rules)
        {
            let sp = rule.span;
            assert!(
                rs.sources
                    .get(sp.file as usize)
                    .is_some_and(|f| f.text.get(sp.start as usize..sp.end as usize).is_some()),
                "span off its source for {zone_text}"
            );
        }
    }
}

/// direct.xml (`fw_direct.py`, nftables backend): a rule goes into the
/// iptables chain it names, by priority; passthroughs and ebtables rules
/// are reported; an iptables error points at the `<rule>`.
#[test]
fn direct_rules_are_iptables_rules_at_their_element() {
    let mut s = Setup::new(vec![zone("public", "")]);
    s.zones.push(zone("work", ""));
    let direct = "<direct>\n<chain ipv=\"ipv6\" table=\"filter\" chain=\"mine\"/>\n\
        <rule ipv=\"ipv6\" table=\"filter\" chain=\"mine\" priority=\"0\">-j DROP</rule>\n\
        <rule ipv=\"ipv6\" table=\"filter\" chain=\"INPUT\" priority=\"-1\">-p tcp --dport 80 -j mine</rule>\n\
        <rule ipv=\"ipv4\" table=\"filter\" chain=\"INPUT\" priority=\"0\">-p tcp --dport 99999 -j DROP</rule>\n\
        <passthrough ipv=\"ipv4\">-A OUTPUT -j DROP</passthrough>\n</direct>\n";
    let r = read(&Files {
        user: Folder {
            dir: "/etc/firewalld".into(),
            conf: Some(file("firewalld.conf", "DefaultZone=public\n")),
            zones: s.zones,
            direct: Some(file("direct.xml", direct)),
            ..Folder::default()
        },
        stock: None,
    });
    let rs = &r.parsed.ruleset;
    let t = rs
        .tables
        .iter()
        .find(|t| t.family == Family::Ipv6 && t.name == "filter")
        .expect("ip6 filter");
    let input = &t.chain("INPUT").expect("INPUT").rules[0];
    assert_eq!(
        input.action,
        Action::Jump {
            chain: "mine".into()
        }
    );
    assert_eq!(rs.path(&input.span), "/etc/firewalld/direct.xml");
    assert_eq!(input.span.line, 4);
    assert_eq!(t.chain("mine").expect("mine").rules[0].action, Action::Drop);
    let e = r.parsed.errors.first().expect("the bad port");
    assert_eq!((e.path.as_str(), e.line), ("/etc/firewalld/direct.xml", 5));
    assert!(e.message.starts_with("in a direct rule:"), "{e}");
    assert!(rs.skipped.iter().any(|s| s.what.contains("passthrough")));
}
