//! Table-driven tests per production: the input, the piece of the tree it
//! gives (or the error), and the tokens it leaves.

use super::host::{host, ipspec, portspec};
use super::rule::{interfaces, log_quick, pool, rule};
use super::statement::{option, queue, table};
use super::{Cur, Res};
use crate::pf::ast::*;
use crate::pf::lexer::Kind;
use std::net::IpAddr;
use std::rc::Rc;

/// Runs a production on `text` and returns its result and the tokens left.
fn run<T>(text: &str, f: impl FnOnce(&mut Cur) -> Res<T>) -> (Res<T>, Vec<String>) {
    let mut c = Cur::new(text, 0, Rc::from("t.conf"), Rc::default(), 0);
    let result = f(&mut c);
    let mut rest = Vec::new();
    loop {
        let t = c.bump();
        match t.kind {
            Kind::End => return (result, rest),
            Kind::Newline => rest.push("\\n".to_string()),
            _ => rest.push(t.text.into_owned()),
        }
    }
}

fn ok<T: std::fmt::Debug>(text: &str, f: impl FnOnce(&mut Cur) -> Res<T>) -> (T, Vec<String>) {
    let (r, rest) = run(text, f);
    match r {
        Ok(v) => (v, rest),
        Err(e) => panic!("{text:?}: {e}"),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|_| panic!("{s}"))
}

fn h(addr: Addr) -> Host {
    Host { not: false, addr }
}

fn name(n: &str, modifiers: &[&str], prefix: Option<u8>) -> Addr {
    Addr::Name {
        name: n.to_string(),
        modifiers: modifiers.iter().map(|m| m.to_string()).collect(),
        prefix,
    }
}

#[test]
fn host_production() {
    let cases: Vec<(&str, Host, &[&str])> = vec![
        (
            "10.0.0.0/8 port",
            h(Addr::Ip {
                ip: ip("10.0.0.0"),
                prefix: Some(8),
            }),
            &["port"],
        ),
        (
            "192.0.2.1",
            h(Addr::Ip {
                ip: ip("192.0.2.1"),
                prefix: None,
            }),
            &[],
        ),
        (
            "2001:db8::/32",
            h(Addr::Ip {
                ip: ip("2001:db8::"),
                prefix: Some(32),
            }),
            &[],
        ),
        (
            "! <bad> to",
            Host {
                not: true,
                addr: Addr::Table("bad".into()),
            },
            &["to"],
        ),
        (
            "(em0)",
            h(Addr::Dynamic {
                interface: "em0".into(),
                modifiers: vec![],
                prefix: None,
            }),
            &[],
        ),
        (
            "(em0:network)",
            h(Addr::Dynamic {
                interface: "em0".into(),
                modifiers: vec!["network".into()],
                prefix: None,
            }),
            &[],
        ),
        ("em0:broadcast", h(name("em0", &["broadcast"], None)), &[]),
        ("self", h(Addr::SelfAddr), &[]),
        ("no-route", h(Addr::NoRoute), &[]),
        (
            "! urpf-failed",
            Host {
                not: true,
                addr: Addr::UrpfFailed,
            },
            &[],
        ),
        (
            "10.0.0.1 - 10.0.0.9 x",
            h(Addr::Range(ip("10.0.0.1"), ip("10.0.0.9"))),
            &["x"],
        ),
        (
            "10/8",
            h(Addr::Ip {
                ip: ip("10.0.0.0"),
                prefix: Some(8),
            }),
            &[],
        ),
        ("route bgp", h(Addr::Route("bgp".into())), &[]),
        (
            "www.example.org",
            h(name("www.example.org", &[], None)),
            &[],
        ),
    ];
    for (text, want, rest) in cases {
        let (got, left) = ok(text, host);
        assert_eq!(got, want, "{text}");
        assert_eq!(left, rest, "{text}");
    }
}

