//! A connection as the kernel sees it: the first packet, the replies, and
//! the packets after the handshake, each through its own path of hooks, and
//! the RST or ICMP error a REJECT sends back through the firewall's own
//! output path.

use super::interfaces::{LOOPBACK, NONE};
use super::program::*;
use super::set::IntervalSet;
use super::walk::{
    Branch, Budget, ChainResult, ChainVerdict, Decision, NatBinding, Passage, Passages, Region,
    RegionSet, RuleIndex, Src, Trail, View, Walker,
};
use driftwall_parsers::model::{ChainKind, Family, Hook, RejectKind};
use std::rc::Rc;

pub use super::finding::{Finding, Pieces, Verdict, intersect, overlaps};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// To the firewall host itself.
    Inbound,
    /// From the firewall host.
    Outbound,
    /// Routed through the firewall host.
    Forward,
}

impl Direction {
    /// The word reports use, as the policy writes it.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Forward => "forward",
        }
    }
}

/// A set of connections: one protocol, sets of addresses, ports and interfaces.
#[derive(Debug, Clone)]
pub struct Question {
    pub direction: Direction,
    /// PROTO must be a single protocol; IIF and OIF hold interface classes
    /// (NONE where the direction has no such interface).
    pub region: Region,
}

/// Where a connection's packets go through the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    LocalIn,
    Forward,
    LocalOut,
}

/// The connection phases we evaluate.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    pub reply: bool,
    pub flags: u128,
    pub name: &'static str,
}

pub const TCP_PHASES: [Phase; 5] = [
    Phase {
        reply: false,
        flags: FL_SYN,
        name: "the first packet (SYN)",
    },
    Phase {
        reply: true,
        flags: FL_SYNACK,
        name: "the reply (SYN,ACK)",
    },
    Phase {
        reply: false,
        flags: FL_ACK,
        name: "the handshake's last packet (ACK)",
    },
    Phase {
        reply: false,
        flags: FL_PSHACK,
        name: "data to the server",
    },
    Phase {
        reply: true,
        flags: FL_PSHACK,
        name: "data back to the client",
    },
];
pub const UDP_PHASES: [Phase; 1] = [Phase {
    reply: false,
    flags: FL_NONE,
    name: "the datagram",
}];
/// Phase number used for the packet a REJECT sends back.
pub const RESPONSE_PHASE: u8 = 9;
/// Phase number of the client's SYN sent again after the SYN,ACK was stopped.
pub const RETRANSMIT_PHASE: u8 = 8;

/// A packet in flight: where its interfaces and state come from.
#[derive(Debug, Clone)]
struct Packet {
    phase: u8,
    reply: bool,
    /// The state conntrack gives the packet if raw does not NOTRACK it.
    ct: u128,
    flags: u128,
    /// The first packet of a connection: NAT chains see it.
    first: bool,
    iif: Src,
    oif: Src,
    /// For a REJECT's response: the view of the response packet.
    response: Option<View>,
}

/// What conntrack knows of the connection so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    /// No entry: every packet so far was untracked.
    None,
    /// An entry whose original direction is client to server.
    Orig { seen_reply: bool },
    /// An entry picked up mid-stream from a server packet (original
    /// direction server to client).
    Rev,
}

struct Flow {
    branch: Branch,
    path: Path,
    conn: Conn,
    /// The port-forwarded path leaves by an interface we do not know.
    oif_unknown: bool,
}

pub fn evaluate(prog: &Program, q: &Question) -> Vec<Finding> {
    evaluate_with(prog, q, false)
}

/// Like [`evaluate`], and records in each finding every rule its packets
/// matched (slower: pieces with different histories are kept apart).
pub fn evaluate_traced(prog: &Program, q: &Question) -> Vec<Finding> {
    evaluate_with(prog, q, true)
}

fn evaluate_with(prog: &Program, q: &Question, trace: bool) -> Vec<Finding> {
    let mut all = Vec::new();
    evaluate_into(prog, q, trace, &mut |p| all.extend(p.into_findings()));
    all
}

