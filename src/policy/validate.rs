//! From a YAML tree to a [`Policy`], collecting every problem.

use super::yaml::{self, Node, Value};
use super::{Expect, Place, Policy, Requirement};
use crate::eval::Direction;
use ipnet::IpNet;

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct PolicyError {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

const POLICY_KEYS: &[&str] = &["policy", "title", "description", "version", "source", "requirements"];
const REQUIREMENT_KEYS: &[&str] = &["id", "title", "description", "expect", "direction", "protocol", "ports", "to", "from", "in_interface", "out_interface", "used_by"];

struct Ctx<'a> {
    path: &'a str,
    errors: Vec<PolicyError>,
}

impl Ctx<'_> {
    fn err(&mut self, n: &Node, message: String) {
        self.errors.push(PolicyError { path: self.path.to_string(), line: n.line, column: n.column, message });
    }
    fn place(&self, n: &Node) -> Place {
        Place { path: self.path.to_string(), line: n.line, column: n.column }
    }
}

/// Parses and validates a policy file. Either a policy with no problem, or
/// every problem found.
pub fn load_str(path: &str, text: &str) -> Result<Policy, Vec<PolicyError>> {
    let root = yaml::parse(text).map_err(|e| vec![PolicyError { path: path.to_string(), line: e.line, column: e.column, message: format!("invalid YAML: {}", e.message) }])?;
    let mut cx = Ctx { path, errors: Vec::new() };
    let policy = policy(&mut cx, &root);
    match policy {
        Some(p) if cx.errors.is_empty() => Ok(p),
        _ => {
            cx.errors.sort_by_key(|e| (e.line, e.column));
            Err(cx.errors)
        }
    }
}

/// The entries of a mapping, with unknown and repeated keys reported.
fn entries<'n>(cx: &mut Ctx, n: &'n Node, known: &[&str], what: &str) -> Option<Vec<(&'n str, &'n Node, &'n Node)>> {
    let Value::Map(map) = &n.value else {
        cx.err(n, format!("expected {what} (a mapping), found {}", n.kind()));
        return None;
    };
    let mut out: Vec<(&str, &Node, &Node)> = Vec::new();
    for (k, v) in map {
        let Some(key) = k.as_str() else {
            cx.err(k, format!("expected a key name, found {}", k.kind()));
            continue;
        };
        if !known.contains(&key) {
            cx.err(k, format!("unknown key `{key}` in {what}, expected one of: {}", known.join(", ")));
            continue;
        }
        if out.iter().any(|(seen, _, _)| *seen == key) {
            cx.err(k, format!("key `{key}` is given twice"));
            continue;
        }
        out.push((key, k, v));
    }
    Some(out)
}

fn get<'n>(e: &[(&str, &'n Node, &'n Node)], key: &str) -> Option<&'n Node> {
    e.iter().find(|(k, _, _)| *k == key).map(|(_, _, v)| *v)
}

fn string(cx: &mut Ctx, n: &Node, what: &str) -> Option<String> {
    match n.scalar_text() {
        Some(s) if !s.trim().is_empty() => Some(s),
        _ => {
            cx.err(n, format!("expected {what} (a non-empty string), found {}", n.kind()));
            None
        }
    }
}

/// A scalar or a list of scalars, as the list of items with their nodes.
fn one_or_many<'n>(n: &'n Node) -> Vec<&'n Node> {
    match &n.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![n],
    }
}

