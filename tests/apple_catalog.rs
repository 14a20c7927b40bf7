//! The Apple port catalog (policies/apple/catalog.yaml) against the article it
//! renders, "TCP and UDP ports used by Apple software products" (Polish
//! edition), and the Apple profiles against the catalog.
//!
//! The article lives outside the repository (it is Apple's text). It is found
//! through `DRIFTWALL_APPLE_SOURCE` (the file) or
//! `../shared/apple-ports/000_8740bf2f1759a228.txt` next to the workspace;
//! when it is absent the completeness test prints why and passes, unless
//! `DRIFTWALL_REQUIRE_ALL` is set (CI sets it), which makes absence a failure.
//!
//! The rows are found from the table's structure, not from a list of ports:
//! the table runs from the header line "Port TCP lub" to the first footnote
//! "1. Usługa zarejestrowana". A row starts at a line that begins with a port
//! spec (`N`, `N–M`, `N-M`, `N– M`, `N, M`) followed by TCP, UDP or TCP/UDP,
//! on the same line or alone at the start of the next. A port spec followed by
//! anything else starts a row only if it keeps the table's ascending port
//! order with its neighbours (the rows before it and the next row with a
//! protocol): so "11211 memcached", "50003" and "50006" are rows (without a
//! protocol), while the RFC number "1939" that starts a wrapped line after the
//! 110 row is not.
//!
//! Run with `cargo test --test apple_catalog -- --nocapture` to see the counts.

