//! The policy check: every requirement of every policy against every
//! input, with the witness connections and the rules behind each result.

use super::model::{CatalogRef, Expect, Policy, Requirement};
use super::role::{AddressSet, DirectionSpec, Scope};
use crate::eval::{self, Direction, Finding, Pieces, Program, Query, Verdict, Witness};
use crate::input::Input;
use driftwall_parsers::model::{Family, Interface};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// Some part of the set depends on something we do not model.
    Indeterminate,
    Fail,
}

impl Status {
    /// As JSON and the state file write it.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Indeterminate => "indeterminate",
            Status::Fail => "fail",
        }
    }

    /// As the human reports write it: what needs attention stands out.
    pub fn mark(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Indeterminate => "INDETERMINATE",
            Status::Fail => "FAIL",
        }
    }
}

impl std::fmt::Display for Status {
    /// The name, padded as the format asks (the baseline listing aligns it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// What decided a connection: a rule, or the chain's default verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CulpritKind {
    Rule,
    Policy,
}

impl CulpritKind {
    pub fn name(self) -> &'static str {
        match self {
            CulpritKind::Rule => "rule",
            CulpritKind::Policy => "policy",
        }
    }
}

/// A rule or chain policy that decided a failing connection.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Culprit {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub text: String,
    pub table: String,
    pub chain: String,
    /// A rule, or the chain's policy (its default verdict).
    pub kind: CulpritKind,
    /// Which packet of the connection it stopped or let through.
    pub phase: &'static str,
}

/// One way a requirement is not met: a direction, protocol and family, a
/// witness connection, and the rules behind it.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub direction: Direction,
    pub family: Family,
    pub status: Status,
    pub verdict: Verdict,
    pub witness: Witness,
    pub culprits: Vec<Culprit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How many disjoint pieces of the set fail this way.
    pub pieces: usize,
    /// Further ways of failing not listed (beyond [`MAX_FAILURES`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub more: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementResult {
    pub policy: String,
    pub requirement: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub expect: Expect,
    pub status: Status,
    pub protocols: Vec<String>,
    pub ports: String,
    /// The concrete directions checked.
    pub directions: Vec<Direction>,
    /// The directions as the policy writes them (egress, ingress and local
    /// depend on the role).
    pub direction: Vec<DirectionSpec>,
    /// The catalog rows behind the ports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub catalog: Vec<CatalogRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub used_by: Vec<String>,
    pub policy_file: String,
    pub policy_line: u32,
    pub policy_column: u32,
    /// Families the requirement speaks of that the input does not cover.
    pub not_covered: Vec<Family>,
    pub failures: Vec<Failure>,
}

#[derive(Debug, Serialize)]
pub struct InputReport {
    pub path: String,
    pub families: Vec<Family>,
    pub rules: usize,
    /// Parts of the input read but not evaluated (nftables bridge, arp and
    /// netdev tables, dormant tables, ingress chains), with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_evaluated: Vec<NotEvaluated>,
    pub results: Vec<RequirementResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotEvaluated {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub what: String,
}

pub(crate) fn families_of(scope: &Scope) -> Vec<Family> {
    let nets: Vec<&IpNet> = scope
        .to
        .only
        .iter()
        .chain(scope.from.only.iter())
        .flatten()
        .collect();
    if nets.is_empty() {
        return vec![Family::Ipv4, Family::Ipv6];
    }
    let mut f = Vec::new();
    if nets.iter().any(|n| matches!(n, IpNet::V4(_))) {
        f.push(Family::Ipv4);
    }
    if nets.iter().any(|n| matches!(n, IpNet::V6(_))) {
        f.push(Family::Ipv6);
    }
    f
}

fn net_set(nets: &AddressSet, family: Family) -> Option<eval::IntervalSet> {
    let of = |list: &[IpNet]| {
        let ranges = list
            .iter()
            .filter(|n| {
                matches!(
                    (family, n),
                    (Family::Ipv4, IpNet::V4(_)) | (Family::Ipv6, IpNet::V6(_))
                )
            })
            .map(eval::program::net_range)
            .collect();
        eval::IntervalSet::from_ranges(ranges)
    };
    if nets.only.is_none() && nets.except.is_empty() {
        return None;
    }
    let base = match &nets.only {
        Some(list) => of(list),
        None => eval::IntervalSet::range(0, eval::program::address_max(family)),
    };
    Some(base.subtract(&of(&nets.except)))
}

/// Connections of one direction and protocol that several requirements ask
/// about: evaluated once over the union of their sets, then cut per
/// requirement, because most of the work (the rules every packet meets) is
/// the same for all of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    family: Family,
    direction: Direction,
    protocol: u8,
    iif: eval::InterfaceSet,
    oif: eval::InterfaceSet,
    /// Requirements over wide port ranges go apart: joined with narrow ones
    /// they make every port-specific rule split the union.
    wide: bool,
}