fn policy(cx: &mut Ctx, root: &Node) -> Option<Policy> {
    let e = entries(cx, root, POLICY_KEYS, "a policy")?;
    let name = match get(&e, "policy") {
        Some(n) => string(cx, n, "the policy's name"),
        None => {
            cx.err(root, "missing key `policy` (the policy's name)".into());
            None
        }
    };
    let title = get(&e, "title").and_then(|n| string(cx, n, "a title"));
    if let Some(v) = get(&e, "version") {
        if v.value != Value::Int(1) {
            cx.err(v, format!("unsupported policy version `{}`, expected 1", v.scalar_text().unwrap_or_default()));
        }
    }
    let mut requirements = Vec::new();
    match get(&e, "requirements") {
        None => cx.err(root, "missing key `requirements` (a list of requirements)".into()),
        Some(n) => match &n.value {
            Value::Seq(items) => {
                if items.is_empty() {
                    cx.err(n, "`requirements` is empty, expected at least one requirement".into());
                }
                for item in items {
                    if let Some(r) = requirement(cx, item) {
                        if let Some(prev) = requirements.iter().find(|p: &&Requirement| p.id == r.id) {
                            let msg = format!("duplicate requirement id `{}` (first at line {})", r.id, prev.place.line);
                            cx.err(item, msg);
                        }
                        requirements.push(r);
                    }
                }
            }
            _ => cx.err(n, format!("expected `requirements` to be a list, found {}", n.kind())),
        },
    }
    Some(Policy { name: name?, title, place: cx.place(root), requirements })
}

fn requirement(cx: &mut Ctx, n: &Node) -> Option<Requirement> {
    let e = entries(cx, n, REQUIREMENT_KEYS, "a requirement")?;
    let missing = |cx: &mut Ctx, key: &str, what: &str| cx.err(n, format!("requirement is missing `{key}` ({what})"));
    let id = match get(&e, "id") {
        Some(v) => string(cx, v, "an id"),
        None => {
            missing(cx, "id", "a stable identifier");
            None
        }
    };
    let expect = match get(&e, "expect") {
        None => {
            missing(cx, "expect", "allow or deny");
            None
        }
        Some(v) => match v.as_str() {
            Some("allow") => Some(Expect::Allow),
            Some("deny") => Some(Expect::Deny),
            _ => {
                cx.err(v, format!("expected `allow` or `deny`, found `{}`", v.scalar_text().unwrap_or_else(|| v.kind().into())));
                None
            }
        },
    };
    let directions = match get(&e, "direction") {
        None => {
            missing(cx, "direction", "inbound, outbound or forward");
            None
        }
        Some(v) => list(cx, v, "direction", |s| match s {
            "inbound" => Ok(Direction::Inbound),
            "outbound" => Ok(Direction::Outbound),
            "forward" => Ok(Direction::Forward),
            other => Err(format!("unknown direction `{other}`, expected inbound, outbound or forward")),
        }),
    };
    let protocols = match get(&e, "protocol") {
        None => {
            missing(cx, "protocol", "tcp or udp");
            None
        }
        Some(v) => list(cx, v, "protocol", |s| match s {
            "tcp" => Ok(6u8),
            "udp" => Ok(17u8),
            other => Err(format!("unknown protocol `{other}`, expected tcp or udp")),
        }),
    };
    let ports = match get(&e, "ports") {
        None => {
            missing(cx, "ports", "port numbers or ranges a-b");
            None
        }
        Some(v) => list(cx, v, "ports", port_range),
    };
    let nets = |cx: &mut Ctx, key: &str| -> Option<Option<Vec<IpNet>>> {
        match get(&e, key) {
            None => Some(None),
            Some(v) => list(cx, v, key, |s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .map_err(|_| format!("`{s}` is not an address or network, expected e.g. 192.0.2.0/24 or 2001:db8::/32"))
            })
            .map(Some),
        }
    };
    let to = nets(cx, "to");
    let from = nets(cx, "from");
    let names = |cx: &mut Ctx, key: &str| -> Option<Option<Vec<String>>> {
        match get(&e, key) {
            None => Some(None),
            Some(v) => list(cx, v, key, |s| if s.is_empty() || s.len() > 15 { Err(format!("interface name `{s}` must be 1-15 characters")) } else { Ok(s.to_string()) }).map(Some),
        }
    };
    let in_interface = names(cx, "in_interface");
    let out_interface = names(cx, "out_interface");
    let used_by = match get(&e, "used_by") {
        None => Some(Vec::new()),
        Some(v) => list(cx, v, "used_by", |s| Ok(s.to_string())),
    };
    let title = get(&e, "title").and_then(|v| string(cx, v, "a title"));
    if let (Some(dirs), Some(i)) = (&directions, get(&e, "in_interface")) {
        if dirs.iter().all(|d| *d == Direction::Outbound) {
            cx.err(i, "`in_interface` does not apply to outbound connections, use `out_interface`".into());
        }
    }
    if let (Some(dirs), Some(o)) = (&directions, get(&e, "out_interface")) {
        if dirs.iter().all(|d| *d == Direction::Inbound) {
            cx.err(o, "`out_interface` does not apply to inbound connections, use `in_interface`".into());
        }
    }
    Some(Requirement {
        id: id?,
        title,
        expect: expect?,
        directions: directions?,
        protocols: protocols?,
        ports: ports?,
        to: to?,
        from: from?,
        in_interface: in_interface?,
        out_interface: out_interface?,
        used_by: used_by?,
        place: cx.place(n),
    })
}