mod support;

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------- catalog

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalog {
    source: Source,
    rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Source {
    title: String,
    original_title: String,
    publisher: String,
    edition: String,
    language: String,
    document: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Row {
    id: String,
    ports: Vec<Port>,
    protocols: Vec<Proto>,
    protocols_stated: bool,
    service: String,
    rfc: Vec<String>,
    iana_name: Option<String>,
    used_by: Vec<String>,
    used_by_text: String,
    used_by_original: String,
    notes: Vec<String>,
}

/// A port as the catalog writes it: a number, or a range "a-b".
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Port {
    Number(i64),
    Range(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Proto {
    Tcp,
    Udp,
}

/// A port range of a row; `None` as protocol where the source gives none.
type Pair = ((u32, u32), Option<Proto>);

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load_catalog() -> Catalog {
    let path = manifest_dir().join("policies/apple/catalog.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_saphyr::from_str::<Catalog>(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A catalog port as an inclusive range, or why it is not one.
fn catalog_range(p: &Port) -> Result<(u32, u32), String> {
    let num = |t: &str| -> Result<u32, String> {
        let n: u32 = t
            .trim()
            .parse()
            .map_err(|_| format!("`{t}` is not a port number"))?;
        if (1..=65535).contains(&n) {
            Ok(n)
        } else {
            Err(format!("port {n} is outside 1-65535"))
        }
    };
    let (a, b) = match p {
        Port::Number(n) => {
            let n = u32::try_from(*n).map_err(|_| format!("port {n} is outside 1-65535"))?;
            let n = num(&n.to_string())?;
            (n, n)
        }
        Port::Range(s) => match s.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => return Err(format!("`{s}` is neither a number nor a range a-b")),
        },
    };
    if a > b {
        return Err(format!("range {a}-{b} is reversed"));
    }
    Ok((a, b))
}

/// What a catalog row claims, in the same terms as a source row.
fn catalog_pairs(r: &Row) -> BTreeSet<Pair> {
    let mut out = BTreeSet::new();
    for p in &r.ports {
        let Ok(range) = catalog_range(p) else {
            continue;
        };
        if r.protocols_stated {
            out.extend(r.protocols.iter().map(|&pr| (range, Some(pr))));
        } else {
            out.insert((range, None));
        }
    }
    out
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

// ---------------------------------------------------------------- source

/// The article, or `None` (after printing why) if the test should skip.
fn source_text() -> Option<(PathBuf, String)> {
    let path = match std::env::var_os("DRIFTWALL_APPLE_SOURCE") {
        Some(p) => PathBuf::from(p),
        None => manifest_dir().join("../shared/apple-ports/000_8740bf2f1759a228.txt"),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Some((path, text)),
        Err(e) => {
            support::skip(&format!(
                "Apple's article not found at {} ({e}; set DRIFTWALL_APPLE_SOURCE to the file)",
                path.display()
            ));
            None
        }
    }
}

/// One row of the source table.
#[derive(Debug)]
struct SourceRow {
    /// 1-based line in the source.
    line: usize,
    ports: Vec<(u32, u32)>,
    /// Empty where the row gives no protocol.
    protocols: Vec<Proto>,
}

impl SourceRow {
    fn pairs(&self) -> BTreeSet<Pair> {
        let mut out = BTreeSet::new();
        for &range in &self.ports {
            if self.protocols.is_empty() {
                out.insert((range, None));
            } else {
                out.extend(self.protocols.iter().map(|&p| (range, Some(p))));
            }
        }
        out
    }
}

fn is_space(c: char) -> bool {
    c.is_whitespace() // includes the no-break spaces the article uses
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}')
}

/// A port spec at the start of a line: the ranges, and the rest of the line.
/// `N`, `N–M` / `N-M` (with optional spaces around the dash) or `N, M`; the
/// spec must end the line or be followed by a space.
fn port_spec(line: &str) -> Option<(Vec<(u32, u32)>, &str)> {
    fn number(s: &str) -> Option<(u32, &str)> {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        if end == 0 || end > 5 {
            return None;
        }
        Some((s[..end].parse().ok()?, &s[end..]))
    }
    let (first, rest) = number(line)?;
    let after_space = rest.trim_start_matches(is_space);
    let (ports, rest) = if let Some(r) = after_space.strip_prefix(is_dash) {
        let (last, r) = number(r.trim_start_matches(is_space))?;
        (vec![(first, last)], r)
    } else if let Some(r) = after_space.strip_prefix(',') {
        let (second, r) = number(r.trim_start_matches(is_space))?;
        (vec![(first, first), (second, second)], r)
    } else {
        (vec![(first, first)], rest)
    };
    if !(rest.is_empty() || rest.starts_with(is_space)) {
        return None;
    }
    Some((ports, rest.trim_start_matches(is_space)))
}

/// The protocols a cell starts with: TCP, UDP, TCP/UDP.
fn protocol_token(s: &str) -> Option<Vec<Proto>> {
    let token = s.split(is_space).next()?;
    match token {
        "TCP" => Some(vec![Proto::Tcp]),
        "UDP" => Some(vec![Proto::Udp]),
        "TCP/UDP" | "UDP/TCP" => Some(vec![Proto::Tcp, Proto::Udp]),
        _ => None,
    }
}

/// The rows of the table, in the article's order.
fn source_rows(text: &str) -> Vec<SourceRow> {
    let lines: Vec<&str> = text.lines().collect();
    // Markers are compared with every run of spaces (no-break ones too) as one space.
    let squash = |l: &str| {
        l.split(is_space)
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let start = lines
        .iter()
        .position(|l| squash(l).starts_with("Port TCP lub"))
        .expect("the source has no table header \"Port TCP lub\"");
    let end = start
        + lines[start..]
            .iter()
            .position(|l| squash(l).starts_with("1. Usługa zarejestrowana"))
            .expect("the source has no footnote \"1. Usługa zarejestrowana\" after the table");

    // Every line that begins with a port spec, with its protocol if it has one.
    struct Candidate {
        line: usize,
        ports: Vec<(u32, u32)>,
        protocols: Option<Vec<Proto>>,
    }
    let mut candidates = Vec::new();
    for i in start + 1..end {
        let Some((ports, rest)) = port_spec(lines[i].trim_start_matches(is_space)) else {
            continue;
        };
        let protocols = if rest.trim_matches(is_space).is_empty() {
            // The protocol may stand at the start of the next non-empty line.
            lines[i + 1..end]
                .iter()
                .map(|l| l.trim_matches(is_space))
                .find(|l| !l.is_empty())
                .and_then(protocol_token)
        } else {
            protocol_token(rest)
        };
        candidates.push(Candidate {
            line: i + 1,
            ports,
            protocols,
        });
    }

    // A candidate without a protocol is a row only where it keeps the
    // ascending order: after a row that starts no later, and no later than
    // the next row that has a protocol.
    let mut rows: Vec<SourceRow> = Vec::new();
    for (k, c) in candidates.iter().enumerate() {
        let first = c.ports[0].0;
        let protocols = match &c.protocols {
            Some(p) => p.clone(),
            None => {
                let after_previous = rows.last().is_some_and(|r| r.ports[0].0 <= first);
                let next = candidates[k + 1..]
                    .iter()
                    .find(|n| n.protocols.is_some())
                    .map(|n| n.ports[0].0);
                if !(after_previous && next.is_none_or(|n| first <= n)) {
                    continue;
                }
                Vec::new()
            }
        };
        rows.push(SourceRow {
            line: c.line,
            ports: c.ports.clone(),
            protocols,
        });
    }
    rows
}

fn show(pair: &Pair) -> String {
    let ((a, b), p) = pair;
    let ports = if a == b {
        a.to_string()
    } else {
        format!("{a}-{b}")
    };
    match p {
        Some(Proto::Tcp) => format!("{ports}/tcp"),
        Some(Proto::Udp) => format!("{ports}/udp"),
        None => format!("{ports} (no protocol in the source)"),
    }
}

#[test]
fn the_extractor_reads_the_table_shapes() {
    let text = "intro 1 TCP\nPort TCP lub\nUDP\n1\nRFC2 Nazwa usługi3 Używane przez\n7 TCP/UDP echo\n106 TCP Serwer haseł\n3com-tsmux x\n110 TCP POP3,\n1939 pop3 Mail\n111 TCP/UDP rpc\n600–1023 TCP/UDP x\n1099,\u{a0} 8043 TCP x\n8821,\u{a0}8826\nTCP Stored\n11211 memcached x\n16080 TCP x\n49152– 65535 UDP \u{a0}\n50003 FileMaker\n50006 FileMaker\n\n1.\u{a0}Usługa zarejestrowana\n2 TCP after\n";
    let rows = source_rows(text);
    let got: Vec<String> = rows
        .iter()
        .map(|r| r.pairs().iter().map(show).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        got,
        [
            "7/tcp 7/udp",
            "106/tcp",
            "110/tcp",
            "111/tcp 111/udp",
            "600-1023/tcp 600-1023/udp",
            "1099/tcp 8043/tcp",
            "8821/tcp 8826/tcp",
            "11211 (no protocol in the source)",
            "16080/tcp",
            "49152-65535/udp",
            "50003 (no protocol in the source)",
            "50006 (no protocol in the source)",
        ]
    );
}

#[test]
fn the_catalog_is_well_formed() {
    let catalog = load_catalog();
    let mut problems = Vec::new();
    let mut seen = BTreeMap::new();
    for (i, r) in catalog.rows.iter().enumerate() {
        if let Some(first) = seen.insert(r.id.as_str(), i + 1) {
            problems.push(format!(
                "row {}: id `{}` is also row {first}'s",
                i + 1,
                r.id
            ));
        }
        if !is_kebab(&r.id) {
            problems.push(format!(
                "row `{}`: the id is not lowercase kebab-case",
                r.id
            ));
        }
        if r.ports.is_empty() {
            problems.push(format!("row `{}`: no port", r.id));
        }
        if r.protocols.is_empty() {
            problems.push(format!("row `{}`: no protocol", r.id));
        }
        if r.protocols.iter().collect::<BTreeSet<_>>().len() != r.protocols.len() {
            problems.push(format!("row `{}`: a protocol is given twice", r.id));
        }
        for p in &r.ports {
            if let Err(m) = catalog_range(p) {
                problems.push(format!("row `{}`: {m}", r.id));
            }
        }
        if !r.protocols_stated && r.notes.is_empty() {
            problems.push(format!("row `{}`: protocols_stated is false, so notes must say why the protocol was chosen", r.id));
        }
        if r.used_by_original.is_empty() != r.used_by_text.is_empty() {
            problems.push(format!(
                "row `{}`: used_by_text and used_by_original must both be empty or both be given",
                r.id
            ));
        }
        for field in [&r.service, &r.used_by_text, &r.used_by_original] {
            if field.trim() != field {
                problems.push(format!(
                    "row `{}`: `{field}` has leading or trailing space",
                    r.id
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "catalog.yaml:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn every_row_of_the_source_table_is_in_the_catalog() {
    let Some((path, text)) = source_text() else {
        return;
    };
    let catalog = load_catalog();
    let source = source_rows(&text);

    let source_pairs: BTreeMap<Pair, usize> = source
        .iter()
        .flat_map(|r| r.pairs().into_iter().map(move |p| (p, r.line)))
        .collect();
    let catalog_all: BTreeMap<Pair, &str> = catalog
        .rows
        .iter()
        .flat_map(|r| {
            catalog_pairs(r)
                .into_iter()
                .map(move |p| (p, r.id.as_str()))
        })
        .collect();
    let pair_count: usize = source.iter().map(|r| r.pairs().len()).sum();
    println!(
        "source {} (catalog.yaml renders {}): {} rows, {} (port, protocol) pairs ({} distinct); catalog: {} rows",
        path.display(),
        catalog.source.document,
        source.len(),
        pair_count,
        source_pairs.len(),
        catalog.rows.len()
    );

    let mut problems = Vec::new();
    for (pair, line) in &source_pairs {
        if !catalog_all.contains_key(pair) {
            problems.push(format!(
                "missing from the catalog: {} (source line {line})",
                show(pair)
            ));
        }
    }
    for (pair, id) in &catalog_all {
        if !source_pairs.contains_key(pair) {
            problems.push(format!(
                "not in the source: {} (catalog row `{id}`)",
                show(pair)
            ));
        }
    }
    if source.len() != catalog.rows.len() {
        problems.push(format!(
            "the source table has {} rows, the catalog {}",
            source.len(),
            catalog.rows.len()
        ));
    }
    // Row by row, in order: catches a dropped duplicate (the second 500/UDP
    // row) and rows out of the article's order.
    for (i, (s, c)) in source.iter().zip(&catalog.rows).enumerate() {
        let (sp, cp) = (s.pairs(), catalog_pairs(c));
        if sp != cp {
            let fmt = |set: &BTreeSet<Pair>| set.iter().map(show).collect::<Vec<_>>().join(", ");
            problems.push(format!(
                "row {}: the source (line {}) has {}, catalog row `{}` has {}",
                i + 1,
                s.line,
                fmt(&sp),
                c.id,
                fmt(&cp)
            ));
            break; // the rest is shifted, so one is enough
        }
    }
    assert!(
        problems.is_empty(),
        "catalog.yaml against {}:\n  {}",
        path.display(),
        problems.join("\n  ")
    );
}

// ---------------------------------------------------------------- profiles

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Profile {
    policy: String,
    title: Option<String>,
    description: Option<String>,
    version: Option<i64>,
    source: Option<ProfileSource>,
    #[serde(default)]
    products: Vec<String>,
    requirements: Vec<Requirement>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ProfileSource {
    catalog: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(x) => vec![x.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Requirement {
    id: String,
    title: Option<String>,
    description: Option<String>,
    expect: String,
    direction: String,
    protocol: Option<OneOrMany<Proto>>,
    ports: Option<Vec<Port>>,
    catalog: Option<Vec<String>>,
    to: Option<Vec<String>>,
    from: Option<Vec<String>>,
    in_interface: Option<Vec<String>>,
    out_interface: Option<Vec<String>>,
    used_by: Option<Vec<String>>,
}

/// What users see: the binary's `policies catalog --format json` (the
/// catalog compiled in) holds every (port, protocol) pair of the article.
#[test]
fn the_catalog_command_lists_every_pair_of_the_source() {
    let Some((path, text)) = source_text() else {
        return;
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_driftwall"))
        .args(["policies", "catalog", "--format", "json"])
        .output()
        .expect("run driftwall");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut listed: BTreeSet<Pair> = BTreeSet::new();
    for r in rows.as_array().expect("an array of rows") {
        let stated = r["protocols_stated"].as_bool().expect("protocols_stated");
        for p in r["ports"].as_array().expect("ports") {
            let range = (
                p["start"].as_u64().expect("start") as u32,
                p["end"].as_u64().expect("end") as u32,
            );
            if !stated {
                listed.insert((range, None));
                continue;
            }
            for proto in r["protocols"].as_array().expect("protocols") {
                listed.insert((
                    range,
                    Some(if proto == "tcp" {
                        Proto::Tcp
                    } else {
                        Proto::Udp
                    }),
                ));
            }
        }
    }
    let missing: Vec<String> = source_rows(&text)
        .iter()
        .flat_map(|r| r.pairs())
        .filter(|p| !listed.contains(p))
        .map(|p| show(&p))
        .collect();
    println!(
        "`driftwall policies catalog --format json`: {} rows, {} distinct (port, protocol) pairs",
        rows.as_array().map_or(0, Vec::len),
        listed.len()
    );
    assert!(
        missing.is_empty(),
        "not listed by `policies catalog` but in {}: {}",
        path.display(),
        missing.join(", ")
    );
}

#[test]
fn the_profiles_cite_catalog_rows_consistently() {
    let catalog = load_catalog();
    let rows: BTreeMap<&str, &Row> = catalog.rows.iter().map(|r| (r.id.as_str(), r)).collect();
    let dir = manifest_dir().join("policies/apple");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".yaml").map(str::to_string))
        .filter(|n| n != "catalog")
        .collect();
    names.sort();
    let mut problems = Vec::new();
    let mut cited = BTreeSet::new();
    for name in &names {
        let path = dir.join(format!("{name}.yaml"));
        let text = std::fs::read_to_string(&path).unwrap();
        let profile = match serde_saphyr::from_str::<Profile>(&text) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("{name}.yaml: {e}"));
                continue;
            }
        };
        let mut problem = |m: String| problems.push(format!("{name}.yaml: {m}"));
        if profile.policy != *name {
            problem(format!(
                "policy `{}` should be named like the file",
                profile.policy
            ));
        }
        if profile
            .description
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
        {
            problem("no description".into());
        }
        if profile.requirements.is_empty() {
            problem("no requirement".into());
        }
        let mut ids = BTreeSet::new();
        for q in &profile.requirements {
            let mut problem = |m: String| problem(format!("requirement `{}`: {m}", q.id));
            if !ids.insert(q.id.as_str()) {
                problem("id given twice".into());
            }
            if !is_kebab(&q.id) {
                problem("id is not lowercase kebab-case".into());
            }
            if !matches!(q.expect.as_str(), "allow" | "deny") {
                problem(format!("expect `{}`", q.expect));
            }
            if !matches!(q.direction.as_str(), "egress" | "ingress" | "local") {
                problem(format!(
                    "direction `{}`, profiles use egress, ingress or local",
                    q.direction
                ));
            }
            if q.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
                problem("no description".into());
            }
            if q.ports.is_some() {
                problem("gives `ports`; profiles cite catalog rows".into());
            }
            let Some(ids) = q.catalog.as_ref().filter(|c| !c.is_empty()) else {
                problem("cites no catalog row".into());
                continue;
            };
            let mut sets = BTreeSet::new();
            for id in ids {
                let Some(row) = rows.get(id.as_str()) else {
                    problem(format!("unknown catalog row `{id}`"));
                    continue;
                };
                cited.insert(id.clone());
                let protocols: BTreeSet<Proto> = row.protocols.iter().copied().collect();
                match &q.protocol {
                    Some(p) => {
                        for x in p.to_vec() {
                            if !protocols.contains(&x) {
                                problem(format!("protocol {x:?} is not one of row `{id}`'s"));
                            }
                        }
                    }
                    None => {
                        sets.insert(protocols);
                    }
                }
            }
            if sets.len() > 1 {
                problem(
                    "its rows differ in protocol; split it or narrow it with `protocol`".into(),
                );
            }
            match name.as_str() {
                "essentials"
                    if (q.expect.as_str(), q.direction.as_str()) != ("allow", "egress") =>
                {
                    problem("essentials are egress allow".into())
                }
                "hardening" if (q.expect.as_str(), q.direction.as_str()) != ("deny", "ingress") => {
                    problem("hardening is ingress deny".into())
                }
                _ => {}
            }
        }
    }
    println!(
        "{} profiles cite {} of {} catalog rows",
        names.len(),
        cited.len(),
        catalog.rows.len()
    );
    assert!(
        problems.is_empty(),
        "profiles:\n  {}",
        problems.join("\n  ")
    );
}