fn is_wide(req: &Requirement) -> bool {
    req.ports
        .iter()
        .map(|(a, b)| (*b as u32) - (*a as u32) + 1)
        .sum::<u32>()
        > 256
}

/// Addresses no packet has on a wire other than loopback's: the kernel
/// drops them as martians (loopback sources and destinations), a
/// connection to the unspecified address goes to the host itself, and an
/// IPv6 socket sends to an IPv4-mapped address as IPv4. A question about
/// interfaces that are not `lo` leaves them out, so no witness is a packet
/// that cannot exist (`[::1]` or `[::]` out on eth0).
fn off_the_wire(family: Family) -> eval::IntervalSet {
    let nets: &[&str] = match family {
        Family::Ipv4 => &["127.0.0.0/8", "0.0.0.0/32"],
        Family::Ipv6 => &["::/128", "::1/128", "::ffff:0:0/96"],
    };
    eval::IntervalSet::from_ranges(
        nets.iter()
            .filter_map(|n| n.parse::<IpNet>().ok())
            .map(|n| eval::program::net_range(&n))
            .collect(),
    )
}

/// Whether an interface set can hold loopback (`lo`, or a wildcard such as
/// `l+`); the unnamed set is every interface but loopback.
fn may_be_loopback(set: &eval::InterfaceSet) -> bool {
    set.only.as_ref().is_some_and(|list| {
        list.iter()
            .any(|i| i.name == "lo" || (i.wildcard && "lo".starts_with(i.name.as_str())))
    })
}

/// The query of one requirement's scope for one family and protocol.
pub(crate) fn query(req: &Requirement, scope: &Scope, family: Family, protocol: u8) -> Query {
    let on_wire = match scope.direction {
        Direction::Inbound => !may_be_loopback(&scope.iif),
        Direction::Outbound => !may_be_loopback(&scope.oif),
        Direction::Forward => !may_be_loopback(&scope.iif) && !may_be_loopback(&scope.oif),
    };
    let addresses = |nets: &AddressSet| {
        let set = net_set(nets, family);
        if !on_wire {
            return set;
        }
        let all =
            set.unwrap_or_else(|| eval::IntervalSet::range(0, eval::program::address_max(family)));
        Some(all.subtract(&off_the_wire(family)))
    };
    Query {
        direction: scope.direction,
        protocol,
        src: addresses(&scope.from),
        dst: addresses(&scope.to),
        sport: None,
        dport: eval::IntervalSet::from_ranges(
            req.ports
                .iter()
                .map(|(a, b)| (*a as u128, *b as u128))
                .collect(),
        ),
        iif: scope.iif.clone(),
        oif: scope.oif.clone(),
    }
}

fn key_of(req: &Requirement, scope: &Scope, family: Family, protocol: u8) -> GroupKey {
    GroupKey {
        family,
        direction: scope.direction,
        protocol,
        iif: scope.iif.clone(),
        oif: scope.oif.clone(),
        wide: is_wide(req),
    }
}

/// The smallest query covering all of `qs` (same direction, protocol and interfaces).
fn union(qs: &[Query]) -> Option<Query> {
    let mut it = qs.iter();
    let mut u = it.next()?.clone();
    let join = |a: &Option<eval::IntervalSet>, b: &Option<eval::IntervalSet>| match (a, b) {
        (Some(x), Some(y)) => Some(x.union(y)),
        _ => None,
    };
    for q in it {
        u.src = join(&u.src, &q.src);
        u.dst = join(&u.dst, &q.dst);
        u.dport = u.dport.union(&q.dport);
    }
    Some(u)
}

/// Interface names the requirements mention, so they get classes of their own.
pub(crate) fn interface_names(policies: &[Policy]) -> Vec<Interface> {
    policies
        .iter()
        .flat_map(|p| &p.requirements)
        .flat_map(|r| &r.scopes)
        .flat_map(|s| [&s.iif, &s.oif])
        .flat_map(|set| set.only.iter().flatten().chain(set.except.iter()))
        .cloned()
        .collect()
}

