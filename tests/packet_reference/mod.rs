//! A deliberately simple interpreter of a compiled ruleset (issue 18,
//! item 2): one concrete connection, packet by packet, rule by rule, with
//! none of the evaluator's region machinery (no pieces, splits, chunks,
//! rule index, work lists or merging). What it shares with the evaluator is
//! the compiled program (each rule's boxes and step) and the connection
//! semantics the kernel tests settled (tests/kernel/FINDINGS.md): which
//! hooks a packet crosses, the state conntrack gives it, NAT on the first
//! packet, the SYN retransmitted after a stopped SYN,ACK, the answer a
//! REJECT sends back. Those are restated here for one packet at a time, so
//! that a mistake in how the evaluator cuts, merges or skips pieces shows
//! as a different verdict.
//!
//! A rule whose match is not modelled (or a NAT rewrite that leaves a
//! tested value unknown) may or may not match: the interpreter runs the
//! connection once for every combination of such choices and collects the
//! verdicts. One verdict means the unmodelled matches do not decide; more
//! than one means they do, and the evaluator must say indeterminate.

use driftwall::eval::IntervalSet;
use driftwall::eval::connection::Direction;
use driftwall::eval::interfaces::{LOOPBACK, NONE};
use driftwall::eval::program::{
    CRule, CT, CT_ESTABLISHED, CT_INVALID, CT_NEW, CT_RELATED, CT_UNTRACKED, FL_ACK, FL_NONE,
    FL_PSHACK, FL_RST, FL_RSTACK, FL_SYN, FL_SYNACK, MARK, NOT_ICMP, PACKET_DIMS, Program, Step,
    hook_index,
};
use driftwall_parsers::model::{ChainKind, Family, Hook, Policy, RejectKind};
use std::collections::BTreeSet;

/// What the client sees of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Allow,
    Drop,
    Reject,
    /// A target that is not modelled decides, or jumps nest too deep.
    Indeterminate,
}

/// One concrete connection: the client's first packet, values per region
/// dimension (protocol, source, destination, ports, and the classes of the
/// interfaces it comes in and goes out by).
#[derive(Debug, Clone)]
pub struct Connection {
    pub direction: Direction,
    pub tuple: [u128; 7],
}

/// A value a rule tests: known (a set of one value, or of several when a
/// NAT rewrite to a range picked one we do not know), or unknown (the
/// address a masquerade picks).
#[derive(Debug, Clone, PartialEq)]
enum V {
    Set(IntervalSet),
    Unknown,
}

fn one(v: u128) -> V {
    V::Set(IntervalSet::single(v))
}

/// Where a packet's interface comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    /// The connection's input interface.
    In,
    /// The connection's output interface.
    Out,
    /// No interface.
    None,
    /// One the ruleset does not say (a DNAT sent the packet elsewhere).
    Unknown,
    Loopback,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Path {
    LocalIn,
    Forward,
    LocalOut,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Conn {
    None,
    Orig { seen_reply: bool },
    Rev,
}

#[derive(Debug, Clone, Default)]
struct Nat {
    dst: Option<V>,
    dport: Option<V>,
    dnat_hook: Option<Hook>,
    redirect: bool,
    src: Option<V>,
    sport: Option<V>,
    snat_at: Option<(Hook, i32)>,
    pass_in: bool,
    pass_out: bool,
}

/// What the connection carries from packet to packet.
#[derive(Debug, Clone)]
struct State {
    nat: Nat,
    notrack: bool,
    mark: u128,
}

#[derive(Debug, Clone)]
struct Packet {
    reply: bool,
    ct: u128,
    flags: u128,
    first: bool,
    iif: Side,
    oif: Side,
    /// A REJECT's answer: its values, fixed when it was sent.
    response: Option<[V; PACKET_DIMS]>,
}

/// How a chain ended for the packet, and the chain whose rule (or policy)
/// decided.
#[derive(Debug, Clone, Copy, PartialEq)]
enum End {
    Accept,
    Drop(usize),
    Reject(RejectKind, usize),
    Indeterminate,
}

/// The choices made at rules that may or may not match, in order.
struct Oracle {
    prefix: Vec<bool>,
    taken: Vec<bool>,
}

impl Oracle {
    fn choose(&mut self) -> bool {
        let c = self.prefix.get(self.taken.len()).copied().unwrap_or(false);
        self.taken.push(c);
        c
    }
}

/// Runs past this many combinations of choices are not tried: the
/// connection is left out (`None`).
const MAX_RUNS: usize = 4096;
/// The kernel's and the evaluator's limit on nested jumps is far below this;
/// deeper means a loop.
const MAX_DEPTH: usize = 128;

/// What the reference found of a connection.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every verdict the connection can get, over the choices at
    /// unmodelled matches.
    pub verdicts: BTreeSet<Verdict>,
    /// Some run rewrote an address or port (NAT).
    pub translated: bool,
    /// A rule may or may not have matched: more than one run.
    pub forked: bool,
}

