//! A rule specification (`-p tcp --dport 22 -j ACCEPT`) into matches and an action.
//!
//! ```text
//! rule-spec = *( ["!"] option )
//! option    = generic-option | "-m" name | "-j" target | "-g" chain | extension-option
//! ```
//!
//! iptables merges the options of every loaded extension into one table, the
//! newest first, so an option that is not generic belongs to:
//!
//! 1. the newest loaded extension we model that knows its exact name;
//! 2. else the implicit match of the protocol (`-p tcp --dport 22` loads `tcp`);
//! 3. else a modelled extension of which it is an unambiguous abbreviation
//!    (getopt allows `--to` for `--to-destination`);
//! 4. else the newest loaded extension we do not model, which keeps the
//!    option's text in its [`Match::Unknown`] or [`Action::Unknown`];
//!
//! and otherwise it is an unknown option.
//!
//! That table is not built: the extensions we model are few, so a rule keeps
//! the newest entity of each and searches their options. Values borrow the
//! tokens; only what goes into the model is copied.

use super::extensions::{self, Arity, Extension, Given, OptSet, OptSpec, Proto, TargetInput};
use super::lexer::Token;
use super::values::{self, split_ascii};
use crate::error::ErrorKind;
use crate::model::{Action, Family, Interface, Match};

/// A problem in a rule, at a byte offset of its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleError {
    pub kind: ErrorKind,
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

/// Where a rule goes: checks depend on the family, table and chain.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuleContext<'c> {
    pub family: Family,
    pub table: &'c str,
    pub chain: &'c str,
}

/// What a rule specification yields. `None` from [`rule_spec`] means the rule
/// is for the other address family (`-4`/`-6`) and is skipped, as
/// iptables-restore does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RuleSpec {
    pub matches: Vec<Match>,
    pub action: Action,
}

/// An error about `text`, found at byte `offset` of the line.
fn error_at(offset: usize, text: &str, kind: ErrorKind, message: String) -> RuleError {
    RuleError {
        kind,
        offset,
        len: text.len().max(1),
        message,
    }
}

fn error(tok: &Token<'_>, kind: ErrorKind, message: String) -> RuleError {
    error_at(tok.offset, &tok.text, kind, message)
}

/// An option word: `-x` or `--xyz`, but not a negative number or a lone `-`.
fn is_option(text: &str) -> bool {
    let bytes = text.as_bytes();
    matches!(text, "-4" | "-6")
        || (bytes.first() == Some(&b'-') && bytes.get(1).is_some_and(|c| !c.is_ascii_digit()))
}

/// How many extensions we model: a bound on those one rule can load.
const MODELLED_MAX: usize = extensions::MATCHES.len() + extensions::TARGETS.len();

/// Generic short options that take a value, which may be glued on (`-ptcp`).
const GLUED_SHORT: &[&str] = &["-p", "-s", "-d", "-i", "-o", "-j", "-g", "-m", "-c"];

/// The generic options, whatever spelling was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Generic {
    Protocol,
    Source,
    Destination,
    InInterface,
    OutInterface,
    Fragment,
    Match,
    Jump,
    Goto,
    Counters,
}

impl Generic {
    /// `Ok(None)` if `name` is no generic option.
    fn of(tok: &Token<'_>, name: &str) -> Result<Option<Generic>, RuleError> {
        // Module options (`--dport`) are most of what comes here and none of
        // them is generic: dispatch on the bytes rather than compare each name.
        let generic = match name.as_bytes() {
            [b'-', short] => match short {
                b'p' => Generic::Protocol,
                b's' => Generic::Source,
                b'd' => Generic::Destination,
                b'i' => Generic::InInterface,
                b'o' => Generic::OutInterface,
                b'f' => Generic::Fragment,
                b'm' => Generic::Match,
                b'j' => Generic::Jump,
                b'g' => Generic::Goto,
                b'c' => Generic::Counters,
                b't' => return Err(Self::table_error(tok, name)),
                _ => return Ok(None),
            },
            [b'-', b'-', long @ ..] => match long {
                b"protocol" => Generic::Protocol,
                b"source" | b"src" => Generic::Source,
                b"destination" | b"dst" => Generic::Destination,
                b"in-interface" => Generic::InInterface,
                b"out-interface" => Generic::OutInterface,
                b"fragment" => Generic::Fragment,
                b"match" => Generic::Match,
                b"jump" => Generic::Jump,
                b"goto" => Generic::Goto,
                b"set-counters" => Generic::Counters,
                b"table" => return Err(Self::table_error(tok, name)),
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        Ok(Some(generic))
    }

    fn table_error(tok: &Token<'_>, name: &str) -> RuleError {
        error(
            tok,
            ErrorKind::Syntax,
            format!(
                "`{name}` cannot be used in a restore file, the table comes from the `*table` line"
            ),
        )
    }

    /// The short spelling, for messages.
    fn short(self) -> &'static str {
        match self {
            Generic::Protocol => "-p",
            Generic::Source => "-s",
            Generic::Destination => "-d",
            Generic::InInterface => "-i",
            Generic::OutInterface => "-o",
            Generic::Fragment => "-f",
            Generic::Match => "-m",
            Generic::Jump => "-j",
            Generic::Goto => "-g",
            Generic::Counters => "-c",
        }
    }

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A loaded match or target extension.
#[derive(Debug)]
struct Entity<'t> {
    name: &'t str,
    spec: Option<&'static Extension>,
    is_target: bool,
    /// Index in `matches` of the [`Match::Unknown`] of a match we do not model.
    unknown_match: Option<usize>,
    /// Options given so far (modelled extensions), to catch repeats.
    seen: OptSet,
    /// The name's place in the line, for errors about the extension.
    offset: usize,
    len: usize,
    /// Loaded by `-p` rather than by `-m`.
    implicit: bool,
}

/// The state of one rule while its tokens are read.
struct RuleParser<'t, 'a, 'm> {
    tokens: &'t [Token<'a>],
    pos: usize,
    ctx: RuleContext<'t>,
    /// The caller's buffer, reused from rule to rule; the rule's matches are
    /// moved out of it into a vector of their exact size.
    matches: &'m mut Vec<Match>,
    entities: InlineList<Entity<'t>, 4>,
    /// Each modelled extension loaded, with its newest entity: an option
    /// belongs to the newest of those that know it. The first
    /// `modelled_len` are used; there cannot be more than the extensions we
    /// model, however many a rule loads.
    modelled: [(&'static Extension, usize); MODELLED_MAX],
    modelled_len: usize,
    /// Newest entity we do not model: it takes options nobody else claims.
    last_unmodelled: Option<usize>,
    proto: Proto,
    /// The implicit protocol match was loaded (iptables does it once).
    proto_loaded: bool,
    /// Generic options given ([`Generic::bit`]), to refuse repeats (`-p tcp -p udp`).
    generic_seen: u16,
    target: Option<TargetState<'t>>,
}

struct TargetState<'t> {
    entity: usize,
    goto: bool,
    given: Vec<Given<'t>>,
    /// Options of a target we do not model, as written.
    text: String,
}

