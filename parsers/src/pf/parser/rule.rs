//! Rules: `pass`, `block`, `match`, `scrub`, `dummynet` and the pre-4.7
//! translation rules `nat`, `rdr`, `binat` (and `no ...`), with the head
//! they share with anchors (direction, `log`, `quick`, `on`, af, `proto`,
//! `from`/`to`) and the options that follow.

use super::host::{host, host_list_rest, ipspec, port, portspec};
use super::{Cur, Res, found};
use crate::ErrorKind;
use crate::pf::ast::{
    Action, Af, BlockHow, Direction, Endpoint, Host, IcmpType, IdMatch, Interface, LimiterKind,
    Log, On, Pool, Proto, Rule, RuleOption, State, StateKind,
};
use crate::pf::lexer::{Kind, Token};
use crate::pf::vocab;
use std::borrow::Cow;

/// The parts of a rule before its options.
#[derive(Default)]
pub(super) struct Head {
    pub direction: Direction,
    pub log: Option<Log>,
    pub quick: bool,
    pub on: Option<On>,
    pub af: Option<Af>,
    pub proto: Vec<Proto>,
    pub from: Endpoint,
    pub to: Endpoint,
    /// `route-to` and the like written before the af (FreeBSD's order), and `os`.
    pub options: Vec<RuleOption>,
}

/// Words that begin the head of an anchor rather than name it.
pub(super) fn is_head_word(word: &str) -> bool {
    matches!(
        word,
        "in" | "out" | "on" | "inet" | "inet6" | "proto" | "from" | "to" | "all" | "quick" | "log"
    )
}

/// `rule = action head options ["->" pool]`
pub(super) fn rule(c: &mut Cur) -> Res<Rule> {
    let first = c.peek().clone();
    let (action, block, pass, log) = action(c)?;
    let translation = matches!(
        action,
        Action::Nat | Action::NoNat | Action::Rdr | Action::NoRdr | Action::Binat | Action::NoBinat
    );
    let mut head = if translation {
        let mut head = Head {
            on: interface(c)?,
            af: af(c),
            proto: proto(c)?,
            log,
            ..Head::default()
        };
        fromto(c, &mut head)?;
        head
    } else {
        head(c, true)?
    };
    let mut options = self::options(c, action)?;
    if !head.options.is_empty() {
        head.options.append(&mut options);
        options = std::mem::take(&mut head.options);
    }
    let mut redirect = None;
    if translation {
        if c.peek().is("->") {
            let arrow = c.bump();
            if matches!(action, Action::NoNat | Action::NoRdr | Action::NoBinat) {
                return Err(c.error_at(
                    &arrow,
                    ErrorKind::Syntax,
                    "a `no` translation rule takes no `->`: it says what is not translated"
                        .to_string(),
                ));
            }
            redirect = Some(Box::new(pool(c, false, true)?));
        } else if matches!(action, Action::Nat | Action::Rdr | Action::Binat) {
            return Err(c.expected(&format!(
                "`->` and the translated address in the `{}` rule",
                first.text
            )));
        }
    }
    c.end_of_statement("rule")?;
    Ok(Rule {
        span: c.span_from(first.start),
        action,
        block,
        direction: head.direction,
        log: head.log,
        quick: head.quick,
        pass,
        on: head.on,
        af: head.af,
        proto: head.proto,
        from: head.from,
        to: head.to,
        options,
        redirect,
    })
}