/// Every verdict the connection can get, over the choices at unmodelled
/// matches; `None` if there are too many combinations to try.
pub fn verdicts(prog: &Program, c: &Connection) -> Option<Outcome> {
    let mut out = Outcome::default();
    let mut todo: Vec<Vec<bool>> = vec![Vec::new()];
    let mut runs = 0;
    while let Some(prefix) = todo.pop() {
        runs += 1;
        if runs > MAX_RUNS {
            return None;
        }
        let mut o = Oracle {
            prefix: prefix.clone(),
            taken: Vec::new(),
        };
        let mut run = Interp {
            prog,
            c,
            o: &mut o,
            translated: false,
        };
        out.verdicts.insert(run.connection());
        out.translated |= run.translated;
        out.forked |= runs > 1;
        // Every choice made past the prefix took "does not match": try
        // "matches" there too.
        for j in prefix.len()..o.taken.len() {
            let mut next = o.taken[..j].to_vec();
            next.push(true);
            todo.push(next);
        }
    }
    Some(out)
}

struct Interp<'a> {
    prog: &'a Program,
    c: &'a Connection,
    o: &'a mut Oracle,
    translated: bool,
}

const TCP_PHASES: [(bool, u128); 5] = [
    (false, FL_SYN),
    (true, FL_SYNACK),
    (false, FL_ACK),
    (false, FL_PSHACK),
    (true, FL_PSHACK),
];

fn hooks(path: Path, reply: bool) -> &'static [Hook] {
    use Hook::*;
    match (path, reply) {
        (Path::LocalIn, false) | (Path::LocalOut, true) => &[Prerouting, Input],
        (Path::LocalIn, true) | (Path::LocalOut, false) => &[Output, Postrouting],
        (Path::Forward, _) => &[Prerouting, Forward, Postrouting],
    }
}

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

fn after(conn: Conn, reply: bool, flags: u128) -> Conn {
    match (conn, reply) {
        (Conn::None, true) if flags == FL_SYNACK => Conn::None,
        (Conn::None, false) => Conn::Orig { seen_reply: false },
        (Conn::None, true) => Conn::Rev,
        (Conn::Orig { .. }, true) => Conn::Orig { seen_reply: true },
        (c, _) => c,
    }
}

/// The interfaces of a packet of the connection.
fn sides(path: Path, reply: bool, oif_unknown: bool) -> (Side, Side) {
    let out = if oif_unknown {
        Side::Unknown
    } else {
        Side::Out
    };
    match (path, reply) {
        (Path::LocalIn, false) => (Side::In, Side::None),
        (Path::LocalIn, true) => (Side::None, Side::In),
        (Path::Forward, false) => (Side::In, out),
        (Path::Forward, true) => (out, Side::In),
        (Path::LocalOut, false) => (Side::None, out),
        (Path::LocalOut, true) => (out, Side::None),
    }
}

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

fn conn_status(nat: &Nat, first: bool, dnat_seen: bool) -> u128 {
    use driftwall_parsers::model::conn_status::{DNAT, SNAT};
    let mut bits = 0;
    let dnat = nat.dst.is_some() || nat.dport.is_some() || nat.redirect;
    if dnat && (dnat_seen || !first) {
        bits |= DNAT;
    }
    if (nat.src.is_some() || nat.sport.is_some()) && !first {
        bits |= SNAT;
    }
    u128::from(bits)
}