/// An option's value and where it starts in the line.
#[derive(Debug, Clone, Copy)]
struct Value<'t> {
    text: &'t str,
    offset: usize,
}

impl Value<'_> {
    fn error(&self, kind: ErrorKind, message: String) -> RuleError {
        error_at(self.offset, self.text, kind, message)
    }
}

/// Parses the rule specification in `tokens` (everything after the chain name).
#[cfg(test)]
pub(crate) fn rule_spec(
    tokens: &[Token<'_>],
    ctx: RuleContext<'_>,
) -> Result<Option<RuleSpec>, RuleError> {
    rule_spec_with(tokens, ctx, &mut Vec::new())
}

/// [`rule_spec`] with a buffer for matches that the caller keeps between rules.
pub(crate) fn rule_spec_with<'t>(
    tokens: &'t [Token<'_>],
    ctx: RuleContext<'t>,
    buffer: &mut Vec<Match>,
) -> Result<Option<RuleSpec>, RuleError> {
    buffer.clear();
    let mut p = RuleParser {
        tokens,
        pos: 0,
        ctx,
        matches: buffer,
        entities: InlineList::new(),
        modelled: [(&extensions::NONE, 0); MODELLED_MAX],
        modelled_len: 0,
        last_unmodelled: None,
        proto: Proto::default(),
        proto_loaded: false,
        generic_seen: 0,
        target: None,
    };
    let mut pending_not: Option<&Token<'_>> = None;
    while let Some(tok) = tokens.get(p.pos) {
        p.pos += 1;
        let text: &str = &tok.text;
        if text == "!" && !tok.quoted {
            if pending_not.is_some() {
                return Err(error(
                    tok,
                    ErrorKind::Syntax,
                    "`!` twice in a row, expected one `!` before an option".into(),
                ));
            }
            pending_not = Some(tok);
            continue;
        }
        if tok.quoted || !is_option(text) {
            return Err(error(
                tok,
                ErrorKind::Syntax,
                format!("unexpected `{text}`, expected an option such as -p, -m or -j"),
            ));
        }
        let negated = pending_not.take().is_some();
        // `--opt=value` (getopt_long) and `-pvalue` (getopt) carry their value.
        let long_with_value = if text.starts_with("--") {
            values::split_once_ascii(text, b'=')
        } else {
            None
        };
        let (name, inline) = match long_with_value {
            Some((n, v)) => (
                n,
                Some(Value {
                    text: v,
                    offset: tok.offset + n.len() + 1,
                }),
            ),
            _ => match text.get(..2) {
                Some(short)
                    if text.len() > 2
                        && !text.starts_with("--")
                        && GLUED_SHORT.contains(&short) =>
                {
                    (
                        short,
                        Some(Value {
                            text: text.get(2..).unwrap_or(""),
                            offset: tok.offset + 2,
                        }),
                    )
                }
                _ => (text, None),
            },
        };
        if let Some(generic) = Generic::of(tok, name)? {
            p.generic(tok, generic, name, inline, negated)?;
            continue;
        }
        if p.family_switch(name) {
            if negated {
                return Err(error(
                    tok,
                    ErrorKind::Syntax,
                    format!("`!` cannot negate `{name}`"),
                ));
            }
            let wanted = if matches!(name, "-4" | "--ipv4") {
                Family::Ipv4
            } else {
                Family::Ipv6
            };
            if wanted != p.ctx.family {
                return Ok(None);
            }
            continue;
        }
        p.extension_option(tok, name, inline, negated)?;
    }
    if let Some(t) = pending_not {
        return Err(error(
            t,
            ErrorKind::Syntax,
            "`!` at the end of the rule negates nothing, expected an option after it".into(),
        ));
    }
    p.finish().map(Some)
}

impl<'t> RuleParser<'t, '_, '_> {
    fn family_switch(&self, name: &str) -> bool {
        matches!(name, "-4" | "--ipv4" | "-6" | "--ipv6")
    }

