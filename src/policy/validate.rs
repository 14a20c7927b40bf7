//! From a YAML tree to a [`Policy`], collecting every problem.

use super::catalog::{Catalog, CatalogError, Row, parse_port_range};
use super::model::{CatalogRef, Expect, Place, Policy, Requirement};
use super::problem::{PolicyCode, PolicyError};
use super::role::{DirectionSpec, Role, Scope};
use super::yaml::{self, Node, Value};
use crate::eval::InterfaceSet;
use driftwall_parsers::model::Interface;
use ipnet::IpNet;

const POLICY_KEYS: &[&str] = &[
    "policy",
    "title",
    "description",
    "version",
    "source",
    "products",
    "requirements",
];
const REQUIREMENT_KEYS: &[&str] = &[
    "id",
    "title",
    "description",
    "expect",
    "direction",
    "protocol",
    "ports",
    "catalog",
    "to",
    "from",
    "in_interface",
    "out_interface",
    "used_by",
];

struct Ctx<'a> {
    path: &'a str,
    /// `None` validates without resolving directions (to show a policy).
    role: Option<&'a Role>,
    /// The catalog, read only when a requirement names its rows: reading
    /// the built-in one costs 25 M instructions, a tenth of a 10k-rule
    /// check, for the many policies that give their ports themselves.
    catalog: &'a dyn Fn() -> Result<&'a Catalog, CatalogError>,
    errors: Vec<PolicyError>,
}

impl Ctx<'_> {
    fn err(&mut self, code: PolicyCode, n: &Node, message: String) {
        self.errors.push(PolicyError {
            path: self.path.to_string(),
            line: n.line,
            column: n.column,
            message,
            code,
        });
    }
    fn place(&self, n: &Node) -> Place {
        Place {
            path: self.path.to_string(),
            line: n.line,
            column: n.column,
        }
    }
}

/// Parses and validates a policy file for a host. Either a policy with no
/// problem, or every problem found.
pub fn load_str(path: &str, text: &str) -> Result<Policy, Vec<PolicyError>> {
    load_str_for(path, text, Some(&Role::default()))
}

/// Parses and validates a policy file for the firewall's role, which gives
/// meaning to the directions `egress`, `ingress` and `local`; with no role,
/// the requirements' scopes stay empty.
pub fn load_str_for(
    path: &str,
    text: &str,
    role: Option<&Role>,
) -> Result<Policy, Vec<PolicyError>> {
    load_with(path, text, role, &|| Catalog::apple())
}

fn load_with<'a>(
    path: &'a str,
    text: &str,
    role: Option<&'a Role>,
    catalog: &'a dyn Fn() -> Result<&'a Catalog, CatalogError>,
) -> Result<Policy, Vec<PolicyError>> {
    let root = yaml::parse(text).map_err(|e| {
        vec![PolicyError {
            path: path.to_string(),
            line: e.line,
            column: e.column,
            message: e.display(),
            code: e.code,
        }]
    })?;
    let mut cx = Ctx {
        path,
        role,
        catalog,
        errors: Vec::new(),
    };
    let policy = policy(&mut cx, &root);
    match policy {
        Some(p) if cx.errors.is_empty() => Ok(p),
        _ => {
            cx.errors.sort_by_key(|e| (e.line, e.column));
            Err(cx.errors)
        }
    }
}

fn entries<'n>(
    cx: &mut Ctx,
    n: &'n Node,
    known: &[&str],
    what: &str,
) -> Option<Vec<(&'n str, &'n Node, &'n Node)>> {
    yaml::entries(n, known, what, &mut |code, node, message| {
        cx.err(code, node, message)
    })
}

use yaml::get;

/// The longest text a policy's names, ids and notes may have: a
/// 60 MB id went into every report twice (issue 18).
const MAX_TEXT: usize = 4096;

