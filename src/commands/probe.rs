//! `driftwall probe`: batch verdicts for single connections, for tools and
//! for the kernel differential tests.

use super::{ExitCode, load_input};
use crate::eval::{self, Direction, Program, Query, Verdict};
use crate::input::{Input, InputFormat};
use crate::report;
use driftwall_parsers::model::Family;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    pub id: serde_json::Value,
    pub kind: ProbeKind,
    #[serde(default)]
    pub family: Option<Family>,
    pub proto: ProbeProto,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    #[serde(default)]
    pub iif: Option<String>,
    #[serde(default)]
    pub oif: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    In,
    Out,
    Fwd,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProbeProto {
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    pub id: serde_json::Value,
    pub verdict: Verdict,
    pub decided_by: Vec<RuleRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RuleRef {
    pub file: String,
    pub line: u32,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("probe {id}: {message}")]
    Invalid { id: String, message: String },
}

fn family_of(p: &Probe) -> Result<Family, ProbeError> {
    let fam = |a: &IpAddr| {
        if a.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        }
    };
    let f = p.family.unwrap_or_else(|| fam(&p.src));
    if fam(&p.src) != f || fam(&p.dst) != f {
        return Err(ProbeError::Invalid {
            id: p.id.to_string(),
            message: format!("addresses are not all {}", f.name()),
        });
    }
    Ok(f)
}

/// `driftwall probe`: reads the probes (a JSON array) from `probes` and
/// prints the answers as JSON.
pub fn run(
    file: &Path,
    probes: &Path,
    host_addresses: &[(String, IpAddr)],
    input_format: InputFormat,
) -> anyhow::Result<ExitCode> {
    let input = load_input(file, input_format)?;
    let text = crate::fsutil::read_input(probes)
        .and_then(crate::fsutil::utf8_text)
        .map_err(|e| anyhow::anyhow!("{}: cannot read the probes: {e}", probes.display()))?;
    let list = parse_probes(&probes.display().to_string(), &text)?;
    let results = answer(&input, &list, host_addresses)?;
    report::emit(&report::json::value(&results))?;
    Ok(ExitCode::Clean)
}

/// The probes of a JSON array; an error names the file, line and column.
pub fn parse_probes(name: &str, text: &str) -> anyhow::Result<Vec<Probe>> {
    serde_json::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "{name}:{}:{}: invalid probes: {}",
            e.line(),
            e.column(),
            plain_json_error(&e)
        )
    })
}

/// serde's message without its place (given before it) and in the words
/// of ports: `invalid type: floating point `1e+20`, expected u16` is a
/// number that is not a port.
fn plain_json_error(e: &serde_json::Error) -> String {
    let text = e
        .to_string()
        .replace("expected u16", "expected a number from 0 to 65535")
        .replace("expected u8", "expected a number from 0 to 255");
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m)
        .to_string();
    if let Some(rest) = text.strip_prefix("invalid type: floating point `")
        && let Some((n, expected)) = rest.split_once("`, expected ")
        && expected.starts_with("a number")
    {
        return format!("`{n}` is not a whole number in range (expected {expected})");
    }
    if let Some(rest) = text.strip_prefix("invalid value: integer `")
        && let Some((n, expected)) = rest.split_once("`, expected ")
    {
        return format!("`{n}` is out of range (expected {expected})");
    }
    text
}

/// Answers every probe against the input's ruleset.
pub fn answer(
    input: &Input,
    probes: &[Probe],
    host_addresses: &[(String, IpAddr)],
) -> Result<Vec<ProbeResult>, ProbeError> {
    let mut programs: Vec<(Family, Program)> = Vec::new();
    for fam in [Family::Ipv4, Family::Ipv6] {
        if !input.ruleset.families.contains(&fam) {
            continue;
        }
        let names: Vec<_> = probes
            .iter()
            .flat_map(|p| p.iif.iter().chain(p.oif.iter()))
            .chain(host_addresses.iter().map(|(n, _)| n))
            .map(|n| driftwall_parsers::model::Interface {
                name: n.clone(),
                wildcard: false,
            })
            .collect();
        let mut prog = Program::compile(&input.ruleset, fam, &names);
        prog.set_host_addresses(host_addresses);
        programs.push((fam, prog));
    }
    let mut out = Vec::with_capacity(probes.len());
    for p in probes {
        let family = family_of(p)?;
        let Some((_, prog)) = programs.iter().find(|(f, _)| *f == family) else {
            out.push(ProbeResult {
                id: p.id.clone(),
                verdict: Verdict::Indeterminate,
                decided_by: Vec::new(),
                reason: Some(format!("the input says nothing about {}", family.name())),
            });
            continue;
        };
        let direction = match p.kind {
            ProbeKind::In => Direction::Inbound,
            ProbeKind::Out => Direction::Outbound,
            ProbeKind::Fwd => Direction::Forward,
        };
        let need = |v: &Option<String>, what: &str| -> Result<eval::InterfaceSet, ProbeError> {
            match v {
                Some(n) => Ok(eval::InterfaceSet::named(vec![n.clone()])),
                None => Err(ProbeError::Invalid {
                    id: p.id.to_string(),
                    message: format!("`{what}` is required for this kind"),
                }),
            }
        };
        let (iif, oif) = match p.kind {
            ProbeKind::In => (need(&p.iif, "iif")?, eval::InterfaceSet::default()),
            ProbeKind::Out => (eval::InterfaceSet::default(), need(&p.oif, "oif")?),
            ProbeKind::Fwd => (need(&p.iif, "iif")?, need(&p.oif, "oif")?),
        };
        let q = Query {
            direction,
            protocol: if p.proto == ProbeProto::Tcp { 6 } else { 17 },
            src: Some(eval::addr_set(&[p.src])),
            dst: Some(eval::addr_set(&[p.dst])),
            sport: Some(eval::IntervalSet::single(p.sport as u128)),
            dport: eval::IntervalSet::single(p.dport as u128),
            iif,
            oif,
        };
        let findings = eval::connection::evaluate(prog, &q.question(prog));
        let Some(f) = findings.first() else {
            out.push(ProbeResult {
                id: p.id.clone(),
                verdict: Verdict::Indeterminate,
                decided_by: Vec::new(),
                reason: Some("no result".into()),
            });
            continue;
        };
        let decided_by = f
            .decided
            .iter()
            .map(|d| rule_ref(input, prog, *d))
            .collect();
        out.push(ProbeResult {
            id: p.id.clone(),
            verdict: f.verdict,
            decided_by,
            reason: f.reason.clone(),
        });
    }
    Ok(out)
}

pub fn rule_ref(input: &Input, prog: &Program, d: eval::Decision) -> RuleRef {
    let Some(chain) = prog.chains.get(d.chain as usize) else {
        return RuleRef {
            file: input.path.clone(),
            line: 0,
            text: String::new(),
        };
    };
    let span = match d.rule.and_then(|r| chain.rules.get(r as usize)) {
        Some(rule) => rule.span,
        None => chain.span,
    };
    RuleRef {
        file: input.ruleset.path(&span).to_string(),
        line: span.line,
        text: input.ruleset.text(&span).to_string(),
    }
}
