//! What an nftables ruleset says, before it is lowered to the model.
//!
//! Both readers build this: the nft language parser (`nft list ruleset`,
//! `/etc/nftables.conf`) and the `nft -j` JSON reader. One lowering
//! ([`super::lower`]) then turns it into the normalized model, so the two
//! formats cannot drift apart in meaning.

use crate::model::{self, Span};

/// Text in the syntax tree: names, numbers, addresses. Most are short, so
/// up to 22 bytes are kept inline and a big ruleset does not allocate for
/// each of them.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// Invariant: `bytes[..len]` is a whole `str` copied in by `From<&str>`.
    Inline {
        len: u8,
        bytes: [u8; 22],
    },
    Heap(Box<str>),
}

impl Text {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // SAFETY: the only constructor of `Inline` (`From<&str>`) copies
            // a whole `str` into `bytes[..len]`, so those bytes are UTF-8.
            // Checking them again on every read was a tenth of the time of
            // reading a big ruleset.
            #[allow(unsafe_code)]
            Repr::Inline { len, bytes } => unsafe {
                std::str::from_utf8_unchecked(&bytes[..*len as usize])
            },
            Repr::Heap(s) => s,
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        if s.len() <= 22 {
            let mut bytes = [0u8; 22];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            Text(Repr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            Text(Repr::Heap(s.into()))
        }
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        if s.len() <= 22 {
            Text::from(s.as_str())
        } else {
            Text(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text::from(s.as_str())
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// The model rules of the rules lowered as they were read (see
    /// [`Rule::early`]), one list per family of the table (IPv4 first).
    pub early: [Vec<model::Rule>; 2],
}

impl Chain {
    pub fn new(name: String, span: Span, base: Option<BaseSpec>, policy: Option<String>) -> Chain {
        Chain {
            name,
            span,
            base,
            policy,
            rules: Vec::new(),
            early: Default::default(),
        }
    }

    /// `flush chain`: no rules, and none lowered.
    pub fn clear_rules(&mut self) {
        self.rules.clear();
        self.early = Default::default();
    }
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
    /// The elements as the lowering reads them, read once for all the rules
    /// that name the set (a big ruleset names a few sets thousands of times).
    pub lowered: SetLowered,
}

/// What the lowering made of a set's elements: networks per family (IPv4
/// first) and ports; `None` inside where they do not read as such.
#[derive(Debug, Clone, Default)]
pub struct SetLowered {
    pub nets: [std::cell::OnceCell<Option<model::Nets>>; 2],
    pub ports: std::cell::OnceCell<Option<model::Ports>>,
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
    /// Empty for a rule lowered as it was read.
    pub stmts: Vec<Stmt>,
    /// Where the model rules of a rule lowered as it was read are in
    /// [`Chain::early`]. The nft parser reads the plain rules big rulesets
    /// are made of straight into the model, so a big ruleset never holds
    /// its syntax tree as a whole.
    pub early: Option<EarlyRules>,
}

impl Rule {
    pub fn new(span: Span, stmts: Vec<Stmt>) -> Rule {
        Rule {
            span,
            stmts,
            early: None,
        }
    }
}

/// A range of each family's list in [`Chain::early`].
#[derive(Debug, Clone, Copy)]
pub struct EarlyRules {
    pub start: [u32; 2],
    pub count: [u32; 2],
}

/// What a match compares: a payload field, meta or ct key, or something
/// else the rule names (kept as its text).
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// `ip saddr`, `tcp dport`, `th sport`, `ip6 nexthdr`, `icmp type`, ...
    Payload { protocol: Text, field: Text },
    /// `meta l4proto`, `iifname` (written without `meta`), `meta mark`, ...
    Meta(Text),
    /// `ct state`, `ct status`, `ct mark`, `ct direction`, ...
    Ct(Text),
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
    Atom(Text),
    /// `a-b`.
    Range(Text, Text),
    /// `a . b . c`.
    Concat(Vec<Value>),
    /// An anonymous set `{ a, b-c, d/8 }`.
    Set(Vec<Element>),
    /// `@name`.
    SetRef(String),
    /// `(flags & mask) == comp` on a bit field (`tcp flags & (fin|syn) == syn`).
    Masked {
        mask: Vec<String>,
        comp: Vec<String>,
    },
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

impl NatKind {
    /// The statement's keyword.
    pub fn name(&self) -> &'static str {
        match self {
            NatKind::Dnat => "dnat",
            NatKind::Snat => "snat",
            NatKind::Masquerade => "masquerade",
            NatKind::Redirect => "redirect",
        }
    }
}

/// The left side of a match: one selector, or several for a concatenation
/// (`ip saddr . tcp dport`). Kept inline, since nearly every match has one.
pub type Selectors = smallvec::SmallVec<[Selector; 1]>;

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Match {
        left: Selectors,
        op: Op,
        right: Value,
    },
    /// `<selector> vmap { key : verdict, ... }` or `vmap @name`.
    Vmap {
        left: Selectors,
        map: Value,
    },
    Verdict(Verdict),
    /// `dnat [ip|ip6] to ADDR[:PORT]`, `snat to ...`, `masquerade [to :PORT]`,
    /// `redirect [to :PORT]`: the address and port as written.
    Nat {
        kind: NatKind,
        family: Option<String>,
        addr: Option<String>,
        port: Option<String>,
    },
    Notrack,
    /// `counter`, `log ...`, `comment "..."`, `meta mark set ...`, `limit`,
    /// `quota` and the other statements that never decide: kept as text.
    /// `limit`, `quota` and `meter` can stop a rule from matching; they are
    /// [`Stmt::Condition`] instead.
    Effect(Text),
    /// A statement that may or may not let the rule go on (`limit rate 10/second`,
    /// `quota over 1 mbytes`, `meter ...`): the rule's result depends on run-time state.
    Condition(String),
    /// A verdict-like statement the model does not know (`tproxy`, `synproxy`,
    /// `fwd`, `dup`, ...), kept as text.
    Unknown(String),
}