fn string(cx: &mut Ctx, n: &Node, what: &str) -> Option<String> {
    match n.scalar_text() {
        Some(s) if s.chars().count() > MAX_TEXT => {
            cx.err(
                PolicyCode::BadValue,
                n,
                format!(
                    "expected {what} of at most {MAX_TEXT} characters, found one of {}",
                    s.chars().count()
                ),
            );
            None
        }
        Some(s) if !s.trim().is_empty() => Some(s),
        _ => {
            cx.err(
                PolicyCode::BadValue,
                n,
                format!("expected {what} (a non-empty string), found {}", n.kind()),
            );
            None
        }
    }
}

/// A scalar or a list of scalars, as the list of items with their nodes.
fn one_or_many(n: &Node) -> Vec<&Node> {
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
            cx.err(
                PolicyCode::MissingKey,
                root,
                "missing key `policy` (the policy's name)".into(),
            );
            None
        }
    };
    let title = get(&e, "title").and_then(|n| string(cx, n, "a title"));
    let description = get(&e, "description").and_then(|n| string(cx, n, "a description"));
    let products = match get(&e, "products") {
        Some(n) if n.value != Value::Seq(Vec::new()) => {
            list(cx, n, "products", PolicyCode::BadValue, |s| {
                Ok(s.to_string())
            })
            .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    if let Some(v) = get(&e, "version")
        && v.value != Value::Int(1)
    {
        cx.err(
            PolicyCode::BadValue,
            v,
            format!(
                "unsupported policy version `{}`, expected 1",
                v.scalar_text().unwrap_or_default()
            ),
        );
    }
    let mut requirements = Vec::new();
    match get(&e, "requirements") {
        None => cx.err(
            PolicyCode::MissingKey,
            root,
            "missing key `requirements` (a list of requirements)".into(),
        ),
        Some(n) => match &n.value {
            Value::Seq(items) => {
                if items.is_empty() {
                    cx.err(
                        PolicyCode::BadValue,
                        n,
                        "`requirements` is empty, expected at least one requirement".into(),
                    );
                }
                // Ids are compared even where a requirement has other
                // problems, so every problem shows at once.
                let mut seen: Vec<(String, u32)> = Vec::new();
                for item in items {
                    if let Value::Map(m) = &item.value {
                        let id = m
                            .iter()
                            .find(|(k, _)| k.as_str() == Some("id"))
                            .and_then(|(_, v)| v.scalar_text());
                        if let Some(id) = id {
                            match seen.iter().find(|(s, _)| *s == id) {
                                Some((_, line)) => {
                                    let msg = format!(
                                        "duplicate requirement id `{id}` (first at line {line})"
                                    );
                                    cx.err(PolicyCode::DuplicateId, item, msg);
                                }
                                None => seen.push((id, item.line)),
                            }
                        }
                    }
                    if let Some(r) = requirement(cx, item) {
                        requirements.push(r);
                    }
                }
            }
            _ => cx.err(
                PolicyCode::BadValue,
                n,
                format!("expected `requirements` to be a list, found {}", n.kind()),
            ),
        },
    }
    Some(Policy {
        name: name?,
        title,
        description,
        products,
        place: cx.place(root),
        requirements,
    })
}

/// Ports and protocols of a requirement, from `ports`/`protocol` or from
/// the catalog rows it names.
struct Service {
    protocols: Vec<u8>,
    ports: Vec<(u16, u16)>,
    rows: Vec<CatalogRef>,
}

fn service(cx: &mut Ctx, n: &Node, e: &[(&str, &Node, &Node)]) -> Option<Service> {
    let protocols = get(e, "protocol").map(|v| {
        list(cx, v, "protocol", PolicyCode::BadProtocol, |s| match s {
            "tcp" => Ok(6u8),
            "udp" => Ok(17u8),
            other => Err(format!("unknown protocol `{other}`, expected tcp or udp")),
        })
    });
    let ports = get(e, "ports").map(|v| {
        list(cx, v, "ports", PolicyCode::BadPort, |s| {
            parse_port_range(s).map_err(|e| e.to_string())
        })
    });
    let Some(rows_node) = get(e, "catalog") else {
        if protocols.is_none() {
            cx.err(PolicyCode::MissingKey, n, "requirement is missing `protocol` (tcp or udp) or `catalog` (rows of the port catalog)".into());
        }
        if ports.is_none() {
            cx.err(PolicyCode::MissingKey, n, "requirement is missing `ports` (port numbers or ranges a-b) or `catalog` (rows of the port catalog)".into());
        }
        return Some(Service {
            protocols: protocols??,
            ports: ports??,
            rows: Vec::new(),
        });
    };
    if let Some(v) = get(e, "ports") {
        cx.err(
            PolicyCode::ConflictingKeys,
            v,
            "give either `ports` or `catalog`, not both: the catalog rows give the ports".into(),
        );
        return None;
    }
    let catalog = match (cx.catalog)() {
        Ok(c) => c,
        Err(m) => {
            cx.err(PolicyCode::BadCatalogRow, rows_node, m.to_string());
            return None;
        }
    };
    let ids = list(
        cx,
        rows_node,
        "catalog",
        PolicyCode::BadCatalogRow,
        |s| match catalog.row(s) {
            Some(_) => Ok(s.to_string()),
            None => Err(format!(
                "unknown catalog row `{s}`; `driftwall policies catalog` lists the rows"
            )),
        },
    )?;
    let rows: Vec<&Row> = ids.iter().filter_map(|id| catalog.row(id)).collect();
    let numbers = |r: &Row| -> Vec<u8> { r.protocols.iter().map(|p| p.number()).collect() };
    let protocols = match protocols {
        // Narrowed: every row must carry what is asked for.
        Some(p) => {
            let p = p?;
            for r in &rows {
                if let Some(missing) = p.iter().find(|x| !numbers(r).contains(x)) {
                    cx.err(
                        PolicyCode::BadCatalogRow,
                        rows_node,
                        format!(
                            "catalog row `{}` is {} only, not {}",
                            r.id,
                            r.protocols_text(),
                            crate::eval::protocol_name(*missing)
                        ),
                    );
                    return None;
                }
            }
            p
        }
        None => {
            let first = numbers(rows[0]);
            if let Some(other) = rows.iter().find(|r| numbers(r) != first) {
                cx.err(
                    PolicyCode::BadCatalogRow,
                    rows_node,
                    format!(
                        "catalog rows `{}` ({}) and `{}` ({}) differ in protocol: a requirement covers the same ports for each of its protocols, so split it in two or narrow it with `protocol`",
                        rows[0].id,
                        rows[0].protocols_text(),
                        other.id,
                        other.protocols_text()
                    ),
                );
                return None;
            }
            first
        }
    };
    let mut ports: Vec<(u16, u16)> = rows
        .iter()
        .flat_map(|r| r.ports.iter().map(|p| (p.start, p.end)))
        .collect();
    ports.sort();
    ports.dedup();
    Some(Service {
        protocols,
        ports,
        rows: rows
            .iter()
            .map(|r| CatalogRef {
                id: r.id.clone(),
                text: r.describe(),
            })
            .collect(),
    })
}

fn interface(s: &str) -> Result<Interface, String> {
    let name = s.strip_suffix('+').unwrap_or(s);
    if name.len() > 15 || (name.is_empty() && !s.ends_with('+')) {
        return Err(format!(
            "interface name `{s}` must be 1-15 characters (a trailing `+` matches every name with that prefix)"
        ));
    }
    Ok(Interface {
        name: name.to_string(),
        wildcard: s.ends_with('+'),
    })
}

fn net(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| {
            format!(
                "`{s}` is not an address or network, expected e.g. 192.0.2.0/24 or 2001:db8::/32"
            )
        })
}