#[test]
fn host_production_refusals() {
    let cases: &[(&str, &str)] = &[
        (
            "10.0.0.0/33",
            "invalid prefix length `33`: expected 0 to 32",
        ),
        ("em0:nope", "unknown address modifier `:nope`"),
        ("10.0.0.1 - 2001:db8::1", "different families"),
        ("{", "expected an address"),
        ("<t", "expected `>` after the table name"),
    ];
    for (text, want) in cases {
        let (got, _) = run(text, host);
        let e = got.expect_err(text);
        assert!(e.message.contains(want), "{text}: {}", e.message);
        assert_eq!((e.line, e.path.as_str()), (1, "t.conf"));
    }
}

#[test]
fn ipspec_production() {
    let cases: Vec<(&str, Vec<Host>, &[&str])> = vec![
        ("any port", vec![], &["port"]),
        (
            "{ 10.0.0.1, !<t>\n self } to",
            vec![
                h(Addr::Ip {
                    ip: ip("10.0.0.1"),
                    prefix: None,
                }),
                Host {
                    not: true,
                    addr: Addr::Table("t".into()),
                },
                h(Addr::SelfAddr),
            ],
            &["to"],
        ),
        // A list in a list, as a macro holding a list gives.
        (
            "{ { 1.1.1.1 2.2.2.2 } 3.3.3.3 }",
            vec![
                h(Addr::Ip {
                    ip: ip("1.1.1.1"),
                    prefix: None,
                }),
                h(Addr::Ip {
                    ip: ip("2.2.2.2"),
                    prefix: None,
                }),
                h(Addr::Ip {
                    ip: ip("3.3.3.3"),
                    prefix: None,
                }),
            ],
            &[],
        ),
    ];
    for (text, want, rest) in cases {
        let (got, left) = ok(text, ipspec);
        assert_eq!(got, want, "{text}");
        assert_eq!(left, rest, "{text}");
    }
}

#[test]
fn portspec_production() {
    let cases: Vec<(&str, Vec<PortOp>, &[&str])> = vec![
        ("80 keep", vec![PortOp::Eq(80)], &["keep"]),
        ("= ssh", vec![PortOp::Eq(22)], &[]),
        ("!= 25", vec![PortOp::Ne(25)], &[]),
        ("< 1024", vec![PortOp::Lt(1024)], &[]),
        ("<= 1024", vec![PortOp::Le(1024)], &[]),
        ("> 1024", vec![PortOp::Gt(1024)], &[]),
        (">= 1024", vec![PortOp::Ge(1024)], &[]),
        ("1000 >< 2000", vec![PortOp::Inside(1000, 2000)], &[]),
        ("1000 <> 2000", vec![PortOp::Outside(1000, 2000)], &[]),
        ("1000:2000", vec![PortOp::Range(1000, 2000)], &[]),
        ("0x10", vec![PortOp::Eq(16)], &[]),
        (
            "{ www, 443 8000:8080 } flags",
            vec![PortOp::Eq(80), PortOp::Eq(443), PortOp::Range(8000, 8080)],
            &["flags"],
        ),
        ("spamd", vec![PortOp::Eq(8025)], &[]),
    ];
    for (text, want, rest) in cases {
        let (got, left) = ok(text, portspec);
        assert_eq!(got, want, "{text}");
        assert_eq!(left, rest, "{text}");
    }
    let refused: &[(&str, &str)] = &[
        ("65536", "illegal port value `65536`"),
        ("500:100", "invalid port range `500:100`"),
        ("nosuchservice", "unknown service `nosuchservice`"),
        (
            "{",
            "expected `}` to close the list of ports, found the end of the file",
        ),
        (
            "",
            "expected a port after `port`, found the end of the file",
        ),
    ];
    for (text, want) in refused {
        let e = run(text, portspec).0.expect_err(text);
        assert!(e.message.contains(want), "{text}: {}", e.message);
    }
}