/// `action = "pass" | "match" | "scrub" | "dummynet" | "block" [block_how]
/// | ["no"] ("nat" | "rdr" | "binat") ["pass"] ["log" [log_opts]]`
fn action(c: &mut Cur) -> Res<(Action, Option<BlockHow>, bool, Option<Log>)> {
    let t = c.bump();
    let no = t.text == "no";
    let word = if no {
        c.string("`nat`, `rdr` or `binat` after `no`")?
    } else {
        t.clone()
    };
    let action = match (no, word.text.as_ref()) {
        (false, "pass") => Action::Pass,
        (false, "block") => Action::Block,
        (false, "match") => Action::Match,
        (false, "scrub") => Action::Scrub,
        (false, "dummynet") => Action::Dummynet,
        (false, "nat") => Action::Nat,
        (false, "rdr") => Action::Rdr,
        (false, "binat") => Action::Binat,
        (true, "nat") => Action::NoNat,
        (true, "rdr") => Action::NoRdr,
        (true, "binat") => Action::NoBinat,
        _ => {
            return Err(c.error_at(
                &word,
                ErrorKind::Syntax,
                format!(
                    "expected `nat`, `rdr` or `binat` after `no`, found {}",
                    found(&word)
                ),
            ));
        }
    };
    let block = if action == Action::Block {
        Some(block_how(c)?)
    } else {
        None
    };
    let mut pass = false;
    let mut log = None;
    if matches!(
        action,
        Action::Nat | Action::Rdr | Action::Binat | Action::NoNat | Action::NoRdr | Action::NoBinat
    ) {
        pass = c.eat("pass");
        if c.peek().is("log") {
            log = Some(self::log(c)?);
        } else if c.eat("log-all") {
            log = Some(Log {
                options: vec!["all".to_string()],
            });
        }
    }
    Ok((action, block, pass, log))
}

/// `block_how = "drop" | "return" | "return-rst" ["(" "ttl" number ")"]
/// | "return-icmp" ["(" code ["," code] ")"] | "return-icmp6" ["(" code ")"]`
fn block_how(c: &mut Cur) -> Res<BlockHow> {
    let how = match c.peek().text.as_ref() {
        "drop" => BlockHow::Drop,
        "return" => BlockHow::Return,
        "return-rst" => {
            c.bump();
            let mut ttl = None;
            if c.eat("(") {
                c.expect("ttl", "in `return-rst (`")?;
                let n = c.string("a number after `ttl`")?;
                ttl = Some(number(c, &n, 255)?);
                c.expect(")", "to close `return-rst (`")?;
            }
            return Ok(BlockHow::ReturnRst(ttl));
        }
        w @ ("return-icmp" | "return-icmp6") => {
            let v6 = w == "return-icmp6";
            c.bump();
            let mut codes = Vec::new();
            if c.eat("(") {
                loop {
                    let t = c.string("an ICMP code")?;
                    codes.push(t.text.to_string());
                    if !c.eat(",") {
                        break;
                    }
                }
                c.expect(")", "to close the ICMP codes")?;
            }
            return Ok(if v6 {
                BlockHow::ReturnIcmp6(codes)
            } else {
                BlockHow::ReturnIcmp(codes)
            });
        }
        _ => return Ok(BlockHow::Default),
    };
    c.bump();
    Ok(how)
}

/// `head = [dir] {log | quick} [interface] [route] [af] [proto] fromto`
pub(super) fn head(c: &mut Cur, filter: bool) -> Res<Head> {
    let mut head = Head {
        direction: direction(c),
        ..Head::default()
    };
    let (log, quick) = log_quick(c)?;
    head.log = log;
    head.quick = quick;
    head.on = interface(c)?;
    if filter {
        if c.eat("fastroute") {
            head.options
                .push(RuleOption::Other(vec!["fastroute".to_string()]));
        }
        while matches!(c.peek().text.as_ref(), "route-to" | "reply-to" | "dup-to")
            && c.peek().kind == Kind::Word
        {
            let opt = route(c)?;
            head.options.push(opt);
        }
    }
    head.af = af(c);
    head.proto = proto(c)?;
    fromto(c, &mut head)?;
    Ok(head)
}

/// `dir = "in" | "out"`; neither is both.
fn direction(c: &mut Cur) -> Direction {
    let t = c.peek();
    let direction = match (t.kind, t.text.as_ref()) {
        (Kind::Word, "in") => Direction::In,
        (Kind::Word, "out") => Direction::Out,
        _ => return Direction::Both,
    };
    c.bump();
    direction
}

/// `logquick = { "log" [log_opts] | "quick" }`
pub(super) fn log_quick(c: &mut Cur) -> Res<(Option<Log>, bool)> {
    let (mut log, mut quick) = (None, false);
    loop {
        if c.peek().is("log") && log.is_none() {
            log = Some(self::log(c)?);
        } else if c.peek().is("log-all") && log.is_none() {
            // Before OpenBSD 3.5, `log (all)` was spelled `log-all`.
            c.bump();
            log = Some(Log {
                options: vec!["all".to_string()],
            });
        } else if c.eat("quick") {
            quick = true;
        } else {
            return Ok((log, quick));
        }
    }
}