/// The networks in both lists (two prefixes overlap only if one holds the other).
fn intersect(a: &[IpNet], b: &[IpNet]) -> Vec<IpNet> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            if x.contains(y) {
                out.push(*y);
            } else if y.contains(x) {
                out.push(*x);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn requirement(cx: &mut Ctx, n: &Node) -> Option<Requirement> {
    let e = entries(cx, n, REQUIREMENT_KEYS, "a requirement")?;
    let missing = |cx: &mut Ctx, key: &str, what: &str| {
        cx.err(
            PolicyCode::MissingKey,
            n,
            format!("requirement is missing `{key}` ({what})"),
        )
    };
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
                cx.err(
                    PolicyCode::BadValue,
                    v,
                    format!(
                        "expected `allow` or `deny`, found `{}`",
                        v.scalar_text().unwrap_or_else(|| v.kind().into())
                    ),
                );
                None
            }
        },
    };
    let dir_node = get(&e, "direction");
    let direction = match dir_node {
        None => {
            missing(cx, "direction", DirectionSpec::NAMES);
            None
        }
        Some(v) => list(cx, v, "direction", PolicyCode::BadDirection, |s| {
            DirectionSpec::parse(s).ok_or_else(|| {
                format!("unknown direction `{s}`, expected {}", DirectionSpec::NAMES)
            })
        }),
    };
    let service = service(cx, n, &e);
    let nets = |cx: &mut Ctx, key: &str| -> Option<Option<Vec<IpNet>>> {
        match get(&e, key) {
            None => Some(None),
            Some(v) => list(cx, v, key, PolicyCode::BadAddress, net).map(Some),
        }
    };
    let to = nets(cx, "to");
    let from = nets(cx, "from");
    let names = |cx: &mut Ctx, key: &str| -> Option<Option<Vec<Interface>>> {
        match get(&e, key) {
            None => Some(None),
            Some(v) => list(cx, v, key, PolicyCode::BadInterface, interface).map(Some),
        }
    };
    let in_interface = names(cx, "in_interface");
    let out_interface = names(cx, "out_interface");
    let used_by = match get(&e, "used_by") {
        None => Some(Vec::new()),
        Some(v) => list(
            cx,
            v,
            "used_by",
            PolicyCode::BadValue,
            |s| Ok(s.to_string()),
        ),
    };
    let title = get(&e, "title").and_then(|v| string(cx, v, "a title"));
    let description = get(&e, "description").and_then(|v| string(cx, v, "a description"));
    let (direction, to, from, in_interface, out_interface) =
        (direction?, to?, from?, in_interface?, out_interface?);
    let dir_node = dir_node?;
    let scopes = scopes(
        cx,
        &e,
        dir_node,
        &direction,
        Explicit {
            to,
            from,
            in_interface,
            out_interface,
        },
    )?;
    let service = service?;
    Some(Requirement {
        id: id?,
        title,
        description,
        expect: expect?,
        direction,
        scopes,
        protocols: service.protocols,
        ports: service.ports,
        catalog: service.rows,
        used_by: used_by?,
        place: cx.place(n),
    })
}

