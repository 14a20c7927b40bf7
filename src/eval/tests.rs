//! Evaluator semantics on small rulesets, one behaviour of the kernel each.

use super::*;
use crate::input::{InputFormat, parse_text};

fn rules(body: &str) -> String {
    format!("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n{body}COMMIT\n")
}

/// Verdicts over the query's region, as (first dport of the piece, verdict), sorted.
fn verdicts(text: &str, q: Query) -> Vec<(u128, Verdict)> {
    verdicts_of(text, InputFormat::Iptables, q)
}

/// [`verdicts`] of a ruleset in `format`.
fn verdicts_of(text: &str, format: InputFormat, q: Query) -> Vec<(u128, Verdict)> {
    let prog = program_of(text, format, &q);
    let mut v: Vec<(u128, Verdict)> = connection::evaluate(&prog, &q.question(&prog))
        .iter()
        .map(|f| (f.region[program::DPORT].min().unwrap_or(0), f.verdict))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The IPv4 program of a ruleset in `format`, for the interfaces `q` names.
fn program_of(text: &str, format: InputFormat, q: &Query) -> Program {
    let input = parse_text("t.rules", text, format);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    Program::compile(
        &input.ruleset,
        driftwall_parsers::model::Family::Ipv4,
        &q.interfaces(),
    )
}

fn inbound(proto: u8, ports: (u128, u128)) -> Query {
    Query {
        direction: Direction::Inbound,
        protocol: proto,
        src: None,
        dst: None,
        sport: None,
        dport: IntervalSet::range(ports.0, ports.1),
        iif: InterfaceSet::named(vec!["eth0".into()]),
        oif: InterfaceSet::default(),
    }
}

fn only(text: &str, q: Query) -> Verdict {
    let v = verdicts(text, q);
    let kinds: std::collections::BTreeSet<Verdict> = v.iter().map(|x| x.1).collect();
    assert_eq!(kinds.len(), 1, "expected one verdict, got {v:?}");
    v[0].1
}

const EST: &str = "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n";

#[test]
fn a_tcp_service_needs_its_replies_and_the_rest_of_the_handshake() {
    let open = rules(&format!("{EST}-A INPUT -p tcp --dport 22 -j ACCEPT\n"));
    assert_eq!(only(&open, inbound(6, (22, 22))), Verdict::Allow);
    // Only SYNs accepted and nothing for established traffic: the ACK dies.
    let syn_only = rules("-A INPUT -p tcp --dport 22 --syn -j ACCEPT\n");
    assert_eq!(only(&syn_only, inbound(6, (22, 22))), Verdict::Drop);
    // Replies blocked by OUTPUT: the client never sees the SYN,ACK.
    let out_drop = format!(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n{EST}-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
    );
    assert_eq!(only(&out_drop, inbound(6, (22, 22))), Verdict::Drop);
}

#[test]
fn udp_needs_only_the_datagram() {
    let t = rules("-A INPUT -p udp --dport 53 -j ACCEPT\n");
    assert_eq!(only(&t, inbound(17, (53, 53))), Verdict::Allow);
}

#[test]
fn a_reject_is_seen_only_if_its_response_gets_out() {
    let t = rules("-A INPUT -p tcp --dport 23 -j REJECT --reject-with tcp-reset\n");
    assert_eq!(only(&t, inbound(6, (23, 23))), Verdict::Reject);
    let blocked = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n-A INPUT -p tcp --dport 23 -j REJECT --reject-with tcp-reset\nCOMMIT\n";
    assert_eq!(only(blocked, inbound(6, (23, 23))), Verdict::Drop);
    let related_ok = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n-A INPUT -p tcp --dport 23 -j REJECT --reject-with tcp-reset\n-A OUTPUT -m state --state RELATED -j ACCEPT\nCOMMIT\n";
    assert_eq!(only(related_ok, inbound(6, (23, 23))), Verdict::Reject);
}

#[test]
fn a_partial_block_splits_the_set_exactly() {
    let t = rules(&format!(
        "{EST}-A INPUT -p tcp --dport 85 -j DROP\n-A INPUT -p tcp --dport 80:90 -j ACCEPT\n"
    ));
    let q = inbound(6, (80, 90));
    let prog = program_of(&t, InputFormat::Iptables, &q);
    let mut allowed = IntervalSet::empty();
    let mut dropped = IntervalSet::empty();
    for f in connection::evaluate(&prog, &q.question(&prog)) {
        match f.verdict {
            Verdict::Allow => allowed = allowed.union(&f.region[program::DPORT]),
            Verdict::Drop => dropped = dropped.union(&f.region[program::DPORT]),
            v => panic!("unexpected {v:?}"),
        }
    }
    assert_eq!(allowed.ranges().as_ref(), &[(80, 84), (86, 90)]);
    assert_eq!(dropped.ranges().as_ref(), &[(85, 85)]);
}

#[test]
fn goto_returns_to_the_caller_of_the_caller() {
    let t = format!(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:a - [0:0]\n:b - [0:0]\n{EST}-A INPUT -j a\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A a -g b\n-A a -j DROP\n-A b -j RETURN\nCOMMIT\n"
    );
    // RETURN in b (reached by goto from a) goes back to INPUT, skipping a's DROP.
    assert_eq!(only(&t, inbound(6, (22, 22))), Verdict::Allow);
}

#[test]
fn unmodelled_matches_make_results_indeterminate_only_where_they_matter() {
    let same = rules(&format!(
        "{EST}-A INPUT -p tcp --dport 22 -m limit --limit 5/min -j ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT\n"
    ));
    assert_eq!(only(&same, inbound(6, (22, 22))), Verdict::Allow);
    let differs = rules(&format!(
        "{EST}-A INPUT -p tcp --dport 22 -m limit --limit 5/min -j ACCEPT\n"
    ));
    assert_eq!(only(&differs, inbound(6, (22, 22))), Verdict::Indeterminate);
    // A port the rule does not cover is not affected.
    assert_eq!(only(&differs, inbound(6, (80, 80))), Verdict::Drop);
}

#[test]
fn a_rule_that_only_logs_is_never_assumed_even_where_it_may_match() {
    // A rate-limited LOG rule (common in real rulesets) decides nothing:
    // whether it matches, the packet goes on to the next rule. Forking on
    // it named it among the rules a verdict rests on, and spent the forks
    // an evaluation has.
    let t = rules(&format!(
        "{EST}-A INPUT -m limit --limit 5/min -j LOG --log-prefix x\n-A INPUT -p tcp --dport 22 -m limit --limit 5/min -j ACCEPT\n"
    ));
    let q = inbound(6, (22, 22));
    let prog = program_of(&t, InputFormat::Iptables, &q);
    let found = connection::evaluate(&prog, &q.question(&prog));
    let log_rule = Some(1);
    assert!(
        found.iter().any(|f| !f.assumed.is_empty()),
        "the ACCEPT's limit is assumed"
    );
    for f in &found {
        assert!(
            f.assumed
                .iter()
                .chain(f.decided.iter())
                .all(|d| d.rule != log_rule),
            "the LOG rule is named: {f:?}"
        );
    }
    // Traced, the LOG rule may or may not be in a packet's trail: it forks.
    let traced = connection::evaluate_traced(&prog, &q.question(&prog));
    assert!(
        traced
            .iter()
            .any(|f| f.assumed.iter().any(|d| d.rule == log_rule))
    );
}

#[test]
fn notrack_makes_packets_untracked() {
    let t = "*raw\n-A PREROUTING -p udp --dport 53 -j NOTRACK\nCOMMIT\n*filter\n:INPUT DROP [0:0]\n-A INPUT -p udp -m conntrack --ctstate UNTRACKED -j ACCEPT\nCOMMIT\n";
    assert_eq!(only(t, inbound(17, (53, 53))), Verdict::Allow);
    assert_eq!(only(t, inbound(17, (54, 54))), Verdict::Drop);
}

#[test]
fn redirect_changes_the_port_later_chains_see() {
    let t = format!(
        "*nat\n-A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80\nCOMMIT\n{}",
        rules(&format!("{EST}-A INPUT -p tcp --dport 80 -j ACCEPT\n"))
    );
    assert_eq!(only(&t, inbound(6, (8080, 8080))), Verdict::Allow);
    assert_eq!(only(&t, inbound(6, (8081, 8081))), Verdict::Drop);
}

#[test]
fn redirect_sends_to_the_address_of_the_incoming_interface() {
    // Kernel-checked (tests/kernel/FINDINGS.md): later chains see the host's
    // address on the interface the packet came in by, not the original one.
    let t = format!(
        "*nat\n-A PREROUTING -p udp --dport 9999 -j REDIRECT --to-ports 7000\nCOMMIT\n{}",
        rules(&format!(
            "{EST}-A INPUT -p udp -d 10.9.9.9 -j REJECT\n-A INPUT -p udp -d 192.0.2.1 --dport 7000 -j ACCEPT\n"
        ))
    );
    let input = parse_text("t.rules", &t, InputFormat::Iptables);
    let q = Query {
        dst: Some(addr_set(&["10.9.9.9".parse().unwrap()])),
        ..inbound(17, (9999, 9999))
    };
    let mut prog = Program::compile(
        &input.ruleset,
        driftwall_parsers::model::Family::Ipv4,
        &q.interfaces(),
    );
    let verdict = |prog: &Program| {
        connection::evaluate(prog, &q.question(prog))
            .iter()
            .map(|f| f.verdict)
            .collect::<std::collections::BTreeSet<_>>()
    };
    // Without the host's addresses the destination is unknown.
    assert_eq!(verdict(&prog), [Verdict::Indeterminate].into());
    prog.set_host_addresses(&[("eth0".into(), "192.0.2.1".parse().unwrap())]);
    assert_eq!(verdict(&prog), [Verdict::Allow].into());
}

#[test]
fn interface_wildcards_and_negation() {
    let t = rules(&format!(
        "{EST}-A INPUT -i eth+ -p tcp --dport 22 -j ACCEPT\n-A INPUT ! -i wg0 -p tcp --dport 23 -j ACCEPT\n"
    ));
    assert_eq!(only(&t, inbound(6, (22, 22))), Verdict::Allow);
    let mut q = inbound(6, (22, 22));
    q.iif = InterfaceSet::named(vec!["wg0".into()]);
    assert_eq!(only(&t, q.clone()), Verdict::Drop);
    q.dport = IntervalSet::single(23);
    assert_eq!(only(&t, q), Verdict::Drop);
    assert_eq!(only(&t, inbound(6, (23, 23))), Verdict::Allow);
}

#[test]
fn loopback_is_not_part_of_an_unnamed_interface_set() {
    let t = rules(&format!("{EST}-A INPUT -i lo -j ACCEPT\n"));
    let mut q = inbound(6, (22, 22));
    q.iif = InterfaceSet::default();
    assert_eq!(only(&t, q), Verdict::Drop);
}

#[test]
fn forwarded_connections_need_both_directions_through_forward() {
    let fwd = |body: &str| {
        format!(
            "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n{body}COMMIT\n"
        )
    };
    let q = Query {
        direction: Direction::Forward,
        protocol: 6,
        src: None,
        dst: None,
        sport: None,
        dport: IntervalSet::single(443),
        iif: InterfaceSet::named(vec!["lan0".into()]),
        oif: InterfaceSet::named(vec!["wan0".into()]),
    };
    let one_way = fwd("-A FORWARD -i lan0 -o wan0 -p tcp --dport 443 -j ACCEPT\n");
    assert_eq!(only(&one_way, q.clone()), Verdict::Drop);
    let both = fwd(
        "-A FORWARD -i lan0 -o wan0 -p tcp --dport 443 -j ACCEPT\n-A FORWARD -i wan0 -o lan0 -m state --state ESTABLISHED -j ACCEPT\n-A FORWARD -i lan0 -o wan0 -m state --state ESTABLISHED -j ACCEPT\n",
    );
    assert_eq!(only(&both, q), Verdict::Allow);
}

#[test]
fn icmp_types_decide_which_reject_answers_get_out() {
    let out_drop = |out_rules: &str, reject: &str| {
        format!(
            "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n-A INPUT -p udp --dport 53 -j REJECT --reject-with {reject}\n{out_rules}COMMIT\n"
        )
    };
    let unreach = "-A OUTPUT -p icmp --icmp-type destination-unreachable -j ACCEPT\n";
    assert_eq!(
        only(
            &out_drop(unreach, "icmp-port-unreachable"),
            inbound(17, (53, 53))
        ),
        Verdict::Reject
    );
    assert_eq!(
        only(
            &out_drop(unreach, "icmp-admin-prohibited"),
            inbound(17, (53, 53))
        ),
        Verdict::Reject
    );
    let only_port = "-A OUTPUT -p icmp --icmp-type port-unreachable -j ACCEPT\n";
    assert_eq!(
        only(
            &out_drop(only_port, "icmp-port-unreachable"),
            inbound(17, (53, 53))
        ),
        Verdict::Reject
    );
    assert_eq!(
        only(
            &out_drop(only_port, "icmp-host-prohibited"),
            inbound(17, (53, 53))
        ),
        Verdict::Drop
    );
    let echo = "-A OUTPUT -p icmp --icmp-type echo-reply -j ACCEPT\n";
    assert_eq!(
        only(
            &out_drop(echo, "icmp-port-unreachable"),
            inbound(17, (53, 53))
        ),
        Verdict::Drop
    );
    let not_echo = "-A OUTPUT -p icmp ! --icmp-type echo-reply -j ACCEPT\n";
    assert_eq!(
        only(
            &out_drop(not_echo, "icmp-port-unreachable"),
            inbound(17, (53, 53))
        ),
        Verdict::Reject
    );
    // An ICMP rule says nothing about TCP or UDP packets.
    let t = rules(&format!(
        "{EST}-A INPUT -p icmp --icmp-type any -j DROP\n-A INPUT -p tcp --dport 22 -j ACCEPT\n"
    ));
    assert_eq!(only(&t, inbound(6, (22, 22))), Verdict::Allow);
}

/// `verdicts` for an nft ruleset.
fn nft_verdicts(text: &str, q: Query) -> Vec<(u128, Verdict)> {
    verdicts_of(text, InputFormat::Nftables, q)
}

#[test]
fn ct_status_dnat_is_the_translation_the_connection_had() {
    // firewalld's input chain: translated connections pass before the
    // zones; others meet the reject. Port 8080 arrives as 80's DNAT.
    let text = "table inet t {\n\
        chain pre { type nat hook prerouting priority dstnat; tcp dport 8080 redirect to :80 }\n\
        chain in { type filter hook input priority 0; policy drop;\n\
          ct state established,related accept\n\
          ct status dnat accept\n\
          reject with icmpx admin-prohibited }\n\
        }\n";
    assert_eq!(
        nft_verdicts(text, inbound(6, (8080, 8080))),
        vec![(8080, Verdict::Allow)]
    );
    assert_eq!(
        nft_verdicts(text, inbound(6, (80, 80))),
        vec![(80, Verdict::Reject)]
    );
    // `!= dnat` is its negation.
    let negated = text.replace("ct status dnat accept", "ct status != dnat drop");
    assert_eq!(
        nft_verdicts(&negated, inbound(6, (80, 80))),
        vec![(80, Verdict::Drop)]
    );
}

#[test]
fn ct_direction_tells_replies_from_the_original_direction() {
    // Replies of an inbound connection leave by OUTPUT in the reply
    // direction; dropping the original direction there changes nothing.
    let open = "table inet t { chain in { type filter hook input priority 0; policy accept; }\n\
        chain out { type filter hook output priority 0; policy accept; ct direction original drop } }\n";
    assert_eq!(
        nft_verdicts(open, inbound(6, (22, 22))),
        vec![(22, Verdict::Allow)]
    );
    let closed = open.replace("ct direction original drop", "ct direction reply drop");
    assert_eq!(
        nft_verdicts(&closed, inbound(6, (22, 22))),
        vec![(22, Verdict::Drop)]
    );
}

/// A redirect in a chain the NAT base chain jumps to rewrites the
/// destination as one in the base chain does: the filter input hook sees
/// port 22 (firewalld puts every forward port in such a chain).
#[test]
fn a_redirect_in_a_chain_jumped_to_from_prerouting_rewrites_the_port() {
    let text = "table inet t {\n chain pre {\n  type nat hook prerouting priority dstnat; policy accept;\n  jump fwd_ports\n }\n\
                chain fwd_ports {\n  tcp dport 2222 redirect to :22\n }\n\
                chain input {\n  type filter hook input priority filter; policy drop;\n  ct state established,related accept\n  tcp dport 22 accept\n }\n}\n";
    assert_eq!(
        nft_verdicts(text, inbound(6, (2222, 2222))),
        vec![(2222, Verdict::Allow)]
    );
}

/// `ct status dnat` holds for a connection whose first packet a DNAT or
/// redirect rewrote, and for no other: firewalld accepts forwarded ports so
/// in input and forward, whatever the zone allows.
#[test]
fn ct_status_dnat_matches_only_connections_a_nat_rule_rewrote() {
    let text = "table inet t {\n chain pre {\n  type nat hook prerouting priority dstnat; policy accept;\n  jump fwd_ports\n }\n\
                chain fwd_ports {\n  tcp dport 8080 redirect to :9999\n }\n\
                chain input {\n  type filter hook input priority filter; policy drop;\n  ct state established,related accept\n  ct status dnat accept\n }\n}\n";
    assert_eq!(
        nft_verdicts(text, inbound(6, (8080, 8080))),
        vec![(8080, Verdict::Allow)]
    );
    // Sent to 9999 directly, nothing rewrote it: the policy drops it.
    assert_eq!(
        nft_verdicts(text, inbound(6, (9999, 9999))),
        vec![(9999, Verdict::Drop)]
    );
    let negated = text.replace("ct status dnat accept", "ct status != dnat accept");
    let got = nft_verdicts(&negated, inbound(6, (9999, 9999)));
    assert_eq!(got, vec![(9999, Verdict::Allow)], "{negated}");
}

#[test]
fn a_partition_that_outgrows_the_work_limit_is_indeterminate_from_the_rule_where_it_did() {
    // Sources x destinations (issue 17): every source rule cuts the
    // pieces every destination rule cuts again.
    let mut body = String::from(EST);
    for i in 0..40 {
        let verdict = if i % 2 == 0 { "ACCEPT" } else { "DROP" };
        body.push_str(&format!(
            "-A INPUT -s 10.0.0.{i} -p tcp --dport {}:{} -j {verdict}\n",
            i + 1,
            i + 500
        ));
    }
    for j in 0..40 {
        body.push_str(&format!(
            "-A INPUT -d 192.168.0.{j} -p tcp --dport {} -j ACCEPT\n",
            60 * j + 1
        ));
    }
    let text = rules(&body);
    let input = parse_text("t.rules", &text, InputFormat::Iptables);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    let q = inbound(6, (1, 65535));
    let prog = Program::compile(
        &input.ruleset,
        driftwall_parsers::model::Family::Ipv4,
        &q.interfaces(),
    );
    let question = q.question(&prog);
    let whole = connection::evaluate(&prog, &question);
    assert!(whole.iter().all(|f| f.verdict != Verdict::Indeterminate));
    let cut = connection::evaluate_with_limit(&prog, &question, 2_000);
    let outgrown: Vec<&Finding> = cut
        .iter()
        .filter(|f| f.verdict == Verdict::Indeterminate)
        .collect();
    assert!(!outgrown.is_empty());
    // They name one rule of INPUT, the one where the limit was passed.
    let culprits: std::collections::BTreeSet<_> = outgrown
        .iter()
        .map(|f| f.decided.last().map(|d| (d.chain, d.rule)))
        .collect();
    assert_eq!(culprits.len(), 1, "{culprits:?}");
    assert!(matches!(culprits.first(), Some(Some((_, Some(_))))));
    assert!(
        outgrown
            .iter()
            .all(|f| f.reason.as_deref().is_some_and(|r| r.contains("outgrew")))
    );
    // Pieces decided before the limit keep their verdicts.
    let decided: Vec<&Finding> = cut
        .iter()
        .filter(|f| f.verdict != Verdict::Indeterminate)
        .collect();
    assert!(!decided.is_empty());
    for f in decided {
        let same = whole.iter().any(|w| {
            w.verdict == f.verdict
                && connection::intersect(&w.region, &f.region).is_some()
                && w.decided == f.decided
        });
        assert!(same, "{f:?}");
    }
}

#[test]
fn address_sets_read_as_cidr_blocks_and_everyone_as_nothing() {
    let v4 = |a: [u8; 4]| u128::from(u32::from(Ipv4Addr::from(a)));
    let net = IntervalSet::range(v4([192, 0, 2, 0]), v4([192, 0, 2, 255]));
    assert_eq!(
        address_set_text(Family::Ipv4, &net, 4).as_deref(),
        Some("192.0.2.0/24")
    );
    let odd = IntervalSet::range(v4([10, 0, 0, 1]), v4([10, 0, 0, 6]));
    assert_eq!(
        address_set_text(Family::Ipv4, &odd, 4).as_deref(),
        Some("10.0.0.1/32, 10.0.0.2/31, 10.0.0.4/31, 10.0.0.6/32")
    );
    assert_eq!(
        address_set_text(Family::Ipv4, &odd, 2).as_deref(),
        Some("10.0.0.1/32, 10.0.0.2/31, ...")
    );
    let all4 = IntervalSet::range(0, u128::from(u32::MAX));
    assert_eq!(address_set_text(Family::Ipv4, &all4, 4), None);
    let all6 = IntervalSet::range(0, u128::MAX);
    assert_eq!(address_set_text(Family::Ipv6, &all6, 4), None);
    let half6 = IntervalSet::range(1 << 127, u128::MAX);
    assert_eq!(
        address_set_text(Family::Ipv6, &half6, 4).as_deref(),
        Some("8000::/1")
    );
    assert_eq!(
        address_set_text(Family::Ipv4, &IntervalSet::empty(), 4),
        None
    );
}

/// Evaluates `text` for `q` as usual and again walking every chain for
/// every packet ([`connection::evaluate_walking_all`]); the two must give
/// the same outcomes (verdict, decided, assumed, trail, reason) over the
/// same connections. Gives the usual findings.
fn same_as_walking_all(text: &str, q: &Query) -> Vec<Finding> {
    use super::walk::{Region, subtract};
    let input = parse_text("t.rules", text, InputFormat::Iptables);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    let prog = Program::compile(
        &input.ruleset,
        driftwall_parsers::model::Family::Ipv4,
        &q.interfaces(),
    );
    let question = q.question(&prog);
    let got = connection::evaluate(&prog, &question);
    let want = connection::evaluate_walking_all(&prog, &question);
    type Outcomes = std::collections::BTreeMap<String, Vec<Region>>;
    let outcomes = |fs: &[Finding]| {
        let mut m = Outcomes::new();
        for f in fs {
            let key = format!(
                "{:?} decided {:?} assumed {:?} trail {:?} {:?}",
                f.verdict, f.decided, f.assumed, f.trail, f.reason
            );
            m.entry(key).or_default().push(f.region.clone());
        }
        m
    };
    let covered = |a: &[Region], b: &[Region]| {
        a.iter().all(|r| {
            b.iter()
                .fold(vec![r.clone()], |rest, x| {
                    rest.iter().flat_map(|p| subtract(p, x)).collect()
                })
                .is_empty()
        })
    };
    let (a, b) = (outcomes(&got), outcomes(&want));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "replayed and walked outcomes differ"
    );
    for (k, ra) in &a {
        assert!(covered(ra, &b[k]) && covered(&b[k], ra), "{k}");
    }
    got
}

