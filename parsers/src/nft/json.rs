//! `nft -j list ruleset` (libnftables' JSON schema, libnftables-json(5))
//! into the syntax tree.
//!
//! The document is `{"nftables": [OBJECT, ...]}` where each object is a
//! ruleset element (`table`, `chain`, `rule`, `set`, `map`, `element`, and
//! objects the model has no use for: `counter`, `quota`, `flowtable`,
//! `ct helper`, ...) or a command wrapping one (`{"add": {"rule": ...}}`).
//! Rules attach to their table by (family, table name) and to their chain by
//! name. JSON has no meaningful lines (`nft -j` writes one), so every
//! element's span is its byte range in the text, found by a light scan.
//!
//! What the model cannot use stays visible: unknown statements become
//! [`Stmt::Unknown`], unknown expressions [`Selector::Other`] with a readable
//! text; only malformed input is an error.

use super::ast::{
    self, BaseSpec, Element, NatKind, Op, Selector, Selectors, Stmt, TableFamily, Value, Verdict,
};
use super::vocab::{
    CtKey, CtState, PayloadField, PayloadField as F, PayloadProtocol, RejectWith, TcpFlag,
};
use crate::line_index::LineIndex;
use crate::model::Span;
use crate::{ErrorKind, ParseError};
use serde_json::{Map, Value as J};
use std::collections::{HashMap, HashSet};

/// Every table of the document; problems go to `errors` (without a path),
/// tables with the `dormant` flag to `dormant`.
pub(crate) fn read(
    text: &str,
    errors: &mut Vec<ParseError>,
    dormant: &mut Vec<(TableFamily, String)>,
) -> Vec<ast::Table> {
    let doc: J = match serde_json::from_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            let lines = LineIndex::new(text);
            let start = lines.offset_of(e.line(), e.column());
            let (line, column) = lines.position(start);
            errors.push(ParseError {
                kind: ErrorKind::Syntax,
                path: String::new(),
                line,
                column,
                start: start as u32,
                end: start as u32,
                message: format!("not nft JSON: {e}"),
            });
            return Vec::new();
        }
    };
    let mut reader = Reader {
        dormant,
        lines: LineIndex::new(text),
        errors,
        tables: Vec::new(),
        index: HashMap::new(),
        dynamic: HashSet::new(),
    };
    let whole = reader.span(0, text.len());
    let Some(items) = doc.get("nftables").and_then(J::as_array) else {
        reader.error(
            whole,
            ErrorKind::Syntax,
            "expected a JSON object with an \"nftables\" array, as `nft -j list ruleset` prints"
                .into(),
        );
        return Vec::new();
    };
    let mut offsets = element_offsets(text);
    if offsets.len() != items.len() {
        // The scan did not find what serde read (an unusual document): one span for all.
        offsets = vec![(0, text.len()); items.len()];
    }
    for (item, &(start, end)) in items.iter().zip(&offsets) {
        let span = reader.span(start, end);
        reader.item(item, span);
    }
    reader.finish()
}

/// A set's key in the reader's index: family, table, set name.
type SetKey = (TableFamily, String, String);

struct Reader<'a> {
    dormant: &'a mut Vec<(TableFamily, String)>,
    lines: LineIndex<'a>,
    errors: &'a mut Vec<ParseError>,
    tables: Vec<ast::Table>,
    /// (family, name) to the table's index.
    index: HashMap<(TableFamily, String), usize>,
    /// Sets that rules add to or update at run time.
    dynamic: HashSet<SetKey>,
}

/// How an object came: listed, or wrapped in a command.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cmd {
    /// A bare ruleset element (`nft -j list ruleset`): a rule's `handle`
    /// only names it.
    Listed,
    /// `add`, `create`: a rule goes last in its chain.
    Add,
    /// `insert`: a rule goes first in its chain.
    Insert,
}

