//! The evaluator: which connections of a set a ruleset lets through, as an
//! exact partition of the set, each piece with the rules that decided it.

pub mod connection;
mod finding;
pub mod interfaces;
mod neighbours;
pub mod program;
mod resolve;
pub mod set;
pub mod walk;

pub use connection::{Direction, Finding, Pieces, Question, Verdict};
pub use program::Program;
pub use set::IntervalSet;

use driftwall_parsers::model::{Family, Interface};
use interfaces::{LOOPBACK, NONE};
use program::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use walk::Region;

/// A set of connections to ask about, in the words of a requirement or a probe.
#[derive(Debug, Clone)]
pub struct Query {
    pub direction: Direction,
    pub protocol: u8,
    /// Source and destination of the first packet; `None` is every address.
    pub src: Option<IntervalSet>,
    pub dst: Option<IntervalSet>,
    pub sport: Option<IntervalSet>,
    pub dport: IntervalSet,
    pub iif: InterfaceSet,
    pub oif: InterfaceSet,
}

/// Interfaces a query speaks of: some (or every interface but loopback),
/// minus some. A gateway's "outside" is every interface but its LAN side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct InterfaceSet {
    /// `None` is every interface but loopback.
    pub only: Option<Vec<Interface>>,
    pub except: Vec<Interface>,
}

impl InterfaceSet {
    /// Exactly these names.
    pub fn named(names: Vec<String>) -> InterfaceSet {
        InterfaceSet {
            only: Some(
                names
                    .into_iter()
                    .map(|name| Interface {
                        name,
                        wildcard: false,
                    })
                    .collect(),
            ),
            except: Vec::new(),
        }
    }

    fn mentioned(&self) -> impl Iterator<Item = &Interface> {
        self.only.iter().flatten().chain(self.except.iter())
    }

    /// The classes of the set, among the program's interface classes.
    fn classes(&self, prog: &Program) -> IntervalSet {
        // An exact name belongs to its class (its own, a prefix's, or the
        // class of names no rule mentions); a prefix to every class it matches.
        let of = |list: &[Interface]| {
            IntervalSet::from_ranges(
                list.iter()
                    .flat_map(|i| {
                        if i.wildcard {
                            prog.interfaces.matching(i)
                        } else {
                            vec![prog.interfaces.class_of(&i.name)]
                        }
                    })
                    .map(|c| (c, c))
                    .collect(),
            )
        };
        let base = match &self.only {
            Some(list) => of(list),
            None => IntervalSet::range(0, prog.interfaces.count() - 1)
                .subtract(&IntervalSet::single(LOOPBACK))
                .subtract(&IntervalSet::single(NONE)),
        };
        base.subtract(&of(&self.except))
    }
}

impl Query {
    /// Interface names to give classes of their own when compiling.
    pub fn interfaces(&self) -> Vec<Interface> {
        self.iif
            .mentioned()
            .chain(self.oif.mentioned())
            .cloned()
            .collect()
    }

    pub fn question(&self, prog: &Program) -> Question {
        let none = IntervalSet::single(NONE);
        let (iif, oif) = match self.direction {
            Direction::Inbound => (self.iif.classes(prog), none),
            Direction::Outbound => (none, self.oif.classes(prog)),
            Direction::Forward => (self.iif.classes(prog), self.oif.classes(prog)),
        };
        let all_addr = IntervalSet::range(0, address_max(prog.family));
        let region: Region = [
            IntervalSet::single(self.protocol as u128),
            self.src.clone().unwrap_or_else(|| all_addr.clone()),
            self.dst.clone().unwrap_or(all_addr),
            self.sport
                .clone()
                .unwrap_or_else(|| IntervalSet::range(0, 65535)),
            self.dport.clone(),
            iif,
            oif,
        ];
        Question {
            direction: self.direction,
            region,
        }
    }
}

/// One concrete connection from a region, for reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Witness {
    pub protocol: String,
    pub src: String,
    pub dst: String,
    pub sport: u16,
    pub dport: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iif: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oif: Option<String>,
}

impl std::fmt::Display for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (s, d) = if self.src.contains(':') {
            (format!("[{}]", self.src), format!("[{}]", self.dst))
        } else {
            (self.src.clone(), self.dst.clone())
        };
        write!(
            f,
            "{} {}:{} -> {}:{}",
            self.protocol, s, self.sport, d, self.dport
        )?;
        if let Some(i) = &self.iif {
            write!(f, " in on {i}")?;
        }
        if let Some(o) = &self.oif {
            write!(f, " out on {o}")?;
        }
        Ok(())
    }
}

pub fn protocol_name(p: u8) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmpv6".into(),
        n => n.to_string(),
    }
}

pub fn address_text(family: Family, v: u128) -> String {
    match family {
        Family::Ipv4 => Ipv4Addr::from(v as u32).to_string(),
        Family::Ipv6 => Ipv6Addr::from(v).to_string(),
    }
}

