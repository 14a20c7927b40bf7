//! A rule specification (`-p tcp --dport 22 -j ACCEPT`) into matches and an action.
//!
//! iptables lets any loaded module claim any later option, so options are
//! looked up in the generic set, then in the loaded modules we model, then in
//! the target's options, and last in the loaded modules we do not model,
//! whose text becomes an [`Match::Unknown`].

use super::lexer::Token;
use super::values;
use crate::error::ErrorKind;
use crate::model::{Action, Family, Interface, Match, Nat, RejectKind, tcp_flags};

/// A problem in a rule, at a byte offset of its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleError {
    pub kind: ErrorKind,
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

/// What a rule specification yields. `None` from [`rule_spec`] means the rule
/// is for the other address family (`-4`/`-6`) and is skipped, as
/// iptables-restore does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RuleSpec {
    pub matches: Vec<Match>,
    pub action: Action,
    /// Token index of the target name, to point at an unknown chain.
    pub target_token: Option<usize>,
}

/// Modules whose options we interpret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// tcp, udp, sctp, dccp, udplite: `--sport`, `--dport`.
    Ports { tcp: bool },
    Multiport,
    Conntrack,
    State,
    Comment,
    IpRange,
}

fn known_module(name: &str) -> Option<Known> {
    Some(match name {
        "tcp" => Known::Ports { tcp: true },
        "udp" | "sctp" | "dccp" | "udplite" => Known::Ports { tcp: false },
        "multiport" => Known::Multiport,
        "conntrack" => Known::Conntrack,
        "state" => Known::State,
        "comment" => Known::Comment,
        "iprange" => Known::IpRange,
        _ => return None,
    })
}

/// Targets that never decide a packet's fate and whose options we only skip.
const CONTINUE_TARGETS: &[&str] = &[
    "LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TCPMSS", "DSCP", "TOS", "TTL", "HL", "CLASSIFY",
    "CONNSECMARK", "SECMARK", "AUDIT", "CHECKSUM", "IDLETIMER", "LED", "RATEEST", "TRACE", "SET",
    "TCPOPTSTRIP", "ECN", "NETMAP_LOG", "IPV4OPTSSTRIP", "CT", "TEE",
];

/// Targets that may decide but are not modelled.
const UNKNOWN_TARGETS: &[&str] = &["QUEUE", "NFQUEUE", "TPROXY", "SYNPROXY", "NETMAP", "CLUSTERIP", "TARPIT", "DELUDE", "CHAOS", "HMARK", "MIRROR"];

/// Options that belong to a generic target and take no value.
const FLAG_OPTIONS: &[&str] = &[
    "--log-tcp-sequence", "--log-tcp-options", "--log-ip-options", "--log-uid", "--log-macdecode",
    "--clamp-mss-to-pmtu", "--save-mark", "--restore-mark", "--notrack", "--random", "--random-fully",
    "--persistent", "--queue-bypass", "--fail-open", "--fanout", "--zone-orig", "--zone-reply",
    "--nflog-threshold-none", "--exist", "--checksum-fill", "--syn",
];

struct Cursor<'t, 'a> {
    tokens: &'t [Token<'a>],
    pos: usize,
}

impl<'t, 'a> Cursor<'t, 'a> {
    fn peek(&self) -> Option<&'t Token<'a>> {
        self.tokens.get(self.pos)
    }
    fn next(&mut self) -> Option<&'t Token<'a>> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }
    /// The argument of the option at `opt`, with old-style `--opt ! value`
    /// negation folded into `negated`.
    fn value(&mut self, opt: &Token<'a>, negated: &mut bool) -> Result<&'t Token<'a>, RuleError> {
        if let Some(t) = self.peek() {
            if t.text == "!" && !t.quoted {
                *negated = !*negated;
                self.pos += 1;
            }
        }
        match self.next() {
            Some(t) if t.quoted || !is_option(&t.text) => Ok(t),
            _ => Err(RuleError {
                kind: ErrorKind::MissingArgument,
                offset: opt.offset,
                len: opt.text.len(),
                message: format!("option `{}` expects an argument", opt.text),
            }),
        }
    }
}

/// The argument of option `tok` (named `name`): the part after `=` if it was
/// written `--opt=value`, else the next token.
fn take_arg<'a>(cur: &mut Cursor<'_, 'a>, tok: &Token<'a>, name: &str, inline_value: Option<&'a str>, negated: &mut bool) -> Result<Token<'a>, RuleError> {
    match inline_value {
        Some(v) => Ok(Token { text: std::borrow::Cow::Borrowed(v), offset: tok.offset + name.len() + 1, quoted: true }),
        None => cur.value(tok, negated).cloned(),
    }
}

