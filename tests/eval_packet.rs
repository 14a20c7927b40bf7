//! The evaluator against a packet-by-packet reference (issue 18, item 2).
//!
//! Random rulesets of every format the kernel tests generate (iptables and
//! ip6tables, nftables, pf: user chains, negations, sets, REJECT, NAT,
//! connection states, marks), and random concrete connections around their
//! probes, go through the exact evaluator (asked about one connection, a
//! region of one point) and through `packet_reference`, which walks that
//! one connection rule by rule. The verdicts must be equal. Where the
//! evaluator says indeterminate, the reference must show that what is not
//! modelled decides: its verdicts over the choices at unmodelled matches
//! differ, or a target it cannot follow decides. A disagreement is shrunk to
//! the fewest rule lines that still disagree, and printed with the packet.
//!
//! `DRIFTWALL_PACKET_CASES` sets the number of connections (default
//! 100,000); `DRIFTWALL_PACKET_SEED` the first ruleset seed.

#[allow(unused_imports)]
mod kernel;
mod packet_reference;
mod support;

use driftwall::eval::{self, IntervalSet, Program, connection};
use driftwall::input::{InputFormat, parse_text};
use driftwall_parsers::model::{Family, Interface};
use kernel::generate::Rng;
use kernel::{Kind, LINKS, PEER_IF, Probe, Proto};
use packet_reference::{Connection, Verdict};
use std::collections::BTreeSet;

/// Connections asked per ruleset: parsing and compiling are shared.
const PER_RULESET: usize = 25;

/// Every interface name the generated rulesets and probes use: each gets
/// a class of its own, so a connection's interfaces are exact.
fn interface_names() -> Vec<Interface> {
    LINKS
        .iter()
        .map(|l| l.fw_if)
        .chain([PEER_IF, "lo"])
        .map(|n| Interface {
            name: n.to_string(),
            wildcard: false,
        })
        .collect()
}

fn family_of(f: kernel::Family) -> Family {
    match f {
        kernel::Family::V4 => Family::Ipv4,
        kernel::Family::V6 => Family::Ipv6,
    }
}

/// A connection near a probe of the case: its own, or with another source
/// port, a destination port or address of another probe, other interfaces.
fn connection(rng: &mut Rng, probes: &[Probe], prog: &Program) -> (Connection, String) {
    let p = &probes[rng.below(probes.len())];
    let q = &probes[rng.below(probes.len())];
    let mut sport = p.sport;
    let mut dport = p.dport;
    let mut src = p.src;
    let mut dst = p.dst;
    if rng.percent(30) {
        sport = rng.between(1, 65535) as u16;
    }
    if rng.percent(30) && q.family == p.family {
        dport = q.dport;
    }
    if rng.percent(15) {
        dport = rng.between(1, 65535) as u16;
    }
    if rng.percent(20) && q.family == p.family {
        src = q.src;
    }
    if rng.percent(20) && q.family == p.family {
        dst = q.dst;
    }
    let direction = match p.kind {
        Kind::In => eval::Direction::Inbound,
        Kind::Out => eval::Direction::Outbound,
        Kind::Fwd => eval::Direction::Forward,
    };
    let mut iif = p.iif;
    let mut oif = p.oif;
    if rng.percent(15) {
        iif = iif.map(|_| LINKS[rng.below(LINKS.len())].fw_if);
    }
    if rng.percent(15) {
        oif = oif.map(|_| LINKS[rng.below(LINKS.len())].fw_if);
    }
    let class = |n: Option<&str>| n.map_or(eval::interfaces::NONE, |n| prog.interfaces.class_of(n));
    let proto: u128 = match p.proto {
        Proto::Tcp => 6,
        Proto::Udp => 17,
    };
    let c = Connection {
        direction,
        tuple: [
            proto,
            eval::program::addr_value(src),
            eval::program::addr_value(dst),
            sport as u128,
            dport as u128,
            class(iif),
            class(oif),
        ],
    };
    let text = format!(
        "{:?} {} {src}:{sport} -> {dst}:{dport} in {:?} out {:?}",
        direction,
        p.proto.name(),
        iif,
        oif
    );
    (c, text)
}

/// The evaluator's verdicts for the one connection, and its reasons.
fn evaluated(prog: &Program, c: &Connection) -> (BTreeSet<Verdict>, Vec<String>) {
    let region: eval::walk::Region = std::array::from_fn(|d| IntervalSet::single(c.tuple[d]));
    let q = connection::Question {
        direction: c.direction,
        region,
    };
    let mut out = BTreeSet::new();
    let mut reasons = Vec::new();
    for f in connection::evaluate(prog, &q) {
        out.insert(match f.verdict {
            eval::Verdict::Allow => Verdict::Allow,
            eval::Verdict::Drop => Verdict::Drop,
            eval::Verdict::Reject => Verdict::Reject,
            eval::Verdict::Indeterminate => Verdict::Indeterminate,
        });
        reasons.extend(f.reason);
    }
    (out, reasons)
}

/// How the two disagree on a connection, if they do; `Ok(None)` when the
/// reference cannot try every choice, else the agreed verdict.
fn disagreement(
    prog: &Program,
    c: &Connection,
) -> Result<Option<packet_reference::Outcome>, String> {
    let Some(outcome) = packet_reference::verdicts(prog, c) else {
        return Ok(None);
    };
    let want = &outcome.verdicts;
    let (got, reasons) = evaluated(prog, c);
    let decided_by_unmodelled = want.len() > 1 || want.contains(&Verdict::Indeterminate);
    let agree = if decided_by_unmodelled {
        got == BTreeSet::from([Verdict::Indeterminate])
    } else {
        got == *want
    };
    if agree {
        Ok(Some(outcome))
    } else {
        Err(format!(
            "the evaluator says {got:?} ({reasons:?}), the reference {want:?}"
        ))
    }
}