/// Checks every requirement of `policies` against one parsed input.
pub fn check_input(input: &Input, policies: &[Policy]) -> InputReport {
    let names = interface_names(policies);
    let programs: Vec<Program> = input
        .ruleset
        .families
        .iter()
        .map(|f| Program::compile(&input.ruleset, *f, &names))
        .collect();
    check_compiled(input, &programs, policies, 1)
}

/// Like [`check_input`], freeing the parsed rules while compiling them:
/// what the command uses, so a big ruleset is not held twice. The
/// independent questions are evaluated on up to `threads` threads.
pub fn check_input_owned(mut input: Input, policies: &[Policy], threads: usize) -> InputReport {
    let names = interface_names(policies);
    let mut tables = std::mem::take(&mut input.ruleset.tables);
    let mut programs = Vec::new();
    for &family in &input.ruleset.families {
        let (mine, rest): (Vec<_>, Vec<_>) = tables.into_iter().partition(|t| t.family == family);
        tables = rest;
        programs.push(Program::compile_owned(mine, family, &names));
    }
    check_compiled(&input, &programs, policies, threads)
}

fn check_compiled(
    input: &Input,
    programs: &[Program],
    policies: &[Policy],
    threads: usize,
) -> InputReport {
    // Evaluate each group of like questions once.
    let reqs: Vec<(&Policy, &Requirement)> = policies
        .iter()
        .flat_map(|p| p.requirements.iter().map(move |r| (p, r)))
        .collect();
    let mut groups: Vec<(GroupKey, Vec<(usize, Query)>)> = Vec::new();
    for (i, (_, req)) in reqs.iter().enumerate() {
        for scope in &req.scopes {
            for family in families_of(scope)
                .into_iter()
                .filter(|f| programs.iter().any(|p| p.family == *f))
            {
                for &protocol in &req.protocols {
                    let key = key_of(req, scope, family, protocol);
                    let q = (i, query(req, scope, family, protocol));
                    match groups.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, qs)) => qs.push(q),
                        None => groups.push((key, vec![q])),
                    }
                }
            }
        }
    }
    // Each group is evaluated alone, so only as many groups' partitions
    // are in memory as there are threads; the groups' failures are joined
    // in the groups' order, whatever the threads, so reports do not depend
    // on them.
    let per_group = |(key, qs): &(GroupKey, Vec<(usize, Query)>)| -> GroupFailures {
        let Some(prog) = programs.iter().find(|p| p.family == key.family) else {
            return Vec::new();
        };
        let Some(u) = union(&qs.iter().map(|(_, q)| q.clone()).collect::<Vec<_>>()) else {
            return Vec::new();
        };
        let whole = u.question(prog);
        // The requirements of this group, each with its part of the union.
        let mut mine: Vec<Asking> = qs
            .iter()
            .map(|(i, q)| {
                let region = q.question(prog).region;
                Asking {
                    req: *i,
                    expect: reqs[*i].1.expect,
                    // Requirements of a group differ mostly in their ports
                    // alone.
                    differs: (0..eval::program::REGION_DIMS)
                        .filter(|&d| region.get(d) != whole.region.get(d))
                        .collect(),
                    region,
                    breaks: Breaks::default(),
                }
            })
            .collect();
        // Each piece is cut against every requirement as it comes, and only
        // a summary of what breaks each one is kept.
        eval::connection::evaluate_each(prog, &whole, &mut |p| {
            for a in mine.iter_mut() {
                let Some(status) = status_of(a.expect, p.verdict) else {
                    continue;
                };
                // Every piece is part of the question: it meets the
                // requirement where that asks all the question does.
                let mut meeting = p
                    .boxes
                    .iter()
                    .filter(|r| a.differs.iter().all(|&d| r[d].intersects(&a.region[d])));
                if let Some(first) = meeting.next() {
                    let more = meeting.count();
                    a.breaks
                        .add(prog, key.direction, status, &a.region, &p, first, 1 + more);
                }
            }
        });
        mine.into_iter()
            .map(|a| {
                let failures = a.breaks.failures(input, prog, key.direction);
                (a.req, failures)
            })
            .collect()
    };
    // The wide questions, which make the most pieces, are taken first: a
    // thread that meets one last holds up the file while the others idle.
    // The results are put back in the groups' order before they are joined.
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&g| groups.get(g).is_none_or(|(key, _)| !key.wide));
    let mut by_group: Vec<Option<GroupFailures>> = vec![None; groups.len()];
    let evaluated = crate::in_order::map_in_order(&order, threads, |&g| {
        groups.get(g).map(&per_group).unwrap_or_default()
    });
    for (&g, done) in order.iter().zip(evaluated) {
        if let Some(slot) = by_group.get_mut(g) {
            *slot = done;
        }
    }
    let mut failures: Vec<Vec<Failure>> = vec![Vec::new(); reqs.len()];
    for done in by_group {
        // A group whose evaluation panicked (its message already printed)
        // fails the whole file, as the file's own panic would: a result
        // without it would pass requirements nobody checked.
        let Some(done) = done else {
            panic!("the evaluation of a group of requirements failed");
        };
        for (i, f) in done {
            failures[i].extend(f);
        }
    }
    let results = reqs
        .iter()
        .zip(failures)
        .map(|((policy, req), failures)| {
            let mut not_covered: Vec<Family> = req
                .scopes
                .iter()
                .flat_map(families_of)
                .filter(|f| !programs.iter().any(|p| p.family == *f))
                .collect();
            not_covered.sort();
            not_covered.dedup();
            let status = failures
                .iter()
                .map(|f| f.status)
                .max()
                .unwrap_or(Status::Pass);
            RequirementResult {
                policy: policy.name.clone(),
                requirement: req.id.clone(),
                title: req.title.clone(),
                expect: req.expect,
                status,
                protocols: req.protocol_names(),
                ports: req.ports_text(),
                directions: req.directions(),
                direction: req.direction.clone(),
                catalog: req.catalog.clone(),
                used_by: req.used_by.clone(),
                policy_file: req.place.path.clone(),
                policy_line: req.place.line,
                policy_column: req.place.column,
                not_covered,
                failures,
            }
        })
        .collect();
    let rules = programs
        .iter()
        .flat_map(|p| &p.chains)
        .map(|c| c.rules.len())
        .sum();
    let not_evaluated = input
        .ruleset
        .skipped
        .iter()
        .map(|k| NotEvaluated {
            file: input.ruleset.path(&k.span).to_string(),
            line: k.span.line,
            column: k.span.column,
            what: k.what.clone(),
        })
        .collect();
    InputReport {
        path: input.path.clone(),
        families: input.ruleset.families.clone(),
        rules,
        not_evaluated,
        results,
    }
}

