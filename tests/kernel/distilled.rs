//! Minimal rulesets distilled from disagreements the generated test found
//! (each explained in `tests/kernel/FINDINGS.md` under the same name). They
//! run like generated cases: the kernel decides, driftwall must agree. They
//! stay after the evaluator is fixed, as regression tests.

use super::{Case, Family, Kind, Probe, Proto};
use Kind::{Fwd, In, Out};
use Proto::{Tcp, Udp};

fn case(name: &str, family: Family, ruleset: &str, probes: Vec<Probe>) -> Case {
    Case {
        name: name.to_string(),
        seed: None,
        family,
        ruleset: ruleset.to_string(),
        probes,
    }
}

pub fn cases() -> Vec<Case> {
    let v4 = Family::V4;
    let v6 = Family::V6;
    vec![
        // The RST answering an untracked SYN carries no conntrack entry: it is
        // INVALID in OUTPUT (neither RELATED nor UNTRACKED).
        case(
            "reject-of-untracked-is-invalid",
            v4,
            "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A PREROUTING -p tcp --dport 80 -j NOTRACK\n\
             COMMIT\n\
             *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n\
             -A INPUT -p tcp -m multiport --dports 80,81 -j REJECT --reject-with tcp-reset\n\
             -A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED,UNTRACKED -j ACCEPT\n\
             COMMIT\n",
            vec![
                Probe::between("p1", In, v4, Tcp, 0, 1, 80),
                Probe::between("p2", In, v4, Tcp, 0, 1, 81),
            ],
        ),
        // The same for an ICMPv6 error, and raw-table NOTRACK in OUTPUT does
        // not make it UNTRACKED: it stays INVALID all the way back over lo.
        case(
            "reject-of-untracked-stays-invalid-despite-notrack",
            v6,
            "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A OUTPUT -j NOTRACK\n\
             COMMIT\n\
             *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A INPUT -m conntrack --ctstate UNTRACKED -p ipv6-icmp -j DROP\n\
             -A OUTPUT -o lo -m conntrack --ctstate INVALID -j ACCEPT\n\
             -A OUTPUT -d fd00::/16 -j REJECT --reject-with icmp6-no-route\n\
             COMMIT\n",
            vec![
                Probe::between("p1", Out, v6, Udp, 0, 1, 53),
                Probe::between("p2", Out, v6, Tcp, 1, 0, 53),
            ],
        ),
        // Nor for a tracked original: the answer stays RELATED.
        case(
            "raw-notrack-leaves-reject-answers-related",
            v4,
            "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A OUTPUT -p icmp -j NOTRACK\n\
             -A OUTPUT -p tcp --sport 81 -j NOTRACK\n\
             COMMIT\n\
             *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n\
             -A INPUT -p udp --dport 53 -j REJECT --reject-with icmp-port-unreachable\n\
             -A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
             COMMIT\n",
            vec![
                Probe::between("p1", In, v4, Udp, 0, 1, 53),
                Probe::between("p2", In, v4, Tcp, 1, 0, 80),
                Probe::between("p3", In, v4, Tcp, 1, 0, 81),
            ],
        ),
        // Nor on the way back in over lo: the RST answering the host's own
        // SYN keeps its RELATED mark through raw PREROUTING's NOTRACK.
        case(
            "looped-reject-answer-ignores-prerouting-notrack",
            v4,
            "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A PREROUTING -i lo -j NOTRACK\n\
             COMMIT\n\
             *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A INPUT -i lo -m conntrack ! --ctstate UNTRACKED -j ACCEPT\n\
             -A INPUT -i lo -j DROP\n\
             -A OUTPUT -p tcp --dport 80 -j REJECT --reject-with tcp-reset\n\
             COMMIT\n",
            vec![Probe::between("p1", Out, v4, Tcp, 0, 1, 80)],
        ),
        // A REJECT in OUTPUT answers this host itself: the ICMP error goes
        // from the host's own address (not from the original destination) to
        // the host over lo, through OUTPUT (-o lo) and INPUT (-i lo).
        case(
            "reject-in-output-comes-from-own-address",
            v4,
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A OUTPUT -p udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited\n\
             -A OUTPUT -p udp --dport 54 -j REJECT --reject-with icmp-admin-prohibited\n\
             -A OUTPUT ! -s 10.1.0.2 -p icmp -j DROP\n\
             COMMIT\n",
            vec![
                Probe::between("p1", Out, v4, Udp, 0, 1, 53),
                Probe::between("p2", Out, v4, Udp, 1, 0, 54),
            ],
        ),
        // An ICMP error for a forwarded packet comes from the firewall's
        // address on the interface towards the original sender.
        case(
            "reject-in-forward-comes-from-address-towards-sender",
            v4,
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A FORWARD -p udp --dport 53 -j REJECT --reject-with icmp-port-unreachable\n\
             -A OUTPUT -s 10.2.0.1 -p icmp -j DROP\n\
             COMMIT\n",
            vec![
                Probe::between("p1", Fwd, v4, Udp, 1, 0, 53),
                Probe::between("p2", Fwd, v4, Udp, 0, 1, 53),
            ],
        ),
        // The SYN passes as NEW, the SYN-ACK is dropped in FORWARD, but
        // conntrack has seen it: the client's retransmitted SYN is ESTABLISHED
        // and meets the REJECT.
        case(
            "syn-retransmit-after-dropped-synack-is-established",
            v4,
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A FORWARD -i wan0 -m state --state NEW -j ACCEPT\n\
             -A FORWARD -i lan0 -j DROP\n\
             -A FORWARD -m state --state ESTABLISHED -j REJECT --reject-with icmp-admin-prohibited\n\
             COMMIT\n",
            vec![Probe::between("p1", Fwd, v4, Tcp, 2, 0, 80)],
        ),
        // The same on the host itself: the SYN-ACK dropped in OUTPUT has
        // been seen by conntrack (which runs before the filter table there too).
        case(
            "syn-retransmit-after-dropped-local-synack-is-established",
            v4,
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A INPUT -m state --state NEW -j ACCEPT\n\
             -A INPUT -p tcp -j REJECT --reject-with icmp-host-unreachable\n\
             -A OUTPUT -p tcp --sport 80 -j DROP\n\
             COMMIT\n",
            vec![Probe::between("p1", In, v4, Tcp, 0, 1, 80)],
        ),
        // After an untracked SYN, the host's SYN-ACK is INVALID, and its first
        // data segment is picked up mid-stream (nf_conntrack_tcp_loose) as a
        // NEW connection.
        case(
            "reply-data-after-untracked-syn-is-new",
            v4,
            "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A PREROUTING -p tcp --dport 80 -j NOTRACK\n\
             COMMIT\n\
             *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A OUTPUT -p tcp -m state --state NEW -j DROP\n\
             COMMIT\n",
            vec![
                Probe::between("p1", In, v4, Tcp, 0, 1, 80),
                Probe::between("p2", In, v4, Tcp, 0, 1, 81),
            ],
        ),
        // The mirror for the host's own connections: an untracked SYN
        // leaves, the peer's SYN-ACK arrives INVALID and its data NEW, so an
        // ESTABLISHED rule in INPUT never sees them.
        case(
            "replies-to-untracked-local-syn-are-never-established",
            v4,
            "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A OUTPUT -p tcp --dport 80 -j NOTRACK\n\
             COMMIT\n\
             *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A INPUT -p tcp -m state --state ESTABLISHED -j DROP\n\
             COMMIT\n",
            vec![
                Probe::between("p1", Out, v4, Tcp, 0, 1, 80),
                Probe::between("p2", Out, v4, Tcp, 0, 1, 81),
            ],
        ),
        // A chain entered with -g from a base chain that ends without a
        // verdict ends the base chain: its policy decides, and the rules after
        // the -g never run.
        case(
            "goto-chain-end-applies-base-policy",
            v4,
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:svc - [0:0]\n\
             -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
             -A FORWARD -g svc\n\
             -A FORWARD -j REJECT\n\
             -A svc -s 10.2.0.0/24 -j ACCEPT\n\
             COMMIT\n",
            vec![
                Probe::between("p1", Fwd, v4, Udp, 0, 1, 53),
                Probe::between("p2", Fwd, v4, Udp, 1, 0, 53),
            ],
        ),
        // ICMP types decide which REJECT answers leave through OUTPUT: only
        // port-unreachable is let out, so the host-prohibited answer is lost.
        case(
            "icmp-type-selects-reject-answers",
            v4,
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n\
             -A INPUT -p udp --dport 53 -j REJECT --reject-with icmp-port-unreachable\n\
             -A INPUT -p udp --dport 54 -j REJECT --reject-with icmp-host-prohibited\n\
             -A OUTPUT -p icmp --icmp-type port-unreachable -j ACCEPT\n\
             COMMIT\n",
            vec![
                Probe::between("p1", In, v4, Udp, 0, 0, 53),
                Probe::between("p2", In, v4, Udp, 0, 0, 54),
            ],
        ),
        // The same for ICMPv6, with a negated type.
        case(
            "icmpv6-negated-type-selects-reject-answers",
            v6,
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n\
             -A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type neighbour-solicitation -j ACCEPT\n\
             -A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type neighbour-advertisement -j ACCEPT\n\
             -A INPUT -p udp --dport 53 -j REJECT --reject-with icmp6-port-unreachable\n\
             -A INPUT -p udp --dport 54 -j REJECT --reject-with icmp6-adm-prohibited\n\
             -A OUTPUT -p ipv6-icmp -m icmp6 ! --icmpv6-type communication-prohibited -j ACCEPT\n\
             COMMIT\n",
            vec![
                Probe::between("p1", In, v6, Udp, 0, 0, 53),
                Probe::between("p2", In, v6, Udp, 0, 0, 54),
            ],
        ),
    ]
}