/// `log = "log" ["(" log_opt { "," log_opt } ")"]` where
/// `log_opt = "all" | "matches" | "user" | "to" interface`.
fn log(c: &mut Cur) -> Res<Log> {
    c.bump();
    let mut out = Log::default();
    if c.eat("(") {
        loop {
            let t = c.string("a log option (all, matches, user, to)")?;
            match t.text.as_ref() {
                "all" | "matches" | "user" => out.options.push(t.text.to_string()),
                "to" => {
                    let i = c.string("an interface after `log (to`")?;
                    out.options.push(format!("to {}", i.text));
                }
                _ => {
                    return Err(c.error_at(
                        &t,
                        ErrorKind::UnknownOption,
                        format!(
                            "expected a log option (all, matches, user, to), found {}",
                            found(&t)
                        ),
                    ));
                }
            }
            if !c.eat(",") {
                break;
            }
        }
        c.expect(")", "to close the log options")?;
    }
    Ok(out)
}

/// `interface = "on" ( "rdomain" number | if_item | "{" if_item { [","] if_item } "}" )`
fn interface(c: &mut Cur) -> Res<Option<On>> {
    if !c.eat("on") {
        return Ok(None);
    }
    if c.peek().is("rdomain") {
        c.bump();
        let t = c.string("a routing domain number after `on rdomain`")?;
        return Ok(Some(On::Rdomain(number(c, &t, 255)?)));
    }
    Ok(Some(On::Interfaces(interfaces(c)?)))
}

/// `interfaces = if_item | "{" if_item { [","] if_item } "}"` where
/// `if_item = ["!"] name` (an interface, a group or `any`).
pub(super) fn interfaces(c: &mut Cur) -> Res<Vec<Interface>> {
    if c.eat("{") {
        let mut list = Vec::new();
        loop {
            while c.peek().is(",") || c.peek().kind == Kind::Newline {
                c.bump();
            }
            if c.eat("}") {
                if list.is_empty() {
                    return Err(c.expected("an interface in the list"));
                }
                return Ok(list);
            }
            list.push(if_item(c)?);
        }
    }
    Ok(vec![if_item(c)?])
}

fn if_item(c: &mut Cur) -> Res<Interface> {
    let not = c.eat("!");
    if c.eat("(") {
        // `antispoof for (em0)`: the interface's addresses as they change.
        let t = c.string("an interface name after `(`")?;
        c.expect(")", "after the interface name")?;
        return Ok(Interface {
            not,
            name: format!("({})", t.text),
        });
    }
    let t = c.string("an interface name")?;
    Ok(Interface {
        not,
        name: t.text.to_string(),
    })
}

/// `af = "inet" | "inet6"`
pub(super) fn af(c: &mut Cur) -> Option<Af> {
    let t = c.peek();
    let af = match (t.kind, t.text.as_ref()) {
        (Kind::Word, "inet") => Af::Inet,
        (Kind::Word, "inet6") => Af::Inet6,
        _ => return None,
    };
    c.bump();
    Some(af)
}

/// `proto = "proto" (proto_item | "{" proto_item { [","] proto_item } "}")`
fn proto(c: &mut Cur) -> Res<Vec<Proto>> {
    if !c.eat("proto") {
        return Ok(Vec::new());
    }
    let mut list = Vec::new();
    if c.eat("{") {
        loop {
            while c.peek().is(",") || c.peek().kind == Kind::Newline {
                c.bump();
            }
            if c.eat("}") {
                break;
            }
            list.push(proto_item(c)?);
        }
        if list.is_empty() {
            return Err(c.expected("a protocol in the list"));
        }
    } else {
        list = vec![proto_item(c)?];
    }
    Ok(list)
}

/// `proto_item = name | number`
fn proto_item(c: &mut Cur) -> Res<Proto> {
    let t = c.string("a protocol after `proto`")?;
    let number = match t.text.as_ref() {
        "icmp6" | "ipv6-icmp" => Some(58),
        text => crate::values::protocols::protocol(text)
            .map_err(|why| c.error_at(&t, ErrorKind::InvalidValue, why))?,
    };
    let name = match t.text.as_ref() {
        "tcp" => Cow::Borrowed("tcp"),
        "udp" => Cow::Borrowed("udp"),
        "icmp" => Cow::Borrowed("icmp"),
        "icmp6" => Cow::Borrowed("icmp6"),
        other => Cow::Owned(other.to_string()),
    };
    Ok(Proto { name, number })
}