/// What a group of like questions found: per requirement (its place in
/// the file's list), its failures.
type GroupFailures = Vec<(usize, Vec<Failure>)>;

/// One requirement of a group of like questions, and what breaks it.
struct Asking {
    req: usize,
    expect: Expect,
    /// Its part of the group's question.
    region: eval::walk::Region,
    /// The dimensions where it asks less than the whole question.
    differs: Vec<usize>,
    breaks: Breaks,
}

/// How many distinct ways of failing are reported per requirement,
/// direction, protocol and family; the rest are counted.
pub const MAX_FAILURES: usize = 8;

/// What breaks one requirement: the pieces grouped by what decided them
/// (a map, since a long block list can give thousands of groups), each with
/// a witness taken from its first piece.
#[derive(Default)]
struct Breaks {
    /// Per verdict, the group of each list of deciding rules.
    index: [std::collections::HashMap<Rc<[eval::Decision]>, usize, crate::fx_hash::BuildFx>; 4],
    groups: Vec<Break>,
    /// The pieces of a branch come one after another and share their lists
    /// of decisions: the group of the last piece, found again without
    /// hashing.
    last: Option<LastGroup>,
}

/// The decisions and trail of the last piece, its verdict, and its group.
type LastGroup = (Rc<[eval::Decision]>, Rc<[eval::Decision]>, Verdict, usize);

struct Break {
    steps: Rc<[eval::Decision]>,
    verdict: Verdict,
    status: Status,
    witness: eval::WitnessValues,
    tcp: bool,
    reason: Option<String>,
    pieces: usize,
}

fn verdict_index(v: Verdict) -> usize {
    match v {
        Verdict::Allow => 0,
        Verdict::Reject => 1,
        Verdict::Drop => 2,
        Verdict::Indeterminate => 3,
    }
}