/// The program of `text`, with the host's addresses known or not.
fn program(text: &str, format: InputFormat, family: Family, hosts: bool) -> Option<Program> {
    let input = parse_text("case", text, format);
    if !input.errors.is_empty() || !input.ruleset.families.contains(&family) {
        return None;
    }
    let mut prog = Program::compile(&input.ruleset, family, &interface_names());
    if hosts {
        let fam = match family {
            Family::Ipv4 => kernel::Family::V4,
            Family::Ipv6 => kernel::Family::V6,
        };
        let list: Vec<(String, std::net::IpAddr)> = LINKS
            .iter()
            .map(|l| (l.fw_if.to_string(), l.fw_addr(fam)))
            .collect();
        prog.set_host_addresses(&list);
    }
    Some(prog)
}

/// The fewest lines of `text` (dropping one at a time while the rest
/// parses) on which the two still disagree about `c`.
fn shrink(text: &str, format: InputFormat, family: Family, hosts: bool, c: &Connection) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let still = |lines: &[&str]| {
        let t = lines.join("\n") + "\n";
        program(&t, format, family, hosts).is_some_and(|p| disagreement(&p, c).is_err())
    };
    let mut i = lines.len();
    while i > 0 {
        i -= 1;
        let mut fewer = lines.clone();
        fewer.remove(i);
        if still(&fewer) {
            lines = fewer;
            i = i.min(lines.len());
        }
    }
    lines.join("\n")
}

/// Connections compared per agreed verdict, and those the reference could
/// not try in full.
#[derive(Default)]
struct Tally {
    verdicts: std::collections::BTreeMap<Verdict, usize>,
    /// ... of which NAT rewrote the connection,
    translated: usize,
    /// ... and of which unmodelled matches made several runs.
    forked: usize,
    skipped: usize,
}

impl Tally {
    fn asked(&self) -> usize {
        self.verdicts.values().sum()
    }
}

/// Asks `n` connections of one ruleset.
fn compare(seed: u64, n: usize, tally: &mut Tally) -> Result<(), String> {
    let (text, format, probes) = kernel::any_format(seed, 8);
    let Some(first) = probes.first() else {
        return Ok(());
    };
    let family = family_of(first.family);
    let mut rng = Rng::new(seed ^ 0xbac3_7e57);
    let hosts = rng.percent(50);
    let Some(prog) = program(&text, format, family, hosts) else {
        return Ok(());
    };
    let probes: Vec<Probe> = probes
        .into_iter()
        .filter(|p| family_of(p.family) == family)
        .collect();
    for _ in 0..n {
        let (c, packet) = connection(&mut rng, &probes, &prog);
        match disagreement(&prog, &c) {
            Ok(Some(o)) => {
                let v = match o.verdicts.len() {
                    1 => o
                        .verdicts
                        .first()
                        .copied()
                        .unwrap_or(Verdict::Indeterminate),
                    _ => Verdict::Indeterminate,
                };
                *tally.verdicts.entry(v).or_default() += 1;
                tally.translated += usize::from(o.translated);
                tally.forked += usize::from(o.forked);
            }
            Ok(None) => tally.skipped += 1,
            Err(why) => {
                let small = shrink(&text, format, family, hosts, &c);
                return Err(format!(
                    "seed {seed:#x} ({format:?}, host addresses known: {hosts})\n\
                     connection: {packet}\n{why}\n--- smallest ruleset that disagrees\n{small}\n\
                     --- whole ruleset\n{text}"
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn the_evaluator_agrees_with_the_packet_by_packet_reference() {
    let cases = kernel::env_number("DRIFTWALL_PACKET_CASES").unwrap_or(100_000) as usize;
    let first = kernel::env_number("DRIFTWALL_PACKET_SEED").unwrap_or(0x1818_0000);
    let mut tally = Tally::default();
    let mut rulesets = 0;
    let mut seed = first;
    while tally.asked() < cases {
        let n = PER_RULESET.min(cases - tally.asked());
        if let Err(e) = compare(seed, n, &mut tally) {
            panic!("{e}\nreproduce with DRIFTWALL_PACKET_SEED={seed:#x}");
        }
        seed += 1;
        rulesets += 1;
        assert!(
            rulesets < cases,
            "too few rulesets parse: {} connections from {rulesets}",
            tally.asked()
        );
    }
    let (asked, skipped) = (tally.asked(), tally.skipped);
    // Only rulesets full of unmodelled matches make too many choices; a
    // reference that gave up often would test little.
    assert!(
        skipped * 100 <= asked,
        "the reference could not try every choice for {skipped} of {asked} connections"
    );
    println!(
        "{asked} connections over {rulesets} rulesets agree ({skipped} left out: too many \
         choices), seeds {first:#x}..{seed:#x}: {:?}; {} translated by NAT, {} through \
         unmodelled matches",
        tally.verdicts, tally.translated, tally.forked
    );
    // Every verdict, NAT and unmodelled matches must be met often enough,
    // or the connections test too little.
    if cases >= 10_000 {
        let at_least = |what: &str, n: usize, per_mille: usize| {
            assert!(
                n * 1000 >= asked * per_mille,
                "only {n} of {asked} connections are {what}"
            );
        };
        for (v, per_mille) in [
            (Verdict::Allow, 10),
            (Verdict::Drop, 10),
            (Verdict::Reject, 10),
            (Verdict::Indeterminate, 1),
        ] {
            at_least(
                &format!("{v:?}"),
                tally.verdicts.get(&v).copied().unwrap_or(0),
                per_mille,
            );
        }
        at_least("translated by NAT", tally.translated, 10);
        at_least("through unmodelled matches", tally.forked, 1);
    }
}