/// `fromto = "all" | ["from" ipportspec] ["os" os] ["to" ipportspec]` where
/// `ipportspec = ipspec ["port" portspec] | "port" portspec`.
fn fromto(c: &mut Cur, head: &mut Head) -> Res<()> {
    if c.eat("all") {
        return Ok(());
    }
    if c.eat("from") {
        head.from = ipportspec(c)?;
    }
    if c.eat("os") {
        let mut names = Vec::new();
        if c.eat("{") {
            loop {
                while c.peek().is(",") {
                    c.bump();
                }
                if c.eat("}") {
                    break;
                }
                names.push(c.string("an OS name")?.text.to_string());
            }
        } else {
            names.push(c.string("an OS name after `os`")?.text.to_string());
        }
        head.options.push(RuleOption::Os(names));
    }
    if c.eat("to") {
        head.to = ipportspec(c)?;
    }
    Ok(())
}

fn ipportspec(c: &mut Cur) -> Res<Endpoint> {
    let mut endpoint = Endpoint::default();
    if !c.peek().is("port") {
        endpoint.hosts = ipspec(c)?;
    }
    if c.eat("port") {
        endpoint.ports = portspec(c)?;
    }
    Ok(endpoint)
}

/// `options = { option }`, to the end of the rule, an anchor's `{` or `->`.
pub(super) fn options(c: &mut Cur, action: Action) -> Res<Vec<RuleOption>> {
    let mut out = Vec::new();
    while !c.at_end() && !c.peek().is("{") && !c.peek().is("->") {
        // Most rules have one option or none: room for one first, not
        // the four a first push makes, keeps a big ruleset's tree small.
        if out.is_empty() {
            out.reserve_exact(1);
        }
        out.push(option(c, action)?);
    }
    Ok(out)
}