impl Breaks {
    /// Adds the `count` pieces of `f` that meet `mine`, the requirement's
    /// region, the first of them `first`.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        prog: &Program,
        direction: Direction,
        status: Status,
        mine: &eval::walk::Region,
        f: &Pieces<'_>,
        first: &eval::walk::Region,
        count: usize,
    ) {
        if let Some((decided, assumed, verdict, g)) = &self.last
            && *verdict == f.verdict
            && Rc::ptr_eq(decided, f.decided)
            && Rc::ptr_eq(assumed, f.assumed)
            && let Some(group) = self.groups.get_mut(*g)
        {
            group.pieces += count;
            return;
        }
        let steps = steps_of(f.verdict, f.decided, f.assumed);
        let Some(index) = self.index.get_mut(verdict_index(f.verdict)) else {
            return;
        };
        let g = match index.get(steps.as_slice()) {
            Some(&g) => {
                if let Some(group) = self.groups.get_mut(g) {
                    group.pieces += count;
                }
                g
            }
            None => {
                // The witness is taken from the first piece of a group,
                // from its part in the requirement (without cutting it out:
                // a long block list makes thousands of groups).
                let Some(witness) = eval::witness_values_within(prog, direction, first, mine)
                else {
                    return;
                };
                let tcp = first[eval::program::PROTO]
                    .first_common(&mine[eval::program::PROTO])
                    .is_some_and(|r| r.0 == 6);
                let steps: Rc<[eval::Decision]> = steps.into();
                let g = self.groups.len();
                index.insert(steps.clone(), g);
                self.groups.push(Break {
                    steps,
                    verdict: f.verdict,
                    status,
                    witness,
                    tcp,
                    reason: f.reason.clone(),
                    pieces: count,
                });
                g
            }
        };
        self.last = Some((f.decided.clone(), f.assumed.clone(), f.verdict, g));
    }

    /// The failures to report: failures before indeterminate results, the
    /// most common first, at most [`MAX_FAILURES`].
    fn failures(self, input: &Input, prog: &Program, direction: Direction) -> Vec<Failure> {
        // The groups are thousands and a few are reported: those are
        // picked in one pass, failures before indeterminate results, most
        // pieces first, and of equals the one met first.
        let order = first_ranked(MAX_FAILURES, self.groups.len(), |i| {
            self.groups
                .get(i)
                .map(|g| (std::cmp::Reverse(g.status), std::cmp::Reverse(g.pieces)))
        });
        let total = self.groups.len();
        let mut out: Vec<Failure> = order
            .into_iter()
            .filter_map(|i| self.groups.get(i))
            .map(|g| Failure {
                direction,
                family: prog.family,
                status: g.status,
                verdict: g.verdict,
                witness: g.witness.render(prog),
                culprits: culprits(input, prog, &g.steps, g.tcp),
                reason: g.reason.clone(),
                pieces: g.pieces,
                more: 0,
            })
            .collect();
        if let Some(last) = out.last_mut() {
            last.more = total.saturating_sub(MAX_FAILURES);
        }
        out
    }
}

/// The places of the first `n` of `len` items in the order of `rank`, ties
/// in the order of the places (what a stable sort would put first), in one
/// pass: the items are thousands and `n` is a few.
fn first_ranked<K: Ord>(n: usize, len: usize, rank: impl Fn(usize) -> K) -> Vec<usize> {
    let key = |i: usize| (rank(i), i);
    let mut first: Vec<usize> = Vec::with_capacity(n + 1);
    for i in 0..len {
        let k = key(i);
        if first.len() == n && first.last().is_none_or(|&l| k >= key(l)) {
            continue;
        }
        let at = first.partition_point(|&j| key(j) < k);
        first.insert(at, i);
        first.truncate(n);
    }
    first
}

/// How a piece with this verdict stands against the requirement; `None` if it meets it.
fn status_of(expect: Expect, verdict: Verdict) -> Option<Status> {
    match (expect, verdict) {
        (_, Verdict::Indeterminate) => Some(Status::Indeterminate),
        (Expect::Allow, Verdict::Allow) | (Expect::Deny, Verdict::Drop | Verdict::Reject) => None,
        _ => Some(Status::Fail),
    }
}

/// The decisions that explain a piece's verdict, the main one first: what
/// blocked it (and what blocked a REJECT's response), what let it through,
/// or what could not be modelled.
pub(crate) fn culprit_steps(f: &Finding) -> Vec<eval::Decision> {
    steps_of(f.verdict, &f.decided, &f.assumed)
}