/// A set of addresses as CIDR blocks, at most `most` of them (then `...`),
/// or `None` for every address of the family: the words of a report that
/// says whom a verdict concerns.
pub fn address_set_text(family: Family, set: &IntervalSet, most: usize) -> Option<String> {
    let bits: u32 = match family {
        Family::Ipv4 => 32,
        Family::Ipv6 => 128,
    };
    let top = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    if set.is_empty() || set.single_range() == Some((0, top)) {
        return None;
    }
    let mut blocks = Vec::new();
    'ranges: for (start, end) in set.iter() {
        let mut a = start;
        loop {
            if blocks.len() == most {
                blocks.push("...".to_string());
                break 'ranges;
            }
            // The largest aligned block from `a` that stays within `end`.
            let mut k = a.trailing_zeros().min(bits);
            while k > 0 && (1u128.checked_shl(k).map_or(u128::MAX, |n| n - 1)) > end - a {
                k -= 1;
            }
            blocks.push(format!("{}/{}", address_text(family, a), bits - k));
            match 1u128.checked_shl(k).and_then(|n| a.checked_add(n)) {
                Some(next) if next <= end => a = next,
                _ => break,
            }
        }
    }
    Some(blocks.join(", "))
}

/// Picks a readable value: the preferred one if the set has it, else a
/// value inside the first range (not its network address when avoidable).
fn pick(set: &IntervalSet, preferred: &[u128]) -> u128 {
    pick_by(|v| set.contains(v), set.first_range(), preferred)
}

fn pick_by(
    contains: impl Fn(u128) -> bool,
    first: Option<(u128, u128)>,
    preferred: &[u128],
) -> u128 {
    if let Some(p) = preferred.iter().find(|p| contains(**p)) {
        return *p;
    }
    match first {
        Some((a, b)) if b > a.saturating_add(1) => a + 1,
        Some((a, _)) => a,
        None => 0,
    }
}

pub fn witness(prog: &Program, direction: Direction, region: &Region) -> Witness {
    witness_values(prog, direction, region).render(prog)
}

/// A [`Witness`] before its values are put in words: what a report keeps
/// for every way of failing (there may be thousands), of which it shows few.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WitnessValues {
    protocol: u8,
    src: u128,
    dst: u128,
    sport: u16,
    dport: u16,
    /// Interface classes.
    iif: Option<u128>,
    oif: Option<u128>,
}

pub fn witness_values(prog: &Program, direction: Direction, region: &Region) -> WitnessValues {
    values_by(prog, direction, |d, preferred| pick(&region[d], preferred))
}

/// [`witness_values`] of the part of `a` in `b`, without making that part
/// (a report meets thousands of ways of failing, each cut from a piece);
/// `None` if they do not meet.
pub fn witness_values_within(
    prog: &Program,
    direction: Direction,
    a: &Region,
    b: &Region,
) -> Option<WitnessValues> {
    // The first range of each dimension's part, and with it whether the
    // two meet at all.
    let mut firsts = [(0, 0); REGION_DIMS];
    for (d, slot) in firsts.iter_mut().enumerate() {
        *slot = a[d].first_common(&b[d])?;
    }
    Some(values_by(prog, direction, |d, preferred| {
        pick_by(
            |v| a[d].contains(v) && b[d].contains(v),
            firsts.get(d).copied(),
            preferred,
        )
    }))
}

fn values_by(
    prog: &Program,
    direction: Direction,
    pick: impl Fn(usize, &[u128]) -> u128,
) -> WitnessValues {
    let (pref_src, pref_dst): (u128, u128) = match prog.family {
        Family::Ipv4 => (
            u32::from(Ipv4Addr::new(203, 0, 113, 10)) as u128,
            u32::from(Ipv4Addr::new(198, 51, 100, 20)) as u128,
        ),
        Family::Ipv6 => (
            u128::from(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10)),
            u128::from(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x20)),
        ),
    };
    WitnessValues {
        protocol: pick(PROTO, &[]) as u8,
        src: pick(SRC, &[pref_src]),
        dst: pick(DST, &[pref_dst]),
        sport: pick(SPORT, &[49152, 50000]) as u16,
        dport: pick(DPORT, &[]) as u16,
        iif: matches!(direction, Direction::Inbound | Direction::Forward).then(|| pick(IIF, &[])),
        oif: matches!(direction, Direction::Outbound | Direction::Forward).then(|| pick(OIF, &[])),
    }
}

impl WitnessValues {
    pub fn render(&self, prog: &Program) -> Witness {
        Witness {
            protocol: protocol_name(self.protocol),
            src: address_text(prog.family, self.src),
            dst: address_text(prog.family, self.dst),
            sport: self.sport,
            dport: self.dport,
            iif: self.iif.map(|c| prog.interfaces.example(c)),
            oif: self.oif.map(|c| prog.interfaces.example(c)),
        }
    }
}

pub fn addr_set(addrs: &[IpAddr]) -> IntervalSet {
    IntervalSet::from_ranges(
        addrs
            .iter()
            .map(|a| addr_value(*a))
            .map(|v| (v, v))
            .collect(),
    )
}

pub use walk::Decision;

#[cfg(test)]
mod tests;