/// Addresses and interfaces a requirement gives itself.
struct Explicit {
    to: Option<Vec<IpNet>>,
    from: Option<Vec<IpNet>>,
    in_interface: Option<Vec<Interface>>,
    out_interface: Option<Vec<Interface>>,
}

/// What the written directions mean in the role, with the requirement's
/// own addresses and interfaces applied.
fn scopes(
    cx: &mut Ctx,
    e: &[(&str, &Node, &Node)],
    dir_node: &Node,
    direction: &[DirectionSpec],
    x: Explicit,
) -> Option<Vec<Scope>> {
    let relative: Vec<&DirectionSpec> = direction.iter().filter(|d| d.is_relative()).collect();
    if !relative.is_empty() && direction.len() > 1 {
        cx.err(PolicyCode::BadDirection, dir_node, format!("direction `{}` stands alone: it is relative to the role, so give the other directions as requirements of their own", relative[0].name()));
        return None;
    }
    if !relative.is_empty() {
        for key in ["in_interface", "out_interface"] {
            if let Some(v) = get(e, key) {
                cx.err(PolicyCode::BadDirection, v, format!("`{key}` cannot be combined with direction `{}`: the role gives its interfaces (--lan-interface)", relative[0].name()));
                return None;
            }
        }
    }
    if direction.iter().all(|d| *d == DirectionSpec::Outbound)
        && let Some(i) = get(e, "in_interface")
    {
        cx.err(
            PolicyCode::BadDirection,
            i,
            "`in_interface` does not apply to outbound connections, use `out_interface`".into(),
        );
    }
    if direction.iter().all(|d| *d == DirectionSpec::Inbound)
        && let Some(o) = get(e, "out_interface")
    {
        cx.err(
            PolicyCode::BadDirection,
            o,
            "`out_interface` does not apply to inbound connections, use `in_interface`".into(),
        );
    }
    let Some(role) = cx.role else {
        return Some(Vec::new());
    };
    let mut out = Vec::new();
    for spec in direction {
        let scopes = match role.scopes(*spec) {
            Ok(s) => s,
            Err(m) => {
                cx.err(PolicyCode::BadDirection, dir_node, m.to_string());
                return None;
            }
        };
        for mut s in scopes {
            if let Some(list) = &x.in_interface {
                s.iif = InterfaceSet {
                    only: Some(list.clone()),
                    except: Vec::new(),
                };
            }
            if let Some(list) = &x.out_interface {
                s.oif = InterfaceSet {
                    only: Some(list.clone()),
                    except: Vec::new(),
                };
            }
            for (key, mine, side) in [("from", &x.from, &mut s.from), ("to", &x.to, &mut s.to)] {
                let Some(mine) = mine else { continue };
                side.only = Some(match &side.only {
                    None => mine.clone(),
                    Some(role) => {
                        let both = intersect(mine, role);
                        if both.is_empty() {
                            let v = get(e, key).unwrap_or(dir_node);
                            cx.err(PolicyCode::BadDirection, v, format!("`{key}` lies outside the side that direction `{}` gives in this role ({})", spec.name(), role.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")));
                            return None;
                        }
                        both
                    }
                });
            }
            out.push(s);
        }
    }
    Some(out)
}

/// A scalar or a list of scalars, each converted; every bad item is reported.
fn list<T>(
    cx: &mut Ctx,
    n: &Node,
    key: &str,
    code: PolicyCode,
    conv: impl Fn(&str) -> Result<T, String>,
) -> Option<Vec<T>> {
    let items = one_or_many(n);
    if items.is_empty() {
        cx.err(
            PolicyCode::BadValue,
            n,
            format!("`{key}` is empty, expected at least one value"),
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        // YAML reads `2.0`, `1e3`, `!!float 23` and numbers past 64 bits as
        // floats: none is a port, a protocol or an address, so none is
        // taken as the whole number it may print as.
        if let Value::Float(f) = item.value {
            cx.err(
                code,
                item,
                format!("`{f:?}` in `{key}` is not a whole number in range (a fraction, an exponent, or too many digits)"),
            );
            ok = false;
            continue;
        }
        match item.scalar_text() {
            None => {
                cx.err(
                    PolicyCode::BadValue,
                    item,
                    format!("expected a value in `{key}`, found {}", item.kind()),
                );
                ok = false;
            }
            Some(s) => match conv(s.trim()) {
                Ok(v) => out.push(v),
                Err(m) => {
                    cx.err(code, item, m);
                    ok = false;
                }
            },
        }
    }
    ok.then_some(out)
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
        assert_eq!(
            r.scopes[0].from.only.as_ref().unwrap()[0].to_string(),
            "192.0.2.0/24"
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let text = "policy: bad\nrequirements:\n  - id: a\n    expect: maybe\n    direction: sideways\n    protocol: tcp\n    ports: [0, 70000, 20-10]\n    colour: red\n  - id: a\n    expect: deny\n    direction: inbound\n    protocol: icmp\n    ports: 22\n";
        let errs = load_str("p.yaml", text).unwrap_err();
        let got: Vec<(u32, u32)> = errs.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(
            got,
            vec![
                (4, 13),
                (5, 16),
                (7, 13),
                (7, 16),
                (7, 23),
                (8, 5),
                (9, 5),
                (12, 15)
            ],
            "{errs:#?}"
        );
        assert!(errs[5].message.contains("unknown key `colour`"));
    }

    #[test]
    fn duplicate_ids_and_missing_keys() {
        let errs = load_str("p.yaml", "policy: x\nrequirements:\n  - id: a\n    expect: allow\n    direction: inbound\n    protocol: tcp\n    ports: 1\n  - id: a\n    expect: allow\n    direction: inbound\n    protocol: tcp\n    ports: 2\n  - id: b\n").unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e.message.contains("duplicate requirement id `a`") && e.line == 8)
        );
        assert!(
            errs.iter()
                .filter(|e| e.message.contains("missing"))
                .count()
                == 4
        );
    }

    /// Issue 18: `-1` was "`` is not a port number", and `2.0`, `1e3`,
    /// `!!float 23` were taken as ports.
    #[test]
    fn ports_are_whole_numbers_as_written() {
        for (bad, says) in [
            ("[-1]", "`-1` is not a port number"),
            ("[80-]", "`80-` is not a port number"),
            ("[2.0]", "`2.0` in `ports` is not a whole number"),
            ("[1e3]", "`1000.0` in `ports` is not a whole number"),
            ("[!!float 23]", "a YAML tag"),
            (
                "[99999999999999999999]",
                "`1e20` in `ports` is not a whole number",
            ),
        ] {
            let errs = one_problem("[443]", bad);
            assert!(
                errs.iter().any(|e| e.message.contains(says) && e.line == 7),
                "{bad}: {errs:?}"
            );
        }
    }

    /// A requirement with one line changed from a valid one: `(line to
    /// replace, its replacement)`.
    fn one_problem(replace: &str, with: &str) -> Vec<PolicyError> {
        let valid = "policy: web\nrequirements:\n  - id: https\n    expect: allow\n    direction: inbound\n    protocol: tcp\n    ports: [443]\n";
        assert!(valid.contains(replace));
        let text = valid.replacen(replace, with, 1);
        with_catalog(&text, &Role::default()).unwrap_err()
    }

    /// Each code, with the file, line and column it points at.
    #[test]
    fn every_policy_problem_has_its_own_code() {
        let gateway = Role {
            kind: crate::policy::RoleKind::Gateway,
            ..Role::default()
        };
        let cases: Vec<(PolicyCode, Vec<PolicyError>)> = vec![
            (PolicyCode::BadYaml, one_problem("ports: [443]", "ports: [443")),
            (PolicyCode::UnknownKey, one_problem("ports: [443]", "ports: [443]\n    colour: red")),
            (PolicyCode::DuplicateKey, one_problem("ports: [443]", "ports: [443]\n    ports: [80]")),
            (PolicyCode::MissingKey, one_problem("    expect: allow\n", "")),
            (PolicyCode::DuplicateId, one_problem("ports: [443]", "ports: [443]\n  - {id: https, expect: allow, direction: inbound, protocol: tcp, ports: 80}")),
            (PolicyCode::BadPort, one_problem("ports: [443]", "ports: [70000]")),
            (PolicyCode::BadProtocol, one_problem("protocol: tcp", "protocol: icmp")),
            (PolicyCode::BadAddress, one_problem("ports: [443]", "ports: [443]\n    from: [192.0.2.300]")),
            (PolicyCode::BadInterface, one_problem("ports: [443]", "ports: [443]\n    in_interface: [a-name-far-too-long]")),
            (PolicyCode::BadDirection, one_problem("direction: inbound", "direction: sideways")),
            (PolicyCode::BadCatalogRow, one_problem("ports: [443]", "catalog: [no-such-row]")),
            (PolicyCode::ConflictingKeys, one_problem("ports: [443]", "ports: [443]\n    catalog: [https]")),
            (PolicyCode::BadValue, one_problem("expect: allow", "expect: maybe")),
            (
                PolicyCode::BadDirection,
                with_catalog("policy: gw\nrequirements:\n  - {id: lan, expect: allow, direction: ingress, protocol: tcp, ports: 22}\n", &gateway).unwrap_err(),
            ),
        ];
        let at: Vec<(PolicyCode, String)> = cases
            .iter()
            .map(|(code, errs)| {
                assert_eq!(errs.len(), 1, "{code}: {errs:#?}");
                assert_eq!(errs[0].code, *code, "{errs:#?}");
                (
                    errs[0].code,
                    format!("{}:{}:{}", errs[0].path, errs[0].line, errs[0].column),
                )
            })
            .collect();
        let want = [
            (PolicyCode::BadYaml, "p.yaml:7:12"),
            (PolicyCode::UnknownKey, "p.yaml:8:5"),
            (PolicyCode::DuplicateKey, "p.yaml:8:5"),
            (PolicyCode::MissingKey, "p.yaml:3:5"),
            (PolicyCode::DuplicateId, "p.yaml:8:5"),
            (PolicyCode::BadPort, "p.yaml:7:13"),
            (PolicyCode::BadProtocol, "p.yaml:6:15"),
            (PolicyCode::BadAddress, "p.yaml:8:12"),
            (PolicyCode::BadInterface, "p.yaml:8:20"),
            (PolicyCode::BadDirection, "p.yaml:5:16"),
            (PolicyCode::BadCatalogRow, "p.yaml:7:15"),
            (PolicyCode::ConflictingKeys, "p.yaml:7:12"),
            (PolicyCode::BadValue, "p.yaml:4:13"),
            (PolicyCode::BadDirection, "p.yaml:3:41"),
        ];
        let want: Vec<(PolicyCode, String)> =
            want.iter().map(|(c, s)| (*c, s.to_string())).collect();
        assert_eq!(at, want);
        // Every validation code is exercised; unknown-policy comes from reading.
        for code in PolicyCode::ALL {
            assert!(
                *code == PolicyCode::UnknownPolicy || at.iter().any(|(c, _)| c == code),
                "{code} has no test"
            );
        }
    }

    #[test]
    fn an_unknown_shipped_policy_has_its_code() {
        let e = crate::policy::read("apple:no-such-policy").unwrap_err();
        assert_eq!(e.code(), Some(PolicyCode::UnknownPolicy));
        assert!(
            e.to_string()
                .starts_with("no shipped policy `apple:no-such-policy`")
        );
    }

    #[test]
    fn yaml_syntax_errors_are_policy_errors() {
        let errs = load_str("p.yaml", "policy: [\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.starts_with("invalid YAML"));
    }

    const CATALOG: &str = "source: {title: t, original_title: t, publisher: p, edition: e, language: pl, document: d}
rows:
  - {id: stun, ports: [\"3478-3497\"], protocols: [udp], protocols_stated: true, service: s, rfc: [], iana_name: nat-stun-port, used_by: [FaceTime], used_by_text: '', used_by_original: '', notes: []}
  - {id: rtp, ports: [\"16384-16387\", \"16393-16402\"], protocols: [udp], protocols_stated: true, service: s, rfc: [], iana_name: null, used_by: [FaceTime], used_by_text: '', used_by_original: '', notes: []}
  - {id: https, ports: [443], protocols: [tcp], protocols_stated: true, service: s, rfc: [], iana_name: https, used_by: [], used_by_text: '', used_by_original: '', notes: []}
  - {id: dns, ports: [53], protocols: [tcp, udp], protocols_stated: true, service: s, rfc: [], iana_name: domain, used_by: [], used_by_text: '', used_by_original: '', notes: []}
";

    fn with_catalog(text: &str, role: &Role) -> Result<Policy, Vec<PolicyError>> {
        let c = Catalog::from_yaml(CATALOG).unwrap();
        load_with("p.yaml", text, Some(role), &|| Ok(&c))
    }

    #[test]
    fn catalog_rows_give_ports_protocols_and_their_origin() {
        let p = with_catalog("policy: ft\nrequirements:\n  - {id: media, expect: allow, direction: egress, catalog: [stun, rtp]}\n  - {id: dns, expect: allow, direction: egress, catalog: [dns], protocol: udp}\n", &Role::default()).unwrap();
        let r = &p.requirements[0];
        assert_eq!(
            (r.protocols.clone(), r.ports.clone()),
            (vec![17], vec![(3478, 3497), (16384, 16387), (16393, 16402)])
        );
        assert_eq!(
            r.catalog[0].text,
            "UDP 3478-3497 (nat-stun-port, used by FaceTime)"
        );
        assert_eq!(r.scopes[0].direction, crate::eval::Direction::Outbound);
        assert_eq!(p.requirements[1].protocols, vec![17]);
    }

    #[test]
    fn the_catalog_is_read_only_for_a_requirement_that_names_its_rows() {
        let read = std::cell::Cell::new(0);
        let role = Role::default();
        let broken = || {
            read.set(read.get() + 1);
            Err(CatalogError::Format("1:1: broken".into()))
        };
        let own = "policy: p\nrequirements:\n  - {id: a, expect: allow, direction: inbound, protocol: tcp, ports: [443]}\n";
        assert!(load_with("p.yaml", own, Some(&role), &broken).is_ok());
        assert_eq!(
            read.get(),
            0,
            "a policy with its own ports never reads the catalog"
        );
        let rows = "policy: p\nrequirements:\n  - {id: a, expect: allow, direction: inbound, catalog: [https]}\n";
        let errs = load_with("p.yaml", rows, Some(&role), &broken).unwrap_err();
        assert_eq!(read.get(), 1);
        assert!(errs[0].message.contains("broken"), "{errs:?}");
    }

    #[test]
    fn catalog_mistakes_are_reported_where_they_are() {
        let text = "policy: ft\nrequirements:\n  - {id: a, expect: allow, direction: egress, catalog: [stun, nope]}\n  - {id: b, expect: allow, direction: egress, catalog: [stun, https]}\n  - {id: c, expect: allow, direction: egress, catalog: [https], protocol: udp}\n  - {id: d, expect: allow, direction: egress, catalog: [https], ports: [80]}\n  - {id: e, expect: allow, direction: [egress, inbound], catalog: [https]}\n";
        let errs = with_catalog(text, &Role::default()).unwrap_err();
        let got: Vec<(u32, &str)> = errs.iter().map(|e| (e.line, e.message.as_str())).collect();
        assert_eq!(errs.len(), 5, "{got:#?}");
        assert!(
            errs[0].message.contains("unknown catalog row `nope`") && errs[0].column == 63,
            "{got:#?}"
        );
        assert!(errs[1].message.contains("differ in protocol"), "{got:#?}");
        assert!(errs[2].message.contains("is TCP only, not udp"), "{got:#?}");
        assert!(
            errs[3].message.contains("either `ports` or `catalog`"),
            "{got:#?}"
        );
        assert!(errs[4].message.contains("stands alone"), "{got:#?}");
    }

    #[test]
    fn directions_that_make_no_sense_for_the_role() {
        let text = "policy: x\nrequirements:\n  - {id: a, expect: allow, direction: forward, protocol: tcp, ports: 80}\n  - {id: b, expect: allow, direction: egress, protocol: tcp, ports: 80}\n";
        let host = with_catalog(text, &Role::default()).unwrap_err();
        assert_eq!(host.len(), 1);
        assert!(host[0].message.contains("makes no sense for a host") && host[0].line == 3);
        let bare_gateway = Role {
            kind: super::super::RoleKind::Gateway,
            ..Role::default()
        };
        let gw = with_catalog(text, &bare_gateway).unwrap_err();
        assert!(
            gw.len() == 1 && gw[0].line == 4 && gw[0].message.contains("--lan-interface"),
            "{gw:#?}"
        );
        let lan = Role {
            lan_networks: vec!["192.168.1.0/24".parse().unwrap()],
            ..bare_gateway
        };
        let p = with_catalog(text, &lan).unwrap();
        assert_eq!(
            p.requirements[1].scopes[0].to.except[0].to_string(),
            "192.168.1.0/24"
        );
        // A requirement's own addresses narrow the role's side, and must meet it.
        let own = "policy: x\nrequirements:\n  - {id: a, expect: allow, direction: egress, protocol: tcp, ports: 80, from: [192.168.1.128/25]}\n  - {id: b, expect: allow, direction: egress, protocol: tcp, ports: 80, from: [10.0.0.0/8]}\n";
        let errs = with_catalog(own, &lan).unwrap_err();
        assert!(
            errs.len() == 1 && errs[0].line == 4 && errs[0].message.contains("lies outside"),
            "{errs:#?}"
        );
    }
}