#[test]
fn interfaces_and_log_quick_productions() {
    let (got, left) = ok("{ em0, !em1 egress } inet", interfaces);
    let names: Vec<(bool, &str)> = got.iter().map(|i| (i.not, i.name.as_str())).collect();
    assert_eq!(names, [(false, "em0"), (true, "em1"), (false, "egress")]);
    assert_eq!(left, ["inet"]);
    let ((log, quick), left) = ok("log (all, to pflog1) quick on", log_quick);
    assert_eq!(
        log.map(|l| l.options),
        Some(vec!["all".to_string(), "to pflog1".to_string()])
    );
    assert!(quick);
    assert_eq!(left, ["on"]);
    let ((log, quick), left) = ok("quick log on", log_quick);
    assert_eq!((log, quick), (Some(Log::default()), true));
    assert_eq!(left, ["on"]);
}

#[test]
fn pool_production() {
    let (p, left) = ok(
        "{ 192.0.2.1, 192.0.2.2 } port 1024:2048 round-robin sticky-address tag",
        |c| pool(c, false, true),
    );
    assert_eq!(p.hosts.len(), 2);
    assert_eq!(p.ports, Some((1024, 2048)));
    assert_eq!(p.options, ["round-robin", "sticky-address"]);
    assert_eq!(left, ["tag"]);
    let (p, _) = ok("(em1 192.0.2.9)", |c| pool(c, true, false));
    assert_eq!(p.interfaces, [Some("em1".to_string())]);
    assert_eq!(
        p.hosts,
        [h(Addr::Ip {
            ip: ip("192.0.2.9"),
            prefix: None
        })]
    );
}

/// A whole rule: `rule(c)` on one line.
fn one_rule(text: &str) -> Rule {
    ok(text, rule).0
}

#[test]
fn filter_rule_production() {
    let r = one_rule(
        "block return-icmp(port-unr) in log quick on ! em0 inet proto { tcp udp } from 10.0.0.0/8 port > 1023 to any port ssh flags S/SA keep state (max 100, source-track rule) label \"x\"",
    );
    assert_eq!(r.action, Action::Block);
    assert_eq!(
        r.block,
        Some(BlockHow::ReturnIcmp(vec!["port-unr".to_string()]))
    );
    assert_eq!(r.direction, Direction::In);
    assert!(r.quick && r.log.is_some());
    assert_eq!(
        r.on,
        Some(On::Interfaces(vec![Interface {
            not: true,
            name: "em0".into()
        }]))
    );
    assert_eq!(r.af, Some(Af::Inet));
    assert_eq!(
        r.proto.iter().map(|p| p.number).collect::<Vec<_>>(),
        [Some(6), Some(17)]
    );
    assert_eq!(r.from.ports, [PortOp::Gt(1023)]);
    assert!(r.to.hosts.is_empty());
    assert_eq!(r.to.ports, [PortOp::Eq(22)]);
    assert_eq!(
        r.options[0],
        RuleOption::Flags {
            set: "S".into(),
            mask: "SA".into()
        }
    );
    assert_eq!(
        r.options[1],
        RuleOption::State(State {
            kind: StateKind::Keep,
            options: vec![
                vec!["max".into(), "100".into()],
                vec!["source-track".into(), "rule".into()]
            ]
        })
    );
    assert_eq!(r.options[2], RuleOption::Label("x".into()));
    assert_eq!((r.span.line, r.span.column, r.span.start), (1, 1, 0));

    let r = one_rule(
        "pass out on rdomain 3 proto icmp all icmp-type echoreq code 0 tag T ! tagged U probability 50% set prio (1, 5) no state",
    );
    assert_eq!(r.direction, Direction::Out);
    assert_eq!(r.on, Some(On::Rdomain(3)));
    assert_eq!(
        r.options[0],
        RuleOption::IcmpType(vec![IcmpType {
            r#type: 8,
            code: Some(0)
        }])
    );
    assert_eq!(
        r.options[2],
        RuleOption::Tagged {
            not: true,
            name: "U".into()
        }
    );
    assert_eq!(r.options[4], RuleOption::SetPrio(vec![1, 5]));
    assert_eq!(
        r.options[5],
        RuleOption::State(State {
            kind: StateKind::No,
            options: vec![]
        })
    );

    let r = one_rule("match out on egress inet from (em1:network) nat-to (egress) static-port");
    assert!(matches!(&r.options[0], RuleOption::NatTo(p) if p.options == ["static-port"]));
    let r = one_rule("pass in on em0 inet6 from any to 64:ff9b::/96 af-to inet from (em1)");
    assert!(matches!(
        &r.options[0],
        RuleOption::AfTo { af: Af::Inet, .. }
    ));
    // Apple's dummynet rules send to a pipe.
    let r = one_rule("dummynet in quick proto tcp to port 80 pipe 1");
    assert_eq!(
        (r.action, &r.options[0]),
        (
            Action::Dummynet,
            &RuleOption::Other(vec!["pipe".into(), "1".into()])
        )
    );
    let r = one_rule("pass in user { root, >= 1000 } group wheel");
    assert!(matches!(&r.options[0], RuleOption::User(ids) if ids.len() == 2 && ids[1].op == ">="));
}