/// One rule option (pfctl's `filter_opt`, `scrub_opt` and translation options).
fn option(c: &mut Cur, action: Action) -> Res<RuleOption> {
    let t = c.peek().clone();
    if t.kind != Kind::Word && !t.is("!") {
        return Err(c.expected("a rule option"));
    }
    if t.is("!") {
        c.bump();
        c.expect("tagged", "after `!`")?;
        let name = c.string("a tag name after `tagged`")?;
        return Ok(RuleOption::Tagged {
            not: true,
            name: name.text.to_string(),
        });
    }
    let word = t.text.as_ref();
    if matches!(word, "route-to" | "reply-to" | "dup-to") {
        return route(c);
    }
    c.bump();
    Ok(match word {
        "user" => RuleOption::User(ids(c)?),
        "group" => RuleOption::Group(ids(c)?),
        "flags" => flags(c)?,
        "icmp-type" => RuleOption::IcmpType(icmp_types(c, false)?),
        "icmp6-type" | "ipv6-icmp-type" => RuleOption::Icmp6Type(icmp_types(c, true)?),
        // Before OpenBSD 4.7: route without a routing table lookup.
        "fastroute" => RuleOption::Other(vec![word.to_string()]),
        "tos" => RuleOption::Tos(c.string("a TOS value after `tos`")?.text.to_string()),
        "probability" => {
            let p = c.string("a percentage after `probability`")?;
            let value = p.text.trim_end_matches('%');
            match value.parse::<f64>() {
                Ok(v) if (0.0..=100.0).contains(&v) => RuleOption::Probability(p.text.to_string()),
                _ => {
                    return Err(c.error_at(
                        &p,
                        ErrorKind::InvalidValue,
                        format!("invalid probability `{}`: expected 0% to 100%", p.text),
                    ));
                }
            }
        }
        "state" | "source" if c.peek().is("limiter") => {
            c.bump();
            let kind = if word == "state" {
                LimiterKind::State
            } else {
                LimiterKind::Source
            };
            let name = c.string("a limiter name after `limiter`")?.text.to_string();
            let mut options = Vec::new();
            if c.eat("(") {
                while !c.eat(")") {
                    if c.at_end() {
                        return Err(c.expected("`)` to close the limiter options"));
                    }
                    let t = c.bump();
                    if !t.is(",") {
                        options.push(t.text.to_string());
                    }
                }
            }
            RuleOption::Limiter {
                kind,
                name,
                options,
            }
        }
        "tag" => RuleOption::Tag(c.string("a tag name after `tag`")?.text.to_string()),
        "tagged" => RuleOption::Tagged {
            not: false,
            name: c.string("a tag name after `tagged`")?.text.to_string(),
        },
        "label" => RuleOption::Label(c.string("a label after `label`")?.text.to_string()),
        "keep" | "modulate" | "synproxy" => {
            c.expect("state", &format!("after `{word}`"))?;
            let kind = match word {
                "keep" => StateKind::Keep,
                "modulate" => StateKind::Modulate,
                _ => StateKind::Synproxy,
            };
            RuleOption::State(State {
                kind,
                options: state_options(c)?,
            })
        }
        "no" => {
            c.expect("state", "after `no`")?;
            RuleOption::State(State {
                kind: StateKind::No,
                options: Vec::new(),
            })
        }
        "set" => {
            let what = c.string("`prio`, `tos` or `queue` after `set`")?;
            match what.text.as_ref() {
                "prio" => RuleOption::SetPrio(prios(c)?),
                "tos" => {
                    RuleOption::SetTos(c.string("a TOS value after `set tos`")?.text.to_string())
                }
                "queue" => RuleOption::Queue(queue_names(c)?),
                "delay" => RuleOption::Other(vec![
                    "set delay".to_string(),
                    c.string("a delay")?.text.to_string(),
                ]),
                _ => {
                    return Err(c.error_at(
                        &what,
                        ErrorKind::UnknownOption,
                        format!(
                            "expected `prio`, `tos`, `queue` or `delay` after `set`, found {}",
                            found(&what)
                        ),
                    ));
                }
            }
        }
        "prio" => {
            let n = c.string("a priority after `prio`")?;
            RuleOption::Prio(u8::try_from(number(c, &n, 7)?).unwrap_or(7))
        }
        "queue" => RuleOption::Queue(queue_names(c)?),
        "rtable" => {
            let n = c.string("a routing table after `rtable`")?;
            RuleOption::Rtable(number(c, &n, u32::MAX.into())?)
        }
        "nat-to" => RuleOption::NatTo(Box::new(pool(c, false, true)?)),
        "rdr-to" => RuleOption::RdrTo(Box::new(pool(c, false, true)?)),
        "binat-to" => RuleOption::BinatTo(Box::new(pool(c, false, true)?)),
        "af-to" => {
            let af = af(c).ok_or_else(|| c.expected("`inet` or `inet6` after `af-to`"))?;
            c.expect("from", "after `af-to inet|inet6`")?;
            let from = Box::new(pool(c, false, true)?);
            let to = if c.eat("to") {
                Some(Box::new(pool(c, false, true)?))
            } else {
                None
            };
            RuleOption::AfTo { af, from, to }
        }
        "divert-to" => {
            let h = host(c)?;
            c.expect("port", "after the `divert-to` address")?;
            let p = c.string("a port after `divert-to ... port`")?;
            RuleOption::DivertTo {
                host: Box::new(h),
                port: port(c, &p, &p.text)?,
            }
        }
        "divert-reply" => RuleOption::DivertReply,
        "divert-packet" => {
            c.expect("port", "after `divert-packet`")?;
            let p = c.string("a port after `divert-packet port`")?;
            RuleOption::DivertPacket(port(c, &p, &p.text)?)
        }
        "fragment" if action != Action::Scrub => RuleOption::Fragment,
        "allow-opts" => RuleOption::AllowOpts,
        "once" => RuleOption::Once,
        "scrub" => {
            c.expect("(", "after `scrub`")?;
            let mut words = Vec::new();
            while !c.eat(")") {
                if c.at_end() {
                    return Err(c.expected("`)` to close `scrub (`"));
                }
                if !c.eat(",") {
                    words.extend(scrub_option(c)?);
                }
            }
            RuleOption::Scrub(words)
        }
        "no-df" | "random-id" | "min-ttl" | "max-mss" | "reassemble" | "set-tos" | "fragment" => {
            c.ahead.push_front(t.clone());
            RuleOption::Scrub(scrub_option(c)?)
        }
        "pipe" | "received-on" | "max-pkt-size" | "ridentifier" | "max-pkt-rate" | "dnpipe"
        | "dnqueue" | "l3" => {
            let mut words = vec![word.to_string()];
            if c.eat("(") {
                while !c.eat(")") {
                    if c.at_end() {
                        return Err(c.expected("`)`"));
                    }
                    words.push(c.bump().text.to_string());
                }
            } else if word != "l3" {
                words.push(
                    c.string(&format!("a value after `{word}`"))?
                        .text
                        .to_string(),
                );
                if c.eat("/") {
                    words.push(c.string("a number after `/`")?.text.to_string());
                }
            }
            RuleOption::Other(words)
        }
        _ => {
            return Err(c.error_at(
                &t,
                ErrorKind::UnknownOption,
                format!("expected a rule option (keep state, flags, label, tag, queue, nat-to, ...), found `{word}`"),
            ));
        }
    })
}