/// A scalar or a list of scalars, each converted; every bad item is reported.
fn list<T>(cx: &mut Ctx, n: &Node, key: &str, conv: impl Fn(&str) -> Result<T, String>) -> Option<Vec<T>> {
    let items = one_or_many(n);
    if items.is_empty() {
        cx.err(n, format!("`{key}` is empty, expected at least one value"));
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        match item.scalar_text() {
            None => {
                cx.err(item, format!("expected a value in `{key}`, found {}", item.kind()));
                ok = false;
            }
            Some(s) => match conv(s.trim()) {
                Ok(v) => out.push(v),
                Err(m) => {
                    cx.err(item, m);
                    ok = false;
                }
            },
        }
    }
    ok.then_some(out)
}

fn port_range(s: &str) -> Result<(u16, u16), String> {
    let num = |t: &str| -> Result<u16, String> {
        let n: u32 = t.trim().parse().map_err(|_| format!("`{t}` is not a port number"))?;
        match u16::try_from(n) {
            Ok(p) if p > 0 => Ok(p),
            _ => Err(format!("port {n} is out of range, expected 1-65535")),
        }
    };
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let p = num(s)?;
            (p, p)
        }
    };
    if a > b {
        return Err(format!("port range {s} is reversed, expected start <= end"));
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_policy() {
        let p = load_str("p.yaml", "policy: web\nrequirements:\n  - id: https\n    expect: allow\n    direction: inbound\n    protocol: [tcp, udp]\n    ports: [443, 8000-8010]\n    from: [192.0.2.0/24]\n").unwrap();
        let r = &p.requirements[0];
        assert_eq!(r.protocols, vec![6, 17]);
        assert_eq!(r.ports, vec![(443, 443), (8000, 8010)]);
        assert_eq!(r.place.line, 3);
        assert_eq!(r.from.as_ref().unwrap()[0].to_string(), "192.0.2.0/24");
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let text = "policy: bad\nrequirements:\n  - id: a\n    expect: maybe\n    direction: sideways\n    protocol: tcp\n    ports: [0, 70000, 20-10]\n    colour: red\n  - id: a\n    expect: deny\n    direction: inbound\n    protocol: icmp\n    ports: 22\n";
        let errs = load_str("p.yaml", text).unwrap_err();
        let got: Vec<(u32, u32)> = errs.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(got, vec![(4, 13), (5, 16), (7, 13), (7, 16), (7, 23), (8, 5), (12, 15)], "{errs:#?}");
        assert!(errs[5].message.contains("unknown key `colour`"));
    }

    #[test]
    fn duplicate_ids_and_missing_keys() {
        let errs = load_str("p.yaml", "policy: x\nrequirements:\n  - id: a\n    expect: allow\n    direction: inbound\n    protocol: tcp\n    ports: 1\n  - id: a\n    expect: allow\n    direction: inbound\n    protocol: tcp\n    ports: 2\n  - id: b\n").unwrap_err();
        assert!(errs.iter().any(|e| e.message.contains("duplicate requirement id `a`") && e.line == 8));
        assert!(errs.iter().filter(|e| e.message.contains("missing")).count() == 4);
    }

    #[test]
    fn yaml_syntax_errors_are_policy_errors() {
        let errs = load_str("p.yaml", "policy: [\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.starts_with("invalid YAML"));
    }
}