#[test]
fn translation_rule_production() {
    let r = one_rule("nat pass log on em0 inet from 10.0.0.0/8 to any -> (em0) port 1024:65535");
    assert_eq!(r.action, Action::Nat);
    assert!(r.pass && r.log.is_some());
    let p = r.redirect.as_ref().map(|p| (p.hosts.len(), p.ports));
    assert_eq!(p, Some((1, Some((1024, 65535)))));
    let r = one_rule("no rdr on em0 proto tcp from 10.0.0.1 to any port 80");
    assert_eq!((r.action, r.redirect.is_none()), (Action::NoRdr, true));
    let r = one_rule("binat on em0 from 10.0.0.2 to any -> 192.0.2.2");
    assert_eq!(r.action, Action::Binat);
    let refused: &[(&str, &str)] = &[
        ("nat on em0 from any to any", "expected `->`"),
        ("no nat on em0 from any to any -> 1.2.3.4", "takes no `->`"),
        (
            "pass in bogus",
            "expected a rule option (keep state, flags, label, tag, queue, nat-to, ...), found `bogus`",
        ),
        ("pass in proto nosuch", "unknown protocol `nosuch`"),
        ("pass in proto tcp flags X/SA", "invalid TCP flag `X`"),
        ("pass proto icmp icmp-type nope", "unknown icmp type `nope`"),
        ("pass keep state (bogus 1)", "unknown state option `bogus`"),
        (
            "pass in on",
            "expected an interface name, found the end of the file",
        ),
    ];
    for (text, want) in refused {
        let e = run(text, rule).0.expect_err(text);
        assert!(e.message.contains(want), "{text}: {}", e.message);
    }
}