/// Like [`evaluate`], handing the pieces to `sink` as soon as they are
/// known instead of keeping them all (a big ruleset gives tens of
/// thousands), a branch's chunk of them at a time. Pieces that depend on
/// unmodelled matches come last, one at a time, once their overlaps are
/// resolved.
pub fn evaluate_each(prog: &Program, q: &Question, sink: &mut dyn FnMut(Pieces<'_>)) {
    evaluate_into(prog, q, false, sink)
}

fn evaluate_into(prog: &Program, q: &Question, trace: bool, sink: &mut dyn FnMut(Pieces<'_>)) {
    evaluate_limited(prog, q, trace, super::walk::work_limit(prog), true, sink)
}

/// [`evaluate`] with a work limit of the caller's (tests of the limit).
#[cfg(test)]
pub(crate) fn evaluate_with_limit(prog: &Program, q: &Question, limit: u64) -> Vec<Finding> {
    let mut all = Vec::new();
    evaluate_limited(prog, q, false, limit, true, &mut |p| {
        all.extend(p.into_findings())
    });
    all
}

/// [`evaluate`] walking every chain for every packet, replaying none
/// (tests of the replay).
#[cfg(test)]
pub(crate) fn evaluate_walking_all(prog: &Program, q: &Question) -> Vec<Finding> {
    let mut all = Vec::new();
    let limit = super::walk::work_limit(prog);
    evaluate_limited(prog, q, false, limit, false, &mut |p| {
        all.extend(p.into_findings())
    });
    all
}

fn evaluate_limited(
    prog: &Program,
    q: &Question,
    trace: bool,
    limit: u64,
    replay: bool,
    sink: &mut dyn FnMut(Pieces<'_>),
) {
    let mut ev = Evaluation {
        // A traced piece records every rule it meets, which a replay does
        // not know: traced evaluations walk everything.
        replay: replay && !trace,
        flags_told_apart: Default::default(),
        prog,
        index: Rc::new(RuleIndex::new(q.region.clone(), trace)),
        forks: 0,
        work: Rc::new(Budget {
            limit,
            ..Default::default()
        }),
        findings: Vec::new(),
        trace,
        sink,
    };
    ev.run(q);
    // Only pieces that went through a fork carry assumptions, and only they
    // can overlap; the rest went to the sink already.
    let held = std::mem::take(&mut ev.findings);
    for f in super::resolve::resolve_overlaps(held, &ev.work) {
        (ev.sink)(Pieces {
            boxes: vec![f.region],
            verdict: f.verdict,
            decided: &f.decided,
            trail: &f.trail,
            assumed: &f.assumed,
            reason: &f.reason,
        });
    }
}

struct Evaluation<'p, 's> {
    /// Where findings without assumptions go.
    sink: &'s mut dyn FnMut(Pieces<'_>),
    prog: &'p Program,
    index: Rc<RuleIndex>,
    forks: u32,
    /// Work done, and where it outgrew its limit ([`super::walk::work_limit`]).
    work: Rc<Budget>,
    trace: bool,
    findings: Vec<Finding>,
    /// Take the way an earlier packet took where the view is the same
    /// ([`Evaluation::replay`]).
    replay: bool,
    /// Per (chain, flags, other flags): whether a rule of the chain, or
    /// of one it jumps or goes to, tells the two TCP flags apart.
    flags_told_apart: std::collections::HashMap<(usize, u128, u128), bool>,
}

fn hook_of(prog: &Program, chain: usize) -> Option<Hook> {
    prog.chains.get(chain).and_then(|c| c.hook)
}

/// The state a tracked packet gets, given what conntrack knows. The kernel
/// decides these (tests/kernel/FINDINGS.md 5 and 6): a SYN,ACK cannot start
/// an entry (INVALID), any other segment can (`nf_conntrack_tcp_loose`, NEW),
/// and a packet of an entry is ESTABLISHED once the entry has seen both
/// directions (a reply always counts as having seen them).
fn ct_state(conn: Conn, reply: bool, flags: u128) -> u128 {
    match (conn, reply) {
        (Conn::None, true) if flags == FL_SYNACK => CT_INVALID,
        (Conn::None, _) => CT_NEW,
        (Conn::Orig { .. }, true) => CT_ESTABLISHED,
        (Conn::Orig { seen_reply: true }, false) => CT_ESTABLISHED,
        (Conn::Orig { seen_reply: false }, false) => CT_NEW,
        (Conn::Rev, true) => CT_NEW,
        (Conn::Rev, false) => CT_ESTABLISHED,
    }
}

/// What conntrack knows after a tracked packet got through.
fn after(conn: Conn, reply: bool, flags: u128) -> Conn {
    match (conn, reply) {
        (Conn::None, true) if flags == FL_SYNACK => Conn::None,
        (Conn::None, false) => Conn::Orig { seen_reply: false },
        (Conn::None, true) => Conn::Rev,
        (Conn::Orig { .. }, true) => Conn::Orig { seen_reply: true },
        (c, _) => c,
    }
}

impl Evaluation<'_, '_> {
    fn run(&mut self, q: &Question) {
        let proto_tcp = q.region[PROTO].min() == Some(6);
        let phases: &[Phase] = if proto_tcp { &TCP_PHASES } else { &UDP_PHASES };
        let start = Branch {
            region: RegionSet::one(q.region.clone()),
            nat: Rc::default(),
            notrack: false,
            mark: 0,
            trail: Trail::default(),
            decided: Trail::default(),
            assumed: Trail::default(),
            passed: Passages::default(),
        };
        let path = match q.direction {
            Direction::Inbound => Path::LocalIn,
            Direction::Outbound => Path::LocalOut,
            Direction::Forward => Path::Forward,
        };
        let mut flows = vec![Flow {
            branch: start,
            path,
            conn: Conn::None,
            oif_unknown: false,
        }];
        for (i, phase) in phases.iter().enumerate() {
            let mut next = Vec::new();
            for flow in flows {
                self.phase(i as u8, *phase, flow, &mut next);
            }
            flows = next;
        }
        for flow in flows {
            self.finish(flow.branch, Verdict::Allow, None);
        }
    }

    fn finish(&mut self, b: Branch, verdict: Verdict, reason: Option<String>) {
        let decided = b.decided.to_rc();
        let trail = b.trail.to_rc();
        let assumed = b.assumed.to_rc();
        for chunk in b.region.chunks.into_iter().filter(|c| !c.boxes.is_empty()) {
            let pieces = Pieces {
                boxes: chunk.boxes,
                verdict,
                decided: &decided,
                trail: &trail,
                assumed: &assumed,
                reason: &reason,
            };
            if assumed.is_empty() {
                (self.sink)(pieces);
            } else {
                self.findings.extend(pieces.into_findings());
            }
        }
    }

    fn packet(&self, flow: &Flow, i: u8, phase: Phase) -> Packet {
        let ct = if i == 0 {
            CT_NEW
        } else {
            ct_state(flow.conn, phase.reply, phase.flags)
        };
        let orig_iif = Src::Orig(IIF);
        let orig_oif = if flow.oif_unknown {
            Src::Unknown
        } else {
            Src::Orig(OIF)
        };
        let none = Src::Const(IntervalSet::single(NONE));
        let (iif, oif) = match (flow.path, phase.reply) {
            (Path::LocalIn, false) => (orig_iif, none),
            (Path::LocalIn, true) => (none, orig_iif),
            (Path::Forward, false) => (orig_iif, orig_oif),
            (Path::Forward, true) => (orig_oif, orig_iif),
            (Path::LocalOut, false) => (none, orig_oif),
            (Path::LocalOut, true) => (orig_oif, none),
        };
        Packet {
            phase: i,
            reply: phase.reply,
            ct,
            flags: phase.flags,
            first: i == 0,
            iif,
            oif,
            response: None,
        }
    }

    fn hooks(path: Path, reply: bool) -> &'static [Hook] {
        use Hook::*;
        match (path, reply) {
            (Path::LocalIn, false) | (Path::LocalOut, true) => &[Prerouting, Input],
            (Path::LocalIn, true) | (Path::LocalOut, false) => &[Output, Postrouting],
            (Path::Forward, _) => &[Prerouting, Forward, Postrouting],
        }
    }

    /// One phase of one flow: survivors go to `next`, the rest are findings.
    fn phase(&mut self, i: u8, phase: Phase, flow: Flow, next: &mut Vec<Flow>) {
        let pkt = self.packet(&flow, i, phase);
        let hooks = Self::hooks(flow.path, phase.reply);
        // The first packet is routed after prerouting, where NAT may have
        // changed where it goes.
        let reroute = i == 0 && hooks[0] == Hook::Prerouting;
        let first_hooks = if reroute { &hooks[..1] } else { hooks };
        let meta = flow_meta(flow.path, flow.conn, flow.oif_unknown);
        let passed = self.run_hooks(vec![flow.branch], first_hooks, &pkt, &mut |ev, r, at| {
            ev.stopped(r, at, &pkt, &meta, phase)
        });
        let mut survivors: Vec<(Flow, Packet)> = Vec::new();
        for branch in passed {
            let mut f = Flow {
                branch,
                path: flow.path,
                conn: flow.conn,
                oif_unknown: flow.oif_unknown,
            };
            if reroute {
                // A new destination that is the host's own address (known
                // from `Program::host_addresses`) is delivered here; any
                // other is routed on, by an interface the ruleset does not
                // say.
                let to_host = f.branch.nat.redirect
                    || f.branch
                        .nat
                        .dst
                        .as_ref()
                        .is_some_and(|d| self.is_host_address(d));
                if to_host {
                    f.path = Path::LocalIn;
                } else if f.path == Path::LocalIn && f.branch.nat.dst.is_some() {
                    f.path = Path::Forward;
                    f.oif_unknown = true;
                }
            }
            let p = self.packet(&f, i, phase);
            survivors.push((f, p));
        }
        for (f, p) in survivors {
            let (path, conn, oif_unknown) = (f.path, f.conn, f.oif_unknown);
            let done: Vec<Branch> = if reroute {
                let meta = flow_meta(path, conn, oif_unknown);
                self.run_hooks(
                    vec![f.branch],
                    &Self::hooks(path, false)[1..],
                    &p,
                    &mut |ev, r, at| ev.stopped(r, at, &p, &meta, phase),
                )
            } else {
                vec![f.branch]
            };
            for mut b in done {
                let tracked = !b.notrack;
                b.notrack = false;
                let conn = if tracked {
                    if i == 0 {
                        Conn::Orig { seen_reply: false }
                    } else {
                        after(conn, phase.reply, phase.flags)
                    }
                } else {
                    conn
                };
                next.push(Flow {
                    branch: b,
                    path,
                    conn,
                    oif_unknown,
                });
            }
        }
    }

    /// A packet that did not get through: what the client sees.
    fn stopped(
        &mut self,
        r: ChainResult,
        decided_at: Option<Hook>,
        pkt: &Packet,
        meta: &FlowMeta,
        phase: Phase,
    ) {
        match r.verdict {
            ChainVerdict::Accept => {}
            ChainVerdict::Indeterminate => self.finish(r.branch, Verdict::Indeterminate, r.reason),
            // The server's SYN,ACK was stopped after conntrack saw it: the
            // client retransmits its SYN, now part of a connection that has
            // seen a reply (ESTABLISHED), and what happens to that decides
            // what the client sees (FINDINGS.md 5).
            ChainVerdict::Drop | ChainVerdict::Reject(_)
                if pkt.reply
                    && phase.flags == FL_SYNACK
                    && pkt.response.is_none()
                    && !r.branch.notrack
                    && meta.conn != Conn::None
                    && decided_after_conntrack(self.prog, &r) =>
            {
                let again = Packet {
                    phase: RETRANSMIT_PHASE,
                    reply: false,
                    ct: CT_ESTABLISHED,
                    flags: FL_SYN,
                    first: false,
                    iif: Src::Orig(IIF),
                    oif: Src::Orig(OIF),
                    response: None,
                };
                let flow = Flow {
                    branch: r.branch,
                    path: meta.path,
                    conn: Conn::Orig { seen_reply: true },
                    oif_unknown: meta.oif_unknown,
                };
                let again = Packet {
                    iif: self.packet(&flow, 0, TCP_PHASES[0]).iif,
                    oif: self.packet(&flow, 0, TCP_PHASES[0]).oif,
                    ..again
                };
                let mut b = flow.branch;
                b.notrack = false;
                let passed = self.run_hooks(
                    vec![b],
                    Self::hooks(meta.path, false),
                    &again,
                    &mut |ev, rr, at| match rr.verdict {
                        ChainVerdict::Reject(_) => ev.stopped(rr, at, &again, meta, TCP_PHASES[0]),
                        ChainVerdict::Indeterminate => {
                            ev.finish(rr.branch, Verdict::Indeterminate, rr.reason)
                        }
                        _ => ev.finish(rr.branch, Verdict::Drop, None),
                    },
                );
                // Let through, the SYN only brings the stopped SYN,ACK again.
                for b in passed {
                    self.finish(b, Verdict::Drop, None);
                }
            }
            ChainVerdict::Drop => self.finish(r.branch, Verdict::Drop, None),
            // Responses to REJECTs never get responses; a stopped reply's
            // error goes to the server, and the client sees nothing.
            ChainVerdict::Reject(_) if pkt.reply || pkt.response.is_some() => {
                self.finish(r.branch, Verdict::Drop, None)
            }
            ChainVerdict::Reject(kind) => self.respond(r, decided_at, pkt, kind),
        }
    }

    /// Sends a REJECT's RST or ICMP error back and sees whether it arrives.
    fn respond(
        &mut self,
        r: ChainResult,
        decided_at: Option<Hook>,
        pkt: &Packet,
        kind: RejectKind,
    ) {
        let at = decided_at.unwrap_or(Hook::Input);
        let local_origin = matches!(at, Hook::Output | Hook::Postrouting);
        let tcp_reset = kind.is_tcp_reset();
        let view = self.view_at(&r.branch, pkt, at, 0);
        let icmp = match self.prog.family {
            Family::Ipv4 => 1,
            Family::Ipv6 => 58,
        };
        // The answer carries the rejected packet's connection as RELATED; an
        // untracked packet has none, and the answer reads as INVALID
        // (FINDINGS.md 1).
        let ct = if r.branch.notrack {
            CT_INVALID
        } else {
            CT_RELATED
        };
        // Its source: an RST always comes from the rejected packet's
        // destination; an ICMP error from it only when that is a local
        // address (REJECT in INPUT). For a local packet the error comes from
        // the host's own address; for a forwarded one from the host's address
        // towards the sender, which a ruleset does not say (FINDINGS.md 3, 4).
        let source = if tcp_reset {
            view[DST].clone()
        } else {
            match at {
                Hook::Input => view[DST].clone(),
                Hook::Output | Hook::Postrouting => view[SRC].clone(),
                _ => self.host_address(&r.branch, &pkt.iif),
            }
        };
        let response: View = [
            Src::Const(IntervalSet::single(if tcp_reset { 6 } else { icmp })),
            source,
            view[SRC].clone(),
            view[DPORT].clone(),
            view[SPORT].clone(),
            Src::Const(IntervalSet::single(NONE)),
            Src::Const(IntervalSet::single(NONE)),
            Src::Const(IntervalSet::single(ct)),
            Src::Const(IntervalSet::single(if !tcp_reset {
                FL_NONE
            } else if pkt.flags == FL_SYN {
                FL_RSTACK
            } else {
                FL_RST
            })),
            Src::Const(IntervalSet::single(icmp_of(kind))),
            // The answer goes back the way the connection's replies do.
            Src::Const(IntervalSet::single(1)),
            Src::Const(IntervalSet::single(r.branch.mark)),
            Src::Const(IntervalSet::single(conn_status(&r.branch.nat, pkt, true))),
        ];
        let lo = Src::Const(IntervalSet::single(LOOPBACK));
        let (hooks, iif, oif): (&[Hook], Src, Src) = if local_origin {
            (
                &[
                    Hook::Output,
                    Hook::Postrouting,
                    Hook::Prerouting,
                    Hook::Input,
                ],
                lo.clone(),
                lo,
            )
        } else {
            (
                &[Hook::Output, Hook::Postrouting],
                Src::Const(IntervalSet::single(NONE)),
                pkt.iif.clone(),
            )
        };
        let resp = Packet {
            phase: RESPONSE_PHASE,
            reply: true,
            ct,
            flags: FL_NONE,
            first: false,
            iif,
            oif,
            response: Some(response),
        };
        let mut b = r.branch;
        b.notrack = false;
        let passed = self.run_hooks(vec![b], hooks, &resp, &mut |ev, rr, _| match rr.verdict {
            ChainVerdict::Indeterminate => ev.finish(rr.branch, Verdict::Indeterminate, rr.reason),
            _ => ev.finish(
                rr.branch,
                Verdict::Drop,
                Some("the REJECT's response is itself blocked on its way back".into()),
            ),
        });
        for b in passed {
            self.finish(b, Verdict::Reject, None);
        }
    }

    /// Whether a rewritten destination is one of the host's own addresses.
    fn is_host_address(&self, dst: &Src) -> bool {
        let Src::Const(set) = dst else {
            return false;
        };
        match set.single_range() {
            Some((a, b)) if a == b => self.prog.host_addresses.iter().any(|(_, h)| *h == a),
            _ => false,
        }
    }

    /// The host's address on the interface a packet came in by, if it is
    /// known (`Program::host_addresses`) and the piece has one such
    /// interface; unknown otherwise.
    fn host_address(&self, b: &Branch, iif: &Src) -> Src {
        let Src::Orig(IIF) = iif else {
            return Src::Unknown;
        };
        b.region
            .single_value(IIF)
            .and_then(|c| {
                self.prog
                    .host_addresses
                    .iter()
                    .find(|(class, _)| *class == c)
            })
            .map(|(_, a)| Src::Const(IntervalSet::single(*a)))
            .unwrap_or(Src::Unknown)
    }

    /// Runs branches through the base chains of `hooks` in order and gives
    /// back the pieces that got through. A piece that is stopped goes to
    /// `stopped` (with the hook where that happened) at once, so what it
    /// holds is freed early.
    fn run_hooks(
        &mut self,
        start: Vec<Branch>,
        hooks: &[Hook],
        pkt: &Packet,
        stopped: &mut dyn FnMut(&mut Self, ChainResult, Option<Hook>),
    ) -> Vec<Branch> {
        let prog = self.prog;
        let mut live: Vec<Branch> = start;
        for &hook in hooks {
            for &ci in &prog.hooks[hook_index(hook)] {
                let chain = &prog.chains[ci];
                let mut next = Vec::new();
                for b in live {
                    // NAT chains see only the first packet of a tracked connection.
                    if chain.kind == ChainKind::Nat && (!pkt.first || b.notrack) {
                        next.push(b);
                        continue;
                    }
                    // A translation with `pass` let the packet by the filter
                    // rules of its crossing (`Action::NatPass`).
                    if chain.kind == ChainKind::Filter && skips_filter(&b, pkt, hook) {
                        next.push(b);
                        continue;
                    }
                    let view = self.view_at(&b, pkt, hook, chain.priority);
                    // Not a REJECT's answer: its packet is not the connection's.
                    let record = self.replay && pkt.response.is_none();
                    if record && let Some(d) = self.replay(ci, &b, &view) {
                        let mut b = b;
                        b.decided = b.decided.push(Decision {
                            phase: pkt.phase,
                            ..d
                        });
                        next.push(b);
                        continue;
                    }
                    let view = Rc::new(view);
                    let before = record.then(|| Unchanged::of(&b));
                    let mut walker = Walker {
                        prog,
                        index: self.index.clone(),
                        phase: pkt.phase,
                        forks: self.forks,
                        work: self.work.clone(),
                        trace: self.trace,
                        response: pkt.response.is_some(),
                    };
                    let at = hook_of(prog, ci);
                    walker.run(ci, b, view.clone(), &mut |mut r| {
                        if r.verdict == ChainVerdict::Accept {
                            if let Some(d) = before.as_ref().and_then(|u| u.decision(&r.branch)) {
                                r.branch.passed = r.branch.passed.push(Passage {
                                    chain: ci as u32,
                                    view: view.clone(),
                                    decided: d,
                                });
                            }
                            next.push(r.branch);
                        } else {
                            stopped(self, r, at);
                        }
                    });
                    self.forks = self.forks.max(walker.forks);
                }
                live = next;
            }
        }
        live
    }

    /// The decision of an earlier packet of the connection that went
    /// through base chain `ci` under `view` but for TCP flags no rule of
    /// the chain tells apart, if `b` has one: `b` is part of the piece that
    /// chain let through then, and every packet of it meets the same rules
    /// the same way again. The data packets see the chains as the handshake
    /// did (the client's PSH,ACK as its ACK, the server's as its SYN,ACK),
    /// so most of their walks are such replays. Only passages that changed
    /// nothing but the decisions, by one, are kept (see [`Unchanged`]), so
    /// the decision is all the walk would add.
    ///
    /// A replay counts no work (what the walk would have counted is not
    /// known without it): a question close to the work limit may now stay
    /// under it where walking every packet went past it. Past the limit,
    /// every piece is walked, to be indeterminate as before.
    fn replay(&mut self, ci: usize, b: &Branch, view: &View) -> Option<Decision> {
        if self.work.outgrown.get().is_some() {
            return None;
        }
        let found = b.passed.iter().find(|p| {
            p.chain == ci as u32
                && p.view
                    .iter()
                    .zip(view.iter())
                    .enumerate()
                    .all(|(d, (x, y))| d == FLAGS || x == y)
        })?;
        let (was, now) = (&found.view[FLAGS], &view[FLAGS]);
        if was != now {
            let one = |s: &Src| match s {
                Src::Const(k) => k.single_range().filter(|(a, z)| a == z).map(|(a, _)| a),
                _ => None,
            };
            let (Some(a), Some(b)) = (one(was), one(now)) else {
                return None;
            };
            if self.tells_flags_apart(ci, a, b) {
                return None;
            }
        }
        Some(found.decided)
    }

    /// Whether a rule of chain `ci`, or of a chain it jumps or goes to,
    /// tests the TCP flags so that it may match flags `a` and not `b`, or
    /// the other way round.
    fn tells_flags_apart(&mut self, ci: usize, a: u128, b: u128) -> bool {
        let prog = self.prog;
        *self.flags_told_apart.entry((ci, a, b)).or_insert_with(|| {
            let mut seen = vec![false; prog.chains.len()];
            let mut todo = vec![ci];
            while let Some(c) = todo.pop() {
                if seen.get(c).is_none_or(|s| *s) {
                    continue;
                }
                seen[c] = true;
                for rule in &prog.chains[c].rules {
                    let conds = rule.cubes.iter().flat_map(|cube| cube.conds.iter());
                    if conds
                        .filter(|(d, _)| *d == FLAGS)
                        .any(|(_, s)| s.contains(a) != s.contains(b))
                    {
                        return true;
                    }
                    if let Step::Jump(t) | Step::Goto(t) = rule.step {
                        todo.push(t);
                    }
                }
            }
            false
        })
    }

    /// Where each packet dimension comes from for a packet at a chain.
    fn view_at(&self, b: &Branch, pkt: &Packet, hook: Hook, priority: i32) -> View {
        let none = || Src::Const(IntervalSet::single(NONE));
        let (iif, oif) = match hook {
            Hook::Prerouting | Hook::Input => (pkt.iif.clone(), none()),
            Hook::Forward => (pkt.iif.clone(), pkt.oif.clone()),
            Hook::Output | Hook::Postrouting => (none(), pkt.oif.clone()),
        };
        if let Some(resp) = &pkt.response {
            // A REJECT's answer has its state from the start, raw included,
            // and NOTRACK leaves it alone (FINDINGS.md 2).
            let mut v = resp.clone();
            v[IIF] = iif;
            v[OIF] = oif;
            return v;
        }
        // Before conntrack (raw, priority below -200) a packet has no state.
        let ct = if b.notrack {
            CT_UNTRACKED
        } else if priority < -200 {
            CT_INVALID
        } else {
            pkt.ct
        };
        let nat = &b.nat;
        let dnat_seen = match nat.dnat_hook {
            Some(h) => h != hook || priority > -100,
            None => false,
        };
        let eff_dst = if dnat_seen || pkt.reply {
            nat.dst.clone()
        } else {
            None
        }
        .unwrap_or(Src::Orig(DST));
        let eff_dport = if dnat_seen || pkt.reply {
            nat.dport.clone()
        } else {
            None
        }
        .unwrap_or(Src::Orig(DPORT));
        // A SNATed connection's replies come back to the NAT address until
        // the rewrite is undone at prerouting priority -100.
        let snat_seen = pkt.reply && hook == Hook::Prerouting && priority < -100;
        let reply_dst = if snat_seen { nat.src.clone() } else { None }.unwrap_or(Src::Orig(SRC));
        let reply_dport =
            if snat_seen { nat.sport.clone() } else { None }.unwrap_or(Src::Orig(SPORT));
        // The original direction sees a rewritten source in the chains
        // after the rewrite: later on its hook, or on a later hook.
        let snat_before = !pkt.reply
            && nat.snat_at.is_some_and(|(h, p)| {
                (h == hook && priority > p) || (h != Hook::Postrouting && hook == Hook::Postrouting)
            });
        let (eff_src, eff_sport) = if snat_before {
            (
                nat.src.clone().unwrap_or(Src::Orig(SRC)),
                nat.sport.clone().unwrap_or(Src::Orig(SPORT)),
            )
        } else {
            (Src::Orig(SRC), Src::Orig(SPORT))
        };
        let (src, dst, sport, dport) = if pkt.reply {
            (eff_dst, reply_dst, eff_dport, reply_dport)
        } else {
            (eff_src, eff_dst, eff_sport, eff_dport)
        };
        [
            Src::Orig(PROTO),
            src,
            dst,
            sport,
            dport,
            iif,
            oif,
            Src::Const(IntervalSet::single(ct)),
            Src::Const(IntervalSet::single(pkt.flags)),
            Src::Const(IntervalSet::single(NOT_ICMP)),
            Src::Const(IntervalSet::single(u128::from(pkt.reply))),
            Src::Const(IntervalSet::single(b.mark)),
            Src::Const(IntervalSet::single(conn_status(nat, pkt, dnat_seen))),
        ]
    }
}

/// The `model::conn_status` bits of a packet's connection: DNAT once the
/// destination was rewritten (for the first packet, after the NAT chain
/// that did it), SNAT once the source was, which for the first packet is
/// after the filter hooks (postrouting), so only its later packets show it.
fn conn_status(nat: &NatBinding, pkt: &Packet, dnat_seen: bool) -> u128 {
    use driftwall_parsers::model::conn_status::{DNAT, SNAT};
    let mut bits = 0;
    let dnat = nat.dst.is_some() || nat.dport.is_some() || nat.redirect;
    if dnat && (dnat_seen || !pkt.first) {
        bits |= DNAT;
    }
    if (nat.src.is_some() || nat.sport.is_some()) && !pkt.first {
        bits |= SNAT;
    }
    u128::from(bits)
}

/// Whether a translation with `pass` lets this packet by a filter chain on
/// `hook`: a rewritten destination by those where it arrives, a rewritten
/// source by those where it leaves. Only the connection's own packets in
/// its original direction: replies and REJECT answers meet the rules (and
/// pass with the state the translation made).
fn skips_filter(b: &Branch, pkt: &Packet, hook: Hook) -> bool {
    if pkt.reply || pkt.response.is_some() {
        return false;
    }
    match hook {
        Hook::Prerouting | Hook::Input => b.nat.pass_in,
        Hook::Forward | Hook::Output | Hook::Postrouting => b.nat.pass_out,
    }
}

/// The ICMP type and code (type * 256 + code) a REJECT sends, or
/// [`NOT_ICMP`] for an RST.
fn icmp_of(kind: RejectKind) -> u128 {
    use RejectKind::*;
    let (t, c): (u128, u128) = match kind {
        TcpReset => return NOT_ICMP,
        IcmpNetUnreachable => (3, 0),
        IcmpHostUnreachable => (3, 1),
        IcmpProtoUnreachable => (3, 2),
        IcmpPortUnreachable => (3, 3),
        IcmpNetProhibited => (3, 9),
        IcmpHostProhibited => (3, 10),
        IcmpAdminProhibited => (3, 13),
        Icmp6NoRoute => (1, 0),
        Icmp6AdmProhibited => (1, 1),
        Icmp6AddrUnreachable => (1, 3),
        Icmp6PortUnreachable => (1, 4),
        Icmp6PolicyFail => (1, 5),
        Icmp6RejectRoute => (1, 6),
    };
    t * 256 + c
}

/// A piece before a walk, to tell whether the walk changed anything of
/// what it let through but its decisions, by one: then a later packet
/// under the same view may replay it ([`Evaluation::replay`]). A piece that
/// forked on an unmodelled match (its assumptions grew) is not replayed:
/// the forks are counted, and a replay would not count them.
struct Unchanged {
    decided: Trail,
    assumed: Trail,
    nat: Rc<NatBinding>,
    mark: u128,
    notrack: bool,
}

impl Unchanged {
    fn of(b: &Branch) -> Unchanged {
        Unchanged {
            decided: b.decided.clone(),
            assumed: b.assumed.clone(),
            nat: b.nat.clone(),
            mark: b.mark,
            notrack: b.notrack,
        }
    }

    /// The one decision the walk added to `after`, if that is all it changed.
    fn decision(&self, after: &Branch) -> Option<Decision> {
        let (d, before) = after.decided.last()?;
        (before.same(&self.decided)
            && after.assumed.same(&self.assumed)
            && after.mark == self.mark
            && after.notrack == self.notrack
            && after.nat == self.nat)
            .then_some(d)
    }
}

/// What `stopped` needs of the flow a packet belonged to.
struct FlowMeta {
    path: Path,
    conn: Conn,
    oif_unknown: bool,
}

fn flow_meta(path: Path, conn: Conn, oif_unknown: bool) -> FlowMeta {
    FlowMeta {
        path,
        conn,
        oif_unknown,
    }
}

/// The chain that stopped the piece runs after conntrack (priority -200).
fn decided_after_conntrack(prog: &Program, r: &ChainResult) -> bool {
    let last = r.branch.decided.last().map(|(d, _)| d);
    last.and_then(|d| prog.chains.get(d.chain as usize))
        .is_none_or(|c| c.priority > -200)
}