/// `scrub_opt = "no-df" | "random-id" | "min-ttl" n | "max-mss" n |
/// "reassemble" "tcp" | "fragment" ("reassemble" | "crop" | "drop-ovl") | "set-tos" v`
fn scrub_option(c: &mut Cur) -> Res<Vec<String>> {
    let t = c.string("a scrub option")?;
    let mut words = vec![t.text.to_string()];
    match t.text.as_ref() {
        "no-df" | "random-id" => {}
        "min-ttl" | "max-mss" | "set-tos" => words.push(c.string(&format!("a value after `{}`", t.text))?.text.to_string()),
        "reassemble" => {
            c.expect("tcp", "after `reassemble`")?;
            words.push("tcp".to_string());
        }
        "fragment" => {
            let how = c.string("`reassemble`, `crop` or `drop-ovl` after `fragment`")?;
            if !matches!(how.text.as_ref(), "reassemble" | "crop" | "drop-ovl") {
                return Err(c.error_at(&how, ErrorKind::InvalidValue, format!("expected `reassemble`, `crop` or `drop-ovl` after `fragment`, found {}", found(&how))));
            }
            words.push(how.text.to_string());
        }
        _ => return Err(c.error_at(&t, ErrorKind::UnknownOption, format!("expected a scrub option (no-df, random-id, min-ttl, max-mss, reassemble tcp, fragment ...), found {}", found(&t)))),
    }
    Ok(words)
}

/// `ids = id | "{" id { [","] id } "}"` where `id = [unary_op] name | name
/// ("<>" | "><" | ":") name | "unknown"`.
fn ids(c: &mut Cur) -> Res<Vec<IdMatch>> {
    let mut list = Vec::new();
    if c.eat("{") {
        loop {
            while c.peek().is(",") {
                c.bump();
            }
            if c.eat("}") {
                break;
            }
            list.push(id(c)?);
        }
    } else {
        list.push(id(c)?);
    }
    Ok(list)
}

fn id(c: &mut Cur) -> Res<IdMatch> {
    let p = c.peek().clone();
    if p.kind == Kind::Punct && matches!(p.text.as_ref(), "=" | "!=" | "<" | "<=" | ">" | ">=") {
        c.bump();
        let v = c.string(&format!("a user or group after `{}`", p.text))?;
        return Ok(IdMatch {
            op: p.text.to_string(),
            value: v.text.to_string(),
            upper: None,
        });
    }
    let v = c.string("a user or group name or id")?;
    let b = c.peek().clone();
    if b.is("<>") || b.is("><") {
        c.bump();
        let u = c.string("an id after the range operator")?;
        return Ok(IdMatch {
            op: b.text.to_string(),
            value: v.text.to_string(),
            upper: Some(u.text.to_string()),
        });
    }
    Ok(IdMatch {
        op: "=".to_string(),
        value: v.text.to_string(),
        upper: None,
    })
}