#[test]
fn option_table_and_queue_productions() {
    let (o, left) = ok("set skip on { lo0 enc0 }\npass", option);
    assert_eq!(
        (o.name.as_str(), o.values.clone()),
        ("skip", vec!["lo0".to_string(), "enc0".to_string()])
    );
    assert_eq!(left, ["\\n", "pass"]);
    let (o, _) = ok("set timeout { tcp.established 600, udp.first 60 }", option);
    assert_eq!(o.values, ["tcp.established", "600", "udp.first", "60"]);
    let e = run("set block-policy maybe", option)
        .0
        .expect_err("block-policy");
    assert!(
        e.message
            .contains("`set block-policy` takes drop, return, found `maybe`"),
        "{}",
        e.message
    );
    let e = run("set timeout { tcp.first 10, tcp.bogus 5 }", option)
        .0
        .expect_err("timeout");
    assert!(
        e.message.contains("unknown timeout `tcp.bogus`"),
        "{}",
        e.message
    );
    let e = run("set limit states many", option).0.expect_err("limit");
    assert!(
        e.message.contains("`set limit states` takes a number"),
        "{}",
        e.message
    );
    let e = run("set nonsense 1", option).0.expect_err("nonsense");
    assert_eq!(e.kind, crate::ErrorKind::UnknownOption);

    let (t, left) = ok(
        "table <bad> persist const counters file \"/etc/bad\" { 10.0.0.1, !10.0.0.0/8\n self }\n",
        table,
    );
    assert_eq!(
        (t.name.as_str(), t.persist, t.constant, t.counters),
        ("bad", true, true, true)
    );
    assert_eq!(t.files, ["/etc/bad"]);
    assert_eq!(t.entries.len(), 3);
    assert!(t.entries[1].not);
    assert_eq!(left, ["\\n"]);

    let (q, _) = ok("altq on em0 cbq bandwidth 10Mb queue { std, ssh }", queue);
    assert_eq!(
        (q.kind, q.children.clone()),
        (QueueKind::Altq, vec!["std".to_string(), "ssh".to_string()])
    );
    let (q, _) = ok("queue ssh bandwidth 10% priority 7 cbq(borrow red)", queue);
    assert_eq!(q.name.as_deref(), Some("ssh"));
    assert!(q.settings.contains(&"borrow".to_string()));
    let (q, _) = ok("queue std on em0 bandwidth 10M parent root default", queue);
    assert_eq!(q.parent.as_deref(), Some("root"));
    let e = run(
        "altq on em0 cbq(borrow invalid) bandwidth 1Mb queue x",
        queue,
    )
    .0
    .expect_err("cbq");
    assert!(
        e.message.contains("unknown cbq option `invalid`"),
        "{}",
        e.message
    );
}

/// A whole file through [`crate::pf::parse`], with `files` to include or load.
fn file(text: &str, files: &[(&str, &str)]) -> crate::pf::PfParsed {
    let loader = |_: &str, name: &str| -> Result<Vec<(String, String)>, String> {
        files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, t)| vec![(n.to_string(), t.to_string())])
            .ok_or_else(|| format!("no file `{name}`"))
    };
    crate::pf::parse("pf.conf", text, &loader)
}

#[test]
fn macros_are_expanded_when_the_line_is_read() {
    let p = file(
        "a = \"em0\"\nb = \"{\" $a \"em1 }\"\nports = \"{ 22 80 }\"\npass in on $b proto tcp to port $ports\na = \"em9\"\npass on $a\n",
        &[],
    );
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let values: Vec<&str> = p.ruleset.macros.iter().map(|m| m.value.as_str()).collect();
    assert_eq!(values, ["em0", "{ em0 em1 }", "{ 22 80 }", "em9"]);
    // A definition's span is its text, without the end of its line.
    let first = &p.ruleset.macros[0].span;
    assert_eq!(
        (first.line, first.column, first.start, first.end),
        (1, 1, 0, 9)
    );
    let rules: Vec<&Rule> = p
        .ruleset
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Rule(r) => Some(&**r),
            _ => None,
        })
        .collect();
    assert_eq!(rules.len(), 2);
    let names = |r: &Rule| match &r.on {
        Some(On::Interfaces(l)) => l.iter().map(|i| i.name.clone()).collect::<Vec<_>>(),
        _ => vec![],
    };
    assert_eq!(names(rules[0]), ["em0", "em1"]);
    assert_eq!(rules[0].to.ports, [PortOp::Eq(22), PortOp::Eq(80)]);
    assert_eq!(names(rules[1]), ["em9"]);
    // The rule's span is where it is written, macros or not.
    assert_eq!((rules[1].span.line, rules[1].span.column), (6, 1));
    let p = file("pass on $nope\n", &[]);
    assert_eq!(p.errors[0].message, "macro `nope` is not defined");
    assert_eq!((p.errors[0].line, p.errors[0].column), (1, 9));
}