impl Reader<'_> {
    fn span(&mut self, start: usize, end: usize) -> Span {
        let (line, column) = self.lines.position(start);
        Span {
            file: 0,
            line,
            column,
            start: start as u32,
            end: end as u32,
        }
    }

    fn error(&mut self, span: Span, kind: ErrorKind, message: String) {
        self.errors.push(ParseError {
            kind,
            path: String::new(),
            line: span.line,
            column: span.column,
            start: span.start,
            end: span.end,
            message,
        });
    }

    fn item(&mut self, item: &J, span: Span) {
        let Some(obj) = item.as_object().filter(|o| o.len() == 1) else {
            self.error(
                span,
                ErrorKind::Syntax,
                format!(
                    "expected an object with one key (`table`, `chain`, `rule`, ...), found `{}`",
                    short(item)
                ),
            );
            return;
        };
        let Some((key, body)) = obj.iter().next() else {
            return;
        };
        match key.as_str() {
            "metainfo" => {}
            "add" | "create" | "insert" => {
                let cmd = if key == "insert" { Cmd::Insert } else { Cmd::Add };
                match body.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next()) {
                    Some((k, b)) => self.element(k, b, span, cmd),
                    None => self.error(span, ErrorKind::Syntax, format!("`{key}` expects an object with one key, found `{}`", short(body))),
                }
            }
            "flush" => self.flush(body, span),
            "list" | "reset" => {}
            "delete" | "replace" | "rename" | "destroy" => {
                self.error(span, ErrorKind::Unsupported, format!("the `{key}` command changes a ruleset driftwall does not have; only whole rulesets (`nft -j list ruleset`) are read"))
            }
            _ => self.element(key, body, span, Cmd::Listed),
        }
    }

    fn element(&mut self, key: &str, body: &J, span: Span, cmd: Cmd) {
        let Some(body) = body.as_object() else {
            if matches!(key, "table" | "chain" | "rule" | "set" | "map" | "element") {
                self.error(
                    span,
                    ErrorKind::Syntax,
                    format!("`{key}` expects an object, found `{}`", short(body)),
                );
            }
            return;
        };
        let result = match key {
            "table" => self.table(body, span).map(drop),
            "chain" => self.chain(body, span),
            "rule" => self.rule(body, span, cmd),
            "set" | "map" => self.set(body, span, key == "map"),
            "element" => self.elements(body, span),
            // Named counters, quotas, limits, flowtables, ct helpers and
            // timeouts, secmarks, synproxies, tunnels: not filtering by
            // themselves; the statements that use them are kept.
            _ => Ok(()),
        };
        if let Err((kind, message)) = result {
            self.error(span, kind, message);
        }
    }

    /// The table an object names (`family`, and `table` or `name`), created
    /// for a `table` object.
    fn table(&mut self, body: &Map<String, J>, span: Span) -> Result<usize, (ErrorKind, String)> {
        let family = family(body)?;
        let name = string(body, "name")?;
        // A dormant table's chains are not attached: it filters nothing.
        let key = (family, name.to_string());
        let flags = flag_words(body.get("flags"));
        let filters_ip = matches!(
            family,
            TableFamily::Ip | TableFamily::Ip6 | TableFamily::Inet
        );
        if let Some(odd) = flags
            .iter()
            .find(|f| filters_ip && !matches!(f.as_str(), "dormant" | "owner" | "persist"))
        {
            // nftables 1.0.6 prints a table's only flag from freed memory
            // (fixed upstream in 2023): seen as the table's own name.
            return Err(invalid(format!(
                "table {} {name}: its flags read `{odd}`, which is no table flag: older nftables print a table's single flag wrongly with -j, so whether it is dormant is unknown; read `nft list ruleset` instead",
                family.name()
            )));
        }
        if flags.iter().any(|f| f == "dormant") && !self.dormant.contains(&key) {
            self.dormant.push(key);
        }
        Ok(*self
            .index
            .entry((family, name.to_string()))
            .or_insert_with(|| {
                self.tables.push(ast::Table {
                    family,
                    name: name.to_string(),
                    span,
                    chains: Vec::new(),
                    sets: Vec::new(),
                });
                self.tables.len() - 1
            }))
    }

    fn table_of(&self, body: &Map<String, J>) -> Result<usize, (ErrorKind, String)> {
        let family = family(body)?;
        let name = string(body, "table")?;
        self.index
            .get(&(family, name.to_string()))
            .copied()
            .ok_or_else(|| {
                (
                    ErrorKind::BadReference,
                    format!("no table {} {name} before this object", family.name()),
                )
            })
    }

    fn chain(&mut self, body: &Map<String, J>, span: Span) -> Result<(), (ErrorKind, String)> {
        let t = self.table_of(body)?;
        let name = string(body, "name")?.to_string();
        let base = match body.get("hook") {
            None => None,
            Some(hook) => {
                let hook = hook.as_str().ok_or_else(|| {
                    invalid(format!("`hook` must be a string, found `{}`", short(hook)))
                })?;
                let kind = match body.get("type") {
                    None => "filter".to_string(),
                    Some(k) => k
                        .as_str()
                        .ok_or_else(|| {
                            invalid(format!("`type` must be a string, found `{}`", short(k)))
                        })?
                        .to_string(),
                };
                let priority = match body.get("prio") {
                    None => 0,
                    Some(p) => priority(p, hook).ok_or_else(|| {
                        invalid(format!(
                            "`prio` must be a number or a priority name, found `{}`",
                            short(p)
                        ))
                    })?,
                };
                Some(BaseSpec {
                    kind,
                    hook: hook.to_string(),
                    priority,
                    span,
                })
            }
        };
        let policy = match body.get("policy") {
            None => None,
            Some(p) => match p.as_str() {
                Some(v @ ("accept" | "drop")) => Some(v.to_string()),
                _ => {
                    return Err(invalid(format!(
                        "a chain policy is accept or drop, found `{}`",
                        short(p)
                    )));
                }
            },
        };
        let table = &mut self.tables[t];
        match table.chains.iter_mut().find(|c| c.name == name) {
            // `add chain` of an existing chain updates it.
            Some(c) => {
                if base.is_some() {
                    c.base = base;
                }
                if policy.is_some() {
                    c.policy = policy;
                }
            }
            None => table.chains.push(ast::Chain::new(name, span, base, policy)),
        }
        Ok(())
    }

    fn rule(
        &mut self,
        body: &Map<String, J>,
        span: Span,
        cmd: Cmd,
    ) -> Result<(), (ErrorKind, String)> {
        let t = self.table_of(body)?;
        let chain = string(body, "chain")?.to_string();
        // A command's handle or index places the rule among rules that
        // are not in the document.
        if cmd != Cmd::Listed && (body.contains_key("index") || body.contains_key("handle")) {
            return Err((ErrorKind::Unsupported, "a rule placed by `handle` or `index` is not supported; driftwall reads whole rulesets".into()));
        }
        let exprs = body
            .get("expr")
            .and_then(J::as_array)
            .ok_or_else(|| invalid("a rule needs an `expr` list of statements".into()))?;
        let family = self.tables[t].family;
        let table_name = self.tables[t].name.clone();
        let mut stmts = Vec::new();
        for e in exprs {
            let (stmt, updates) = statement(e).map_err(invalid)?;
            for set in updates {
                self.dynamic.insert((family, table_name.clone(), set));
            }
            stmts.push(stmt);
        }
        let table = &mut self.tables[t];
        let Some(c) = table.chains.iter_mut().find(|c| c.name == chain) else {
            return Err((
                ErrorKind::BadReference,
                format!(
                    "no chain `{chain}` in table {} {}",
                    family.name(),
                    table.name
                ),
            ));
        };
        let rule = ast::Rule::new(span, stmts);
        match cmd {
            Cmd::Listed | Cmd::Add => c.rules.push(rule),
            Cmd::Insert => c.rules.insert(0, rule),
        }
        Ok(())
    }

    fn set(
        &mut self,
        body: &Map<String, J>,
        span: Span,
        is_map: bool,
    ) -> Result<(), (ErrorKind, String)> {
        let t = self.table_of(body)?;
        let name = string(body, "name")?.to_string();
        let key_type = match body.get("type") {
            None => Vec::new(),
            Some(ty) => type_words(ty).map_err(invalid)?,
        };
        let data_type = match (is_map, body.get("map")) {
            (true, Some(d)) => Some(type_words(d).map_err(invalid)?.join(" . ")),
            (true, None) => return Err(invalid(format!("map `{name}` has no `map` (data type)"))),
            (false, _) => None,
        };
        let flags = flag_words(body.get("flags"));
        let dynamic = flags.iter().any(|f| f == "dynamic" || f == "timeout");
        let elements = match body.get("elem") {
            None => Vec::new(),
            Some(e) => elements(e, is_map).map_err(invalid)?,
        };
        let table = &mut self.tables[t];
        match table.sets.iter_mut().find(|s| s.name == name) {
            Some(s) => {
                s.elements.extend(elements);
                s.dynamic |= dynamic;
            }
            None => table.sets.push(ast::Set {
                name,
                span,
                key_type,
                data_type,
                elements,
                dynamic,
                lowered: Default::default(),
            }),
        }
        Ok(())
    }

    fn elements(&mut self, body: &Map<String, J>, _span: Span) -> Result<(), (ErrorKind, String)> {
        let t = self.table_of(body)?;
        let name = string(body, "name")?;
        let table = &mut self.tables[t];
        let family = table.family;
        let Some(set) = table.sets.iter_mut().find(|s| s.name == name) else {
            return Err((
                ErrorKind::BadReference,
                format!(
                    "no set or map `{name}` in table {} {}",
                    family.name(),
                    table.name
                ),
            ));
        };
        let elem = body
            .get("elem")
            .ok_or_else(|| invalid("an `element` object needs `elem`".into()))?;
        set.elements
            .extend(elements(elem, set.data_type.is_some()).map_err(invalid)?);
        Ok(())
    }

    fn flush(&mut self, body: &J, span: Span) {
        let Some((what, obj)) = body
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        else {
            self.error(
                span,
                ErrorKind::Syntax,
                format!(
                    "`flush` expects an object with one key, found `{}`",
                    short(body)
                ),
            );
            return;
        };
        let result = match (what.as_str(), obj.as_object()) {
            ("ruleset", None) => {
                self.tables.clear();
                self.index.clear();
                Ok(())
            }
            ("ruleset", Some(o)) => match family(o) {
                Ok(f) => {
                    self.tables.retain(|t| t.family != f);
                    self.index = self
                        .tables
                        .iter()
                        .enumerate()
                        .map(|(i, t)| ((t.family, t.name.clone()), i))
                        .collect();
                    Ok(())
                }
                Err(e) => Err(e),
            },
            ("table", Some(o)) => self.table_of_named(o).map(|t| {
                self.tables[t]
                    .chains
                    .iter_mut()
                    .for_each(|c| c.rules.clear())
            }),
            ("chain", Some(o)) => self.table_of(o).and_then(|t| {
                let name = string(o, "name")?;
                match self.tables[t].chains.iter_mut().find(|c| c.name == name) {
                    Some(c) => {
                        let _: () = c.rules.clear();
                        Ok(())
                    }
                    None => Err((
                        ErrorKind::BadReference,
                        format!("no chain `{name}` to flush"),
                    )),
                }
            }),
            ("set" | "map", Some(o)) => self.table_of(o).and_then(|t| {
                let name = string(o, "name")?;
                match self.tables[t].sets.iter_mut().find(|s| s.name == name) {
                    Some(s) => {
                        let _: () = s.elements.clear();
                        Ok(())
                    }
                    None => Err((ErrorKind::BadReference, format!("no set `{name}` to flush"))),
                }
            }),
            (other, _) => Err((
                ErrorKind::Unsupported,
                format!("`flush {other}` is not supported"),
            )),
        };
        if let Err((kind, message)) = result {
            self.error(span, kind, message);
        }
    }

    /// A `table` object's own table (`name`, not `table`).
    fn table_of_named(&self, body: &Map<String, J>) -> Result<usize, (ErrorKind, String)> {
        let family = family(body)?;
        let name = string(body, "name")?;
        self.index
            .get(&(family, name.to_string()))
            .copied()
            .ok_or_else(|| {
                (
                    ErrorKind::BadReference,
                    format!("no table {} {name}", family.name()),
                )
            })
    }

    fn finish(mut self) -> Vec<ast::Table> {
        for t in &mut self.tables {
            for s in &mut t.sets {
                if self
                    .dynamic
                    .contains(&(t.family, t.name.clone(), s.name.clone()))
                {
                    s.dynamic = true;
                }
            }
        }
        self.tables
    }
}

fn invalid(message: String) -> (ErrorKind, String) {
    (ErrorKind::InvalidValue, message)
}

fn family(body: &Map<String, J>) -> Result<TableFamily, (ErrorKind, String)> {
    let f = string(body, "family")?;
    TableFamily::parse(f).ok_or_else(|| {
        invalid(format!(
            "unknown family `{f}`, expected ip, ip6, inet, arp, bridge or netdev"
        ))
    })
}

fn string<'j>(body: &'j Map<String, J>, key: &str) -> Result<&'j str, (ErrorKind, String)> {
    match body.get(key) {
        Some(J::String(s)) => Ok(s),
        Some(other) => Err(invalid(format!(
            "`{key}` must be a string, found `{}`",
            short(other)
        ))),
        None => Err((ErrorKind::Syntax, format!("missing `{key}`"))),
    }
}

/// A chain priority: a number, or a standard name with an optional offset
/// (`"filter"`, `"dstnat - 10"`), as JSON input may give it.
fn priority(p: &J, hook: &str) -> Option<i32> {
    if let Some(n) = p.as_i64() {
        return i32::try_from(n).ok();
    }
    let text = p.as_str()?.trim();
    if let Ok(n) = text.parse::<i32>() {
        return Some(n);
    }
    let (name, offset) = match text.find(['+', '-']) {
        Some(i) => {
            let n: i32 = text[i + 1..].trim().parse().ok()?;
            (
                text[..i].trim(),
                if text.as_bytes()[i] == b'-' { -n } else { n },
            )
        }
        None => (text, 0),
    };
    let base: i32 = match name {
        "raw" => -300,
        "mangle" => -150,
        "dstnat" if hook == "postrouting" => return None,
        "dstnat" => -100,
        "filter" => 0,
        "security" => 50,
        "srcnat" => 100,
        _ => return None,
    };
    base.checked_add(offset)
}