    /// The value of option `tok`: inline, or the next token whatever it looks
    /// like (as getopt does), with the old `--opt ! value` negation folded in.
    fn value(
        &mut self,
        tok: &Token<'_>,
        name: &str,
        inline: Option<Value<'t>>,
        negated: &mut bool,
    ) -> Result<Value<'t>, RuleError> {
        if let Some(v) = inline {
            return Ok(v);
        }
        let tokens: &'t [Token<'_>] = self.tokens;
        if let (Some(bang), Some(_)) = (tokens.get(self.pos), tokens.get(self.pos + 1))
            && bang.text == "!"
            && !bang.quoted
        {
            *negated = !*negated;
            self.pos += 1;
        }
        match tokens.get(self.pos) {
            Some(t) => {
                self.pos += 1;
                Ok(Value {
                    text: &t.text,
                    offset: t.offset,
                })
            }
            None => Err(error(
                tok,
                ErrorKind::MissingArgument,
                format!("option `{name}` expects an argument"),
            )),
        }
    }

    /// A generic option, `name` being how it was spelled.
    fn generic(
        &mut self,
        tok: &Token<'_>,
        generic: Generic,
        name: &str,
        inline: Option<Value<'t>>,
        mut negated: bool,
    ) -> Result<(), RuleError> {
        let canonical = generic.short();
        let once = generic != Generic::Match;
        let shown = if generic == Generic::Goto {
            "-j"
        } else {
            canonical
        };
        if once
            && (self.generic_seen & generic.bit() != 0
                || (matches!(generic, Generic::Jump | Generic::Goto) && self.target.is_some()))
        {
            return Err(error(
                tok,
                ErrorKind::Syntax,
                format!("`{shown}` given twice, a rule takes one"),
            ));
        }
        self.generic_seen |= generic.bit();
        let bad = |v: &Value<'_>, m: String| v.error(ErrorKind::InvalidValue, m);
        match generic {
            Generic::Protocol => {
                let v = self.value(tok, name, inline, &mut negated)?;
                let number = crate::values::protocols::protocol(v.text).map_err(|m| bad(&v, m))?;
                if number.is_none() && negated {
                    return Err(bad(
                        &v,
                        format!(
                            "`! -p {}` matches nothing, remove the rule or the negation",
                            v.text
                        ),
                    ));
                }
                self.proto = Proto {
                    given: true,
                    negated,
                    number,
                };
                if let Some(n) = number {
                    self.matches.push(Match::Protocol {
                        negated,
                        protocols: smallvec::smallvec![n],
                    });
                }
            }
            Generic::Source | Generic::Destination => {
                let v = self.value(tok, name, inline, &mut negated)?;
                let items = 1 + super::scan::count_byte(v.text.as_bytes(), b',');
                if negated && items > 1 {
                    return Err(bad(
                        &v,
                        format!(
                            "`!` is not allowed with several addresses (`{}`), write one rule per address",
                            v.text
                        ),
                    ));
                }
                let mut nets = crate::model::Nets::with_capacity(items);
                let mut unmodelled = false;
                for item in split_ascii(v.text, b',') {
                    match values::network(item, self.ctx.family) {
                        Ok(Some(n)) => nets.push(n),
                        Ok(None) => unmodelled = true,
                        Err(m) => return Err(bad(&v, m)),
                    }
                }
                if unmodelled {
                    let neg = if negated { "! " } else { "" };
                    self.matches.push(Match::Unknown {
                        text: format!("{neg}{canonical} {} (non-contiguous netmask)", v.text),
                    });
                } else if generic == Generic::Source {
                    self.matches.push(Match::Source { negated, nets });
                } else {
                    self.matches.push(Match::Destination { negated, nets });
                }
            }
            Generic::InInterface | Generic::OutInterface => {
                let v = self.value(tok, name, inline, &mut negated)?;
                if v.text.len() > 15 {
                    return Err(bad(
                        &v,
                        format!("interface name `{}` is longer than 15 characters", v.text),
                    ));
                }
                let incoming = generic == Generic::InInterface;
                let forbidden: &[&str] = if incoming {
                    &["OUTPUT", "POSTROUTING"]
                } else {
                    &["INPUT", "PREROUTING"]
                };
                if forbidden.contains(&self.ctx.chain) {
                    let what = if incoming { "incoming" } else { "outgoing" };
                    return Err(error(
                        tok,
                        ErrorKind::InvalidValue,
                        format!(
                            "`{canonical}` cannot be used in chain {}, which has no {what} interface",
                            self.ctx.chain
                        ),
                    ));
                }
                let interface = Interface::parse(v.text);
                if incoming {
                    self.matches.push(Match::InInterface { negated, interface });
                } else {
                    self.matches
                        .push(Match::OutInterface { negated, interface });
                }
            }
            Generic::Fragment => {
                if self.ctx.family == Family::Ipv6 {
                    return Err(error(
                        tok,
                        ErrorKind::UnknownOption,
                        "`-f` does not exist in ip6tables, use `-m frag`".into(),
                    ));
                }
                if inline.is_some() {
                    return Err(error(
                        tok,
                        ErrorKind::Syntax,
                        format!("`{name}` takes no value"),
                    ));
                }
                self.matches.push(Match::Fragment { negated });
            }
            Generic::Match => {
                let v = self.value(tok, name, inline, &mut negated)?;
                if negated {
                    return Err(error(
                        tok,
                        ErrorKind::Syntax,
                        "`!` cannot negate `-m`, negate the module's options instead".into(),
                    ));
                }
                self.load_match(v, false)?;
            }
            Generic::Jump | Generic::Goto => {
                let v = self.value(tok, name, inline, &mut negated)?;
                if negated {
                    return Err(error(
                        tok,
                        ErrorKind::Syntax,
                        format!("`!` cannot negate `{name}`"),
                    ));
                }
                if v.text.is_empty() {
                    return Err(bad(&v, format!("`{name}` needs a target or chain name")));
                }
                self.load_target(v, generic == Generic::Goto);
            }
            Generic::Counters => {
                // -c: `PKTS BYTES` or `PKTS,BYTES`.
                let v = self.value(tok, name, inline, &mut negated)?;
                let counters_bad = |v: &Value<'_>| {
                    bad(
                        v,
                        format!(
                            "counters `{}` are invalid, expected `-c PACKETS BYTES` or `-c PACKETS,BYTES`",
                            v.text
                        ),
                    )
                };
                let number = |s: &str| {
                    !s.is_empty()
                        && s.bytes().all(|b| b.is_ascii_digit())
                        && s.parse::<u64>().is_ok()
                };
                match v.text.split_once(',') {
                    Some((a, b)) if number(a) && number(b) => {}
                    Some(_) => return Err(counters_bad(&v)),
                    None if !number(v.text) => return Err(counters_bad(&v)),
                    None => {
                        let tokens: &'t [Token<'_>] = self.tokens;
                        match tokens.get(self.pos) {
                            Some(b) if number(&b.text) => self.pos += 1,
                            Some(b) => {
                                return Err(counters_bad(&Value {
                                    text: &b.text,
                                    offset: b.offset,
                                }));
                            }
                            None => {
                                return Err(error(
                                    tok,
                                    ErrorKind::MissingArgument,
                                    format!("`{name}` expects packet and byte counters"),
                                ));
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// `-m name`, or the implicit protocol match when `implicit`.
    fn load_match(&mut self, v: Value<'t>, implicit: bool) -> Result<usize, RuleError> {
        let name = v.text;
        let spec = extensions::match_extension(name);
        if name.is_empty() {
            return Err(v.error(ErrorKind::InvalidValue, "`-m` needs a module name".into()));
        }
        if name == "icmpv6" {
            return Err(v.error(
                ErrorKind::UnknownOption,
                "there is no match `icmpv6`, the ICMPv6 match is `-m icmp6`".into(),
            ));
        }
        if let Some(f) = spec
            .and_then(|s| s.family)
            .filter(|f| *f != self.ctx.family)
        {
            let other = if f == Family::Ipv4 { "icmp6" } else { "icmp" };
            return Err(v.error(
                ErrorKind::UnknownOption,
                format!(
                    "match `{name}` is {} only, use `-m {other}` in {}",
                    f.name(),
                    self.ctx.family.name()
                ),
            ));
        }
        let index = self.entities.len();
        let unknown_match = if spec.is_none() {
            self.matches.push(Match::Unknown {
                text: name.to_string(),
            });
            self.last_unmodelled = Some(index);
            Some(self.matches.len() - 1)
        } else {
            None
        };
        self.entities.push(Entity {
            name,
            spec,
            is_target: false,
            unknown_match,
            seen: OptSet::default(),
            offset: v.offset,
            len: name.len().max(1),
            implicit,
        });
        self.register(spec, index);
        if implicit {
            self.proto_loaded = true;
        }
        Ok(index)
    }

    fn load_target(&mut self, v: Value<'t>, goto: bool) {
        let name = v.text;
        let spec = if goto {
            None
        } else {
            extensions::target_extension(name)
        };
        let index = self.entities.len();
        if spec.is_none() {
            self.last_unmodelled = Some(index);
        }
        self.entities.push(Entity {
            name,
            spec,
            is_target: true,
            unknown_match: None,
            seen: OptSet::default(),
            offset: v.offset,
            len: name.len().max(1),
            implicit: false,
        });
        self.register(spec, index);
        self.target = Some(TargetState {
            entity: index,
            goto,
            given: Vec::new(),
            text: String::new(),
        });
    }

    /// Makes entity `index` the newest of its extension, if we model it.
    fn register(&mut self, spec: Option<&'static Extension>, index: usize) {
        let Some(spec) = spec else { return };
        let used = self
            .modelled
            .get_mut(..self.modelled_len)
            .unwrap_or_default();
        if let Some(entry) = used.iter_mut().find(|(s, _)| std::ptr::eq(*s, spec)) {
            entry.1 = index;
            return;
        }
        // Every modelled extension is one of the statics (one address each),
        // so there is a slot.
        if let Some(slot) = self.modelled.get_mut(self.modelled_len) {
            *slot = (spec, index);
            self.modelled_len += 1;
        }
    }

    /// The modelled extensions loaded, with the newest entity of each.
    fn modelled(&self) -> &[(&'static Extension, usize)] {
        self.modelled.get(..self.modelled_len).unwrap_or_default()
    }

    /// The newest modelled entity that knows option `name` exactly, and the option.
    fn owner(&self, name: &str) -> Option<(usize, &'static OptSpec)> {
        self.modelled()
            .iter()
            .filter_map(|(spec, index)| spec.option(name).map(|o| (*index, o)))
            .max_by_key(|(index, _)| *index)
    }

    /// An option that is not generic: find its owner and read it.
    fn extension_option(
        &mut self,
        tok: &Token<'_>,
        name: &str,
        inline: Option<Value<'t>>,
        negated: bool,
    ) -> Result<(), RuleError> {
        if let Some((owner, option)) = self.owner(name) {
            return self.modelled_option(owner, tok, option, name, inline, negated);
        }
        if let Some((owner, full)) = self.implicit_protocol_match(tok, name)? {
            return match self.entities.get(owner).and_then(|e| e.spec) {
                Some(spec) => self.modelled_option_named(owner, spec, tok, full, inline, negated),
                None => self.unmodelled_option(owner, tok, negated),
            };
        }
        if let Some((owner, full)) = self.abbreviation(name) {
            let Some(spec) = self.entities.get(owner).and_then(|e| e.spec) else {
                return Err(error(
                    tok,
                    ErrorKind::Syntax,
                    "internal: extension without spec".into(),
                ));
            };
            return self.modelled_option_named(owner, spec, tok, full, inline, negated);
        }
        if let Some(owner) = self.last_unmodelled {
            return self.unmodelled_option(owner, tok, negated);
        }
        Err(error(
            tok,
            ErrorKind::UnknownOption,
            self.unknown_option_message(name),
        ))
    }

    /// Loads the protocol's implicit match if it takes `name` (or is one we
    /// do not model and so might).
    /// Returns the match and the option's full name (it may be abbreviated).
    fn implicit_protocol_match<'n>(
        &mut self,
        tok: &Token<'_>,
        name: &'n str,
    ) -> Result<Option<(usize, &'n str)>, RuleError> {
        if self.proto_loaded || !self.proto.given {
            return Ok(None);
        }
        let Some(module) = self
            .proto
            .number
            .and_then(|n| values::protocol_module(n, self.ctx.family))
        else {
            return Ok(None);
        };
        let full: &'n str = match extensions::match_extension(module) {
            None => name,
            Some(e) if e.option(name).is_some() => name,
            Some(e) => {
                let options: &'static [extensions::OptSpec] = e.options;
                let mut found = options
                    .iter()
                    .flat_map(|o| o.names.iter().copied())
                    .filter(|n| name.len() >= 4 && n.starts_with(name));
                match (found.next(), found.next()) {
                    (Some(only), None) => only,
                    _ => return Ok(None),
                }
            }
        };
        Ok(Some((
            self.load_match(
                Value {
                    text: module,
                    offset: tok.offset,
                },
                true,
            )?,
            full,
        )))
    }

    /// The one modelled option `name` abbreviates, if it is unambiguous and
    /// no extension we do not model (which might know `name`) came later.
    fn abbreviation(&self, name: &str) -> Option<(usize, &'static str)> {
        if !name.starts_with("--") || name.len() < 4 {
            return None;
        }
        let mut found: Option<&'static str> = None;
        for (spec, _) in self.modelled() {
            let options: &'static [extensions::OptSpec] = spec.options;
            for full in options
                .iter()
                .flat_map(|o| o.names.iter().copied())
                .filter(|n| n.starts_with(name))
            {
                if found.is_some_and(|f| f != full) {
                    return None;
                }
                found = Some(full);
            }
        }
        let full = found?;
        let (owner, _) = self.owner(full)?;
        self.last_unmodelled
            .is_none_or(|u| owner > u)
            .then_some((owner, full))
    }

    /// Reads option `name` of modelled entity `owner`, whose extension is `spec`.
    fn modelled_option_named(
        &mut self,
        owner: usize,
        spec: &'static Extension,
        tok: &Token<'_>,
        name: &str,
        inline: Option<Value<'t>>,
        negated: bool,
    ) -> Result<(), RuleError> {
        let Some(option) = spec.option(name) else {
            let described = self
                .entities
                .get(owner)
                .map(|e| describe(e.is_target, e.name))
                .unwrap_or_default();
            return Err(error(
                tok,
                ErrorKind::UnknownOption,
                format!("unknown option `{name}` for {described}"),
            ));
        };
        self.modelled_option(owner, tok, option, name, inline, negated)
    }

    /// Reads `option` (written `name`) of modelled entity `owner`.
    fn modelled_option(
        &mut self,
        owner: usize,
        tok: &Token<'_>,
        option: &'static OptSpec,
        name: &str,
        inline: Option<Value<'t>>,
        mut negated: bool,
    ) -> Result<(), RuleError> {
        let Some(entity) = self.entities.get(owner) else {
            return Err(error(
                tok,
                ErrorKind::Syntax,
                "internal: unknown extension".into(),
            ));
        };
        let Some(spec) = entity.spec else {
            return Err(error(
                tok,
                ErrorKind::Syntax,
                "internal: extension without spec".into(),
            ));
        };
        let (seen, is_target, entity_name) = (entity.seen, entity.is_target, entity.name);
        let described = || describe(is_target, entity_name);
        let shown = option.names.first().copied().unwrap_or(name);
        if seen.contains(option.id) {
            return Err(error(
                tok,
                ErrorKind::Syntax,
                format!(
                    "option `{shown}` of {} given twice, it may appear once",
                    described()
                ),
            ));
        }
        // At most one option of an exclusive group is ever seen: a second is refused here.
        if let Some(other) = spec
            .exclusive
            .iter()
            .find(|g| g.contains(&option.id))
            .and_then(|g| g.iter().find(|o| seen.contains(**o)))
        {
            return Err(error(
                tok,
                ErrorKind::Syntax,
                format!(
                    "`{shown}` cannot be combined with `{}` in one {}",
                    spec.option_name(*other),
                    described()
                ),
            ));
        }
        let mut args = [""; 2];
        let mut argc = 0;
        match option.arity {
            Arity::Flag => {
                if inline.is_some() {
                    return Err(error(
                        tok,
                        ErrorKind::Syntax,
                        format!("option `{name}` takes no value"),
                    ));
                }
            }
            Arity::One => {
                args = [self.value(tok, name, inline, &mut negated)?.text, ""];
                argc = 1;
            }
            Arity::Two => {
                let first = self.value(tok, name, inline, &mut negated)?.text;
                let tokens: &'t [Token<'_>] = self.tokens;
                match tokens.get(self.pos) {
                    Some(t)
                        if t.quoted || !(t.text.starts_with('-') || t.text.starts_with('!')) =>
                    {
                        args = [first, &t.text];
                        argc = 2;
                        self.pos += 1;
                    }
                    _ => {
                        return Err(error(
                            tok,
                            ErrorKind::MissingArgument,
                            format!("option `{shown}` expects two arguments"),
                        ));
                    }
                }
            }
        }
        if negated && !option.invert {
            return Err(error(
                tok,
                ErrorKind::Syntax,
                format!("option `{shown}` of {} cannot be negated", described()),
            ));
        }
        let given = Given {
            spec: option,
            negated,
            args,
            argc,
            proto: self.proto,
            at: (tok.offset, tok.text.len().max(1)),
        };
        if let Some(e) = self.entities.get_mut(owner) {
            e.seen.insert(option.id);
        }
        if let Some(target) = self.target.as_mut().filter(|t| t.entity == owner) {
            target.given.push(given);
            return Ok(());
        }
        // The value token is the last one read; point at it for value errors.
        let at = self
            .pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .filter(|_| option.arity != Arity::Flag)
            .unwrap_or(tok);
        let (offset, len) = match inline {
            Some(v) => (v.offset, v.text.len().max(1)),
            None => (at.offset, at.text.len().max(1)),
        };
        match extensions::match_option(spec, &given, self.ctx.family) {
            Ok(Some(m)) => self.matches.push(m),
            Ok(None) => {}
            Err(message) => {
                return Err(RuleError {
                    kind: ErrorKind::InvalidValue,
                    offset,
                    len,
                    message,
                });
            }
        }
        Ok(())
    }

    /// An option of an extension we do not model: keep it and every value
    /// after it (up to the next option) as text. An inline value is already
    /// part of the option's token.
    fn unmodelled_option(
        &mut self,
        owner: usize,
        tok: &Token<'_>,
        negated: bool,
    ) -> Result<(), RuleError> {
        let mut text = String::new();
        if negated {
            text.push_str("! ");
        }
        text.push_str(&tok.text);
        // The option's first value, checked where iptables-restore checks it.
        if let Some(entity) = self.entities.get(owner)
            && !entity.is_target
            && let Some(v) = self.tokens.get(self.pos)
            && (v.quoted || !is_option(&v.text))
            && let Err(message) = values::unmodelled_value(entity.name, &tok.text, &v.text)
        {
            return Err(RuleError {
                kind: ErrorKind::InvalidValue,
                offset: v.offset,
                len: v.text.len().max(1),
                message,
            });
        }
        while let Some(t) = self.tokens.get(self.pos) {
            let bang_value = t.text == "!"
                && !t.quoted
                && self
                    .tokens
                    .get(self.pos + 1)
                    .is_some_and(|n| n.quoted || !is_option(&n.text));
            if !bang_value && !t.quoted && (is_option(&t.text) || t.text == "!") {
                break;
            }
            text.push(' ');
            if t.quoted && (t.text.is_empty() || t.text.contains([' ', '\t'])) {
                text.push('"');
                text.push_str(&t.text.replace('"', "\\\""));
                text.push('"');
            } else {
                text.push_str(&t.text);
            }
            self.pos += 1;
        }
        let Some(entity) = self.entities.get(owner) else {
            return Ok(());
        };
        if entity.is_target {
            if let Some(target) = self.target.as_mut() {
                target.text.push(' ');
                target.text.push_str(&text);
            }
        } else if let Some(Match::Unknown { text: existing }) =
            entity.unknown_match.and_then(|i| self.matches.get_mut(i))
        {
            existing.push(' ');
            existing.push_str(&text);
        }
        Ok(())
    }

    fn unknown_option_message(&self, name: &str) -> String {
        let port_opt = matches!(
            name,
            "--dport"
                | "--sport"
                | "--destination-port"
                | "--source-port"
                | "--syn"
                | "--tcp-flags"
        );
        if port_opt && !self.proto.is_one_of(&[6, 17, 132, 33]) && self.entities.is_empty() {
            return format!(
                "unknown option `{name}`: port options need `-p tcp` or `-p udp` before them"
            );
        }
        if name == "--icmp-type" && self.ctx.family == Family::Ipv6 {
            return format!(
                "unknown option `{name}`: ip6tables matches ICMPv6 with `-p ipv6-icmp --icmpv6-type`"
            );
        }
        if self.entities.is_empty() {
            format!(
                "unknown option `{name}`, expected a generic option or `-m <module>` before module options"
            )
        } else {
            let loaded: Vec<String> = self
                .entities
                .iter()
                .map(|e| describe(e.is_target, e.name))
                .collect();
            format!("unknown option `{name}` for {}", loaded.join(", "))
        }
    }

    /// Checks that need the whole rule, then builds the action.
    fn finish(self) -> Result<RuleSpec, RuleError> {
        let at = |e: &Entity<'_>, message: String| RuleError {
            kind: ErrorKind::InvalidValue,
            offset: e.offset,
            len: e.len,
            message,
        };
        for e in self.entities.iter() {
            let Some(spec) = e.spec else { continue };
            if spec.needs_option && e.seen.is_empty() {
                let names: Vec<&str> = spec
                    .options
                    .iter()
                    .filter_map(|o| o.names.first().copied())
                    .collect();
                return Err(at(
                    e,
                    format!(
                        "{} needs one of its options: {}",
                        describe(e.is_target, e.name),
                        names.join(", ")
                    ),
                ));
            }
            if let Some(m) = spec.mandatory.filter(|m| !e.seen.contains(*m)) {
                return Err(at(
                    e,
                    format!(
                        "{} needs `{}`",
                        describe(e.is_target, e.name),
                        spec.option_name(m)
                    ),
                ));
            }
            if !spec.protocols.is_empty() && !self.proto.is_one_of(spec.protocols) {
                let names: Vec<String> = spec
                    .protocols
                    .iter()
                    .map(|p| format!("`-p {}`", protocol_name(*p)))
                    .collect();
                if e.implicit {
                    let message = format!(
                        "options of the {} match need {}, they cannot follow a negated `-p`",
                        e.name,
                        names.join(" or ")
                    );
                    return Err(at(e, message));
                }
                return Err(at(
                    e,
                    format!(
                        "{} needs {}",
                        describe(e.is_target, e.name),
                        names.join(" or ")
                    ),
                ));
            }
        }
        let action = match &self.target {
            None => Action::Continue,
            Some(t) => self.action(t)?,
        };
        // Moved out at their exact size; the buffer keeps its room.
        let mut matches = Vec::with_capacity(self.matches.len());
        matches.append(self.matches);
        Ok(RuleSpec { matches, action })
    }

    fn action(&self, t: &TargetState<'_>) -> Result<Action, RuleError> {
        let Some(entity) = self.entities.get(t.entity) else {
            return Ok(Action::Continue);
        };
        let name = entity.name;
        let at_target = |kind, message| RuleError {
            kind,
            offset: entity.offset,
            len: entity.len,
            message,
        };
        if t.goto {
            if !t.text.is_empty() {
                return Err(at_target(
                    ErrorKind::UnknownOption,
                    format!("`-g {name}` takes no options, found `{}`", t.text.trim()),
                ));
            }
            return Ok(Action::Goto {
                chain: name.to_string(),
            });
        }
        let Some(spec) = entity.spec else {
            if extensions::CONTINUE_TARGETS.contains(&name) {
                return Ok(Action::Continue);
            }
            if extensions::UNKNOWN_TARGETS.contains(&name) || !t.text.is_empty() {
                return Ok(Action::Unknown {
                    text: format!("{name}{}", t.text),
                });
            }
            // Anything else names a user chain; the table checks that it exists.
            return Ok(Action::Jump {
                chain: name.to_string(),
            });
        };
        if let Some(table) = spec.table.filter(|table| *table != self.ctx.table) {
            return Err(at_target(
                ErrorKind::InvalidValue,
                format!(
                    "target {name} works only in the {table} table, not in {}",
                    self.ctx.table
                ),
            ));
        }
        if spec.needs_option && t.given.is_empty() {
            let names: Vec<&str> = spec
                .options
                .iter()
                .filter_map(|o| o.names.first().copied())
                .collect();
            return Err(at_target(
                ErrorKind::MissingArgument,
                format!("target {name} needs one of {}", names.join(", ")),
            ));
        }
        let input = TargetInput {
            ext: spec,
            given: &t.given,
            family: self.ctx.family,
            proto: self.proto,
        };
        let action = extensions::target_action(&input).map_err(|(index, message)| {
            let (offset, len) = index
                .and_then(|i| t.given.get(i))
                .map(|g| g.at)
                .unwrap_or((entity.offset, entity.len));
            RuleError {
                kind: ErrorKind::InvalidValue,
                offset,
                len,
                message,
            }
        })?;
        Ok(action)
    }
}

/// A list that keeps its first `N` items in place: a rule loads a few
/// extensions, and a heap allocation for them in every rule showed in the
/// profile. Items are only added.
#[derive(Debug)]
struct InlineList<T, const N: usize> {
    head: [Option<T>; N],
    len: usize,
    tail: Vec<T>,
}

impl<T, const N: usize> InlineList<T, N> {
    fn new() -> Self {
        InlineList {
            head: std::array::from_fn(|_| None),
            len: 0,
            tail: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn push(&mut self, item: T) {
        match self.head.get_mut(self.len) {
            Some(slot) => *slot = Some(item),
            None => self.tail.push(item),
        }
        self.len += 1;
    }

    fn get(&self, index: usize) -> Option<&T> {
        match self.head.get(index) {
            Some(slot) => slot.as_ref(),
            None => self.tail.get(index - N),
        }
    }

    fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        match self.head.get_mut(index) {
            Some(slot) => slot.as_mut(),
            None => self.tail.get_mut(index - N),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.head.iter().flatten().chain(&self.tail)
    }
}

/// `-m tcp`, `-j DNAT`: how an entity is named in messages.
fn describe(is_target: bool, name: &str) -> String {
    if is_target {
        format!("target {name}")
    } else {
        format!("`-m {name}`")
    }
}

fn protocol_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        33 => "dccp".into(),
        58 => "ipv6-icmp".into(),
        132 => "sctp".into(),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iptables::lexer::tokens;
    use crate::model::{CtStates, Nat, PortRange, RejectKind};

    fn spec_in(line: &str, family: Family, table: &str, chain: &str) -> Result<RuleSpec, String> {
        let toks = tokens(line).unwrap();
        rule_spec(
            &toks,
            RuleContext {
                family,
                table,
                chain,
            },
        )
        .map(|o| o.unwrap())
        .map_err(|e| e.message)
    }

    fn spec(line: &str) -> Result<RuleSpec, String> {
        spec_in(line, Family::Ipv4, "filter", "INPUT")
    }

    fn nat(line: &str) -> Result<RuleSpec, String> {
        spec_in(line, Family::Ipv4, "nat", "PREROUTING")
    }

    #[test]
    fn ports_with_protocol() {
        let s = spec("-p tcp -m tcp --dport 22 -j ACCEPT").unwrap();
        assert_eq!(
            s.matches,
            vec![
                Match::Protocol {
                    negated: false,
                    protocols: smallvec::smallvec![6]
                },
                Match::DestinationPort {
                    negated: false,
                    ports: smallvec::smallvec![PortRange::single(22)]
                },
            ]
        );
        assert_eq!(s.action, Action::Accept);
    }

    #[test]
    fn implicit_protocol_module_and_negation_styles() {
        let a = spec("-p udp ! --sport 1024: -j DROP").unwrap();
        let b = spec("-p udp --sport ! 1024: -j DROP").unwrap();
        assert_eq!(a.matches, b.matches);
        assert_eq!(
            a.matches[1],
            Match::SourcePort {
                negated: true,
                ports: smallvec::smallvec![PortRange {
                    start: 1024,
                    end: 65535
                }]
            }
        );
    }

    #[test]
    fn port_option_without_protocol_is_an_error_that_says_why() {
        let e = spec("--dport 22 -j ACCEPT").unwrap_err();
        assert!(e.contains("-p tcp"), "{e}");
    }

    #[test]
    fn multiport_and_state() {
        let s = spec("-p tcp -m multiport --dports 80,443,8000:8080 -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT").unwrap();
        assert_eq!(
            s.matches[1],
            Match::DestinationPort {
                negated: false,
                ports: smallvec::smallvec![
                    PortRange::single(80),
                    PortRange::single(443),
                    PortRange {
                        start: 8000,
                        end: 8080
                    }
                ],
            }
        );
        assert_eq!(
            s.matches[2],
            Match::ConnState {
                negated: false,
                states: CtStates::NEW.union(CtStates::ESTABLISHED)
            }
        );
    }

    #[test]
    fn unmodelled_modules_keep_their_text() {
        let s =
            spec("-p tcp -m limit --limit 5/min --limit-burst 10 --dport 22 -j ACCEPT").unwrap();
        assert!(
            s.matches.contains(&Match::Unknown {
                text: "limit --limit 5/min --limit-burst 10".into()
            }),
            "{:?}",
            s.matches
        );
        assert!(s.matches.contains(&Match::DestinationPort {
            negated: false,
            ports: smallvec::smallvec![PortRange::single(22)]
        }));
    }

    #[test]
    fn targets() {
        let cases: &[(&str, Action)] = &[
            (
                "-p tcp -j REJECT --reject-with tcp-reset",
                Action::Reject {
                    with: RejectKind::TcpReset,
                },
            ),
            (
                "-j REJECT",
                Action::Reject {
                    with: RejectKind::IcmpPortUnreachable,
                },
            ),
            (
                "-j LOG --log-prefix \"x: \" --log-level 4",
                Action::Continue,
            ),
            (
                "-j my_chain",
                Action::Jump {
                    chain: "my_chain".into(),
                },
            ),
            (
                "-g my_chain",
                Action::Goto {
                    chain: "my_chain".into(),
                },
            ),
            (
                "-j NFQUEUE --queue-num 3",
                Action::Unknown {
                    text: "NFQUEUE --queue-num 3".into(),
                },
            ),
            ("-j MARK --set-mark 1", Action::Continue),
            ("-j TCPMSS --clamp-mss-to-pmtu", Action::Continue),
        ];
        for (line, want) in cases {
            assert_eq!(&spec(line).unwrap().action, want, "{line}");
        }
        assert_eq!(
            spec_in("-j CT --notrack", Family::Ipv4, "raw", "PREROUTING")
                .unwrap()
                .action,
            Action::NoTrack
        );
        assert!(matches!(
            nat("-p tcp -j DNAT --to-destination 10.0.0.1:80")
                .unwrap()
                .action,
            Action::Nat(Nat::Dnat { .. })
        ));
        assert!(matches!(
            nat("-p tcp -j DNAT --to 10.0.0.1:80").unwrap().action,
            Action::Nat(Nat::Dnat { .. })
        ));
        for bad in [
            "-p udp -j REJECT --reject-with tcp-reset",
            "-j ACCEPT --bogus",
            "-j MARK",
            "-j DNAT --to-destination 1.2.3.4",
        ] {
            assert!(spec(bad).is_err(), "{bad}");
        }
        assert!(nat("-j DNAT").is_err());
        assert!(
            nat("-j DNAT --to-destination 1.1.1.1:80").is_err(),
            "ports need a protocol"
        );
    }

    #[test]
    fn family_switches_skip_rules_of_the_other_family() {
        let toks = tokens("-6 -j ACCEPT").unwrap();
        let ctx = |family| RuleContext {
            family,
            table: "filter",
            chain: "INPUT",
        };
        assert_eq!(rule_spec(&toks, ctx(Family::Ipv4)), Ok(None));
        assert!(rule_spec(&toks, ctx(Family::Ipv6)).unwrap().is_some());
    }

    #[test]
    fn syntax_errors() {
        let bad = [
            "-p tcp ACCEPT",
            "-p",
            "! ! -p tcp",
            "-p tcp !",
            "-p tcp --dport 4:3",
            "! -s 1.2.3.4,5.6.7.8 -j DROP",
            "-p tcp -p udp",
            "-s 1.2.3.4 -s 5.6.7.8",
            "-j ACCEPT -j DROP",
            "-t nat -j ACCEPT",
            "! -p all",
        ];
        for line in bad {
            assert!(spec(line).is_err(), "{line}");
        }
        assert!(spec("-s 1.2.3.4,5.6.7.8 -j DROP").is_ok());
    }

    /// Each case was checked against iptables-restore 1.8.9 (nf_tables).
    #[test]
    fn rules_iptables_accepts() {
        let ok = [
            "-ptcp -s1.2.3.4 -d5.6.7.8/32 -ieth0 -jACCEPT",
            "--protocol=tcp --source=1.2.3.4 --in-interface=eth0 --jump=ACCEPT",
            "-c 2,3 -j ACCEPT",
            "-c 1 2 -j ACCEPT",
            "-m tcp --dport 1 -p tcp",
            "-m icmp --icmp-type 8 -p icmp",
            "-p tcp --dp 22",
            "-p tcp -m tcp --sport 1 -m tcp --sport 2",
            "-m comment --comment a -m comment --comment b",
            "-j DROP -p tcp",
            "-i + -j ACCEPT",
            "-i \"\"",
            "-p tcp -m tcp --tcp-flags SYN,,ACK SYN",
            "-m conntrack --ctstate SNAT,DNAT",
            "-m conntrack --ctproto tcp --ctorigsrcport 1:2 --ctexpire 0:4294967295 --ctdir REPLY",
            "-p ipcomp -m ipcomp --ipcompspi 18 -j DROP",
            "-p esp --espspi 5",
            "-j CONNSECMARK --restore",
            "-j LED --led-trigger-id \"foo\" --led-delay 42 --led-always-blink",
            "-m set --match-set scanner-ipv4-set src ! --update-counters --packets-gt 3",
            "-j SET --add-set ipv4-egress-port-set src,src --exist",
            "-m limit --limit 3/min -j RETURN -m tcp -p tcp --dport 22",
            "-m conntrack --ctstate INVALID -j RETURN -m limit --limit 3/min --limit-burst 10",
            "-j LOG --log-prefix \"123456789012345678901234567890xx\"",
            "-j LOG --log-level 4 --log-tcp-options --log-ip-options --log-uid --log-tcp-sequence --log-macdecode",
            "-m comment --comment \"a comment that is longer than two hundred and fifty-five characters xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
        ];
        for line in ok {
            assert!(spec(line).is_ok(), "{line}: {:?}", spec(line));
        }
    }

    /// Each case was checked against iptables-restore 1.8.9 (nf_tables).
    #[test]
    fn rules_iptables_rejects() {
        let bad = [
            "-m tcp --dport 1",
            "-p tcp -m udp --dport 1",
            "-m multiport --dports 1,2 -p tcp",
            "! -p tcp -m multiport --dports 1",
            "-p tcp -m state --state NEW --state ESTABLISHED",
            "-m conntrack --ctstate NEW --ctstate ESTABLISHED",
            "-p tcp --sport 1 --sport 2",
            "-p tcp --tcp-flags SYN,ACK",
            "-p tcp --tcp-flags SYN,FOO SYN",
            "-p tcp --syn --tcp-flags ALL SYN",
            "-p udplite --dport 1",
            "-m conntrack",
            "-m state wrong",
            "-m comment",
            "! -m comment --comment x",
            "-m comment ! --comment x",
            "-m iprange",
            "-m multiport",
            "-m icmp",
            "-m icmpv6",
            "-c \"\"",
            "-c ,3",
            "-c 3,",
            "-i eth0 -o",
            "-i thisinterfaceistoolong0",
            "-p udp --dport 0x16",
            "-p tcp --sport 08",
            // Accepted by iptables-nft only, which skips the kernel's check
            // that the tcp match sees tcp packets; iptables-legacy refuses it.
            "! -p tcp --dport 22",
            "-p all --dport 1",
        ];
        for line in bad {
            assert!(spec(line).is_err(), "{line}: {:?}", spec(line));
        }
        let v6 = |l: &str| spec_in(l, Family::Ipv6, "filter", "INPUT");
        for line in [
            "-f",
            "-p icmpv6 -m icmp --icmp-type 1",
            "-p ipv6-icmp -m icmp6 --icmpv6-type no-route --icmpv6-type packet-too-big",
        ] {
            assert!(v6(line).is_err(), "{line}");
        }
        assert!(v6("-p ipv6-icmp --icmpv6-type 1").is_ok());
    }

    #[test]
    fn interfaces_respect_the_chain() {
        assert!(spec_in("-i eth0", Family::Ipv4, "filter", "OUTPUT").is_err());
        assert!(spec_in("-o eth0", Family::Ipv4, "filter", "INPUT").is_err());
        assert!(spec_in("-o eth0", Family::Ipv4, "nat", "PREROUTING").is_err());
        assert!(spec_in("-i eth0", Family::Ipv4, "filter", "my-chain").is_ok());
    }

    #[test]
    fn tcp_flags_keep_the_comparison_as_written() {
        use crate::model::tcp_flags::*;
        let s = spec("-p tcp --tcp-flags SYN,ACK SYN,FIN").unwrap();
        assert_eq!(
            s.matches[1],
            Match::TcpFlags {
                negated: false,
                mask: SYN | ACK,
                comp: SYN | FIN
            }
        );
    }

    #[test]
    fn nat_targets_check_tables_protocols_and_ports() {
        let ok = [
            "-j DNAT --to-destination 1.1.1.1-1.1.1.10",
            "-p tcp -j DNAT --to-destination 1.1.1.1:ssh",
            "-p tcp -j REDIRECT --to-ports 0",
            "-p tcp -j REDIRECT --to-ports ftp-data",
        ];
        for line in ok {
            assert!(nat(line).is_ok(), "{line}: {:?}", nat(line));
        }
        let bad = [
            "-j DNAT --to-destination 1.1.1.1 --to-destination 2.2.2.2",
            "-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/0",
            "-p tcp -j DNAT --to-destination 1.1.1.1:echo-ssh",
            "-j REDIRECT --to-ports 42",
            "-p tcp -j REDIRECT --to-ports 42-1234/567",
            "-p tcp -j REDIRECT --to-ports 10-ssh",
        ];
        for line in bad {
            assert!(nat(line).is_err(), "{line}");
        }
        let shifted = nat("-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/3000").unwrap();
        assert!(
            matches!(shifted.action, Action::Unknown { .. }),
            "a port shift is not a plain mapping"
        );
        assert!(spec("-j MASQUERADE").unwrap_err().contains("nat table"));
        assert!(
            spec_in("-j NOTRACK", Family::Ipv4, "filter", "INPUT")
                .unwrap_err()
                .contains("raw table")
        );
    }

    #[test]
    fn target_option_values_are_checked() {
        let bad = [
            "-j LOG --log-level bad",
            "-j LOG --log-prefix",
            "-j NFLOG --nflog-group 65536",
            "-j NFLOG --nflog-size 4294967296",
            "-j NFLOG --nflog-range 1 --nflog-size 1",
            "-j MARK --set-xmark -1",
            "-j MARK --set-mark 1 --or-mark 2",
        ];
        for line in bad {
            assert!(spec(line).is_err(), "{line}");
        }
        let raw = |l: &str| spec_in(l, Family::Ipv4, "raw", "PREROUTING");
        assert!(raw("-j CT --zone 65536").is_err());
        assert!(raw("-j CT --ctevents new,bogus").is_err());
        assert!(raw("-j CT --zone mark --ctevents new,related").is_ok());
    }

    #[test]
    fn error_offsets_point_at_the_culprit() {
        let line = "-p tcp --dport 99999 -j ACCEPT";
        let toks = tokens(line).unwrap();
        let e = rule_spec(
            &toks,
            RuleContext {
                family: Family::Ipv4,
                table: "filter",
                chain: "INPUT",
            },
        )
        .unwrap_err();
        assert_eq!(&line[e.offset..e.offset + e.len], "99999");
    }
}
