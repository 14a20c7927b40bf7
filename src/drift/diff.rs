//! What changed between two firewall files, rule
//! by rule, and for the given policies connection by connection: which
//! packets get another verdict, and which rules decide before and after.
//!
//! Both files are compiled with the same interface classes, so a region of
//! one is a region of the other and the two partitions can be intersected
//! exactly, piece by piece.

use crate::eval::{self, Direction, Finding, Program, Verdict, Witness};
use crate::input::Input;
use crate::policy::check::{self, Culprit, Status};
use crate::policy::{Policy, Requirement};
use driftwall_parsers::model::{Family, Interface, Match, Rule, Table};
use serde::{Deserialize, Serialize};

/// How many distinct verdict changes are shown per requirement; the rest are counted.
pub const MAX_CHANGES: usize = 8;

/// Where a rule is.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RuleAt {
    pub file: String,
    pub line: u32,
    pub text: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    /// Same place in the chain, other text.
    Changed,
    /// Same text, another place in the chain.
    Moved,
    /// The chain's default verdict.
    Policy,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleChange {
    pub change: Change,
    pub table: String,
    pub chain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<RuleAt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<RuleAt>,
}

/// Connections of a requirement whose verdict changed, with one witness.
#[derive(Debug, Clone, Serialize)]
pub struct VerdictChange {
    pub direction: Direction,
    pub family: Family,
    pub before: Verdict,
    pub after: Verdict,
    pub witness: Witness,
    pub before_by: Vec<Culprit>,
    pub after_by: Vec<Culprit>,
    /// How many disjoint pieces changed this way.
    pub pieces: usize,
    /// The far end's addresses of the connections that changed (sources
    /// inbound and forwarded, destinations outbound), so an alert can say
    /// whom a change concerns: "rejected for 192.0.2.0/24".
    #[serde(skip)]
    pub peers: eval::IntervalSet,
    /// The far ends the requirement asks about: when `peers` holds them
    /// all, the change concerns everyone it could.
    #[serde(skip)]
    pub asked: eval::IntervalSet,
}