/// A set's `type` or a map's `map`: a name, a list of names (a
/// concatenation) or `{"typeof": EXPR}`.
fn type_words(t: &J) -> Result<Vec<String>, String> {
    match t {
        J::String(s) => Ok(vec![s.clone()]),
        J::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("a set type list holds names, found `{}`", short(i)))
            })
            .collect(),
        J::Object(o) if o.contains_key("typeof") => {
            Ok(vec![format!("typeof {}", expr_text(&o["typeof"]))])
        }
        other => Err(format!("expected a set type, found `{}`", short(other))),
    }
}

fn flag_words(f: Option<&J>) -> Vec<String> {
    match f {
        Some(J::String(s)) => vec![s.clone()],
        Some(J::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// A set's or map's `elem`: one element or a list of them; a map's elements
/// are `[key, data]` pairs.
fn elements(e: &J, is_map: bool) -> Result<Vec<Element>, String> {
    match e {
        J::Array(items) => items.iter().map(|i| element(i, is_map)).collect(),
        one => Ok(vec![element(one, is_map)?]),
    }
}

fn element(e: &J, is_map: bool) -> Result<Element, String> {
    if is_map {
        let Some([key, data]) = e.as_array().map(Vec::as_slice) else {
            return Err(format!(
                "a map element is a [key, data] pair, found `{}`",
                short(e)
            ));
        };
        return Ok(Element {
            key: value(key)?,
            data: Some(value(data)?),
        });
    }
    Ok(Element {
        key: value(e)?,
        data: None,
    })
}

/// The value of an expression on the right of a match, in a set, or as a
/// map's data.
fn value(e: &J) -> Result<Value, String> {
    Ok(match e {
        J::String(s) => match s.strip_prefix('@') {
            Some(name) => Value::SetRef(name.to_string()),
            None => Value::Atom(s.clone().into()),
        },
        J::Number(_) | J::Bool(_) => Value::Atom(e.to_string().into()),
        // A list of flag names (`ct state established,related`); anything
        // else as a list is an anonymous set.
        J::Array(items) => match items.iter().map(J::as_str).collect::<Option<Vec<&str>>>() {
            Some(names) => Value::Flags(names.into_iter().map(str::to_string).collect()),
            None => Value::Set(
                items
                    .iter()
                    .map(|i| element(i, false))
                    .collect::<Result<_, _>>()?,
            ),
        },
        J::Null => return Err("expected a value, found null".into()),
        J::Object(o) => {
            let Some((key, body)) = o.iter().next().filter(|_| o.len() == 1) else {
                return Ok(Value::Atom(expr_text(e).into()));
            };
            match key.as_str() {
                "set" => {
                    // An anonymous set; `[[key, data], ...]` pairs make it a map.
                    let items: Vec<&J> = match body {
                        J::Array(items) => items.iter().collect(),
                        one => vec![one],
                    };
                    // `[[key, data], ...]`: an anonymous map (`dnat to ... map { }`).
                    let is_map = !items.is_empty()
                        && items
                            .iter()
                            .all(|i| i.as_array().is_some_and(|a| a.len() == 2));
                    Value::Set(
                        items
                            .into_iter()
                            .map(|i| element(i, is_map))
                            .collect::<Result<_, _>>()?,
                    )
                }
                "range" => match body.as_array().map(Vec::as_slice) {
                    Some([a, b]) => Value::Range(atom_text(a)?.into(), atom_text(b)?.into()),
                    _ => return Err(format!("a range is [low, high], found `{}`", short(body))),
                },
                "prefix" => Value::Atom(prefix_text(body)?.into()),
                "concat" => match body {
                    J::Array(items) => {
                        Value::Concat(items.iter().map(value).collect::<Result<_, _>>()?)
                    }
                    _ => {
                        return Err(format!(
                            "a concatenation is a list, found `{}`",
                            short(body)
                        ));
                    }
                },
                "|" => Value::Flags(flag_names(e)?),
                "elem" => match body.get("val") {
                    Some(v) => value(v)?,
                    None => {
                        return Err(format!(
                            "an `elem` object needs `val`, found `{}`",
                            short(body)
                        ));
                    }
                },
                "accept" | "drop" | "continue" | "return" => Value::Atom(key.clone().into()),
                "jump" | "goto" => match body.get("target").and_then(J::as_str) {
                    Some(t) => Value::Atom(format!("{key} {t}").into()),
                    None => {
                        return Err(format!(
                            "`{key}` needs a `target` chain, found `{}`",
                            short(body)
                        ));
                    }
                },
                _ => Value::Atom(expr_text(e).into()),
            }
        }
    })
}

fn atom_text(e: &J) -> Result<String, String> {
    match e {
        J::String(s) => Ok(s.clone()),
        J::Number(_) => Ok(e.to_string()),
        other => Err(format!("expected a single value, found `{}`", short(other))),
    }
}

fn prefix_text(body: &J) -> Result<String, String> {
    match (
        body.get("addr").and_then(J::as_str),
        body.get("len").and_then(J::as_u64),
    ) {
        (Some(a), Some(l)) => Ok(format!("{a}/{l}")),
        _ => Err(format!(
            "a prefix is {{\"addr\": ADDRESS, \"len\": BITS}}, found `{}`",
            short(body)
        )),
    }
}

/// Flag names of `"syn"`, `["syn", "ack"]`, `{"|": ["syn", "ack"]}` or a number.
fn flag_names(e: &J) -> Result<Vec<String>, String> {
    match e {
        J::String(s) => Ok(vec![s.clone()]),
        J::Number(_) => Ok(vec![e.to_string()]),
        J::Array(items) => Ok(items
            .iter()
            .map(flag_names)
            .collect::<Result<Vec<_>, _>>()?
            .concat()),
        J::Object(o) if o.len() == 1 && o.contains_key("|") => flag_names(&o["|"]),
        other => Err(format!("expected flag names, found `{}`", short(other))),
    }
}

/// One statement; also the names of sets it adds elements to at run time.
fn statement(e: &J) -> Result<(Stmt, Vec<String>), String> {
    // What nft cannot write as JSON it writes as its own text (nftables
    // 1.0.6: map updates, `jump { ... }` chain bindings).
    if let J::String(text) = e {
        let words: Vec<&str> = text.split_whitespace().collect();
        return Ok(match words.as_slice() {
            ["add" | "update" | "delete", set, ..] if set.starts_with('@') => (
                Stmt::Effect(text.clone().into()),
                vec![set[1..].to_string()],
            ),
            ["counter" | "log", ..] => (Stmt::Effect(text.clone().into()), Vec::new()),
            // A chain bound to the rule, or anything else: it may decide.
            _ => (
                Stmt::Unknown(text.split_whitespace().collect::<Vec<_>>().join(" ")),
                Vec::new(),
            ),
        });
    }
    let Some((key, body)) = e
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.iter().next())
    else {
        return Err(format!(
            "a statement is an object with one key, found `{}`",
            short(e)
        ));
    };
    let stmt = match key.as_str() {
        "match" => return Ok((match_stmt(body)?, Vec::new())),
        "accept" => Stmt::Verdict(Verdict::Accept),
        "drop" => Stmt::Verdict(Verdict::Drop),
        "continue" => Stmt::Verdict(Verdict::Continue),
        "return" => Stmt::Verdict(Verdict::Return),
        "jump" | "goto" => {
            let target = body.get("target").and_then(J::as_str).ok_or_else(|| {
                format!("`{key}` needs a `target` chain, found `{}`", short(body))
            })?;
            if key == "jump" {
                Stmt::Verdict(Verdict::Jump(target.into()))
            } else {
                Stmt::Verdict(Verdict::Goto(target.into()))
            }
        }
        "reject" => Stmt::Verdict(Verdict::Reject(reject_with(body)?)),
        "queue" => Stmt::Verdict(Verdict::Queue(
            statement_text("queue", body)
                .trim_start_matches("queue")
                .trim()
                .to_string(),
        )),
        "vmap" => {
            let key = body
                .get("key")
                .ok_or_else(|| format!("`vmap` needs `key`, found `{}`", short(body)))?;
            let data = body
                .get("data")
                .ok_or_else(|| format!("`vmap` needs `data`, found `{}`", short(body)))?;
            let map = match data {
                J::String(s) if s.starts_with('@') => Value::SetRef(s[1..].to_string()),
                J::Object(o) if o.contains_key("set") => {
                    let items: Vec<&J> = match &o["set"] {
                        J::Array(items) => items.iter().collect(),
                        one => vec![one],
                    };
                    Value::Set(
                        items
                            .into_iter()
                            .map(|i| element(i, true))
                            .collect::<Result<_, _>>()?,
                    )
                }
                other => {
                    return Err(format!(
                        "`vmap` data is a set of [key, verdict] pairs or `@map`, found `{}`",
                        short(other)
                    ));
                }
            };
            Stmt::Vmap {
                left: selectors(key),
                map,
            }
        }
        "notrack" => Stmt::Notrack,
        "dnat" | "snat" | "masquerade" | "redirect" => nat(key, body),
        "limit" | "quota" | "meter" | "ct count" | "connlimit" => {
            Stmt::Condition(statement_text(key, body))
        }
        "set" | "map" => {
            let name = body
                .get("set")
                .or_else(|| body.get("map"))
                .and_then(J::as_str)
                .map(|s| s.trim_start_matches('@').to_string());
            return Ok((
                Stmt::Effect(statement_text(key, body).into()),
                name.into_iter().collect(),
            ));
        }
        "mangle" => {
            // Marks, priorities and the like change no verdict; a rewritten
            // header (an address, a port) changes what later rules see.
            let target = body.get("key");
            // (`tcp option maxseg size set rt mtu`, MSS clamping, is common.)
            let harmless = target.and_then(J::as_object).is_some_and(|k| {
                k.contains_key("meta") || k.contains_key("ct") || k.contains_key("tcp option")
            }) || target
                .and_then(|k| k.get("payload"))
                .and_then(|p| p.get("field"))
                .and_then(J::as_str)
                .is_some_and(|f| {
                    matches!(
                        PayloadField::from_word(f),
                        Some(F::Dscp | F::Ecn | F::Ttl | F::Hoplimit | F::Flowlabel)
                    )
                });
            if harmless {
                Stmt::Effect(statement_text(key, body).into())
            } else {
                Stmt::Unknown(statement_text(key, body))
            }
        }
        "counter" | "log" | "ct helper" | "ct timeout" | "ct expectation" | "secmark" | "last"
        | "flow" | "comment" | "reset" => Stmt::Effect(statement_text(key, body).into()),
        // `xt` (what iptables-nft wrote and nft cannot show), `tproxy`,
        // `synproxy`, `fwd`, `dup` and anything newer.
        _ => Stmt::Unknown(statement_text(key, body)),
    };
    Ok((stmt, Vec::new()))
}

fn reject_with(body: &J) -> Result<Option<String>, String> {
    if body.is_null() {
        return Ok(None);
    }
    let Some(o) = body.as_object() else {
        return Err(format!(
            "`reject` expects null or {{\"type\", \"expr\"}}, found `{}`",
            short(body)
        ));
    };
    let kind = o.get("type").and_then(J::as_str);
    let code = match o.get("expr") {
        None => None,
        Some(c @ J::Number(_)) => Some(c.to_string()),
        Some(J::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(format!(
                "a reject code is a name or a number, found `{}`",
                short(other)
            ));
        }
    };
    // `tcp reset`, or the kind of an ICMP error as nft writes it (not an alias).
    let tcp_reset = kind
        .and_then(|k| k.split_once(' '))
        .is_some_and(|(k, reset)| {
            RejectWith::from_word(k) == Some(RejectWith::Tcp) && matches!(reset, "reset" | "rst")
        });
    let icmp = kind
        .and_then(RejectWith::from_word)
        .filter(|r| *r != RejectWith::Tcp && kind == Some(r.as_str()));
    Ok(match (kind, code) {
        (None, None) => None,
        (Some(_), _) if tcp_reset => Some("tcp reset".into()),
        (Some(k), Some(c)) => Some(format!("{k} type {c}")),
        // The default code of the type.
        (Some(k), None) => match icmp {
            Some(icmp) => Some(format!("{icmp} type port-unreachable")),
            None => Some(k.to_string()),
        },
        (None, Some(c)) => Some(format!("{} type {c}", RejectWith::Icmpx)),
    })
}

fn nat(key: &str, body: &J) -> Stmt {
    let kind = match key {
        "dnat" => NatKind::Dnat,
        "snat" => NatKind::Snat,
        "masquerade" => NatKind::Masquerade,
        _ => NatKind::Redirect,
    };
    let unknown = || Stmt::Unknown(statement_text(key, body));
    let (mut family, mut addr, mut port) = (None, None, None);
    if let Some(o) = body.as_object() {
        family = o.get("family").and_then(J::as_str).map(str::to_string);
        if let Some(a) = o.get("addr") {
            addr = match nat_addr(a) {
                Some(a) => Some(a),
                // A map, a concatenation, a symbolic expression: not modelled.
                None => return unknown(),
            };
        }
        if let Some(p) = o.get("port") {
            port = match p {
                J::Number(_) => Some(p.to_string()),
                J::String(s) if !s.starts_with('@') => Some(s.clone()),
                J::Object(r) if r.contains_key("range") => {
                    match r["range"].as_array().map(Vec::as_slice) {
                        Some([a, b]) => match (atom_text(a), atom_text(b)) {
                            (Ok(a), Ok(b)) => Some(format!("{a}-{b}")),
                            _ => return unknown(),
                        },
                        _ => return unknown(),
                    }
                }
                _ => return unknown(),
            };
        }
    } else if !body.is_null() {
        return unknown();
    }
    Stmt::Nat {
        kind,
        family,
        addr,
        port,
    }
}

/// A NAT address as `ADDR` or `LOW-HIGH`; a prefix is its range.
fn nat_addr(a: &J) -> Option<String> {
    match a {
        J::String(s) if !s.starts_with('@') => Some(s.clone()),
        J::Object(o) if o.contains_key("range") => match o["range"].as_array().map(Vec::as_slice) {
            Some([J::String(lo), J::String(hi)]) => Some(format!("{lo}-{hi}")),
            _ => None,
        },
        J::Object(o) if o.contains_key("prefix") => {
            let net: ipnet::IpNet = prefix_text(&o["prefix"]).ok()?.parse().ok()?;
            Some(format!("{}-{}", net.network(), net.broadcast()))
        }
        _ => None,
    }
}

fn match_stmt(body: &J) -> Result<Stmt, String> {
    let op_text = body
        .get("op")
        .and_then(J::as_str)
        .ok_or_else(|| format!("a match needs an `op`, found `{}`", short(body)))?;
    let left = body
        .get("left")
        .ok_or_else(|| format!("a match needs `left`, found `{}`", short(body)))?;
    let right = body
        .get("right")
        .ok_or_else(|| format!("a match needs `right`, found `{}`", short(body)))?;
    let op = match op_text {
        "==" | "in" => Op::Eq,
        // `!` is "none of these bits" (`ct state ! established,related`).
        "!=" | "!" => Op::Ne,
        "<" => Op::Lt,
        ">" => Op::Gt,
        "<=" => Op::Le,
        ">=" => Op::Ge,
        other => {
            return Err(format!(
                "unknown match operator `{other}`, expected ==, !=, <, >, <=, >=, in or !"
            ));
        }
    };
    let tcp_flags = |e: &J| {
        e.get("payload").is_some_and(|p| {
            p.get("protocol")
                .and_then(J::as_str)
                .and_then(PayloadProtocol::from_word)
                == Some(PayloadProtocol::Tcp)
                && p.get("field").and_then(J::as_str).and_then(F::from_word) == Some(F::Flags)
        })
    };
    let ct_state = |e: &J| {
        e.get("ct").is_some_and(|c| {
            c.get("key").and_then(J::as_str).and_then(CtKey::from_word) == Some(CtKey::State)
                && c.get("dir").is_none()
        })
    };
    // `ct state & (established | related) == 0`.
    if let Some([inner, mask]) = left.get("&").and_then(J::as_array).map(Vec::as_slice)
        && ct_state(inner)
        && matches!(op, Op::Eq | Op::Ne)
        && let (Ok(mask), Ok(comp)) = (flag_names(mask), flag_names(right))
    {
        return Ok(Stmt::Match {
            left: selectors(inner),
            op,
            right: Value::Masked { mask, comp },
        });
    }
    // `ct state == established | related` and `!=`: the whole value against
    // the bits together, which one state never equals (kernel-checked).
    if ct_state(left)
        && matches!(op_text, "==" | "!=")
        && (right.is_array() || right.get("|").is_some())
        && let Ok(comp) = flag_names(right)
    {
        let mask = CtState::words();
        return Ok(Stmt::Match {
            left: selectors(left),
            op,
            right: Value::Masked { mask, comp },
        });
    }
    // `tcp flags & (syn | ack) == syn`.
    if let Some([inner, mask]) = left.get("&").and_then(J::as_array).map(Vec::as_slice)
        && tcp_flags(inner)
        && matches!(op, Op::Eq | Op::Ne)
        && let (Ok(mask), Ok(comp)) = (flag_names(mask), flag_names(right))
    {
        let comp = comp.into_iter().filter(|c| c != "0").collect();
        return Ok(Stmt::Match {
            left: selectors(inner),
            op,
            right: Value::Masked { mask, comp },
        });
    }
    // `tcp flags == syn` compares the whole field; `tcp flags syn` (`in`)
    // tests the bits, which the value alone says.
    if tcp_flags(left)
        && op_text != "in"
        && matches!(op, Op::Eq | Op::Ne)
        && right.get("set").is_none()
        && let Ok(comp) = flag_names(right)
    {
        let comp = comp.into_iter().filter(|c| c != "0").collect();
        return Ok(Stmt::Match {
            left: selectors(left),
            op,
            right: Value::Masked {
                mask: TcpFlag::words(),
                comp,
            },
        });
    }
    let right = match (value(right)?, tcp_flags(left)) {
        // One flag of `tcp flags syn`: lower reads the atom as "this bit set".
        (Value::Flags(f), true) if f.len() == 1 => Value::Atom(f[0].clone().into()),
        (v, _) => v,
    };
    Ok(Stmt::Match {
        left: selectors(left),
        op,
        right,
    })
}

/// The selectors of a left-hand side: several for a concatenation.
fn selectors(e: &J) -> Selectors {
    if let Some(items) = e.get("concat").and_then(J::as_array) {
        return items.iter().flat_map(selectors).collect();
    }
    smallvec::smallvec![selector(e)]
}

fn selector(e: &J) -> Selector {
    if let Some(p) = e.get("payload")
        && let (Some(protocol), Some(field)) = (
            p.get("protocol").and_then(J::as_str),
            p.get("field").and_then(J::as_str),
        )
    {
        return Selector::Payload {
            protocol: protocol.into(),
            field: field.into(),
        };
    }
    if let Some(key) = e.get("meta").and_then(|m| m.get("key")).and_then(J::as_str) {
        return Selector::Meta(key.into());
    }
    if let Some(ct) = e.get("ct").and_then(J::as_object)
        && let (Some(key), None, None) = (
            ct.get("key").and_then(J::as_str),
            ct.get("dir"),
            ct.get("family"),
        )
    {
        return Selector::Ct(key.into());
    }
    Selector::Other(expr_text(e))
}

/// An expression in nft's own words, as far as that is easy: for the texts
/// of what the model does not know.
fn expr_text(e: &J) -> String {
    match e {
        J::Null => "null".into(),
        J::String(s) => s.clone(),
        J::Number(_) | J::Bool(_) => e.to_string(),
        J::Array(items) => items.iter().map(expr_text).collect::<Vec<_>>().join(","),
        J::Object(o) => {
            let Some((key, body)) = o.iter().next().filter(|_| o.len() == 1) else {
                return short(e);
            };
            let field = |k: &str| body.get(k).map(expr_text).unwrap_or_default();
            match key.as_str() {
                "payload" if body.get("protocol").is_some() => {
                    format!("{} {}", field("protocol"), field("field"))
                }
                "payload" => format!("@{},{},{}", field("base"), field("offset"), field("len")),
                "meta" => format!("meta {}", field("key")),
                "ct" => {
                    let mut words = vec!["ct".to_string()];
                    if body.get("dir").is_some() {
                        words.push(field("dir"));
                    }
                    if body.get("family").is_some() {
                        words.push(field("family"));
                    }
                    words.push(field("key"));
                    words.join(" ")
                }
                "fib" => {
                    let flags = match body.get("flags") {
                        Some(J::Array(f)) => {
                            f.iter().map(expr_text).collect::<Vec<_>>().join(" . ")
                        }
                        Some(f) => expr_text(f),
                        None => String::new(),
                    };
                    format!("fib {flags} {}", field("result"))
                }
                "rt" | "socket" | "osf" | "ipsec" => {
                    let key_text = body.get("key").map(expr_text).unwrap_or_default();
                    format!("{key} {key_text}")
                }
                "exthdr" | "tcp option" | "sctp chunk" => {
                    format!("{key} {} {}", field("name"), field("field"))
                        .trim_end()
                        .to_string()
                }
                "concat" => match body {
                    J::Array(items) => items.iter().map(expr_text).collect::<Vec<_>>().join(" . "),
                    _ => short(e),
                },
                "set" => match body {
                    J::Array(items) => format!(
                        "{{ {} }}",
                        items.iter().map(expr_text).collect::<Vec<_>>().join(", ")
                    ),
                    one => format!("{{ {} }}", expr_text(one)),
                },
                "range" => match body.as_array().map(Vec::as_slice) {
                    Some([a, b]) => format!("{}-{}", expr_text(a), expr_text(b)),
                    _ => short(e),
                },
                "prefix" => prefix_text(body).unwrap_or_else(|_| short(e)),
                "&" | "|" | "^" | "<<" | ">>" => match body {
                    J::Array(items) => items
                        .iter()
                        .map(expr_text)
                        .collect::<Vec<_>>()
                        .join(&format!(" {key} ")),
                    _ => short(e),
                },
                "map" => format!("{} map {}", field("key"), field("data")),
                "elem" => field("val"),
                _ => format!("{key} {}", short(body)),
            }
        }
    }
}

/// A statement as text, for `Effect`, `Condition` and `Unknown`.
fn statement_text(key: &str, body: &J) -> String {
    let field = |k: &str| body.get(k).map(expr_text);
    match key {
        "counter" if body.is_string() => format!("counter name {}", expr_text(body)),
        "counter" => "counter".into(),
        "log" => match field("prefix") {
            Some(p) => format!("log prefix \"{p}\""),
            None => "log".into(),
        },
        "limit" if body.is_object() => {
            let over = if body.get("inv").and_then(J::as_bool) == Some(true) {
                "over "
            } else {
                ""
            };
            let unit = field("rate_unit")
                .filter(|u| u != "packets")
                .map(|u| format!(" {u}"))
                .unwrap_or_default();
            format!(
                "limit rate {over}{}{unit}/{}",
                field("rate").unwrap_or_default(),
                field("per").unwrap_or_else(|| "second".into())
            )
        }
        "quota" if body.is_object() => {
            let over = if body.get("inv").and_then(J::as_bool) == Some(true) {
                "over "
            } else {
                ""
            };
            format!(
                "quota {over}{} {}",
                field("val").unwrap_or_default(),
                field("val_unit").unwrap_or_else(|| "bytes".into())
            )
        }
        "meter" => {
            let stmt = body
                .get("stmt")
                .and_then(J::as_object)
                .and_then(|o| o.iter().next())
                .map(|(k, b)| statement_text(k, b))
                .unwrap_or_default();
            format!(
                "meter {} {{ {} {stmt} }}",
                field("name").unwrap_or_default(),
                field("key").unwrap_or_default()
            )
        }
        "set" | "map" => format!(
            "{} {} {{ {} }}",
            field("op").unwrap_or_default(),
            field("set").or_else(|| field("map")).unwrap_or_default(),
            field("elem").unwrap_or_default()
        ),
        "mangle" => format!(
            "{} set {}",
            field("key").unwrap_or_default(),
            field("value").unwrap_or_default()
        ),
        "xt" => format!(
            "xt {} {}",
            field("type").unwrap_or_default(),
            field("name").unwrap_or_default()
        ),
        _ if body.is_null() => key.to_string(),
        _ if body.is_string() || body.is_number() => format!("{key} {}", expr_text(body)),
        _ => match body.as_object() {
            Some(o) => {
                let mut words = vec![key.to_string()];
                for (k, v) in o {
                    words.push(format!("{k} {}", expr_text(v)));
                }
                words.join(" ")
            }
            None => format!("{key} {}", short(body)),
        },
    }
}

/// A value as compact JSON, cut short for messages.
fn short(e: &J) -> String {
    let text = e.to_string();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

/// Byte ranges of the elements of the top-level `"nftables"` array, in
/// order; empty if there is no such array. The text is valid JSON (serde
/// read it first), so tracking strings and nesting is enough.
fn element_offsets(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    let mut str_start = 0;
    let mut key: Option<(usize, usize)> = None;
    let (mut in_target, mut done) = (false, false);
    let mut current: Option<usize> = None;
    let mut out = Vec::new();
    for (i, &c) in b.iter().enumerate() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_str = false;
                if depth == 1 && !in_target {
                    key = Some((str_start, i));
                }
            }
            continue;
        }
        let opens_element = in_target
            && depth == 2
            && current.is_none()
            && !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b',' | b']');
        if opens_element {
            current = Some(i);
        }
        match c {
            b'"' => {
                in_str = true;
                str_start = i + 1;
            }
            b'{' | b'[' => {
                if c == b'['
                    && depth == 1
                    && !done
                    && key.is_some_and(|(s, e)| &text[s..e] == "nftables")
                {
                    in_target = true;
                }
                depth += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if in_target && depth == 2 {
                    if let Some(s) = current.take() {
                        out.push((s, i + 1));
                    }
                } else if in_target && depth == 1 {
                    if let Some(s) = current.take() {
                        out.push((s, s + text[s..i].trim_end().len()));
                    }
                    in_target = false;
                    done = true;
                }
            }
            b',' if in_target && depth == 2 => {
                if let Some(s) = current.take() {
                    out.push((s, s + text[s..i].trim_end().len()));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, Match, PortRange, RejectKind};

    fn read_ok(text: &str) -> Vec<ast::Table> {
        let mut errors = Vec::new();
        let tables = read(text, &mut errors, &mut Vec::new());
        assert!(errors.is_empty(), "{errors:?}");
        tables
    }

    fn doc(items: &[&str]) -> String {
        format!(
            "{{\"nftables\": [{{\"metainfo\": {{\"version\": \"1.0.6\", \"json_schema_version\": 1}}}}, {}]}}",
            items.join(", ")
        )
    }

    const TABLE: &str = r#"{"table": {"family": "inet", "name": "f", "handle": 1}}"#;
    const CHAIN: &str = r#"{"chain": {"family": "inet", "table": "f", "name": "c", "handle": 2}}"#;

    fn rule(exprs: &str) -> String {
        format!(
            r#"{{"rule": {{"family": "inet", "table": "f", "chain": "c", "handle": 9, "expr": {exprs}}}}}"#
        )
    }

    /// The statements of the only rule of a document with one table and chain.
    fn stmts(exprs: &str) -> Vec<Stmt> {
        let tables = read_ok(&doc(&[TABLE, CHAIN, &rule(exprs)]));
        tables[0].chains[0].rules[0].stmts.clone()
    }

    fn payload(protocol: &str, field: &str) -> Selector {
        Selector::Payload {
            protocol: protocol.into(),
            field: field.into(),
        }
    }

    fn atom(a: &str) -> Value {
        Value::Atom(a.into())
    }

    #[test]
    fn inet_base_chains_with_priorities_and_policies() {
        let text = doc(&[
            TABLE,
            r#"{"chain": {"family": "inet", "table": "f", "name": "early", "handle": 1, "type": "filter", "hook": "input", "prio": -10, "policy": "drop"}}"#,
            r#"{"chain": {"family": "inet", "table": "f", "name": "late", "handle": 2, "type": "filter", "hook": "input", "prio": 10, "policy": "accept"}}"#,
            r#"{"chain": {"family": "inet", "table": "f", "name": "pre", "handle": 3, "type": "nat", "hook": "prerouting", "prio": "dstnat - 50"}}"#,
            r#"{"chain": {"family": "inet", "table": "f", "name": "user", "handle": 4}}"#,
        ]);
        let tables = read_ok(&text);
        assert_eq!(tables.len(), 1);
        assert_eq!(
            (tables[0].family, tables[0].name.as_str()),
            (TableFamily::Inet, "f")
        );
        let c = &tables[0].chains;
        let base = |i: usize| {
            c[i].base
                .as_ref()
                .map(|b| (b.kind.as_str(), b.hook.as_str(), b.priority))
        };
        assert_eq!(base(0), Some(("filter", "input", -10)));
        assert_eq!(c[0].policy.as_deref(), Some("drop"));
        assert_eq!(base(1), Some(("filter", "input", 10)));
        assert_eq!(c[1].policy.as_deref(), Some("accept"));
        assert_eq!(base(2), Some(("nat", "prerouting", -150)));
        assert_eq!(base(3), None);
        // Lowered: one table per family, both chains on input in order.
        let parsed = crate::nft::parse_json("r.json", &text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.ruleset.tables.len(), 2);
    }

    #[test]
    fn verdict_maps_inline_and_named() {
        let s = stmts(
            r#"[{"vmap": {"key": {"payload": {"protocol": "tcp", "field": "dport"}}, "data": {"set": [[22, {"accept": null}], [{"range": [80, 90]}, {"drop": null}], [443, {"jump": {"target": "web"}}]]}}}]"#,
        );
        let entries = vec![
            Element {
                key: atom("22"),
                data: Some(atom("accept")),
            },
            Element {
                key: Value::Range("80".into(), "90".into()),
                data: Some(atom("drop")),
            },
            Element {
                key: atom("443"),
                data: Some(atom("jump web")),
            },
        ];
        assert_eq!(
            s,
            vec![Stmt::Vmap {
                left: smallvec::smallvec![payload("tcp", "dport")],
                map: Value::Set(entries)
            }]
        );

        let text = doc(&[
            TABLE,
            r#"{"map": {"family": "inet", "name": "vm", "table": "f", "type": "inet_service", "handle": 10, "map": "verdict", "elem": [[22, {"accept": null}], [23, {"goto": {"target": "c"}}]]}}"#,
            CHAIN,
            &rule(
                r#"[{"vmap": {"key": {"payload": {"protocol": "tcp", "field": "dport"}}, "data": "@vm"}}]"#,
            ),
        ]);
        let tables = read_ok(&text);
        let set = &tables[0].sets[0];
        assert_eq!(
            (set.name.as_str(), set.data_type.as_deref(), set.dynamic),
            ("vm", Some("verdict"), false)
        );
        assert_eq!(
            set.elements[1],
            Element {
                key: atom("23"),
                data: Some(atom("goto c"))
            }
        );
        assert_eq!(
            tables[0].chains[0].rules[0].stmts,
            vec![Stmt::Vmap {
                left: smallvec::smallvec![payload("tcp", "dport")],
                map: Value::SetRef("vm".into())
            }]
        );
    }

    #[test]
    fn named_set_with_interval_elements() {
        let text = doc(&[
            r#"{"table": {"family": "ip", "name": "t", "handle": 1}}"#,
            r#"{"set": {"family": "ip", "name": "nets", "table": "t", "type": "ipv4_addr", "handle": 2, "flags": ["interval"], "elem": [{"prefix": {"addr": "10.1.0.0", "len": 24}}, {"range": ["10.2.0.2", "10.2.0.5"]}, "192.168.1.1", {"elem": {"val": "10.3.0.9", "timeout": 10}}]}}"#,
            r#"{"chain": {"family": "ip", "table": "t", "name": "in", "handle": 3, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}"#,
            r#"{"rule": {"family": "ip", "table": "t", "chain": "in", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@nets"}}, {"drop": null}]}}"#,
        ]);
        let tables = read_ok(&text);
        let set = &tables[0].sets[0];
        assert_eq!(set.key_type, vec!["ipv4_addr"]);
        let keys: Vec<&Value> = set.elements.iter().map(|e| &e.key).collect();
        assert_eq!(
            keys,
            vec![
                &atom("10.1.0.0/24"),
                &Value::Range("10.2.0.2".into(), "10.2.0.5".into()),
                &atom("192.168.1.1"),
                &atom("10.3.0.9")
            ]
        );
        assert_eq!(
            tables[0].chains[0].rules[0].stmts[0],
            Stmt::Match {
                left: smallvec::smallvec![payload("ip", "saddr")],
                op: Op::Eq,
                right: Value::SetRef("nets".into())
            }
        );
        let parsed = crate::nft::parse_json("r.json", &text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let rules = &parsed.ruleset.tables[0].chains[0].rules;
        assert_eq!(rules.len(), 1);
        let Match::Source {
            negated: false,
            nets,
        } = &rules[0].matches[0]
        else {
            panic!("{:?}", rules[0])
        };
        let nets: Vec<String> = nets.iter().map(ToString::to_string).collect();
        assert_eq!(
            nets,
            [
                "10.1.0.0/24",
                "10.2.0.2/31",
                "10.2.0.4/31",
                "192.168.1.1/32",
                "10.3.0.9/32"
            ]
        );
    }

    #[test]
    fn concatenations_in_matches_and_sets() {
        let s = stmts(
            r#"[{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip", "field": "saddr"}}, {"payload": {"protocol": "tcp", "field": "dport"}}]}, "right": {"set": [{"concat": ["10.1.0.2", 22]}, {"concat": [{"prefix": {"addr": "10.2.0.0", "len": 24}}, {"range": [80, 81]}]}]}}}, {"accept": null}]"#,
        );
        let right = Value::Set(vec![
            Element {
                key: Value::Concat(vec![atom("10.1.0.2"), atom("22")]),
                data: None,
            },
            Element {
                key: Value::Concat(vec![
                    atom("10.2.0.0/24"),
                    Value::Range("80".into(), "81".into()),
                ]),
                data: None,
            },
        ]);
        assert_eq!(
            s[0],
            Stmt::Match {
                left: smallvec::smallvec![payload("ip", "saddr"), payload("tcp", "dport")],
                op: Op::Eq,
                right
            }
        );
        assert_eq!(s[1], Stmt::Verdict(Verdict::Accept));
    }

    #[test]
    fn operators_flags_and_ct_state() {
        let m = |op: &str, left: &str, right: &str| {
            stmts(&format!(
                r#"[{{"match": {{"op": "{op}", "left": {left}, "right": {right}}}}}]"#
            ))
            .remove(0)
        };
        let ct = r#"{"ct": {"key": "state"}}"#;
        assert_eq!(
            m("in", ct, r#"["established", "related"]"#),
            Stmt::Match {
                left: smallvec::smallvec![Selector::Ct("state".into())],
                op: Op::Eq,
                right: Value::Flags(vec!["established".into(), "related".into()])
            }
        );
        assert_eq!(
            m("!=", ct, r#""invalid""#),
            Stmt::Match {
                left: smallvec::smallvec![Selector::Ct("state".into())],
                op: Op::Ne,
                right: atom("invalid")
            }
        );
        // nft 1.0.6 compiles `ct state != established,related` to a compare of
        // the whole value with established|related, and lists it so.
        let five: Vec<String> = ["invalid", "established", "related", "new", "untracked"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let est_rel = vec!["established".to_string(), "related".to_string()];
        assert_eq!(
            m("!=", ct, r#"{"|": ["established", "related"]}"#),
            Stmt::Match {
                left: smallvec::smallvec![Selector::Ct("state".into())],
                op: Op::Ne,
                right: Value::Masked {
                    mask: five.clone(),
                    comp: est_rel.clone()
                }
            }
        );
        assert_eq!(
            m("==", ct, r#"{"|": ["established", "related"]}"#),
            Stmt::Match {
                left: smallvec::smallvec![Selector::Ct("state".into())],
                op: Op::Eq,
                right: Value::Masked {
                    mask: five,
                    comp: est_rel.clone()
                }
            }
        );
        // `ct state ! established,related`: none of them.
        assert_eq!(
            m("!", ct, r#"["established", "related"]"#),
            Stmt::Match {
                left: smallvec::smallvec![Selector::Ct("state".into())],
                op: Op::Ne,
                right: Value::Flags(est_rel.clone())
            }
        );
        let masked = m(
            "==",
            r#"{"&": [{"ct": {"key": "state"}}, ["established", "related"]]}"#,
            "0",
        );
        assert_eq!(
            masked,
            Stmt::Match {
                left: smallvec::smallvec![Selector::Ct("state".into())],
                op: Op::Eq,
                right: Value::Masked {
                    mask: est_rel,
                    comp: vec!["0".into()]
                }
            }
        );
        let dport = r#"{"payload": {"protocol": "tcp", "field": "dport"}}"#;
        for (op, want) in [
            ("<", Op::Lt),
            (">", Op::Gt),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("!=", Op::Ne),
        ] {
            assert_eq!(
                m(op, dport, "1024"),
                Stmt::Match {
                    left: smallvec::smallvec![payload("tcp", "dport")],
                    op: want,
                    right: atom("1024")
                }
            );
        }
        let flags = r#"{"payload": {"protocol": "tcp", "field": "flags"}}"#;
        // `tcp flags syn`: the bit is set.
        assert_eq!(
            m("in", flags, r#""syn""#),
            Stmt::Match {
                left: smallvec::smallvec![payload("tcp", "flags")],
                op: Op::Eq,
                right: atom("syn")
            }
        );
        // `tcp flags & (syn | ack) == syn`.
        let masked = m(
            "==",
            r#"{"&": [{"payload": {"protocol": "tcp", "field": "flags"}}, ["syn", "ack"]]}"#,
            r#""syn""#,
        );
        assert_eq!(
            masked,
            Stmt::Match {
                left: smallvec::smallvec![payload("tcp", "flags")],
                op: Op::Eq,
                right: Value::Masked {
                    mask: vec!["syn".into(), "ack".into()],
                    comp: vec!["syn".into()]
                }
            }
        );
        // `tcp flags == syn`: the whole field.
        let Stmt::Match {
            right: Value::Masked { mask, comp },
            op: Op::Ne,
            ..
        } = m("!=", flags, r#""syn""#)
        else {
            panic!()
        };
        assert_eq!((mask.len(), comp), (8, vec!["syn".to_string()]));
        // Unmodelled left sides keep a readable text.
        let fib = m(
            "==",
            r#"{"fib": {"result": "type", "flags": ["daddr"]}}"#,
            r#""local""#,
        );
        assert_eq!(
            fib,
            Stmt::Match {
                left: smallvec::smallvec![Selector::Other("fib daddr type".into())],
                op: Op::Eq,
                right: atom("local")
            }
        );
        let mark = m("==", r#"{"&": [{"meta": {"key": "mark"}}, 255]}"#, "1");
        assert_eq!(
            mark,
            Stmt::Match {
                left: smallvec::smallvec![Selector::Other("meta mark & 255".into())],
                op: Op::Eq,
                right: atom("1")
            }
        );
        assert_eq!(
            m("==", r#"{"meta": {"key": "iifname"}}"#, r#""lan*""#),
            Stmt::Match {
                left: smallvec::smallvec![Selector::Meta("iifname".into())],
                op: Op::Eq,
                right: atom("lan*")
            }
        );
        assert_eq!(
            m(
                "==",
                r#"{"ct": {"key": "saddr", "dir": "original"}}"#,
                r#""10.1.0.1""#
            ),
            Stmt::Match {
                left: smallvec::smallvec![Selector::Other("ct original saddr".into())],
                op: Op::Eq,
                right: atom("10.1.0.1")
            }
        );
    }

    #[test]
    fn reject_variants() {
        let r = |body: &str| stmts(&format!(r#"[{{"reject": {body}}}]"#)).remove(0);
        let with = |w: Option<&str>| Stmt::Verdict(Verdict::Reject(w.map(str::to_string)));
        assert_eq!(r("null"), with(None));
        assert_eq!(r(r#"{"type": "tcp reset"}"#), with(Some("tcp reset")));
        assert_eq!(
            r(r#"{"type": "icmp", "expr": "port-unreachable"}"#),
            with(Some("icmp type port-unreachable"))
        );
        assert_eq!(
            r(r#"{"type": "icmpx", "expr": "admin-prohibited"}"#),
            with(Some("icmpx type admin-prohibited"))
        );
        assert_eq!(
            r(r#"{"type": "icmpv6", "expr": "no-route"}"#),
            with(Some("icmpv6 type no-route"))
        );
        assert_eq!(
            r(r#"{"type": "icmp", "expr": 13}"#),
            with(Some("icmp type 13"))
        );
    }

    #[test]
    fn statements_that_do_not_decide_and_nat() {
        let s = stmts(
            r#"[{"counter": {"packets": 0, "bytes": 0}}, {"log": {"prefix": "in "}}, {"limit": {"rate": 10, "burst": 5, "per": "second"}}, {"quota": {"val": 10, "val_unit": "mbytes", "inv": true}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 1}}, {"mangle": {"key": {"payload": {"protocol": "ip", "field": "daddr"}}, "value": "10.0.0.1"}}, {"notrack": null}, {"xt": {"type": "target", "name": "TCPMSS"}}, {"synproxy": {"mss": 1460}}, {"queue": {"num": 3}}]"#,
        );
        assert_eq!(s[0], Stmt::Effect("counter".into()));
        assert_eq!(s[1], Stmt::Effect("log prefix \"in \"".into()));
        assert_eq!(s[2], Stmt::Condition("limit rate 10/second".into()));
        assert_eq!(s[3], Stmt::Condition("quota over 10 mbytes".into()));
        assert_eq!(s[4], Stmt::Effect("meta mark set 1".into()));
        assert_eq!(s[5], Stmt::Unknown("ip daddr set 10.0.0.1".into()));
        assert_eq!(s[6], Stmt::Notrack);
        assert_eq!(s[7], Stmt::Unknown("xt target TCPMSS".into()));
        assert_eq!(s[8], Stmt::Unknown("synproxy mss 1460".into()));
        assert_eq!(s[9], Stmt::Verdict(Verdict::Queue("num 3".into())));

        let nat = |body: &str| stmts(&format!("[{body}]")).remove(0);
        let n = |kind, family: Option<&str>, addr: Option<&str>, port: Option<&str>| Stmt::Nat {
            kind,
            family: family.map(Into::into),
            addr: addr.map(Into::into),
            port: port.map(Into::into),
        };
        assert_eq!(
            nat(r#"{"dnat": {"family": "ip", "addr": "10.1.0.2", "port": 80}}"#),
            n(NatKind::Dnat, Some("ip"), Some("10.1.0.2"), Some("80"))
        );
        assert_eq!(
            nat(r#"{"snat": {"addr": {"range": ["10.3.0.1", "10.3.0.3"]}}}"#),
            n(NatKind::Snat, None, Some("10.3.0.1-10.3.0.3"), None)
        );
        assert_eq!(
            nat(
                r#"{"dnat": {"addr": {"prefix": {"addr": "10.2.0.2", "len": 31}}, "port": {"range": [80, 81]}}}"#
            ),
            n(
                NatKind::Dnat,
                None,
                Some("10.2.0.2-10.2.0.3"),
                Some("80-81")
            )
        );
        assert_eq!(
            nat(r#"{"masquerade": null}"#),
            n(NatKind::Masquerade, None, None, None)
        );
        assert_eq!(
            nat(r#"{"redirect": {"port": 22}}"#),
            n(NatKind::Redirect, None, None, Some("22"))
        );
        let Stmt::Unknown(text) = nat(
            r#"{"dnat": {"addr": {"map": {"key": {"payload": {"protocol": "ip", "field": "saddr"}}, "data": {"set": [["10.1.0.2", "10.2.0.2"]]}}}}}"#,
        ) else {
            panic!()
        };
        assert!(text.starts_with("dnat addr ip saddr map"), "{text}");
    }

    #[test]
    fn statements_nft_writes_as_text() {
        // nftables 1.0.6 `nft -j` writes map updates and chain bindings as strings.
        let s =
            stmts(r#"["update @mapping { ip saddr : tcp sport }", "jump {\n\t\t\taccept\n\t\t}"]"#);
        assert_eq!(
            s[0],
            Stmt::Effect("update @mapping { ip saddr : tcp sport }".into())
        );
        assert_eq!(s[1], Stmt::Unknown("jump { accept }".into()));
    }

    #[test]
    fn sets_updated_by_rules_are_dynamic() {
        let text = doc(&[
            TABLE,
            r#"{"set": {"family": "inet", "name": "seen", "table": "f", "type": "ipv4_addr", "handle": 3}}"#,
            r#"{"set": {"family": "inet", "name": "tmo", "table": "f", "type": "ipv4_addr", "handle": 4, "flags": ["timeout"]}}"#,
            r#"{"set": {"family": "inet", "name": "fixed", "table": "f", "type": "ipv4_addr", "handle": 5, "elem": ["10.1.0.2"]}}"#,
            CHAIN,
            &rule(
                r#"[{"set": {"op": "add", "elem": {"payload": {"protocol": "ip", "field": "saddr"}}, "set": "@seen"}}]"#,
            ),
        ]);
        let tables = read_ok(&text);
        let dynamic: Vec<(&str, bool)> = tables[0]
            .sets
            .iter()
            .map(|s| (s.name.as_str(), s.dynamic))
            .collect();
        assert_eq!(dynamic, [("seen", true), ("tmo", true), ("fixed", false)]);
        assert_eq!(
            tables[0].chains[0].rules[0].stmts,
            vec![Stmt::Effect("add @seen { ip saddr }".into())]
        );
    }

    #[test]
    fn every_rule_has_its_own_span() {
        let text = doc(&[
            TABLE,
            CHAIN,
            &rule(r#"[{"accept": null}]"#),
            &rule(r#"[{"drop": null}]"#),
        ]);
        let text = text.replacen(", {\"rule\"", ",\n  {\"rule\"", 2);
        let tables = read_ok(&text);
        let rules = &tables[0].chains[0].rules;
        assert_eq!(rules.len(), 2);
        for (r, line) in rules.iter().zip([2, 3]) {
            let quoted = &text[r.span.start as usize..r.span.end as usize];
            assert!(
                quoted.starts_with("{\"rule\"") && quoted.ends_with("}}"),
                "{quoted}"
            );
            assert_eq!((r.span.line, r.span.column), (line, 3));
        }
        assert_eq!(tables[0].span.line, 1);
        assert!(text[tables[0].span.start as usize..].starts_with("{\"table\""));
    }

    #[test]
    fn dormant_tables_are_reported_not_evaluated() {
        let text = doc(&[
            r#"{"table": {"family": "ip", "name": "off", "handle": 1, "flags": ["dormant"]}}"#,
            r#"{"chain": {"family": "ip", "table": "off", "name": "in", "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}"#,
        ]);
        let parsed = crate::nft::parse_json("r.json", &text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert!(parsed.ruleset.tables.is_empty());
        assert!(parsed.ruleset.skipped[0].what.contains("dormant"));
        let parsed = crate::nft::parse_json(
            "r.json",
            &doc(&[r#"{"table": {"family": "ipx", "name": "t"}}"#]),
        );
        assert_eq!(parsed.errors[0].path, "r.json");
        // nftables 1.0.6 wrote `"flags": "x"` for `table ip x { flags dormant; }`.
        let parsed = crate::nft::parse_json(
            "r.json",
            &doc(&[r#"{"table": {"family": "ip", "name": "x", "handle": 380, "flags": "x"}}"#]),
        );
        assert!(
            parsed.errors[0]
                .message
                .contains("whether it is dormant is unknown"),
            "{:?}",
            parsed.errors
        );
    }

    #[test]
    fn commands_add_insert_and_flush() {
        let text = doc(&[
            r#"{"flush": {"ruleset": null}}"#,
            r#"{"add": {"table": {"family": "inet", "name": "f"}}}"#,
            r#"{"add": {"chain": {"family": "inet", "table": "f", "name": "c"}}}"#,
            r#"{"add": {"rule": {"family": "inet", "table": "f", "chain": "c", "expr": [{"accept": null}]}}}"#,
            r#"{"insert": {"rule": {"family": "inet", "table": "f", "chain": "c", "expr": [{"drop": null}]}}}"#,
        ]);
        let tables = read_ok(&text);
        let verdicts: Vec<&Stmt> = tables[0].chains[0]
            .rules
            .iter()
            .map(|r| &r.stmts[0])
            .collect();
        assert_eq!(
            verdicts,
            [
                &Stmt::Verdict(Verdict::Drop),
                &Stmt::Verdict(Verdict::Accept)
            ]
        );
    }

    #[test]
    fn errors_have_positions_and_nothing_panics() {
        let errs = |text: &str| {
            let mut errors = Vec::new();
            read(text, &mut errors, &mut Vec::new());
            errors
        };
        let e = errs("{\"nftables\": [\n  {\"table\": }\n]}");
        assert_eq!((e.len(), e[0].kind, e[0].line), (1, ErrorKind::Syntax, 2));
        assert_eq!(errs("[]")[0].kind, ErrorKind::Syntax);
        let e = errs(&doc(&[
            TABLE,
            r#"{"rule": {"family": "inet", "table": "f", "chain": "nope", "expr": [{"accept": null}]}}"#,
        ]));
        assert_eq!(e[0].kind, ErrorKind::BadReference);
        assert!(e[0].message.contains("nope"), "{}", e[0].message);
        let e = errs(&doc(&[
            TABLE,
            CHAIN,
            &rule(r#"[{"match": {"op": "~", "left": 1, "right": 2}}]"#),
        ]));
        assert_eq!(e[0].kind, ErrorKind::InvalidValue);
        assert!(e[0].start > 0);
        let e = errs(&doc(&[r#"{"table": {"family": "ipx", "name": "t"}}"#]));
        assert!(e[0].message.contains("unknown family"));
        // Odd shapes anywhere: errors or unknowns, never a panic.
        let odd = [
            "null",
            "1",
            "\"x\"",
            "[]",
            "{}",
            "[1, 2]",
            "{\"a\": 1, \"b\": 2}",
            "{\"set\": null}",
            "{\"range\": [1]}",
            "{\"prefix\": 3}",
            "{\"concat\": 1}",
            "{\"&\": []}",
            "{\"|\": [{}]}",
            "{\"elem\": {}}",
            "{\"jump\": 1}",
        ];
        for a in odd {
            for b in odd {
                let exprs = [
                    format!(r#"[{{"match": {{"op": "==", "left": {a}, "right": {b}}}}}]"#),
                    format!(r#"[{{"vmap": {{"key": {a}, "data": {b}}}}}]"#),
                    format!(
                        r#"[{{"dnat": {{"addr": {a}, "port": {b}}}}}, {{"reject": {a}}}, {{"limit": {b}}}, {{"set": {a}}}]"#
                    ),
                    format!("[{a}, {b}]"),
                ];
                for exprs in exprs {
                    let text = doc(&[
                        TABLE,
                        CHAIN,
                        &rule(&exprs),
                        &format!(
                            r#"{{"set": {{"family": "inet", "table": "f", "name": "s", "type": {a}, "elem": {b}}}}}"#
                        ),
                    ]);
                    let _ = crate::nft::parse_json("x.json", &text);
                }
            }
        }
        for cut in 0..doc(&[TABLE, CHAIN]).len() {
            let text = doc(&[TABLE, CHAIN]);
            if text.is_char_boundary(cut) {
                let _ = crate::nft::parse_json("x.json", &text[..cut]);
            }
        }
    }

    #[test]
    fn kernel_listing_lowers_without_errors() {
        // Taken from `nft -j list ruleset` (nftables 1.0.6) of a ruleset that
        // uses most of what the kernel test generates.
        let text = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "f", "handle": 7}}, {"chain": {"family": "inet", "table": "f", "name": "in1", "handle": 3, "type": "filter", "hook": "input", "prio": -10, "policy": "drop"}}, {"rule": {"family": "inet", "table": "f", "chain": "in1", "handle": 16, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "f", "chain": "in1", "handle": 23, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [22, {"range": [80, 90]}]}}}, {"reject": {"type": "tcp reset"}}]}}, {"rule": {"family": "inet", "table": "f", "chain": "in1", "handle": 29, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "udp"}}, {"reject": {"type": "icmpx", "expr": "admin-prohibited"}}]}}, {"rule": {"family": "inet", "table": "f", "chain": "in1", "handle": 30, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "lan*"}}, {"match": {"op": "!=", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 53}}, {"reject": {"type": "icmp", "expr": "host-prohibited"}}]}}]}"#;
        let parsed = crate::nft::parse_json("r.json", text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let v4 = &parsed.ruleset.tables[0].chains[0].rules;
        let v6 = &parsed.ruleset.tables[1].chains[0].rules;
        // The icmp reject exists only in the IPv4 copy.
        assert_eq!((v4.len(), v6.len()), (4, 3));
        assert_eq!(
            v4[1].action,
            Action::Reject {
                with: RejectKind::TcpReset
            }
        );
        assert!(
            v4[1].matches.contains(&Match::DestinationPort {
                negated: false,
                ports: smallvec::smallvec![PortRange::single(22), PortRange { start: 80, end: 90 }]
            }),
            "{:?}",
            v4[1].matches
        );
        assert_eq!(
            v6[2].action,
            Action::Reject {
                with: RejectKind::Icmp6AdmProhibited
            }
        );
        assert_eq!(
            v4[3].action,
            Action::Reject {
                with: RejectKind::IcmpHostProhibited
            }
        );
    }
}