/// `flags = "flags" ("any" | [set] "/" [mask])`
fn flags(c: &mut Cur) -> Res<RuleOption> {
    if c.eat("any") {
        return Ok(RuleOption::FlagsAny);
    }
    let mut set = String::new();
    if c.peek().kind == Kind::Word {
        set = c.bump().text.to_string();
    }
    // `flags S` alone: the mask is all flags (old pfctl).
    let mut mask = String::new();
    if set.is_empty() || c.peek().is("/") {
        c.expect("/", "in `flags set/mask`")?;
        if c.peek().kind == Kind::Word {
            mask = c.bump().text.to_string();
        }
    }
    for (what, text) in [("set", &set), ("mask", &mask)] {
        if let Some(bad) = text.chars().find(|ch| !"FSRPAUEW".contains(*ch)) {
            let at = c.peek().clone();
            return Err(c.error_at(&at, ErrorKind::InvalidValue, format!("invalid TCP flag `{bad}` in the flags {what}: expected F, S, R, P, A, U, E or W")));
        }
    }
    Ok(RuleOption::Flags { set, mask })
}

/// `icmp_types = icmp_item | "{" icmp_item { [","] icmp_item } "}"` where
/// `icmp_item = type ["code" code]`.
fn icmp_types(c: &mut Cur, v6: bool) -> Res<Vec<IcmpType>> {
    let mut list = Vec::new();
    if c.eat("{") {
        loop {
            while c.peek().is(",") || c.peek().kind == Kind::Newline {
                c.bump();
            }
            if c.eat("}") {
                break;
            }
            list.push(icmp_item(c, v6)?);
        }
    } else {
        list.push(icmp_item(c, v6)?);
    }
    Ok(list)
}