/// An option word: `-x` or `--xyz` (but not a negative number).
fn is_option(text: &str) -> bool {
    matches!(text, "-4" | "-6") || (text.starts_with('-') && text.len() > 1 && !text[1..].starts_with(|c: char| c.is_ascii_digit()))
}

fn invalid(tok: &Token<'_>, kind: ErrorKind, message: String) -> RuleError {
    RuleError { kind, offset: tok.offset, len: tok.text.len().max(1), message }
}

/// Parses the rule specification in `tokens` (everything after the chain name).
pub(crate) fn rule_spec(tokens: &[Token<'_>], family: Family) -> Result<Option<RuleSpec>, RuleError> {
    let mut cur = Cursor { tokens, pos: 0 };
    let mut matches: Vec<Match> = Vec::with_capacity(4);
    let mut modules: Vec<(String, usize)> = Vec::new(); // name, index of its Unknown match if unmodelled
    let mut protocol: Option<(bool, Option<u8>)> = None;
    let mut target: Option<(String, usize, bool)> = None; // name, token index, goto
    let mut target_opts: Vec<(&Token<'_>, Option<Token<'_>>)> = Vec::new();
    let mut pending_not: Option<&Token<'_>> = None;

    while let Some(tok) = cur.next() {
        let opt = tok.text.as_ref();
        if opt == "!" && !tok.quoted {
            if pending_not.is_some() {
                return Err(invalid(tok, ErrorKind::Syntax, "`!` twice in a row".into()));
            }
            pending_not = Some(tok);
            continue;
        }
        if tok.quoted || !is_option(opt) {
            return Err(invalid(tok, ErrorKind::Syntax, format!("unexpected `{opt}`, expected an option such as -p, -m or -j")));
        }
        let mut negated = pending_not.take().is_some();
        // `--opt=value` is accepted by getopt_long.
        let (name, inline_value) = match opt.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (opt, None),
        };
        let bad = |t: &Token<'_>, m: String| invalid(t, ErrorKind::InvalidValue, m);
        match name {
            "-4" | "--ipv4" => {
                if family != Family::Ipv4 {
                    return Ok(None);
                }
            }
            "-6" | "--ipv6" => {
                if family != Family::Ipv6 {
                    return Ok(None);
                }
            }
            "-p" | "--protocol" => {
                let v = &take_arg(&mut cur, tok, name, inline_value, &mut negated)?;
                if protocol.is_some() {
                    return Err(invalid(tok, ErrorKind::Syntax, "`-p` given twice".into()));
                }
                let p = values::protocol(&v.text).map_err(|m| bad(v, m))?;
                protocol = Some((negated, p));
                match p {
                    Some(n) => matches.push(Match::Protocol { negated, protocols: vec![n] }),
                    None if negated => return Err(bad(v, "`! -p all` matches nothing, remove the rule or the negation".into())),
                    None => {}
                }
            }
            "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => {
                let v = &take_arg(&mut cur, tok, name, inline_value, &mut negated)?;
                let source = matches!(name, "-s" | "--source" | "--src");
                let mut nets = Vec::new();
                let mut unmodelled = false;
                for item in v.text.split(',') {
                    match values::network(item, family) {
                        Ok(Some(n)) => nets.push(n),
                        Ok(None) => unmodelled = true,
                        Err(m) => return Err(bad(v, m)),
                    }
                }
                if negated && v.text.contains(',') {
                    return Err(bad(v, "`!` is not allowed with several addresses".into()));
                }
                if unmodelled {
                    let flag = if source { "-s" } else { "-d" };
                    let neg = if negated { "! " } else { "" };
                    matches.push(Match::Unknown { text: format!("{neg}{flag} {} (non-contiguous netmask)", v.text) });
                } else if source {
                    matches.push(Match::Source { negated, nets });
                } else {
                    matches.push(Match::Destination { negated, nets });
                }
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => {
                let v = &take_arg(&mut cur, tok, name, inline_value, &mut negated)?;
                if v.text.is_empty() || v.text.len() > 15 {
                    return Err(bad(v, format!("interface name `{}` must be 1-15 characters", v.text)));
                }
                let interface = Interface::parse(&v.text);
                if matches!(name, "-i" | "--in-interface") {
                    matches.push(Match::InInterface { negated, interface });
                } else {
                    matches.push(Match::OutInterface { negated, interface });
                }
            }
            "-f" | "--fragment" => matches.push(Match::Fragment { negated }),
            "-m" | "--match" => {
                let v = &take_arg(&mut cur, tok, name, inline_value, &mut negated)?;
                let module = v.text.as_ref();
                if negated {
                    return Err(invalid(tok, ErrorKind::Syntax, "`!` cannot negate `-m`".into()));
                }
                match known_module(module) {
                    Some(_) => modules.push((module.to_string(), usize::MAX)),
                    None => {
                        matches.push(Match::Unknown { text: module.to_string() });
                        modules.push((module.to_string(), matches.len() - 1));
                    }
                }
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                let v = &take_arg(&mut cur, tok, name, inline_value, &mut negated)?;
                if negated {
                    return Err(invalid(tok, ErrorKind::Syntax, "`!` cannot negate a target".into()));
                }
                if target.is_some() {
                    return Err(invalid(tok, ErrorKind::Syntax, "a rule takes one target".into()));
                }
                target = Some((v.text.to_string(), cur.pos - 1, matches!(name, "-g" | "--goto")));
            }
            "-c" | "--set-counters" => {
                let _ = take_arg(&mut cur, tok, name, inline_value, &mut negated)?;
                let _ = cur.value(tok, &mut negated)?;
            }
            _ => {
                if let Some(m) = known_option(name, tok, &mut cur, &modules, protocol, family, &mut negated, inline_value)? {
                    matches.push(m);
                } else if target.is_some() {
                    // An option of the target: a flag, or an option with a value.
                    let value = if FLAG_OPTIONS.contains(&name) || inline_value.is_some() {
                        None
                    } else {
                        Some(take_arg(&mut cur, tok, name, inline_value, &mut negated)?)
                    };
                    target_opts.push((tok, value));
                } else if let Some(&(_, idx)) = modules.iter().rev().find(|(_, i)| *i != usize::MAX) {
                    // An option of the latest module we do not model: keep its text.
                    let mut text = String::new();
                    if negated {
                        text.push_str("! ");
                    }
                    text.push_str(opt);
                    while let Some(t) = cur.peek() {
                        if !t.quoted && (is_option(&t.text) || t.text == "!") {
                            break;
                        }
                        text.push(' ');
                        text.push_str(&t.text);
                        cur.pos += 1;
                    }
                    if let Some(Match::Unknown { text: existing }) = matches.get_mut(idx) {
                        existing.push(' ');
                        existing.push_str(&text);
                    }
                } else {
                    return Err(invalid(tok, ErrorKind::UnknownOption, unknown_option_message(name, &modules, protocol)));
                }
            }
        }
    }
    if let Some(t) = pending_not {
        return Err(invalid(t, ErrorKind::Syntax, "`!` at the end of the rule negates nothing".into()));
    }
    let (action, target_token) = match target {
        None => (Action::Continue, None),
        Some((name, idx, goto)) => (target_action(&name, idx, goto, &target_opts, tokens, protocol, family)?, Some(idx)),
    };
    Ok(Some(RuleSpec { matches, action, target_token }))
}