#[test]
fn anchors_nest_and_wildcards_stay_names() {
    let p = file(
        "anchor \"outer\" in on em0 proto tcp {\n pass quick\n anchor inner {\n  block\n }\n}\nanchor \"a/*\"\nnat-anchor \"ftp-proxy/*\"\nrdr-anchor \"r\" proto tcp to port 21\n",
        &[],
    );
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let Item::Anchor(outer) = &p.ruleset.items[0] else {
        panic!("{:?}", p.ruleset.items[0])
    };
    assert_eq!(
        (outer.name.as_deref(), outer.direction),
        (Some("outer"), Direction::In)
    );
    let body = outer.body.as_ref().map(Vec::len);
    assert_eq!(body, Some(2));
    assert!(
        matches!(&outer.body.as_ref().unwrap_or(&vec![])[1], Item::Anchor(a) if a.body.as_ref().is_some_and(|b| b.len() == 1))
    );
    assert_eq!(
        (outer.span.line, outer.span.end as usize),
        (
            1,
            p.ruleset.sources[0]
                .text
                .find("\nanchor \"a/*\"")
                .unwrap_or(0)
        )
    );
    let kinds: Vec<AnchorKind> = p
        .ruleset
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Anchor(a) => Some(a.kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            AnchorKind::Filter,
            AnchorKind::Filter,
            AnchorKind::Nat,
            AnchorKind::Rdr
        ]
    );
}

#[test]
fn deep_lists_are_flattened_without_recursion() {
    let depth = 100_000;
    let text = format!(
        "pass from {}10.0.0.1{}\n",
        "{ ".repeat(depth),
        " }".repeat(depth)
    );
    let p = file(&text, &[]);
    assert!(p.errors.is_empty(), "{:?}", p.errors.first());
    let e = run("{ 1.1.1.1 { } }", |c| {
        c.bump();
        super::host::host_list_rest(c)
    })
    .0
    .expect_err("an empty inner list");
    assert!(
        e.message.contains("expected an address in the list"),
        "{}",
        e.message
    );
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let depth = 200;
    let text = "anchor {\n".repeat(depth) + &"}\n".repeat(depth);
    let p = file(&text, &[]);
    assert!(
        p.errors
            .iter()
            .any(|e| e.message.contains("anchors nested more than 64 deep")),
        "{:?}",
        p.errors.first()
    );
}

#[test]
fn include_and_load_anchor_go_through_the_loader() {
    let p = file(
        "include \"a.conf\"\nload anchor \"x\" from \"x.conf\"\npass\n",
        &[
            ("a.conf", "port = \"22\"\nblock\nbad line here\n"),
            ("x.conf", "table <t> { 10.0.0.1 }\npass to <t> port 80\n"),
        ],
    );
    // The included file's error is at its own line.
    assert_eq!(p.errors.len(), 2, "{:?}", p.errors);
    assert_eq!((p.errors[0].path.as_str(), p.errors[0].line), ("a.conf", 3));
    // `port 80` without a protocol: pfctl's "port only applies to tcp/udp".
    assert_eq!((p.errors[1].path.as_str(), p.errors[1].line), ("x.conf", 2));
    assert_eq!(p.ruleset.sources.len(), 3);
    let Item::LoadAnchor(l) = &p.ruleset.items[1] else {
        panic!("{:?}", p.ruleset.items[1])
    };
    assert_eq!(l.ruleset.as_ref().map(|r| r.tables.len()), Some(1));
    let unloaded = file("load anchor \"y\" from \"y.conf\"\n", &[]);
    assert!(
        unloaded.errors[0]
            .message
            .contains("cannot load anchor `y` from \"y.conf\""),
        "{:?}",
        unloaded.errors
    );
    assert!(
        matches!(&unloaded.ruleset.items[0], Item::LoadAnchor(l) if l.ruleset.is_none() && l.anchor == "y")
    );
    let missing = file("include \"nope\"\n", &[]);
    assert!(
        missing.errors[0]
            .message
            .contains("cannot include \"nope\": no file `nope`"),
        "{:?}",
        missing.errors
    );
    let looping = file("include \"self\"\n", &[("self", "include \"self\"\n")]);
    assert_eq!(looping.errors.len(), 1, "{:?}", looping.errors.first());
    // Refused at once as a loop (it used to be read up to the limits).
    assert_eq!(
        looping.errors[0].message, "an include loop: self -> self",
        "{:?}",
        looping.errors
    );
}

