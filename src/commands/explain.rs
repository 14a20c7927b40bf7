//! `driftwall explain`: the path of one connection through the chains.

use super::check::{Culprit, CulpritKind, culprit};
use crate::eval::{self, Direction, Program, Query, Verdict, Witness};
use crate::input::Input;
use driftwall_parsers::model::{Family, Interface};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The connection to explain; unset fields get readable defaults.
#[derive(Debug, Clone)]
pub struct Connection {
    pub direction: Direction,
    pub protocol: u8,
    pub dport: u16,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub sport: Option<u16>,
    pub iif: Option<String>,
    pub oif: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Explanation {
    pub connection: Witness,
    pub direction: Direction,
    pub family: Family,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every rule the connection's packets matched, in order; `decides`
    /// marks the ones that gave a chain's verdict.
    pub steps: Vec<ExplainStep>,
}

#[derive(Debug, Serialize)]
pub struct ExplainStep {
    #[serde(flatten)]
    pub rule: Culprit,
    pub decides: bool,
}

/// Why a connection cannot be explained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// The connection's family is one the input does not cover (`rules.v4`
    /// and an IPv6 address).
    #[error("{path} says nothing about {family}")]
    FamilyNotCovered { path: String, family: &'static str },
    /// The evaluator gave no piece for the connection: a bug, said plainly.
    #[error("the evaluator returned no result for the connection")]
    NoResult,
}

pub fn explain(input: &Input, c: &Connection) -> Result<Explanation, ExplainError> {
    let family = match (c.src, c.dst) {
        (Some(IpAddr::V6(_)), _) | (_, Some(IpAddr::V6(_))) => Family::Ipv6,
        (Some(IpAddr::V4(_)), _) | (_, Some(IpAddr::V4(_))) => Family::Ipv4,
        _ => input
            .ruleset
            .families
            .first()
            .copied()
            .unwrap_or(Family::Ipv4),
    };
    if !input.ruleset.families.contains(&family) {
        return Err(ExplainError::FamilyNotCovered {
            path: input.path.clone(),
            family: family.name(),
        });
    }
    let mut names: Vec<Interface> = Vec::new();
    for n in c.iif.iter().chain(c.oif.iter()) {
        names.push(Interface {
            name: n.clone(),
            wildcard: false,
        });
    }
    let prog = Program::compile(&input.ruleset, family, &names);
    // Unnamed interfaces are one no rule mentions.
    let other = prog.interfaces.example(prog.interfaces.count() - 1);
    // Documentation addresses (RFC 5737, RFC 3849) where none is given.
    let (def_src, def_dst): (IpAddr, IpAddr) = match family {
        Family::Ipv4 => (
            Ipv4Addr::new(203, 0, 113, 10).into(),
            Ipv4Addr::new(198, 51, 100, 20).into(),
        ),
        Family::Ipv6 => (
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10).into(),
            Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x20).into(),
        ),
    };
    let wants_iif = matches!(c.direction, Direction::Inbound | Direction::Forward);
    let wants_oif = matches!(c.direction, Direction::Outbound | Direction::Forward);
    let q = Query {
        direction: c.direction,
        protocol: c.protocol,
        src: Some(eval::addr_set(&[c.src.unwrap_or(def_src)])),
        dst: Some(eval::addr_set(&[c.dst.unwrap_or(def_dst)])),
        sport: Some(eval::IntervalSet::single(c.sport.unwrap_or(49152) as u128)),
        dport: eval::IntervalSet::single(c.dport as u128),
        iif: if wants_iif {
            eval::InterfaceSet::named(vec![c.iif.clone().unwrap_or_else(|| other.clone())])
        } else {
            eval::InterfaceSet::default()
        },
        oif: if wants_oif {
            eval::InterfaceSet::named(vec![c.oif.clone().unwrap_or_else(|| other.clone())])
        } else {
            eval::InterfaceSet::default()
        },
    };
    let findings = eval::connection::evaluate_traced(&prog, &q.question(&prog));
    let f = findings.first().ok_or(ExplainError::NoResult)?;
    let tcp = c.protocol == 6;
    let mut steps: Vec<ExplainStep> = f
        .trail
        .iter()
        .map(|d| ExplainStep {
            rule: culprit(input, &prog, *d, tcp),
            decides: false,
        })
        .collect();
    for (s, d) in steps.iter_mut().zip(f.trail.iter()) {
        s.decides = f
            .decided
            .iter()
            .any(|x| x.chain == d.chain && x.rule == d.rule && x.phase == d.phase);
    }
    Ok(Explanation {
        connection: eval::witness(&prog, c.direction, &f.region),
        direction: c.direction,
        family,
        verdict: f.verdict,
        reason: f.reason.clone(),
        steps,
    })
}

/// `driftwall explain`: reads the file, explains the connection, prints it.
pub fn run(
    file: &std::path::Path,
    input_format: crate::input::InputFormat,
    conn: &Connection,
    format: crate::report::Format,
) -> anyhow::Result<super::ExitCode> {
    let input = super::load_input(file, input_format)?;
    let e = explain(&input, conn)?;
    let text = match format {
        crate::report::Format::Human => render_human(&e),
        crate::report::Format::Json => crate::report::json::value(&e),
    };
    crate::report::emit(&text)?;
    Ok(super::ExitCode::Clean)
}

pub fn render_human(e: &Explanation) -> String {
    // The witness is shown as written: interface names are case-sensitive.
    let mut out = format!(
        "connection: {} ({}, {})\n",
        e.connection,
        e.direction.name(),
        e.family.name()
    );
    let mut phase = "";
    for s in &e.steps {
        if s.rule.phase != phase {
            phase = s.rule.phase;
            out.push_str(&format!("{phase}:\n"));
        }
        let mark = if s.decides { "=>" } else { "  " };
        let what = if s.rule.kind == CulpritKind::Policy {
            format!("policy of {}", s.rule.chain)
        } else {
            s.rule.text.clone()
        };
        out.push_str(&format!(
            "  {mark} {}:{}  [{} {}]  {}\n",
            s.rule.file, s.rule.line, s.rule.table, s.rule.chain, what
        ));
    }
    out.push_str(&format!("verdict: {}\n", e.verdict.name()));
    if let Some(r) = &e.reason {
        out.push_str(&format!("because: {r}\n"));
    }
    out
}