/// [`culprit_steps`] of pieces with this verdict, decisions and assumptions.
fn steps_of(
    verdict: Verdict,
    decided: &[eval::Decision],
    assumed: &[eval::Decision],
) -> Vec<eval::Decision> {
    match verdict {
        Verdict::Indeterminate if !assumed.is_empty() => assumed.to_vec(),
        Verdict::Indeterminate => decided.iter().rev().take(1).copied().collect(),
        Verdict::Allow => decided.iter().filter(|d| d.accepts).copied().collect(),
        Verdict::Drop | Verdict::Reject => decided.iter().filter(|d| !d.accepts).copied().collect(),
    }
}

/// The culprits of a list of decisions, each told once: two decisions
/// can read the same (a pf anchor's rules share its line, and a piece
/// whose verdict rests on unmodelled matches names every one it met), and
/// the reader would see the same rule twice.
pub fn culprits(
    input: &Input,
    prog: &Program,
    steps: &[eval::Decision],
    tcp: bool,
) -> Vec<Culprit> {
    let mut out: Vec<Culprit> = Vec::with_capacity(steps.len());
    for c in steps.iter().map(|d| culprit(input, prog, *d, tcp)) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

pub fn culprit(input: &Input, prog: &Program, d: eval::Decision, tcp: bool) -> Culprit {
    let phase = phase_name(d.phase, tcp);
    let Some(chain) = prog.chains.get(d.chain as usize) else {
        return Culprit {
            file: input.path.clone(),
            line: 0,
            column: 0,
            text: String::new(),
            table: String::new(),
            chain: String::new(),
            kind: CulpritKind::Rule,
            phase,
        };
    };
    let (span, kind) = match d.rule.and_then(|r| chain.rules.get(r as usize)) {
        Some(rule) => (rule.span, CulpritKind::Rule),
        None => (chain.span, CulpritKind::Policy),
    };
    Culprit {
        file: input.ruleset.path(&span).to_string(),
        line: span.line,
        column: span.column,
        text: rule_text(input.ruleset.text(&span)),
        table: chain.table.clone(),
        chain: chain.name.clone(),
        kind,
        phase,
    }
}

/// The longest rule text a culprit carries; the file and line lead to the
/// rest. Every report shows culprits, and a rule with a 20 MB comment cost
/// hundreds of megabytes to render (issue 18).
pub const MAX_RULE_TEXT: usize = 2048;

/// A rule's text for a culprit: whole, or its first [`MAX_RULE_TEXT`]
/// bytes (at a character boundary) and how much was left out.
fn rule_text(text: &str) -> String {
    if text.len() <= MAX_RULE_TEXT {
        return text.to_string();
    }
    let end = text.floor_char_boundary(MAX_RULE_TEXT);
    format!(
        "{} ... ({} more bytes)",
        text.get(..end).unwrap_or_default(),
        text.len() - end
    )
}

pub fn phase_name(phase: u8, tcp: bool) -> &'static str {
    if phase == eval::connection::RESPONSE_PHASE {
        return "the REJECT's response";
    }
    if phase == eval::connection::RETRANSMIT_PHASE {
        return "the retransmitted SYN";
    }
    let phases: &[eval::connection::Phase] = if tcp {
        &eval::connection::TCP_PHASES
    } else {
        &eval::connection::UDP_PHASES
    };
    phases
        .get(phase as usize)
        .map(|p| p.name)
        .unwrap_or("packet")
}

#[cfg(test)]
mod tests {
    use super::first_ranked;

    /// The one-pass pick is what a stable sort puts first, on ranks with
    /// many ties, for every count asked up to past the items.
    #[test]
    fn the_first_ranked_are_what_a_stable_sort_puts_first() {
        let mut rnd = crate::test_rng::xorshift(0x5851_f42d_4c95_7f2d);
        for round in 0..500u64 {
            let len = rnd(40) as usize;
            let ranks: Vec<(u64, u64)> = (0..len).map(|_| (rnd(3), rnd(1 + round % 6))).collect();
            let mut sorted: Vec<usize> = (0..len).collect();
            sorted.sort_by_key(|&i| ranks[i]);
            for n in 0..len + 3 {
                let want: Vec<usize> = sorted.iter().copied().take(n).collect();
                assert_eq!(
                    first_ranked(n, len, |i| ranks[i]),
                    want,
                    "{ranks:?}, n = {n}"
                );
            }
        }
    }
}