#[test]
fn what_pfctl_refuses_is_refused_at_its_statement() {
    let cases: &[(&str, u32, &str)] = &[
        (
            "pass\nblock in route-to (em0 1.2.3.4)\n",
            2,
            "not supported on block rules",
        ),
        (
            "pass in proto udp flags S/SA\n",
            1,
            "flags only apply to tcp",
        ),
        ("pass in inet6 proto icmp\n", 1, "with inet6 use icmp6"),
        (
            "pass in from any port 80\n",
            1,
            "port only applies to tcp/udp/sctp",
        ),
        (
            "rdr on em0 proto tcp from any to any -> 1.2.3.4 static-port\n",
            1,
            "only valid with nat rules",
        ),
        (
            "nat on em0 from any to any -> <t> bitmask\n",
            1,
            "tables are not supported by pool type",
        ),
        (
            "pass out dup-to (tun0 1.1.1.1) inet6\n",
            1,
            "no routing address with matching address family found",
        ),
        (
            "rdr-anchor x proto tcp to port { 80 22 }\n",
            1,
            "destination port list expansion not supported in rdr-anchor",
        ),
        (
            "nat-anchor x proto tcp to port > 80\n",
            1,
            "destination port operators not supported in nat-anchor",
        ),
        (
            "binat-anchor x from 10.0.0.1\n",
            1,
            "binat-anchor takes no `from`/`to`",
        ),
        (
            "set require-order yes\npass\nset limit states 10\n",
            3,
            "rules must be in order",
        ),
        (
            "altq on em0 cbq bandwidth 1Mb queue { nothere }\n",
            1,
            "queue `nothere` is not defined",
        ),
    ];
    for (text, line, want) in cases {
        let p = file(text, &[]);
        assert_eq!(p.errors.len(), 1, "{text:?}: {:?}", p.errors);
        assert_eq!(p.errors[0].line, *line, "{text:?}");
        assert!(
            p.errors[0].message.contains(want),
            "{text:?}: {}",
            p.errors[0].message
        );
    }
}

#[test]
fn a_refusal_points_at_the_option_it_is_about() {
    let cases: &[(&str, &str)] = &[
        (
            "pass in proto udp from any to any flags S/SA keep state\n",
            "flags S/SA",
        ),
        (
            "block in route-to (em0 1.2.3.4) all\n",
            "route-to (em0 1.2.3.4)",
        ),
        (
            "pass in on em0 route-to (em1 2001:db8::1) inet\n",
            "route-to (em1 2001:db8::1)",
        ),
        ("pass proto tcp icmp-type echoreq\n", "icmp-type echoreq"),
        (
            "match in all rdr-to 10.0.0.1 static-port\n",
            "rdr-to 10.0.0.1 static-port",
        ),
        // Where no option is at fault, the whole rule.
        ("pass in from any port 80\n", "pass in from any port 80"),
        (
            "rdr on em0 proto tcp from any to any -> 1.2.3.4 static-port\n",
            "rdr on em0 proto tcp from any to any -> 1.2.3.4 static-port",
        ),
    ];
    for (text, at) in cases {
        let p = file(text, &[]);
        let e = p
            .errors
            .first()
            .unwrap_or_else(|| panic!("{text:?} is taken"));
        assert_eq!(
            &text[e.start as usize..e.end as usize],
            *at,
            "{text:?}: {}",
            e.message
        );
    }
}