/// Does a rule match: yes, no, or perhaps (an unmodelled match, or a value
/// that is a set or unknown and only partly in the rule's).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Match {
    Yes,
    No,
    Perhaps,
}

impl Interp<'_> {
    fn side(&self, s: Side) -> V {
        match s {
            Side::In => one(self.c.tuple[5]),
            Side::Out => one(self.c.tuple[6]),
            Side::None => one(NONE),
            Side::Loopback => one(LOOPBACK),
            Side::Unknown => V::Unknown,
        }
    }

    /// The connection, packet by packet: what the client sees.
    fn connection(&mut self) -> Verdict {
        let tcp = self.c.tuple[0] == 6;
        let phases: &[(bool, u128)] = if tcp {
            &TCP_PHASES
        } else {
            &[(false, FL_NONE)]
        };
        let mut path = match self.c.direction {
            Direction::Inbound => Path::LocalIn,
            Direction::Outbound => Path::LocalOut,
            Direction::Forward => Path::Forward,
        };
        let mut conn = Conn::None;
        let mut oif_unknown = false;
        let mut st = State {
            nat: Nat::default(),
            notrack: false,
            mark: 0,
        };
        for (i, &(reply, flags)) in phases.iter().enumerate() {
            let first = i == 0;
            let packet = |path: Path, oif_unknown: bool| {
                let (iif, oif) = sides(path, reply, oif_unknown);
                Packet {
                    reply,
                    ct: if first {
                        CT_NEW
                    } else {
                        ct_state(conn, reply, flags)
                    },
                    flags,
                    first,
                    iif,
                    oif,
                    response: None,
                }
            };
            let hs = hooks(path, reply);
            let reroute = first && hs[0] == Hook::Prerouting;
            let pkt = packet(path, oif_unknown);
            let before = if reroute { &hs[..1] } else { hs };
            if let Some(v) = self.hooks(before, &pkt, &mut st, path, conn, oif_unknown, flags) {
                return v;
            }
            if reroute {
                let to_host = st.nat.redirect
                    || matches!(&st.nat.dst, Some(V::Set(s))
                        if matches!(&*s.ranges(), [(a, b)] if a == b
                            && self.prog.host_addresses.iter().any(|(_, h)| h == a)));
                if to_host {
                    path = Path::LocalIn;
                } else if path == Path::LocalIn && st.nat.dst.is_some() {
                    path = Path::Forward;
                    oif_unknown = true;
                }
                let rest = &hooks(path, false)[1..];
                let pkt = packet(path, oif_unknown);
                if let Some(v) = self.hooks(rest, &pkt, &mut st, path, conn, oif_unknown, flags) {
                    return v;
                }
            }
            let tracked = !st.notrack;
            st.notrack = false;
            if tracked {
                conn = if first {
                    Conn::Orig { seen_reply: false }
                } else {
                    after(conn, reply, flags)
                };
            }
        }
        Verdict::Allow
    }

    /// The packet through the base chains of `hs`; a verdict if it is stopped.
    #[allow(clippy::too_many_arguments)]
    fn hooks(
        &mut self,
        hs: &[Hook],
        pkt: &Packet,
        st: &mut State,
        path: Path,
        conn: Conn,
        oif_unknown: bool,
        flags: u128,
    ) -> Option<Verdict> {
        match self.cross(hs, pkt, st) {
            Ok(()) => None,
            Err((End::Indeterminate, _)) => Some(Verdict::Indeterminate),
            Err((end, hook)) => {
                Some(self.stopped(end, hook, pkt, st, path, conn, oif_unknown, flags))
            }
        }
    }

    /// Runs the packet through the base chains of `hs`, in order; the end
    /// and hook where it was stopped, if it was.
    fn cross(&mut self, hs: &[Hook], pkt: &Packet, st: &mut State) -> Result<(), (End, Hook)> {
        for &hook in hs {
            for &ci in &self.prog.hooks[hook_index(hook)] {
                let chain = &self.prog.chains[ci];
                if chain.kind == ChainKind::Nat && (!pkt.first || st.notrack) {
                    continue;
                }
                let skips = !pkt.reply
                    && pkt.response.is_none()
                    && match hook {
                        Hook::Prerouting | Hook::Input => st.nat.pass_in,
                        _ => st.nat.pass_out,
                    };
                if chain.kind == ChainKind::Filter && skips {
                    continue;
                }
                match self.base(ci, hook, pkt, st) {
                    End::Accept => {}
                    end => return Err((end, hook)),
                }
            }
        }
        Ok(())
    }

    /// What a stopped packet means for the client.
    #[allow(clippy::too_many_arguments)]
    fn stopped(
        &mut self,
        end: End,
        hook: Hook,
        pkt: &Packet,
        st: &mut State,
        path: Path,
        conn: Conn,
        oif_unknown: bool,
        flags: u128,
    ) -> Verdict {
        let decider = match end {
            End::Drop(c) | End::Reject(_, c) => c,
            _ => return Verdict::Indeterminate,
        };
        let after_conntrack = self.prog.chains[decider].priority > -200;
        if pkt.reply
            && flags == FL_SYNACK
            && pkt.response.is_none()
            && !st.notrack
            && conn != Conn::None
            && after_conntrack
        {
            // The client sends its SYN again, now ESTABLISHED.
            let (iif, oif) = sides(path, false, oif_unknown);
            let again = Packet {
                reply: false,
                ct: CT_ESTABLISHED,
                flags: FL_SYN,
                first: false,
                iif,
                oif,
                response: None,
            };
            st.notrack = false;
            return match self.cross(hooks(path, false), &again, st) {
                Ok(()) => Verdict::Drop,
                Err((End::Reject(kind, _), h)) => self.respond(kind, h, &again, st),
                Err((End::Indeterminate, _)) => Verdict::Indeterminate,
                Err(_) => Verdict::Drop,
            };
        }
        match end {
            End::Reject(kind, _) if !pkt.reply && pkt.response.is_none() => {
                self.respond(kind, hook, pkt, st)
            }
            _ => Verdict::Drop,
        }
    }

    /// A REJECT's answer on its way back: Reject if it arrives.
    fn respond(&mut self, kind: RejectKind, at: Hook, pkt: &Packet, st: &mut State) -> Verdict {
        let local_origin = matches!(at, Hook::Output | Hook::Postrouting);
        let tcp_reset = kind.is_tcp_reset();
        let view = self.view(at, 0, pkt, st);
        let icmp = match self.prog.family {
            Family::Ipv4 => 1,
            Family::Ipv6 => 58,
        };
        let ct = if st.notrack { CT_INVALID } else { CT_RELATED };
        let source = if tcp_reset {
            view[2].clone()
        } else {
            match at {
                Hook::Input => view[2].clone(),
                Hook::Output | Hook::Postrouting => view[1].clone(),
                // The host's address on the interface the packet came in by.
                _ => match pkt.iif {
                    Side::In => self
                        .prog
                        .host_addresses
                        .iter()
                        .find(|(class, _)| *class == self.c.tuple[5])
                        .map_or(V::Unknown, |(_, a)| one(*a)),
                    _ => V::Unknown,
                },
            }
        };
        let response: [V; PACKET_DIMS] = [
            one(if tcp_reset { 6 } else { icmp }),
            source,
            view[1].clone(),
            view[4].clone(),
            view[3].clone(),
            one(NONE),
            one(NONE),
            one(ct),
            one(if !tcp_reset {
                FL_NONE
            } else if pkt.flags == FL_SYN {
                FL_RSTACK
            } else {
                FL_RST
            }),
            one(icmp_of(kind)),
            one(1),
            one(st.mark),
            one(conn_status(&st.nat, pkt.first, true)),
        ];
        let (hs, iif, oif): (&[Hook], Side, Side) = if local_origin {
            (
                &[
                    Hook::Output,
                    Hook::Postrouting,
                    Hook::Prerouting,
                    Hook::Input,
                ],
                Side::Loopback,
                Side::Loopback,
            )
        } else {
            (&[Hook::Output, Hook::Postrouting], Side::None, pkt.iif)
        };
        let resp = Packet {
            reply: true,
            ct,
            flags: FL_NONE,
            first: false,
            iif,
            oif,
            response: Some(response),
        };
        st.notrack = false;
        match self.cross(hs, &resp, st) {
            Ok(()) => Verdict::Reject,
            Err((End::Indeterminate, _)) => Verdict::Indeterminate,
            Err(_) => Verdict::Drop,
        }
    }

    /// The values a packet shows the rules of a chain on `hook` at `priority`.
    fn view(&self, hook: Hook, priority: i32, pkt: &Packet, st: &State) -> [V; PACKET_DIMS] {
        let (iif, oif) = match hook {
            Hook::Prerouting | Hook::Input => (self.side(pkt.iif), one(NONE)),
            Hook::Forward => (self.side(pkt.iif), self.side(pkt.oif)),
            Hook::Output | Hook::Postrouting => (one(NONE), self.side(pkt.oif)),
        };
        if let Some(resp) = &pkt.response {
            let mut v = resp.clone();
            v[5] = iif;
            v[6] = oif;
            return v;
        }
        let t = &self.c.tuple;
        let ct = if st.notrack {
            CT_UNTRACKED
        } else if priority < -200 {
            CT_INVALID
        } else {
            pkt.ct
        };
        let nat = &st.nat;
        let dnat_seen = nat.dnat_hook.is_some_and(|h| h != hook || priority > -100);
        let rewritten = dnat_seen || pkt.reply;
        let dst = nat.dst.clone().filter(|_| rewritten).unwrap_or(one(t[2]));
        let dport = nat.dport.clone().filter(|_| rewritten).unwrap_or(one(t[4]));
        let snat_seen = pkt.reply && hook == Hook::Prerouting && priority < -100;
        let reply_dst = nat.src.clone().filter(|_| snat_seen).unwrap_or(one(t[1]));
        let reply_dport = nat.sport.clone().filter(|_| snat_seen).unwrap_or(one(t[3]));
        let snat_before = !pkt.reply
            && nat.snat_at.is_some_and(|(h, p)| {
                (h == hook && priority > p) || (h != Hook::Postrouting && hook == Hook::Postrouting)
            });
        let (src, sport) = if snat_before {
            (
                nat.src.clone().unwrap_or(one(t[1])),
                nat.sport.clone().unwrap_or(one(t[3])),
            )
        } else {
            (one(t[1]), one(t[3]))
        };
        let (src, dst, sport, dport) = if pkt.reply {
            (dst, reply_dst, dport, reply_dport)
        } else {
            (src, dst, sport, dport)
        };
        [
            one(t[0]),
            src,
            dst,
            sport,
            dport,
            iif,
            oif,
            one(ct),
            one(pkt.flags),
            one(NOT_ICMP),
            one(u128::from(pkt.reply)),
            one(st.mark),
            one(conn_status(nat, pkt.first, dnat_seen)),
        ]
    }

    /// Does `rule` match the packet?
    fn matches(&self, rule: &CRule, view: &[V; PACKET_DIMS]) -> Match {
        let mut best = Match::No;
        for cube in &rule.cubes {
            let mut m = Match::Yes;
            for (d, set) in &cube.conds {
                let here = match &view[*d] {
                    V::Set(v) if v.is_subset(set) => Match::Yes,
                    V::Set(v) if !v.intersects(set) => Match::No,
                    V::Set(_) => Match::Perhaps,
                    V::Unknown if self.prog.universe[*d].is_subset(set) => Match::Yes,
                    V::Unknown => Match::Perhaps,
                };
                match here {
                    Match::No => {
                        m = Match::No;
                        break;
                    }
                    Match::Perhaps => m = Match::Perhaps,
                    Match::Yes => {}
                }
            }
            match m {
                Match::Yes => {
                    best = Match::Yes;
                    break;
                }
                Match::Perhaps => best = Match::Perhaps,
                Match::No => {}
            }
        }
        if best != Match::No && !rule.unknown.is_empty() {
            return Match::Perhaps;
        }
        best
    }

    /// A base chain: its rules, then its policy.
    fn base(&mut self, ci: usize, hook: Hook, pkt: &Packet, st: &mut State) -> End {
        let priority = self.prog.chains[ci].priority;
        let mut view = self.view(hook, priority, pkt, st);
        match self.chain(ci, ci, pkt, st, &mut view, 0) {
            Some(end) => end,
            None => match self.prog.chains[ci].policy {
                Some(Policy::Drop) => End::Drop(ci),
                _ => End::Accept,
            },
        }
    }

    /// The rules of `ci` (entered from base chain `base`); `None` if the
    /// packet falls off its end or returns.
    #[allow(clippy::too_many_arguments)]
    fn chain(
        &mut self,
        ci: usize,
        base: usize,
        pkt: &Packet,
        st: &mut State,
        view: &mut [V; PACKET_DIMS],
        depth: usize,
    ) -> Option<End> {
        if depth > MAX_DEPTH {
            return Some(End::Indeterminate);
        }
        let prog = self.prog;
        for rule in &prog.chains[ci].rules {
            let hit = match self.matches(rule, view) {
                Match::Yes => true,
                Match::No => false,
                Match::Perhaps => self.o.choose(),
            };
            if !hit {
                continue;
            }
            let response = pkt.response.is_some();
            match &rule.step {
                Step::Accept => return Some(End::Accept),
                Step::Drop => return Some(End::Drop(ci)),
                Step::Reject(k) => return Some(End::Reject(*k, ci)),
                Step::Jump(t) => {
                    if let Some(end) = self.chain(*t, base, pkt, st, view, depth + 1) {
                        return Some(end);
                    }
                }
                Step::Goto(t) => return self.chain(*t, base, pkt, st, view, depth + 1),
                Step::Return => return None,
                Step::Continue => {}
                Step::SetMark(_) | Step::NoTrack if response => {}
                Step::SetMark(bits) => {
                    st.mark |= bits;
                    view[MARK] = one(st.mark);
                }
                Step::NoTrack => {
                    st.notrack = true;
                    view[CT] = one(CT_UNTRACKED);
                }
                Step::Dnat(rw) => {
                    self.translated = true;
                    let base_hook = prog.chains[base].hook;
                    if let Some(a) = &rw.addr {
                        st.nat.dst = Some(V::Set(a.clone()));
                    }
                    if rw.to_host && rw.addr.is_none() {
                        st.nat.dst = Some(self.redirect_address(base_hook, pkt));
                    }
                    if let Some(p) = &rw.port {
                        st.nat.dport = Some(V::Set(p.clone()));
                    }
                    st.nat.redirect |= rw.to_host;
                    st.nat.dnat_hook = base_hook;
                    st.nat.pass_in |= rw.pass;
                    return Some(End::Accept);
                }
                Step::Snat(rw) => {
                    self.translated = true;
                    let c = &prog.chains[base];
                    st.nat.snat_at = c.hook.map(|h| (h, c.priority));
                    st.nat.pass_out |= rw.pass;
                    st.nat.src = Some(rw.addr.clone().map_or(V::Unknown, V::Set));
                    if let Some(p) = &rw.port {
                        st.nat.sport = Some(V::Set(p.clone()));
                    }
                    return Some(End::Accept);
                }
                Step::Unknown(_) => return Some(End::Indeterminate),
            }
        }
        None
    }

    /// Where a REDIRECT sends the packet: loopback from output, else the
    /// host's address on the interface it came in by, if known.
    fn redirect_address(&self, hook: Option<Hook>, pkt: &Packet) -> V {
        if hook == Some(Hook::Output) {
            let lo = match self.prog.family {
                Family::Ipv4 => u128::from(u32::from(std::net::Ipv4Addr::LOCALHOST)),
                Family::Ipv6 => u128::from(std::net::Ipv6Addr::LOCALHOST),
            };
            return one(lo);
        }
        if pkt.iif != Side::In {
            return V::Unknown;
        }
        self.prog
            .host_addresses
            .iter()
            .find(|(class, _)| *class == self.c.tuple[5])
            .map_or(V::Unknown, |(_, a)| one(*a))
    }
}
