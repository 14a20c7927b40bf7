//! What an nftables ruleset says, before it is lowered to the model.
//!
//! Both readers build this: the nft language parser (`nft list ruleset`,
//! `/etc/nftables.conf`) and the `nft -j` JSON reader. One lowering
//! ([`super::lower`]) then turns it into the normalized model, so the two
//! formats cannot drift apart in meaning.

use crate::model::Span;

/// nftables table families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableFamily {
    Ip,
    Ip6,
    Inet,
    Arp,
    Bridge,
    Netdev,
}

impl TableFamily {
    pub fn parse(s: &str) -> Option<TableFamily> {
        Some(match s {
            "ip" => TableFamily::Ip,
            "ip6" => TableFamily::Ip6,
            "inet" => TableFamily::Inet,
            "arp" => TableFamily::Arp,
            "bridge" => TableFamily::Bridge,
            "netdev" => TableFamily::Netdev,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            TableFamily::Ip => "ip",
            TableFamily::Ip6 => "ip6",
            TableFamily::Inet => "inet",
            TableFamily::Arp => "arp",
            TableFamily::Bridge => "bridge",
            TableFamily::Netdev => "netdev",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub family: TableFamily,
    pub name: String,
    pub span: Span,
    pub chains: Vec<Chain>,
    pub sets: Vec<Set>,
}

/// `type filter hook input priority 0; policy drop;`
#[derive(Debug, Clone)]
pub struct BaseSpec {
    /// `filter`, `nat` or `route`.
    pub kind: String,
    pub hook: String,
    pub priority: i32,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Chain {
    pub name: String,
    pub span: Span,
    pub base: Option<BaseSpec>,
    /// `accept` or `drop`; `None` is accept for a base chain.
    pub policy: Option<String>,
    pub rules: Vec<Rule>,
}

/// A named set or map: `set name { type ...; flags interval; elements = { ... } }`.
#[derive(Debug, Clone)]
pub struct Set {
    pub name: String,
    pub span: Span,
    /// The `type` (or `typeof`) words, e.g. `ipv4_addr`, `inet_service`,
    /// with concatenations as several entries.
    pub key_type: Vec<String>,
    /// For a map: the data type (`verdict`, `ipv4_addr`, ...).
    pub data_type: Option<String>,
    pub elements: Vec<Element>,
    /// Flags such as `dynamic` or `timeout`: the elements may change at run
    /// time, so what the file says is not all the set will hold.
    pub dynamic: bool,
}

/// One element of a set or map, with its data for a map.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub key: Value,
    pub data: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub span: Span,
    pub stmts: Vec<Stmt>,
}

/// What a match compares: a payload field, meta or ct key, or something
/// else the rule names (kept as its text).
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// `ip saddr`, `tcp dport`, `th sport`, `ip6 nexthdr`, `icmp type`, ...
    Payload { protocol: String, field: String },
    /// `meta l4proto`, `iifname` (written without `meta`), `meta mark`, ...
    Meta(String),
    /// `ct state`, `ct status`, `ct mark`, `ct direction`, ...
    Ct(String),
    /// Anything else (`fib daddr type`, `socket transparent`, `osf name`,
    /// raw payloads): parsed, not modelled.
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    /// `tcp flags & (syn | ack) == syn` style and bare flag lists are
    /// handled as [`Value::Flags`]; this marks "all of these bits set".
    AllSet,
}

/// A value as written: numbers and names stay text until the lowering knows
/// what the selector wants (a port, an address, a state, a protocol).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number, a name (`ssh`, `established`, `tcp`), an address (with
    /// or without `/prefix`), an interface name (maybe with `*`), a string.
    Atom(String),
    /// `a-b`.
    Range(String, String),
    /// `a . b . c`.
    Concat(Vec<Value>),
    /// An anonymous set `{ a, b-c, d/8 }`.
    Set(Vec<Element>),
    /// `@name`.
    SetRef(String),
    /// `(flags & mask) == comp` on a bit field (`tcp flags & (fin|syn) == syn`).
    Masked { mask: Vec<String>, comp: Vec<String> },
    /// `syn | ack`: a list of flag names.
    Flags(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Accept,
    Drop,
    /// `reject`, `reject with icmp type port-unreachable`,
    /// `reject with tcp reset`, ...: the words after `with`.
    Reject(Option<String>),
    Jump(String),
    Goto(String),
    Return,
    Continue,
    /// `queue ...`: the packet leaves to user space.
    Queue(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum NatKind {
    Dnat,
    Snat,
    Masquerade,
    Redirect,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Match { left: Vec<Selector>, op: Op, right: Value },
    /// `<selector> vmap { key : verdict, ... }` or `vmap @name`.
    Vmap { left: Vec<Selector>, map: Value },
    Verdict(Verdict),
    /// `dnat [ip|ip6] to ADDR[:PORT]`, `snat to ...`, `masquerade [to :PORT]`,
    /// `redirect [to :PORT]`: the address and port as written.
    Nat { kind: NatKind, family: Option<String>, addr: Option<String>, port: Option<String> },
    Notrack,
    /// `counter`, `log ...`, `comment "..."`, `meta mark set ...`, `limit`,
    /// `quota` and the other statements that never decide: kept as text.
    /// `limit`, `quota` and `meter` can stop a rule from matching; they are
    /// [`Stmt::Condition`] instead.
    Effect(String),
    /// A statement that may or may not let the rule go on (`limit rate 10/second`,
    /// `quota over 1 mbytes`, `meter ...`): the rule's result depends on run-time state.
    Condition(String),
    /// A verdict-like statement the model does not know (`tproxy`, `synproxy`,
    /// `fwd`, `dup`, ...), kept as text.
    Unknown(String),
}