#[test]
fn a_data_packet_replays_the_handshake_only_where_it_sees_the_chains_alike() {
    let verdicts = |fs: &[Finding]| {
        fs.iter()
            .map(|f| f.verdict)
            .collect::<std::collections::BTreeSet<_>>()
    };
    let q = inbound(6, (22, 22));
    // The same view but for TCP flags no rule tells apart: replayed, and
    // every packet's decision is there, with its own phase.
    let plain = rules(&format!("{EST}-A INPUT -p tcp --dport 22 -j ACCEPT\n"));
    let f = same_as_walking_all(&plain, &q);
    assert_eq!(verdicts(&f), [Verdict::Allow].into());
    let phases: Vec<u8> = f[0].decided.iter().map(|d| d.phase).collect();
    assert_eq!(phases, [0, 1, 2, 3, 4]);
    // A chain the established packets jump to tells the client's data
    // (PSH,ACK) from its ACK: the data must be walked, and dies.
    let psh_in = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\
         :data - [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j data\n\
         -A INPUT -p tcp --dport 22 -j ACCEPT\n\
         -A data -p tcp --tcp-flags PSH PSH -j DROP\n-A data -j ACCEPT\nCOMMIT\n";
    assert_eq!(
        verdicts(&same_as_walking_all(psh_in, &q)),
        [Verdict::Drop].into()
    );
    // OUTPUT lets the SYN,ACK out and not the server's data.
    let synack_out = format!(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n{EST}\
         -A INPUT -p tcp --dport 22 -j ACCEPT\n\
         -A OUTPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j ACCEPT\nCOMMIT\n"
    );
    assert_eq!(
        verdicts(&same_as_walking_all(&synack_out, &q)),
        [Verdict::Drop].into()
    );
    // The data is untracked (raw tells the flags apart): INPUT, which does
    // not look at flags, sees another state than the ACK saw, and is walked.
    let untracked = format!(
        "*raw\n-A PREROUTING -p tcp --tcp-flags PSH PSH -j NOTRACK\nCOMMIT\n{}",
        rules(
            "-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\n\
             -A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT\n"
        )
    );
    assert_eq!(
        verdicts(&same_as_walking_all(&untracked, &q)),
        [Verdict::Drop].into()
    );
}

#[test]
fn a_witness_within_two_regions_is_the_witness_of_their_intersection() {
    // Regions with several ranges per dimension, some holding the
    // preferred values and some not, some meeting and some not: the
    // witness taken without cutting the part out is the one of the part.
    let prog = Program::compile(
        &parse_text("t.rules", &rules(""), InputFormat::Iptables).ruleset,
        driftwall_parsers::model::Family::Ipv4,
        &[],
    );
    let mut rnd = crate::test_rng::xorshift(0x2545f4914f6cdd1du64);
    let preferred = [
        0,
        u128::from(u32::from(std::net::Ipv4Addr::new(203, 0, 113, 10))),
        u128::from(u32::from(std::net::Ipv4Addr::new(198, 51, 100, 20))),
        49152,
        0,
        0,
        0,
    ];
    let mut met = 0;
    for _ in 0..2000 {
        let mut region = || -> walk::Region {
            std::array::from_fn(|d| {
                let base = preferred[d].saturating_sub(40);
                IntervalSet::from_ranges(
                    (0..1 + rnd(4))
                        .map(|_| {
                            let a = base + u128::from(rnd(80));
                            (a, a + u128::from(rnd(30)))
                        })
                        .collect(),
                )
            })
        };
        let (a, b) = (region(), region());
        for direction in [Direction::Inbound, Direction::Outbound, Direction::Forward] {
            let within = witness_values_within(&prog, direction, &a, &b);
            let cut = connection::intersect(&a, &b);
            assert_eq!(within.is_some(), cut.is_some());
            if let (Some(w), Some(c)) = (within, cut) {
                assert_eq!(w, witness_values(&prog, direction, &c));
                met += 1;
            }
        }
    }
    assert!(met > 100, "too few regions met ({met}) to test anything");
}