fn unknown_option_message(name: &str, modules: &[(String, usize)], protocol: Option<(bool, Option<u8>)>) -> String {
    let port_opt = matches!(name, "--dport" | "--sport" | "--destination-port" | "--source-port" | "--syn" | "--tcp-flags");
    if port_opt && !matches!(protocol, Some((false, Some(6 | 17 | 132 | 33 | 136)))) && modules.is_empty() {
        return format!("unknown option `{name}`: port options need `-p tcp` or `-p udp` before them");
    }
    if modules.is_empty() {
        format!("unknown option `{name}`, expected a generic option or `-m <module>` before module options")
    } else {
        let names: Vec<&str> = modules.iter().map(|(n, _)| n.as_str()).collect();
        format!("unknown option `{name}` for the loaded modules ({})", names.join(", "))
    }
}

/// Options of the modules we model; `Ok(None)` if none of them claims `name`.
#[allow(clippy::too_many_arguments)]
fn known_option<'t, 'a>(
    name: &str,
    tok: &'t Token<'a>,
    cur: &mut Cursor<'t, 'a>,
    modules: &[(String, usize)],
    protocol: Option<(bool, Option<u8>)>,
    family: Family,
    negated: &mut bool,
    inline_value: Option<&'a str>,
) -> Result<Option<Match>, RuleError>
where
    'a: 't,
{
    let loaded = |k: Known| modules.iter().any(|(m, _)| known_module(m) == Some(k));
    // `-p tcp` loads the tcp module implicitly, likewise udp, sctp, dccp, udplite.
    let implicit = match protocol {
        Some((false, Some(6))) => Some(Known::Ports { tcp: true }),
        Some((false, Some(17 | 132 | 33 | 136))) => Some(Known::Ports { tcp: false }),
        _ => None,
    };
    let ports_loaded = |tcp_only: bool| {
        let ok = |k: Known| matches!(k, Known::Ports { tcp } if tcp || !tcp_only);
        implicit.is_some_and(ok) || modules.iter().filter_map(|(m, _)| known_module(m)).any(ok)
    };
    let bad = |t: &Token<'_>, m: String| invalid(t, ErrorKind::InvalidValue, m);
    let m = match name {
        "--sport" | "--source-port" | "--dport" | "--destination-port" if ports_loaded(false) => {
            let v = &take_arg(cur, tok, name, inline_value, negated)?;
            let r = values::port_range(&v.text).map_err(|m| bad(v, m))?;
            if matches!(name, "--sport" | "--source-port") {
                Match::SourcePort { negated: *negated, ports: vec![r] }
            } else {
                Match::DestinationPort { negated: *negated, ports: vec![r] }
            }
        }
        "--syn" if ports_loaded(true) => {
            use tcp_flags::*;
            Match::TcpFlags { negated: *negated, mask: FIN | SYN | RST | ACK, comp: SYN }
        }
        "--tcp-flags" if ports_loaded(true) => {
            let mask_tok = &take_arg(cur, tok, name, inline_value, negated)?;
            let mask = values::tcp_flag_list(&mask_tok.text).map_err(|m| bad(mask_tok, m))?;
            let comp_tok = &cur.value(tok, negated)?.clone();
            let comp = values::tcp_flag_list(&comp_tok.text).map_err(|m| bad(comp_tok, m))?;
            Match::TcpFlags { negated: *negated, mask, comp: comp & mask }
        }
        "--sports" | "--source-ports" | "--dports" | "--destination-ports" | "--ports" if loaded(Known::Multiport) => {
            if !matches!(protocol, Some((false, Some(6 | 17 | 132 | 33 | 136)))) {
                return Err(invalid(tok, ErrorKind::InvalidValue, "multiport needs `-p tcp`, `-p udp`, `-p sctp`, `-p dccp` or `-p udplite`".into()));
            }
            let v = &take_arg(cur, tok, name, inline_value, negated)?;
            let ports = values::port_list(&v.text).map_err(|m| bad(v, m))?;
            match name {
                "--sports" | "--source-ports" => Match::SourcePort { negated: *negated, ports },
                "--dports" | "--destination-ports" => Match::DestinationPort { negated: *negated, ports },
                _ => Match::AnyPort { negated: *negated, ports },
            }
        }
        "--ctstate" if loaded(Known::Conntrack) => {
            let v = &take_arg(cur, tok, name, inline_value, negated)?;
            Match::ConnState { negated: *negated, states: values::ct_states(&v.text).map_err(|m| bad(v, m))? }
        }
        "--state" if loaded(Known::State) => {
            let v = &take_arg(cur, tok, name, inline_value, negated)?;
            Match::ConnState { negated: *negated, states: values::ct_states(&v.text).map_err(|m| bad(v, m))? }
        }
        "--comment" if loaded(Known::Comment) => {
            let v = &take_arg(cur, tok, name, inline_value, negated)?;
            if v.text.len() > 255 {
                return Err(bad(v, "comment is longer than 255 characters".into()));
            }
            return Ok(Some(Match::Comment { text: v.text.to_string() }));
        }
        "--src-range" | "--dst-range" if loaded(Known::IpRange) => {
            let v = &take_arg(cur, tok, name, inline_value, negated)?;
            let (start, end) = values::address_range(&v.text, family).map_err(|m| bad(v, m))?;
            if name == "--src-range" {
                Match::SourceRange { negated: *negated, start, end }
            } else {
                Match::DestinationRange { negated: *negated, start, end }
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(m))
}

fn target_action(
    name: &str,
    idx: usize,
    goto: bool,
    opts: &[(&Token<'_>, Option<Token<'_>>)],
    tokens: &[Token<'_>],
    protocol: Option<(bool, Option<u8>)>,
    family: Family,
) -> Result<Action, RuleError> {
    let target_tok = &tokens[idx.min(tokens.len().saturating_sub(1))];
    let opt = |n: &str| opts.iter().find(|(t, _)| t.text.split('=').next() == Some(n));
    let value_of = |n: &str| -> Option<&Token<'_>> { opt(n).and_then(|(_, v)| v.as_ref()) };
    let inline_or_value = |n: &str| -> Option<String> {
        let (t, v) = opt(n)?;
        match v {
            Some(v) => Some(v.text.to_string()),
            None => t.text.split_once('=').map(|(_, v)| v.to_string()),
        }
    };
    let expect_only = |allowed: &[&str]| -> Result<(), RuleError> {
        for (t, _) in opts {
            let n = t.text.split('=').next().unwrap_or("");
            if !allowed.contains(&n) {
                return Err(invalid(t, ErrorKind::UnknownOption, format!("unknown option `{n}` for target {name}")));
            }
        }
        Ok(())
    };
    let bad = |m: String| {
        let t = opts.first().map(|(t, _)| *t).unwrap_or(target_tok);
        invalid(t, ErrorKind::InvalidValue, m)
    };
    if goto {
        expect_only(&[])?;
        return Ok(Action::Goto { chain: name.to_string() });
    }
    let action = match name {
        "ACCEPT" => {
            expect_only(&[])?;
            Action::Accept
        }
        "DROP" => {
            expect_only(&[])?;
            Action::Drop
        }
        "RETURN" => {
            expect_only(&[])?;
            Action::Return
        }
        "REJECT" => {
            expect_only(&["--reject-with"])?;
            let with = match inline_or_value("--reject-with") {
                Some(v) => values::reject_kind(&v, family).map_err(bad)?,
                None if family == Family::Ipv6 => RejectKind::Icmp6PortUnreachable,
                None => RejectKind::IcmpPortUnreachable,
            };
            if with.is_tcp_reset() && protocol != Some((false, Some(6))) {
                return Err(bad("`--reject-with tcp-reset` is only valid with `-p tcp`".into()));
            }
            Action::Reject { with }
        }
        "NOTRACK" => {
            expect_only(&[])?;
            Action::NoTrack
        }
        "CT" if opt("--notrack").is_some() => Action::NoTrack,
        "DNAT" | "SNAT" => {
            let key = if name == "DNAT" { "--to-destination" } else { "--to-source" };
            expect_only(&[key, "--random", "--random-fully", "--persistent"])?;
            let spec = inline_or_value(key);
            let (addr, ports) = match spec {
                Some(s) => values::nat_target(&s, family).map_err(bad)?,
                None => return Err(invalid(target_tok, ErrorKind::MissingArgument, format!("{name} needs `{key}`"))),
            };
            if name == "DNAT" { Action::Nat(Nat::Dnat { addr, ports }) } else { Action::Nat(Nat::Snat { addr, ports }) }
        }
        "MASQUERADE" | "REDIRECT" => {
            expect_only(&["--to-ports", "--random", "--random-fully"])?;
            let ports = match inline_or_value("--to-ports") {
                Some(p) => Some(values::nat_ports(&p).map_err(bad)?),
                None => None,
            };
            if name == "MASQUERADE" { Action::Nat(Nat::Masquerade { ports }) } else { Action::Nat(Nat::Redirect { ports }) }
        }
        _ if CONTINUE_TARGETS.contains(&name) => {
            if name == "LOG" {
                if let Some(v) = value_of("--log-prefix") {
                    if v.text.len() > 29 {
                        return Err(invalid(v, ErrorKind::InvalidValue, "log prefix is longer than 29 characters".into()));
                    }
                }
            }
            Action::Continue
        }
        _ if UNKNOWN_TARGETS.contains(&name) || !opts.is_empty() => {
            let mut text = name.to_string();
            for (t, v) in opts {
                text.push(' ');
                text.push_str(&t.text);
                if let Some(v) = v {
                    text.push(' ');
                    text.push_str(&v.text);
                }
            }
            Action::Unknown { text }
        }
        // Anything else names a user chain; the caller checks that it exists.
        _ => Action::Jump { chain: name.to_string() },
    };
    Ok(action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iptables::lexer::tokens;
    use crate::model::{CtStates, PortRange};

    fn spec(line: &str) -> Result<RuleSpec, String> {
        let toks = tokens(line).unwrap();
        rule_spec(&toks, Family::Ipv4).map(|o| o.unwrap()).map_err(|e| e.message)
    }

    #[test]
    fn ports_with_protocol() {
        let s = spec("-p tcp -m tcp --dport 22 -j ACCEPT").unwrap();
        assert_eq!(s.matches, vec![
            Match::Protocol { negated: false, protocols: vec![6] },
            Match::DestinationPort { negated: false, ports: vec![PortRange::single(22)] },
        ]);
        assert_eq!(s.action, Action::Accept);
    }

    #[test]
    fn implicit_protocol_module_and_negation_styles() {
        let a = spec("-p udp ! --sport 1024: -j DROP").unwrap();
        let b = spec("-p udp --sport ! 1024: -j DROP").unwrap();
        assert_eq!(a.matches, b.matches);
        assert_eq!(a.matches[1], Match::SourcePort { negated: true, ports: vec![PortRange { start: 1024, end: 65535 }] });
    }

    #[test]
    fn port_option_without_protocol_is_an_error_that_says_why() {
        let e = spec("--dport 22 -j ACCEPT").unwrap_err();
        assert!(e.contains("-p tcp"), "{e}");
    }

    #[test]
    fn multiport_and_state() {
        let s = spec("-p tcp -m multiport --dports 80,443,8000:8080 -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT").unwrap();
        assert_eq!(s.matches[1], Match::DestinationPort {
            negated: false,
            ports: vec![PortRange::single(80), PortRange::single(443), PortRange { start: 8000, end: 8080 }],
        });
        assert_eq!(s.matches[2], Match::ConnState { negated: false, states: CtStates::NEW.union(CtStates::ESTABLISHED) });
    }

    #[test]
    fn unmodelled_modules_keep_their_text() {
        let s = spec("-p tcp -m limit --limit 5/min --limit-burst 10 --dport 22 -j ACCEPT").unwrap();
        assert!(s.matches.contains(&Match::Unknown { text: "limit --limit 5/min --limit-burst 10".into() }), "{:?}", s.matches);
        assert!(s.matches.contains(&Match::DestinationPort { negated: false, ports: vec![PortRange::single(22)] }));
    }

    #[test]
    fn targets() {
        assert_eq!(spec("-p tcp -j REJECT --reject-with tcp-reset").unwrap().action, Action::Reject { with: RejectKind::TcpReset });
        assert_eq!(spec("-j REJECT").unwrap().action, Action::Reject { with: RejectKind::IcmpPortUnreachable });
        assert!(spec("-p udp -j REJECT --reject-with tcp-reset").is_err());
        assert_eq!(spec("-j LOG --log-prefix \"x: \" --log-level 4").unwrap().action, Action::Continue);
        assert_eq!(spec("-j my_chain").unwrap().action, Action::Jump { chain: "my_chain".into() });
        assert_eq!(spec("-g my_chain").unwrap().action, Action::Goto { chain: "my_chain".into() });
        assert_eq!(spec("-j NFQUEUE --queue-num 3").unwrap().action, Action::Unknown { text: "NFQUEUE --queue-num 3".into() });
        assert_eq!(spec("-j CT --notrack").unwrap().action, Action::NoTrack);
        assert!(matches!(spec("-p tcp -j DNAT --to-destination 10.0.0.1:80").unwrap().action, Action::Nat(Nat::Dnat { .. })));
        assert!(spec("-j ACCEPT --bogus").is_err());
        assert!(spec("-j DNAT").is_err());
    }

    #[test]
    fn family_switches_skip_rules_of_the_other_family() {
        let toks = tokens("-6 -j ACCEPT").unwrap();
        assert_eq!(rule_spec(&toks, Family::Ipv4), Ok(None));
        assert!(rule_spec(&toks, Family::Ipv6).unwrap().is_some());
    }

    #[test]
    fn syntax_errors() {
        assert!(spec("-p tcp ACCEPT").is_err());
        assert!(spec("-p").is_err());
        assert!(spec("! ! -p tcp").is_err());
        assert!(spec("-p tcp !").is_err());
        assert!(spec("-p tcp --dport 4:3").is_err());
        assert!(spec("-s 1.2.3.4,5.6.7.8 -j DROP").is_ok());
        assert!(spec("! -s 1.2.3.4,5.6.7.8 -j DROP").is_err());
    }
}