impl VerdictChange {
    /// The far ends the change concerns, or `None` for all that were asked about.
    pub fn some_peers(&self) -> Option<&eval::IntervalSet> {
        (!self.asked.is_subset(&self.peers)).then_some(&self.peers)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementDiff {
    pub policy: String,
    pub requirement: String,
    pub protocols: Vec<String>,
    pub ports: String,
    pub before: Status,
    pub after: Status,
    pub changes: Vec<VerdictChange>,
    /// Further changes not listed (beyond [`MAX_CHANGES`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub more: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Serialize)]
pub struct DiffReport {
    pub old: String,
    pub new: String,
    /// Rule by rule comparison needs the same format on both sides.
    pub same_format: bool,
    pub rules: Vec<RuleChange>,
    pub requirements: Vec<RequirementDiff>,
}

impl DiffReport {
    /// Equivalent for the policies: no requirement has a connection whose verdict changed.
    pub fn equivalent(&self) -> bool {
        self.requirements.iter().all(|r| r.changes.is_empty())
    }
}

/// Text with blanks collapsed, for comparing rules.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text a rule is compared and shown by: its span's. A span that opens
/// an XML element and stops at its name (a firewalld rule points at the
/// `<service` of its file) is taken through the end of the start tag, so
/// that `<service name="https"/>` and `<service name="http"/>` are not one
/// text.
fn rule_text<'a>(input: &'a Input, rule: &Rule) -> &'a str {
    let text = input.ruleset.text(&rule.span);
    if !text.starts_with('<') || text.contains('>') {
        return text;
    }
    let Some(source) = input.ruleset.sources.get(rule.span.file as usize) else {
        return text;
    };
    let start = rule.span.start as usize;
    let rest = source.text.get(start..).unwrap_or("");
    // A start tag longer than this is quoted as its span has it.
    match rest.char_indices().take(2000).find(|(_, c)| *c == '>') {
        Some((i, _)) => rest.get(..=i).unwrap_or(text),
        None => text,
    }
}

fn norm(input: &Input, rule: &Rule) -> String {
    words(rule_text(input, rule))
}

fn at(input: &Input, rule: &Rule) -> RuleAt {
    let text = rule_text(input, rule);
    RuleAt {
        file: input.ruleset.path(&rule.span).to_string(),
        line: rule.span.line,
        // A start tag over several lines is shown on one.
        text: if text.starts_with('<') {
            words(text)
        } else {
            text.trim().to_string()
        },
    }
}

/// The rules of each (table, chain), merged over families and with the
/// copies of one source rule (sets expanded, `inet` for both families)
/// counted once.
fn chains(input: &Input) -> Vec<(String, String, Vec<&Rule>, Option<String>)> {
    let mut out: Vec<(String, String, Vec<&Rule>, Option<String>)> = Vec::new();
    for t in &input.ruleset.tables {
        for c in &t.chains {
            let entry = match out
                .iter_mut()
                .position(|(tn, cn, _, _)| *tn == t.name && *cn == c.name)
            {
                Some(i) => &mut out[i],
                None => {
                    out.push((
                        t.name.clone(),
                        c.name.clone(),
                        Vec::new(),
                        c.policy.map(|p| format!("{p:?}").to_lowercase()),
                    ));
                    out.last_mut().expect("just pushed")
                }
            };
            for r in &c.rules {
                if !entry
                    .2
                    .iter()
                    .any(|seen| seen.span.start == r.span.start && seen.span.file == r.span.file)
                {
                    entry.2.push(r);
                }
            }
        }
    }
    out
}

/// Rule changes chain by chain: a longest common subsequence of the rule
/// texts, removals and additions at one place paired as changes, and the
/// same text removed in one place and added in another as a move.
pub fn rule_changes(old: &Input, new: &Input) -> Vec<RuleChange> {
    let (a, b) = (chains(old), chains(new));
    let mut out = Vec::new();
    // Every chain of either side, once, in the order met.
    let mut names: Vec<(String, String)> = Vec::new();
    for (t, c, _, _) in a.iter().chain(&b) {
        if !names.iter().any(|(nt, nc)| nt == t && nc == c) {
            names.push((t.clone(), c.clone()));
        }
    }
    for (table, chain) in names {
        let empty = (String::new(), String::new(), Vec::new(), None);
        let ca = a
            .iter()
            .find(|(t, c, _, _)| *t == table && *c == chain)
            .unwrap_or(&empty);
        let cb = b
            .iter()
            .find(|(t, c, _, _)| *t == table && *c == chain)
            .unwrap_or(&empty);
        let (ta, tb): (Vec<String>, Vec<String>) = (
            ca.2.iter().map(|r| norm(old, r)).collect(),
            cb.2.iter().map(|r| norm(new, r)).collect(),
        );
        let ops = lcs_diff(&ta, &tb);
        let mut removed: Vec<usize> = Vec::new();
        let mut added: Vec<usize> = Vec::new();
        let flush =
            |removed: &mut Vec<usize>, added: &mut Vec<usize>, out: &mut Vec<RuleChange>| {
                let (r, ad) = (std::mem::take(removed), std::mem::take(added));
                for (i, j) in r.iter().zip(ad.iter()) {
                    out.push(RuleChange {
                        change: Change::Changed,
                        table: table.clone(),
                        chain: chain.clone(),
                        old: Some(at(old, ca.2[*i])),
                        new: Some(at(new, cb.2[*j])),
                    });
                }
                for i in r.iter().skip(ad.len()) {
                    out.push(RuleChange {
                        change: Change::Removed,
                        table: table.clone(),
                        chain: chain.clone(),
                        old: Some(at(old, ca.2[*i])),
                        new: None,
                    });
                }
                for j in ad.iter().skip(r.len()) {
                    out.push(RuleChange {
                        change: Change::Added,
                        table: table.clone(),
                        chain: chain.clone(),
                        old: None,
                        new: Some(at(new, cb.2[*j])),
                    });
                }
            };
        let start = out.len();
        for op in ops {
            match op {
                Op::Same => flush(&mut removed, &mut added, &mut out),
                Op::Removed(i) => removed.push(i),
                Op::Added(j) => added.push(j),
            }
        }
        flush(&mut removed, &mut added, &mut out);
        // Pair a removal and an addition of the same text as a move.
        let mut i = start;
        while i < out.len() {
            if out[i].change == Change::Removed {
                let text = out[i].old.as_ref().map(|o| words(&o.text));
                if let Some(k) = (start..out.len()).find(|&k| {
                    out[k].change == Change::Added
                        && out[k].new.as_ref().map(|n| words(&n.text)) == text
                }) {
                    let new = out[k].new.clone();
                    out[i].change = Change::Moved;
                    out[i].new = new;
                    out.remove(k);
                    if k < i {
                        i -= 1;
                    }
                }
            }
            i += 1;
        }
        if ca.3 != cb.3 && ca.3.is_some() && cb.3.is_some() {
            out.push(RuleChange {
                change: Change::Policy,
                table: table.clone(),
                chain: chain.clone(),
                old: ca.3.clone().map(|p| RuleAt {
                    file: old.path.clone(),
                    line: 0,
                    text: p,
                }),
                new: cb.3.clone().map(|p| RuleAt {
                    file: new.path.clone(),
                    line: 0,
                    text: p,
                }),
            });
        }
    }
    out
}

enum Op {
    Same,
    Removed(usize),
    Added(usize),
}

/// The edit script between two sequences (longest common subsequence).
fn lcs_diff(a: &[String], b: &[String]) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    // Long chains: compare position by position rather than build an n×m table.
    if n.saturating_mul(m) > 4_000_000 {
        let mut ops = Vec::new();
        for k in 0..n.max(m) {
            match (a.get(k), b.get(k)) {
                (Some(x), Some(y)) if x == y => ops.push(Op::Same),
                (Some(_), Some(_)) => {
                    ops.push(Op::Removed(k));
                    ops.push(Op::Added(k));
                }
                (Some(_), None) => ops.push(Op::Removed(k)),
                (None, Some(_)) => ops.push(Op::Added(k)),
                (None, None) => {}
            }
        }
        return ops;
    }
    let mut len = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            len[i][j] = if a[i] == b[j] {
                len[i + 1][j + 1] + 1
            } else {
                len[i + 1][j].max(len[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::new();
    while i < n && j < m {
        if a[i] == b[j] {
            ops.push(Op::Same);
            i += 1;
            j += 1;
        } else if len[i + 1][j] >= len[i][j + 1] {
            ops.push(Op::Removed(i));
            i += 1;
        } else {
            ops.push(Op::Added(j));
            j += 1;
        }
    }
    ops.extend((i..n).map(Op::Removed));
    ops.extend((j..m).map(Op::Added));
    ops
}

/// Every interface either file or the policies mention, so both compile to
/// the same classes.
fn interfaces(old: &Input, new: &Input, policies: &[Policy]) -> Vec<Interface> {
    let mut out = check::interface_names(policies);
    let tables = old.ruleset.tables.iter().chain(&new.ruleset.tables);
    for m in tables
        .flat_map(|t: &Table| &t.chains)
        .flat_map(|c| &c.rules)
        .flat_map(|r| &r.matches)
    {
        if let Match::InInterface { interface, .. } | Match::OutInterface { interface, .. } = m
            && !out.contains(interface)
        {
            out.push(interface.clone());
        }
    }
    out
}

/// The region dimension of the far end of a connection: who connects in,
/// or where the host connects to.
fn peer_dimension(direction: Direction) -> usize {
    match direction {
        Direction::Outbound => eval::program::DST,
        _ => eval::program::SRC,
    }
}

/// The pieces of the two sides without their twins: a piece with no
/// assumptions that the other side has too, the same box with the same
/// verdict. Such a piece cannot be part of a change: a side's pieces
/// without assumptions are disjoint from all its other pieces (the walk
/// partitions the question; only pieces that forked at an unmodelled match
/// may overlap, and they carry assumptions), so a piece meets only its twin
/// on the other side, whose verdict is its own. A small edit leaves most
/// pieces as they were, and pairing only the rest keeps the diff of a 10k
/// rule file from comparing every piece with every other.
fn unchanged_dropped(before: Vec<Finding>, after: Vec<Finding>) -> (Vec<Finding>, Vec<Finding>) {
    let mut gone_before = vec![false; before.len()];
    let mut gone_after = vec![false; after.len()];
    {
        // Boxes hash by their ranges; SipHash was a fifth of a 10k rule
        // diff's instructions.
        let mut twins: std::collections::HashMap<
            (&eval::walk::Region, Verdict),
            Vec<usize>,
            crate::fx_hash::BuildFx,
        > = Default::default();
        for (i, y) in after.iter().enumerate() {
            if y.assumed.is_empty() {
                twins.entry((&y.region, y.verdict)).or_default().push(i);
            }
        }
        for (j, x) in before.iter().enumerate() {
            if !x.assumed.is_empty() {
                continue;
            }
            if let Some(i) = twins.get_mut(&(&x.region, x.verdict)).and_then(Vec::pop) {
                if let Some(g) = gone_after.get_mut(i) {
                    *g = true;
                }
                if let Some(g) = gone_before.get_mut(j) {
                    *g = true;
                }
            }
        }
    }
    let keep = |v: Vec<Finding>, gone: Vec<bool>| -> Vec<Finding> {
        v.into_iter()
            .zip(gone)
            .filter_map(|(f, g)| (!g).then_some(f))
            .collect()
    };
    (keep(before, gone_before), keep(after, gone_after))
}

/// The semantic difference of two parsed files for the policies.
pub fn diff(old: &Input, new: &Input, policies: &[Policy]) -> DiffReport {
    diff_on(old, new, policies, 1)
}

/// [`diff`] on up to `threads` threads: the two sides' checks side by
/// side, then the requirements, each on its own (the report is the same
/// whatever the threads).
pub fn diff_on(old: &Input, new: &Input, policies: &[Policy], threads: usize) -> DiffReport {
    let names = interfaces(old, new, policies);
    let families: Vec<Family> = [Family::Ipv4, Family::Ipv6]
        .into_iter()
        .filter(|f| old.ruleset.families.contains(f) && new.ruleset.families.contains(f))
        .collect();
    let progs: Vec<(Program, Program)> = families
        .iter()
        .map(|f| {
            (
                Program::compile(&old.ruleset, *f, &names),
                Program::compile(&new.ruleset, *f, &names),
            )
        })
        .collect();
    let mut checks = crate::in_order::map_in_order(&[old, new], threads, |side| {
        check::check_input(side, policies)
    })
    .into_iter();
    // A side whose check panicked (the message is printed) fails the diff
    // as its own panic would have.
    let (Some(Some(before)), Some(Some(after))) = (checks.next(), checks.next()) else {
        panic!("the check of one side of the diff failed");
    };
    let reqs: Vec<(usize, &Policy, &Requirement)> = policies
        .iter()
        .flat_map(|p| p.requirements.iter().map(move |r| (p, r)))
        .enumerate()
        .map(|(i, (p, r))| (i, p, r))
        .collect();
    let one = |&(index, p, req): &(usize, &Policy, &Requirement)| -> RequirementDiff {
        let (b, a) = (&before.results[index], &after.results[index]);
        let mut groups: Vec<ChangeGroup> = Vec::new();
        let mut total: usize = 0;
        for scope in &req.scopes {
            for (pa, pb) in &progs {
                if !check::families_of(scope).contains(&pa.family) {
                    continue;
                }
                for &protocol in &req.protocols {
                    let q = check::query(req, scope, pa.family, protocol).question(pa);
                    let (fa, fb) = unchanged_dropped(
                        eval::connection::evaluate(pa, &q),
                        eval::connection::evaluate(pb, &q),
                    );
                    for x in &fa {
                        for y in fb.iter().filter(|y| y.verdict != x.verdict) {
                            if !eval::connection::overlaps(&x.region, &y.region) {
                                continue;
                            }
                            let Some(region) = eval::connection::intersect(&x.region, &y.region)
                            else {
                                continue;
                            };
                            total += 1;
                            let (sx, sy) = (check::culprit_steps(x), check::culprit_steps(y));
                            let dim = peer_dimension(scope.direction);
                            let (peers, asked) = (&region[dim], &q.region[dim]);
                            if let Some(g) = groups.iter_mut().find(|g| {
                                g.0 == sx && g.1 == sy && g.2 == x.verdict && g.3 == y.verdict
                            }) {
                                g.4.pieces += 1;
                                g.4.peers = g.4.peers.union(peers);
                                g.4.asked = g.4.asked.union(asked);
                                continue;
                            }
                            let tcp = protocol == 6;
                            let change = VerdictChange {
                                direction: scope.direction,
                                family: pa.family,
                                before: x.verdict,
                                after: y.verdict,
                                witness: eval::witness(pa, scope.direction, &region),
                                before_by: check::culprits(old, pa, &sx, tcp),
                                after_by: check::culprits(new, pb, &sy, tcp),
                                pieces: 1,
                                peers: peers.clone(),
                                asked: asked.clone(),
                            };
                            groups.push((sx, sy, x.verdict, y.verdict, change));
                        }
                    }
                }
            }
        }
        let shown: Vec<VerdictChange> = groups.into_iter().map(|g| g.4).take(MAX_CHANGES).collect();
        let listed: usize = shown.iter().map(|c| c.pieces).sum();
        RequirementDiff {
            policy: p.name.clone(),
            requirement: req.id.clone(),
            protocols: req.protocol_names(),
            ports: req.ports_text(),
            before: b.status,
            after: a.status,
            more: total.saturating_sub(listed),
            changes: shown,
        }
    };
    let requirements: Vec<RequirementDiff> = crate::in_order::map_in_order(&reqs, threads, one)
        .into_iter()
        .map(|r| r.unwrap_or_else(|| panic!("the diff of a requirement failed")))
        .collect();
    let same_format = old.format == new.format;
    let rules = if same_format {
        rule_changes(old, new)
    } else {
        Vec::new()
    };
    DiffReport {
        old: old.path.clone(),
        new: new.path.clone(),
        same_format,
        rules,
        requirements,
    }
}

pub fn render_human(d: &DiffReport) -> String {
    let mut out = format!("{} -> {}\n", d.old, d.new);
    if !d.same_format {
        out.push_str("\nThe files are in different formats: rules are not compared one by one, only what they do.\n");
    } else if d.rules.is_empty() {
        out.push_str("\nNo rule changed.\n");
    } else {
        out.push_str("\nRules:\n");
        for r in &d.rules {
            let place = |a: &Option<RuleAt>| {
                a.as_ref()
                    .map(|a| {
                        if a.line > 0 {
                            format!("{}:{}", a.file, a.line)
                        } else {
                            a.file.clone()
                        }
                    })
                    .unwrap_or_default()
            };
            let text = |a: &Option<RuleAt>| a.as_ref().map(|a| a.text.clone()).unwrap_or_default();
            let line = match r.change {
                Change::Added => format!("  + {}  {}", place(&r.new), text(&r.new)),
                Change::Removed => format!("  - {}  {}", place(&r.old), text(&r.old)),
                Change::Changed => format!(
                    "  ~ {} -> {}  {}  =>  {}",
                    place(&r.old),
                    place(&r.new),
                    text(&r.old),
                    text(&r.new)
                ),
                Change::Moved => format!(
                    "  > {} -> {}  {}",
                    place(&r.old),
                    place(&r.new),
                    text(&r.new)
                ),
                Change::Policy => format!("  policy {} -> {}", text(&r.old), text(&r.new)),
            };
            out.push_str(&format!("{line}   ({} {})\n", r.table, r.chain));
        }
    }
    let changed: Vec<&RequirementDiff> = d
        .requirements
        .iter()
        .filter(|r| !r.changes.is_empty())
        .collect();
    if changed.is_empty() {
        out.push_str(&format!("\nEquivalent for the policies: no connection of the {} requirements changes its verdict.\n", d.requirements.len()));
        return out;
    }
    out.push_str("\nConnections whose verdict changes:\n");
    for r in &changed {
        out.push_str(&format!(
            "  {}/{}: {} -> {}\n",
            r.policy,
            r.requirement,
            r.before.mark(),
            r.after.mark()
        ));
        for c in &r.changes {
            let dir = format!("{:?}", c.direction).to_lowercase();
            let by = |list: &[Culprit]| {
                list.first()
                    .map(|k| format!("{}:{} `{}`", k.file, k.line, k.text.trim()))
                    .unwrap_or_else(|| "-".into())
            };
            out.push_str(&format!(
                "    {}/{} {dir} ({}): {} -> {}, caused by {} (before: {})\n      witness: {}{}\n",
                c.witness.protocol,
                c.witness.dport,
                c.family.name(),
                c.before.name(),
                c.after.name(),
                by(&c.after_by),
                by(&c.before_by),
                c.witness,
                if c.pieces > 1 {
                    format!(" ({} disjoint parts change this way)", c.pieces)
                } else {
                    String::new()
                }
            ));
        }
        if r.more > 0 {
            out.push_str(&format!("    {} more parts change, not shown\n", r.more));
        }
    }
    out
}

/// One kind of verdict change: the rules that decide before and after, the
/// verdicts before and after, and the change.
type ChangeGroup = (
    Vec<eval::Decision>,
    Vec<eval::Decision>,
    Verdict,
    Verdict,
    VerdictChange,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{InputFormat, parse_text};

    /// Every pair of pieces, one from each side, that share connections
    /// and differ in verdict: what `diff` groups into its changes. Sorted,
    /// with the common box and both deciding lists, so two lists compare.
    fn changed_pairs(before: &[Finding], after: &[Finding]) -> Vec<String> {
        let mut out = Vec::new();
        for x in before {
            for y in after.iter().filter(|y| y.verdict != x.verdict) {
                if let Some(common) = eval::connection::intersect(&x.region, &y.region) {
                    out.push(format!(
                        "{:?} -> {:?} {common:?} {:?} {:?} {:?} {:?}",
                        x.verdict, y.verdict, x.decided, y.decided, x.assumed, y.assumed
                    ));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn dropping_twins_keeps_every_changed_pair() {
        use crate::eval::{InterfaceSet, Query, set::IntervalSet};
        let rules = |body: &str| {
            format!(
                "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n{body}COMMIT\n"
            )
        };
        let base = "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n\
                    -A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT\n\
                    -A INPUT -p tcp -m multiport --dports 80,443,8000:8100 -j ACCEPT\n\
                    -A INPUT -s 192.168.1.0/24 -p udp --dport 53 -j ACCEPT\n\
                    -A INPUT -p tcp --dport 3306 -m recent --rcheck -j ACCEPT\n\
                    -A INPUT -p tcp --dport 1024:2048 -j REJECT\n\
                    -A OUTPUT -d 203.0.113.0/24 -j DROP\n";
        // Each edit: one rule changed, added or removed, and one that
        // touches only what nothing asks about.
        let edits: Vec<String> = vec![
            base.replace("--dport 22 -j ACCEPT", "--dport 22 -j DROP"),
            base.replace("8000:8100", "8000:8200"),
            base.replace(
                "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n",
                "",
            ),
            format!("-A INPUT -s 10.1.2.3 -j DROP\n{base}"),
            base.replace("--rcheck -j ACCEPT", "--rcheck -j DROP"),
            base.replace("-A OUTPUT -d 203.0.113.0/24 -j DROP\n", ""),
            base.replace("--dport 53 -j ACCEPT", "--dport 54 -j ACCEPT"),
            base.to_string(),
        ];
        let questions = |proto: u8, direction: Direction| Query {
            direction,
            protocol: proto,
            src: None,
            dst: None,
            sport: None,
            dport: IntervalSet::range(1, 65535),
            iif: InterfaceSet::named(vec!["eth0".into()]),
            oif: InterfaceSet::default(),
        };
        let (mut pairs, mut dropped) = (0, 0);
        let old = parse_text("old.rules", &rules(base), InputFormat::Iptables);
        for edit in &edits {
            let new = parse_text("new.rules", &rules(edit), InputFormat::Iptables);
            assert!(
                old.errors.is_empty() && new.errors.is_empty(),
                "{:?}",
                new.errors
            );
            for q in [
                questions(6, Direction::Inbound),
                questions(17, Direction::Inbound),
                questions(6, Direction::Outbound),
            ] {
                let names = q.interfaces();
                let pa = Program::compile(&old.ruleset, Family::Ipv4, &names);
                let pb = Program::compile(&new.ruleset, Family::Ipv4, &names);
                let (fa, fb) = (
                    eval::connection::evaluate(&pa, &q.question(&pa)),
                    eval::connection::evaluate(&pb, &q.question(&pb)),
                );
                let want = changed_pairs(&fa, &fb);
                let (da, db) = unchanged_dropped(fa.clone(), fb.clone());
                assert_eq!(changed_pairs(&da, &db), want, "edit:\n{edit}");
                pairs += want.len();
                dropped += fa.len() - da.len();
            }
        }
        // The edits change verdicts, and most pieces are left as they were.
        assert!(pairs > 0 && dropped > 0, "{pairs} pairs, {dropped} dropped");
    }

    #[test]
    fn firewalld_rules_are_told_apart_by_their_whole_start_tag() {
        let zone = |services: &[&str]| {
            let mut t = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>\n");
            for s in services {
                t += &format!("  <service\n    name=\"{s}\"/>\n");
            }
            t + "</zone>\n"
        };
        let path = "/etc/firewalld/zones/public.xml";
        let old = parse_text(
            path,
            &zone(&["ssh", "https", "http"]),
            InputFormat::Firewalld,
        );
        let new = parse_text(path, &zone(&["ssh", "http"]), InputFormat::Firewalld);
        assert!(old.errors.is_empty() && new.errors.is_empty());
        type Place = Option<(u32, String)>;
        let changes: Vec<(Change, Place, Place)> = rule_changes(&old, &new)
            .into_iter()
            .map(|c| {
                let at = |a: &Option<RuleAt>| a.as_ref().map(|a| (a.line, a.text.clone()));
                (c.change, at(&c.old), at(&c.new))
            })
            .collect();
        // https went (line 5); http moved up from line 7 to 5.
        assert!(
            changes.contains(&(
                Change::Removed,
                Some((5, "<service name=\"https\"/>".into())),
                None
            )),
            "{changes:#?}"
        );
        assert!(
            !changes.iter().any(|(_, o, n)| [o, n].iter().any(|a| a
                .as_ref()
                .is_some_and(|(_, t)| t.contains("http\"") || t.contains("ssh")))),
            "http and ssh did not change: {changes:#?}"
        );
    }
}
