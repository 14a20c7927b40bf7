//! The syntax tree of pf.conf: what the file says, with macros expanded and
//! every statement's place, before any meaning is given to it.
//!
//! Lists stay lists: pfctl's expansion of a rule into one rule per
//! combination of its lists is semantics, not syntax.

use crate::model::{Source, Span};
use serde::Serialize;
use std::net::IpAddr;

/// A pf.conf file and everything it includes or loads.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PfRuleset {
    /// Every file read: the top file first, then included and loaded ones.
    /// A nested ruleset (of a `load anchor`) leaves this empty: its spans
    /// index the top ruleset's sources.
    pub sources: Vec<Source>,
    /// `set ...` statements, in order.
    pub options: Vec<PfOption>,
    /// Macros as defined, values expanded when the definition was read.
    pub macros: Vec<Macro>,
    pub tables: Vec<Table>,
    /// ALTQ and queue definitions: they shape traffic, they do not filter.
    pub queues: Vec<Queue>,
    /// `state limiter` and `source limiter` definitions (FreeBSD 15, OpenBSD 7.8).
    pub limiters: Vec<Limiter>,
    /// Rules, anchors and the other statements that place packets, in order.
    pub items: Vec<Item>,
}

/// `state limiter NAME id N limit N [rate N/S]` or `source limiter NAME id
/// N entries N limit N [rate N/S] [inet mask N] [inet6 mask N]`: a cap on
/// the states that rules naming it may create.
#[derive(Debug, Clone, Serialize)]
pub struct Limiter {
    pub span: Span,
    pub kind: LimiterKind,
    pub name: String,
    /// Its settings as words: `id 1`, `limit 1000`, `rate 1/10`, ...
    pub settings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimiterKind {
    State,
    Source,
}

#[derive(Debug, Clone, Serialize)]
pub struct Macro {
    pub span: Span,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PfOption {
    pub span: Span,
    /// `skip`, `block-policy`, `timeout`, ... as written after `set`.
    pub name: String,
    /// Its arguments as read: words and strings, lists flattened, with
    /// `on` after `skip` left out.
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub span: Span,
    pub name: String,
    pub persist: bool,
    pub constant: bool,
    pub counters: bool,
    /// Addresses given inline.
    pub entries: Vec<Host>,
    /// `file "..."`: the file's content is unknown here (it is not read).
    pub files: Vec<String>,
}

/// `altq on ...` or `queue ...`, kept because it does not filter.
#[derive(Debug, Clone, Serialize)]
pub struct Queue {
    pub span: Span,
    /// `altq` (an interface's queue discipline) or `queue`.
    pub kind: QueueKind,
    /// The queue's name (`None` for `altq`).
    pub name: Option<String>,
    pub interface: Option<String>,
    /// `parent` (new syntax).
    pub parent: Option<String>,
    /// Child queues listed in `{ }` or after `queue` in `altq`.
    pub children: Vec<String>,
    /// The remaining settings, `bandwidth 10Mb`, `cbq(default red)`, as words.
    pub settings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueKind {
    Altq,
    Queue,
}

/// Each kind is boxed: a big ruleset is a long list of these, and a small
/// item makes the list cheap to grow.
#[derive(Debug, Clone, Serialize)]
pub enum Item {
    /// `pass`, `block`, `match`, `scrub`, `dummynet`, and pre-4.7 `nat`, `rdr`, `binat`.
    Rule(Box<Rule>),
    /// `anchor`, `nat-anchor`, ... with an optional inline body.
    Anchor(Box<Anchor>),
    /// `load anchor NAME from "FILE"`, with the file's ruleset if it was read.
    LoadAnchor(Box<LoadAnchor>),
    Antispoof(Box<Antispoof>),
    /// `ether ...` (FreeBSD): layer 2, kept as not IP filtering.
    Ether(Box<EtherRule>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Pass,
    Block,
    Match,
    Scrub,
    /// Apple's dummynet rules: they shape, they do not filter.
    Dummynet,
    /// Pre-4.7 translation rules (`nat on ... -> ...`) and their `no` forms.
    Nat,
    NoNat,
    Rdr,
    NoRdr,
    Binat,
    NoBinat,
}

/// How a `block` rule blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockHow {
    /// No word given: the `set block-policy`.
    Default,
    Drop,
    Return,
    /// `return-rst`, with `( ttl N )` if given.
    ReturnRst(Option<u32>),
    /// `return-icmp [(code [, code6])]`, the codes as written.
    ReturnIcmp(Vec<String>),
    ReturnIcmp6(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    In,
    Out,
    /// No direction given: both.
    #[default]
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Af {
    Inet,
    Inet6,
}

/// `log` and its options (`all`, `matches`, `user`, `to pflogN`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Log {
    pub options: Vec<String>,
}

/// An interface of `on`: a name, a group, `any`; `!` negates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    pub not: bool,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum On {
    Interfaces(Vec<Interface>),
    /// `on rdomain N`.
    Rdomain(u32),
}

/// A protocol of `proto`: the name as written and the number when it is
/// known. The usual names are not copied: most rules of a big ruleset
/// name tcp or udp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proto {
    pub name: std::borrow::Cow<'static, str>,
    pub number: Option<u8>,
}

/// An address of `from`, `to`, a table or a redirection; `!` negates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Host {
    pub not: bool,
    pub addr: Addr,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Addr {
    Any,
    NoRoute,
    UrpfFailed,
    /// `self`: the addresses of this host.
    SelfAddr,
    /// An address, with its prefix length if one was given.
    Ip {
        ip: IpAddr,
        prefix: Option<u8>,
    },
    /// A name pfctl resolves: an interface, an interface group or a host
    /// name, with `:network`-style modifiers and a prefix length.
    Name {
        name: String,
        modifiers: Vec<String>,
        prefix: Option<u8>,
    },
    /// `(if)`, `(if:network)`: the interface's addresses when the rule is
    /// evaluated.
    Dynamic {
        interface: String,
        modifiers: Vec<String>,
        prefix: Option<u8>,
    },
    /// `<name>`.
    Table(String),
    /// `a - b`.
    Range(IpAddr, IpAddr),
    /// `route label` (OpenBSD).
    Route(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortOp {
    /// `port 80`, `port = 80`.
    Eq(u16),
    Ne(u16),
    Lt(u16),
    Le(u16),
    Gt(u16),
    Ge(u16),
    /// `a >< b`: strictly between.
    Inside(u16, u16),
    /// `a <> b`: strictly outside.
    Outside(u16, u16),
    /// `a:b`: from a to b, both included.
    Range(u16, u16),
}

/// `user`/`group` items: an id or name with an operator, or `unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdMatch {
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`, `><`, `<>`, `:` (the last three between `value` and `upper`).
    pub op: String,
    pub value: String,
    pub upper: Option<String>,
}

/// One side of `from`/`to`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// Empty: any.
    pub hosts: Vec<Host>,
    /// Empty: any port.
    pub ports: Vec<PortOp>,
}

/// `icmp-type`/`icmp6-type` items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IcmpType {
    pub r#type: u8,
    pub code: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateKind {
    Keep,
    Modulate,
    Synproxy,
    /// `no state`.
    No,
}

/// `keep state (max 100, source-track rule, ...)`: each option and its words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct State {
    pub kind: StateKind,
    pub options: Vec<Vec<String>>,
}

/// A redirection target: `nat-to`, `rdr-to`, `binat-to`, `route-to`, ...,
/// or the part after `->` of a pre-4.7 rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pool {
    pub hosts: Vec<Host>,
    /// `(if addr)` pairs of `route-to`: the interface for each host given so.
    pub interfaces: Vec<Option<String>>,
    /// `port a[:b]` of a translation.
    pub ports: Option<(u16, u16)>,
    /// `bitmask`, `random`, `source-hash [key]`, `round-robin`,
    /// `static-port`, `sticky-address`, `map-e-portset a/b/c`, ...
    pub options: Vec<String>,
}

/// The big variants are boxed: a rule's options are a list, and most
/// are a word or two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleOption {
    User(Vec<IdMatch>),
    Group(Vec<IdMatch>),
    /// `flags a/b`: the flags that must be set, out of those checked.
    Flags {
        set: String,
        mask: String,
    },
    FlagsAny,
    IcmpType(Vec<IcmpType>),
    Icmp6Type(Vec<IcmpType>),
    Tos(String),
    Probability(String),
    Tag(String),
    Tagged {
        not: bool,
        name: String,
    },
    Label(String),
    State(State),
    /// `set prio N` or `set prio (N, M)`.
    SetPrio(Vec<u8>),
    SetTos(String),
    Prio(u8),
    RouteTo(Box<Pool>),
    ReplyTo(Box<Pool>),
    DupTo(Box<Pool>),
    NatTo(Box<Pool>),
    RdrTo(Box<Pool>),
    BinatTo(Box<Pool>),
    AfTo {
        af: Af,
        from: Box<Pool>,
        to: Option<Box<Pool>>,
    },
    DivertTo {
        host: Box<Host>,
        port: u16,
    },
    DivertReply,
    DivertPacket(u16),
    Queue(Vec<String>),
    /// `state limiter NAME [(options)]`, `source limiter NAME [(options)]`.
    Limiter {
        kind: LimiterKind,
        name: String,
        options: Vec<String>,
    },
    Rtable(u32),
    Os(Vec<String>),
    Fragment,
    AllowOpts,
    Once,
    /// Scrub settings: `no-df`, `min-ttl N`, `max-mss N`, `random-id`,
    /// `reassemble tcp`, `fragment reassemble`, ... as words.
    Scrub(Vec<String>),
    /// Options with no bearing on which packets pass: `received-on`,
    /// `max-pkt-rate`, `dnpipe`, `ridentifier`, ... kept as words.
    Other(Vec<String>),
}

/// A `pass`/`block`/`match`/`scrub`/`nat`/`rdr`/`binat` rule.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub span: Span,
    pub action: Action,
    /// For `block`: how.
    pub block: Option<BlockHow>,
    pub direction: Direction,
    pub log: Option<Log>,
    pub quick: bool,
    /// `nat pass`, `rdr pass`, `binat pass`: the translated packets pass
    /// without the filter rules.
    pub pass: bool,
    pub on: Option<On>,
    pub af: Option<Af>,
    pub proto: Vec<Proto>,
    pub from: Endpoint,
    pub to: Endpoint,
    pub options: Vec<RuleOption>,
    /// The `->` part of a pre-4.7 `nat`/`rdr`/`binat` rule.
    pub redirect: Option<Box<Pool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnchorKind {
    Filter,
    Nat,
    Rdr,
    Binat,
    Scrub,
    Dummynet,
    /// `ether anchor`.
    Ether,
}

/// An anchor rule: where a sub-ruleset is evaluated, and on which packets.
#[derive(Debug, Clone, Serialize)]
pub struct Anchor {
    pub span: Span,
    pub kind: AnchorKind,
    /// `"a/b"`, `"a/*"`; `None` for an anonymous inline anchor.
    pub name: Option<String>,
    pub direction: Direction,
    pub quick: bool,
    pub on: Option<On>,
    pub af: Option<Af>,
    pub proto: Vec<Proto>,
    pub from: Endpoint,
    pub to: Endpoint,
    pub options: Vec<RuleOption>,
    /// `{ ... }`: the rules given inline.
    pub body: Option<Vec<Item>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadAnchor {
    pub span: Span,
    pub anchor: String,
    pub file: String,
    /// The file's ruleset, when the loader gave it.
    pub ruleset: Option<PfRuleset>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Antispoof {
    pub span: Span,
    pub log: Option<Log>,
    pub quick: bool,
    pub interfaces: Vec<Interface>,
    pub af: Option<Af>,
    pub label: Option<String>,
}

/// An `ether` rule: layer 2 (FreeBSD), kept as not IP filtering.
#[derive(Debug, Clone, Serialize)]
pub struct EtherRule {
    pub span: Span,
    /// The rule's words after `ether`.
    pub words: Vec<String>,
}