fn icmp_item(c: &mut Cur, v6: bool) -> Res<IcmpType> {
    let t = c.string("an ICMP type")?;
    let r#type = vocab::icmp_type(&t.text, v6).ok_or_else(|| {
        c.error_at(
            &t,
            ErrorKind::InvalidValue,
            format!(
                "unknown {} type `{}`: expected a name such as echoreq or a number 0-255",
                if v6 { "icmp6" } else { "icmp" },
                t.text
            ),
        )
    })?;
    let mut code = None;
    if c.eat("code") {
        let k = c.string("an ICMP code after `code`")?;
        code = Some(vocab::icmp_code(&k.text, v6).ok_or_else(|| {
            c.error_at(
                &k,
                ErrorKind::InvalidValue,
                format!(
                    "unknown icmp code `{}`: expected a name such as port-unr or a number 0-255",
                    k.text
                ),
            )
        })?);
    }
    Ok(IcmpType { r#type, code })
}

/// `state_opts = ["(" state_opt { "," state_opt } ")"]`
fn state_options(c: &mut Cur) -> Res<Vec<Vec<String>>> {
    let mut list = Vec::new();
    if !c.eat("(") {
        return Ok(list);
    }
    loop {
        let name =
            c.string("a state option (max, source-track, no-sync, sloppy, a timeout, ...)")?;
        if !vocab::is_state_option(&name.text) {
            return Err(c.error_at(
                &name,
                ErrorKind::UnknownOption,
                format!("unknown state option `{}`", name.text),
            ));
        }
        let mut words = vec![name.text.to_string()];
        while !c.peek().is(",") && !c.peek().is(")") {
            if c.at_end() {
                return Err(c.expected("`)` to close the state options"));
            }
            words.push(c.bump().text.to_string());
        }
        list.push(words);
        if c.eat(")") {
            return Ok(list);
        }
        c.bump();
    }
}

/// `prios = number | "(" number ["," number] ")"`, each 0-7.
fn prios(c: &mut Cur) -> Res<Vec<u8>> {
    let mut list = Vec::new();
    let paren = c.eat("(");
    loop {
        let n = c.string("a priority 0-7")?;
        list.push(u8::try_from(number(c, &n, 7)?).unwrap_or(7));
        if !(paren && c.eat(",")) {
            break;
        }
    }
    if paren {
        c.expect(")", "to close the priorities")?;
    }
    Ok(list)
}

/// `queue_names = name | "(" name ["," name] ")"`
fn queue_names(c: &mut Cur) -> Res<Vec<String>> {
    let mut list = Vec::new();
    if c.eat("(") {
        loop {
            list.push(c.string("a queue name")?.text.to_string());
            if !c.eat(",") {
                break;
            }
        }
        c.expect(")", "to close the queue names")?;
    } else {
        list.push(c.string("a queue name after `queue`")?.text.to_string());
    }
    Ok(list)
}

/// `route = ("route-to" | "reply-to" | "dup-to") pool`
fn route(c: &mut Cur) -> Res<RuleOption> {
    let t = c.bump();
    let pool = Box::new(pool(c, true, false)?);
    Ok(match t.text.as_ref() {
        "route-to" => RuleOption::RouteTo(pool),
        "reply-to" => RuleOption::ReplyTo(pool),
        _ => RuleOption::DupTo(pool),
    })
}

/// `pool = target | "{" target { [","] target } "}"` then `["port" port[":" port|"*"]]`
/// and pool options; a route's target may be `"(" interface [host] ")"`.
pub(super) fn pool(c: &mut Cur, route: bool, ports: bool) -> Res<Pool> {
    let mut pool = Pool::default();
    if c.eat("{") {
        loop {
            while c.peek().is(",") || c.peek().kind == Kind::Newline {
                c.bump();
            }
            if c.eat("}") {
                break;
            }
            if c.peek().kind == Kind::End {
                return Err(c.expected("`}` to close the addresses"));
            }
            target(c, route, &mut pool)?;
        }
        if pool.hosts.is_empty() {
            return Err(c.expected("an address in the list"));
        }
    } else {
        target(c, route, &mut pool)?;
    }
    if ports && c.eat("port") {
        let t = c.string("a port or range after `port`")?;
        let (lo, hi) = t.text.split_once(':').unwrap_or((&t.text, ""));
        let lo_n = port(c, &t, lo)?;
        let hi_n = match hi {
            "" | "*" => lo_n,
            hi => port(c, &t, hi)?,
        };
        if hi == "*" {
            pool.options.push("port-*".to_string());
        }
        if lo_n > hi_n {
            return Err(c.error_at(
                &t,
                ErrorKind::InvalidValue,
                format!(
                    "invalid port range `{}`: the first port is above the last",
                    t.text
                ),
            ));
        }
        pool.ports = Some((lo_n, hi_n));
    }
    loop {
        let t = c.peek().clone();
        match t.text.as_ref() {
            "bitmask"
            | "random"
            | "round-robin"
            | "static-port"
            | "sticky-address"
            | "endpoint-independent"
            | "prefer-ipv6-nexthop"
                if t.kind == Kind::Word =>
            {
                c.bump();
                pool.options.push(t.text.to_string());
            }
            "source-hash" if t.kind == Kind::Word => {
                c.bump();
                pool.options.push("source-hash".to_string());
                if c.peek().kind == Kind::Word
                    && (c.peek().text.starts_with("0x") || c.peek().text.len() > 8)
                {
                    let key = c.bump();
                    pool.options.push(key.text.to_string());
                }
            }
            "map-e-portset" if t.kind == Kind::Word => {
                c.bump();
                let mut spec = String::new();
                for _ in 0..5 {
                    if c.at_end() {
                        break;
                    }
                    spec.push_str(&c.bump().text);
                }
                pool.options.push(format!("map-e-portset {spec}"));
            }
            _ => return Ok(pool),
        }
    }
}

fn target(c: &mut Cur, route: bool, pool: &mut Pool) -> Res<()> {
    if route && c.peek().is("(") {
        // `(if addr)` or `(if)`: for a route, the interface to send on.
        c.bump();
        let interface: Token = c.string("an interface after `(`")?;
        if c.eat(")") {
            pool.hosts.push(Host {
                not: false,
                addr: crate::pf::ast::Addr::Name {
                    name: interface.text.to_string(),
                    modifiers: Vec::new(),
                    prefix: None,
                },
            });
            pool.interfaces.push(Some(interface.text.to_string()));
            return Ok(());
        }
        let h = if c.eat("{") {
            host_list_rest(c)?
        } else {
            vec![host(c)?]
        };
        c.expect(")", "to close the route target")?;
        for h in h {
            pool.hosts.push(h);
            pool.interfaces.push(Some(interface.text.to_string()));
        }
        return Ok(());
    }
    pool.hosts.push(host(c)?);
    pool.interfaces.push(None);
    Ok(())
}

/// A decimal or `0x` number up to `max`.
pub(super) fn number(c: &Cur, t: &Token, max: u64) -> Res<u32> {
    crate::values::numbers::c_number(&t.text, max)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            c.error_at(
                t,
                ErrorKind::InvalidValue,
                format!("expected a number 0 to {max}, found {}", found(t)),
            )
        })
}