#[test]
fn errors_do_not_stop_the_file() {
    let p = file("pass in bogus\nblock all\nfoo\npass\n", &[]);
    assert_eq!(p.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(p.ruleset.items.len(), 2);
    let e = &p.errors[1];
    assert!(
        e.message.starts_with("expected a statement"),
        "{}",
        e.message
    );
    assert_eq!((e.column, e.start, e.end), (1, 24, 27));
}

#[test]
fn ether_antispoof_and_scrub_are_kept() {
    let p = file(
        "ether pass in on em0 mac from 00:01:02:03:04:05\nantispoof log quick for { em0 (em1) } inet label \"spoof\"\nscrub in all fragment reassemble\nmatch in all scrub (no-df random-id max-mss 1440)\n",
        &[],
    );
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert!(matches!(&p.ruleset.items[0], Item::Ether(e) if e.words[0] == "pass"));
    assert!(
        matches!(&p.ruleset.items[1], Item::Antispoof(a) if a.quick && a.interfaces.len() == 2 && a.af == Some(Af::Inet))
    );
    assert!(
        matches!(&p.ruleset.items[2], Item::Rule(r) if r.action == Action::Scrub && r.options == [RuleOption::Scrub(vec!["fragment".into(), "reassemble".into()])])
    );
    assert!(
        matches!(&p.ruleset.items[3], Item::Rule(r) if matches!(&r.options[0], RuleOption::Scrub(w) if w.len() == 4))
    );
}

#[test]
fn limiters_are_read_and_named_by_rules() {
    let p = file(
        "source limiter \"dns\" id 1 entries 2 limit 3 rate 4/5 inet mask 16\npass in proto tcp to port domain source limiter \"dns\" (no-match)\n",
        &[],
    );
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let l = &p.ruleset.limiters[0];
    assert_eq!((l.kind, l.name.as_str()), (LimiterKind::Source, "dns"));
    assert_eq!(
        l.settings,
        ["id 1", "entries 2", "limit 3", "rate 4/5", "inet mask 16"]
    );
    assert!(
        matches!(&p.ruleset.items[0], Item::Rule(r) if r.options == [RuleOption::Limiter { kind: LimiterKind::Source, name: "dns".into(), options: vec!["no-match".into()] }])
    );
    let p = file("state limiter x id 1 bogus 2\n", &[]);
    assert!(
        p.errors[0].message.contains("found `bogus`"),
        "{:?}",
        p.errors
    );
}

/// Guards against a return of per-token work proportional to the rest of
/// the file (decoding it made 100k rules take 20 s): 20k punctuation-heavy
/// rules must read in well under the time a quadratic reader needs.
#[test]
fn reading_time_grows_with_the_file_not_its_square() {
    let text =
        "pass in on em0 proto { tcp udp } from <t> to (em0) port { 22, 80 } keep state (max 10)\n"
            .repeat(20_000);
    let start = std::time::Instant::now();
    let p = file(&text, &[]);
    assert!(p.errors.is_empty(), "{:?}", p.errors.first());
    assert_eq!(p.ruleset.items.len(), 20_000);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_file_that_includes_itself_is_one_loop_error_not_a_storm() {
    // Junk and two includes of itself: read again and again up to the
    // limits, this gave thousands of errors and 256 copies of the text.
    let text = "pass in junk here\ninclude \"self.conf\"\ninclude \"self.conf\"\n";
    let loader = |_: &str, _: &str| -> Result<Vec<(String, String)>, String> {
        Ok(vec![("self.conf".to_string(), text.to_string())])
    };
    let (ruleset, errors) = super::read("self.conf", text, &loader);
    let loops: Vec<_> = errors
        .iter()
        .filter(|e| e.message == "an include loop: self.conf -> self.conf")
        .collect();
    assert_eq!(loops.len(), 2, "{errors:#?}");
    assert_eq!((loops[0].line, loops[1].line), (2, 3), "{errors:#?}");
    // The junk is said once, and the text is kept once.
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_eq!(ruleset.sources.len(), 1);
}
