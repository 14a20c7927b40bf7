//! The statements of a ruleset that are not filter rules: macros,
//! `include`, `set`, tables, queues, anchors and `load anchor`,
//! `antispoof` and `ether` rules.

use super::checks::{self, Section};
use super::rule;
use super::{Cur, MAX_DEPTH, Res, State};
use crate::ErrorKind;
use crate::pf::ast::{
    Anchor, AnchorKind, Antispoof, EtherRule, Item, Limiter, LimiterKind, LoadAnchor, Macro,
    PfOption, PfRuleset, Queue, QueueKind, Table,
};
use crate::pf::lexer::Kind;
use crate::pf::vocab;
use std::rc::Rc;

/// `ruleset = { statement? "\n" }`, to the end of the file, or for an
/// inline anchor body (`in_anchor`) to its `}`, which is left to the caller.
pub(super) fn ruleset(
    st: &mut State,
    c: &mut Cur,
    out: &mut PfRuleset,
    items: &mut Vec<Item>,
    in_anchor: bool,
) {
    loop {
        let token = c.peek();
        match token.kind {
            Kind::End => return,
            Kind::Newline => {
                c.bump();
                continue;
            }
            _ if in_anchor && token.is("}") => return,
            _ => {}
        }
        if let Err(e) = statement(st, c, out, items, in_anchor) {
            st.errors.push(e);
            c.recover();
        } else if !c.at_end() {
            let e = c.expected("the end of the statement");
            st.errors.push(e);
            c.recover();
        }
    }
}

/// `statement = macro | include | option | table | altq | queue | anchor
/// | load | antispoof | ether | rule`
fn statement(
    st: &mut State,
    c: &mut Cur,
    out: &mut PfRuleset,
    items: &mut Vec<Item>,
    in_anchor: bool,
) -> Res<()> {
    let first = c.peek().clone();
    if first.kind == Kind::Bad {
        return Err(c.expected("a statement"));
    }
    if first.kind == Kind::Word && c.peek_at(1).is("=") && !in_anchor {
        return macro_definition(c, out);
    }
    if first.kind != Kind::Word {
        return Err(c.expected("a statement (a rule, `set`, `table`, a macro, ...)"));
    }
    let word = first.text.as_ref();
    match word {
        "include" => include(st, c, out, items),
        "set" if !in_anchor => {
            checks::order(st, c, &first, Section::Options)?;
            let option = option(c)?;
            if option.name == "require-order" {
                st.require_order = option.values.first().is_some_and(|v| v == "yes");
            }
            out.options.push(option);
            Ok(())
        }
        "state" | "source" if c.peek_at(1).is("limiter") && !in_anchor => {
            let limiter = limiter(c)?;
            out.limiters.push(limiter);
            Ok(())
        }
        "table" => {
            let table = table(c)?;
            out.tables.push(table);
            Ok(())
        }
        "altq" | "queue" | "oldqueue" if !in_anchor => {
            checks::order(st, c, &first, Section::Queueing)?;
            let queue = queue(c)?;
            out.queues.push(queue);
            Ok(())
        }
        "anchor" | "nat-anchor" | "rdr-anchor" | "binat-anchor" | "scrub-anchor"
        | "dummynet-anchor" => {
            let anchor = anchor(st, c, out)?;
            items.push(Item::Anchor(Box::new(anchor)));
            Ok(())
        }
        "load" => {
            let load = load_anchor(st, c)?;
            items.push(Item::LoadAnchor(Box::new(load)));
            Ok(())
        }
        "antispoof" => {
            checks::order(st, c, &first, Section::Filter)?;
            items.push(Item::Antispoof(Box::new(antispoof(c)?)));
            Ok(())
        }
        "ether" => {
            let rule = ether(c)?;
            items.push(rule);
            Ok(())
        }
        "pass" | "block" | "match" | "scrub" | "dummynet" | "nat" | "rdr" | "binat" | "no" => {
            let section = match word {
                "scrub" => Section::Normalization,
                "nat" | "rdr" | "binat" | "no" => Section::Translation,
                _ => Section::Filter,
            };
            checks::order(st, c, &first, section)?;
            let rule = rule::rule(c)?;
            checks::rule(c, &rule)?;
            items.push(Item::Rule(Box::new(rule)));
            Ok(())
        }
        _ => Err(c.error_at(
            &first,
            ErrorKind::Syntax,
            format!(
                "expected a statement (pass, block, match, anchor, set, table, a macro, ...), found `{word}`"
            ),
        )),
    }
}

/// `macro = name "=" string { string }`: the strings joined by spaces; a
/// `$macro` in them was expanded as the line was read.
fn macro_definition(c: &mut Cur, out: &mut PfRuleset) -> Res<()> {
    let name = c.bump();
    c.bump();
    let mut value = String::new();
    let mut any = false;
    while !c.at_end() {
        any = true;
        let t = c.bump();
        if t.kind == Kind::Bad {
            return Err(c.error_at(&t, ErrorKind::InvalidValue, t.text.to_string()));
        }
        if !value.is_empty() {
            value.push(' ');
        }
        value.push_str(&t.text);
    }
    if !any {
        return Err(c.expected(&format!("a value for macro `{}` after `=`", name.text)));
    }
    if name
        .text
        .contains(|ch: char| !ch.is_ascii_alphanumeric() && ch != '_')
    {
        return Err(c.error_at(
            &name,
            ErrorKind::InvalidValue,
            format!(
                "macro name `{}` may hold only letters, digits and `_`",
                name.text
            ),
        ));
    }
    out.macros.push(Macro {
        span: c.span_from(name.start),
        name: name.text.to_string(),
        value: value.clone(),
    });
    c.macros
        .borrow_mut()
        .insert(name.text.to_string(), Rc::from(value));
    Ok(())
}

/// `include = "include" string`: the file is read through the loader and
/// its statements take this one's place.
fn include(st: &mut State, c: &mut Cur, out: &mut PfRuleset, items: &mut Vec<Item>) -> Res<()> {
    let keyword = c.bump();
    let name = c.string("a file name after `include`")?;
    c.end_of_statement("`include` statement")?;
    if c.depth >= MAX_DEPTH || st.included >= crate::nft::MAX_INCLUDES {
        return Err(c.error_at(
            &name,
            ErrorKind::BadReference,
            format!(
                "more than {} included files or {MAX_DEPTH} levels of them (does a file include itself?)",
                crate::nft::MAX_INCLUDES
            ),
        ));
    }
    let files = (st.loader)(&c.path, &name.text).map_err(|why| {
        c.error_range(
            keyword.start,
            name.end,
            ErrorKind::BadReference,
            format!("cannot include \"{}\": {why}", name.text),
        )
    })?;
    for (path, text) in files {
        if let Some(why) = st.loop_through(&path) {
            st.errors
                .push(c.error_at(&name, ErrorKind::BadReference, why));
            continue;
        }
        st.included += 1;
        let index = st.add_source(path, text);
        out.items = std::mem::take(items);
        st.file(index, out, c.depth + 1);
        *items = std::mem::take(&mut out.items);
    }
    Ok(())
}

/// `option = "set" name values`: `skip on`, `block-policy`, `timeout`,
/// `limit`, `state-defaults`, ... with their values checked where pfctl
/// takes only some words.
pub(super) fn option(c: &mut Cur) -> Res<PfOption> {
    let set = c.bump();
    let name_tok = c.string("an option name after `set`")?;
    let name = name_tok.text.to_string();
    let allowed: Option<&[&str]> = match name.as_str() {
        "block-policy" => Some(&["drop", "return"]),
        "state-policy" => Some(&["if-bound", "floating"]),
        "optimization" => Some(&[
            "default",
            "normal",
            "high-latency",
            "satellite",
            "aggressive",
            "conservative",
        ]),
        "ruleset-optimization" => Some(&["none", "basic", "profile"]),
        "require-order" | "keepcounters" => Some(&["yes", "no"]),
        "debug" => Some(&[
            "none", "urgent", "misc", "loud", "emerg", "alert", "crit", "err", "warning", "notice",
            "info", "debug",
        ]),
        "skip" | "loginterface" | "timeout" | "limit" | "hostid" | "reassemble"
        | "fingerprints" | "state-defaults" | "syncookies" | "prio" | "fail-policy" => None,
        _ => {
            return Err(c.error_at(
                &name_tok,
                ErrorKind::UnknownOption,
                format!(
                    "unknown option `set {name}`: expected skip, block-policy, state-policy, optimization, loginterface, timeout, limit, ruleset-optimization, debug, hostid, reassemble, fingerprints, state-defaults, require-order, syncookies or keepcounters"
                ),
            ));
        }
    };
    if name == "skip" {
        c.expect("on", "after `set skip`")?;
    }
    let mut values = Vec::new();
    let mut depth = 0usize;
    while !c.at_end() || depth > 0 {
        let t = c.bump();
        match t.kind {
            Kind::End => {
                return Err(c.error_at(
                    &t,
                    ErrorKind::UnexpectedEnd,
                    format!("`set {name}` ends inside its list: add `}}`"),
                ));
            }
            Kind::Newline => continue,
            Kind::Bad => return Err(c.error_at(&t, ErrorKind::InvalidValue, t.text.to_string())),
            _ => {}
        }
        match t.text.as_ref() {
            "{" | "(" => depth += 1,
            "}" | ")" => depth = depth.saturating_sub(1),
            "," => {}
            _ => values.push(t.text.to_string()),
        }
    }
    if values.is_empty() && name != "keepcounters" {
        return Err(c.expected(&format!("a value after `set {name}`")));
    }
    if name == "timeout" || name == "limit" {
        // `set timeout { tcp.first 120, frag 30 }`: pairs of a known name and a number.
        let known: fn(&str) -> bool = if name == "timeout" {
            vocab::is_timeout
        } else {
            vocab::is_limit
        };
        for pair in values.chunks(2) {
            let (key, value) = (&pair[0], pair.get(1));
            if !known(key) {
                return Err(c.error_range(
                    name_tok.start,
                    c.last_end,
                    ErrorKind::UnknownOption,
                    format!("unknown {name} `{key}` in `set {name}`"),
                ));
            }
            if value.is_none_or(|v| crate::values::numbers::c_number(v, u32::MAX.into()).is_none())
            {
                return Err(c.error_range(
                    name_tok.start,
                    c.last_end,
                    ErrorKind::InvalidValue,
                    format!("`set {name} {key}` takes a number"),
                ));
            }
        }
    }
    if let (Some(allowed), Some(v)) = (allowed, values.first())
        && !allowed.contains(&v.as_str())
    {
        return Err(c.error_range(
            name_tok.start,
            c.last_end,
            ErrorKind::InvalidValue,
            format!("`set {name}` takes {}, found `{v}`", allowed.join(", ")),
        ));
    }
    Ok(PfOption {
        span: c.span_from(set.start),
        name,
        values,
    })
}

/// `table = "table" "<" name ">" { "persist" | "const" | "counters" |
/// "file" string | "{" [host { [","] host }] "}" }`
pub(super) fn table(c: &mut Cur) -> Res<Table> {
    let keyword = c.bump();
    c.expect("<", "before the table name")?;
    let name = c.string("a table name after `table <`")?;
    c.expect(">", "after the table name")?;
    let mut table = Table {
        span: c.span(keyword.start, keyword.end),
        name: name.text.to_string(),
        persist: false,
        constant: false,
        counters: false,
        entries: Vec::new(),
        files: Vec::new(),
    };
    while !c.at_end() {
        if c.eat("persist") {
            table.persist = true;
        } else if c.eat("const") {
            table.constant = true;
        } else if c.eat("counters") {
            table.counters = true;
        } else if c.eat("file") {
            let file = c.string("a file name in quotes after `file`")?;
            table.files.push(file.text.to_string());
        } else if c.eat("{") {
            loop {
                while c.peek().kind == Kind::Newline || c.peek().is(",") {
                    c.bump();
                }
                if c.eat("}") {
                    break;
                }
                if c.peek().kind == Kind::End {
                    return Err(c.expected("`}` to close the table's addresses"));
                }
                table.entries.push(super::host::host(c)?);
            }
        } else {
            return Err(c.expected(
                "`persist`, `const`, `counters`, `file` or `{` in the table definition",
            ));
        }
    }
    table.span = c.span_from(keyword.start);
    Ok(table)
}

/// `limiter = ("state" | "source") "limiter" name setting { setting }` where a
/// setting is `id N`, `limit N`, `entries N`, `rate N/S`, `inet mask N` or
/// `inet6 mask N`.
fn limiter(c: &mut Cur) -> Res<Limiter> {
    let keyword = c.bump();
    c.bump();
    let kind = if keyword.text == "state" {
        LimiterKind::State
    } else {
        LimiterKind::Source
    };
    let name = c.string("a limiter name after `limiter`")?.text.to_string();
    let mut settings = Vec::new();
    while !c.at_end() {
        let t = c.string("a limiter setting (id, limit, entries, rate, inet mask, inet6 mask)")?;
        let word = t.text.to_string();
        match word.as_str() {
            "id" | "limit" | "entries" => {
                let v = c.string(&format!("a number after `{word}`"))?;
                rule::number(c, &v, u32::MAX.into())?;
                settings.push(format!("{word} {}", v.text));
            }
            "rate" => {
                let n = c.string("a count after `rate`")?;
                c.expect("/", "in `rate N/SECONDS`")?;
                let s = c.string("seconds after `/`")?;
                settings.push(format!("rate {}/{}", n.text, s.text));
            }
            "inet" | "inet6" if kind == LimiterKind::Source => {
                c.expect("mask", &format!("after `{word}`"))?;
                let m = c.string("a prefix length after `mask`")?;
                rule::number(c, &m, if word == "inet" { 32 } else { 128 })?;
                settings.push(format!("{word} mask {}", m.text));
            }
            _ => {
                return Err(c.error_at(&t, ErrorKind::UnknownOption, format!("expected a limiter setting (id, limit, entries, rate, inet mask, inet6 mask), found `{word}`")));
            }
        }
    }
    Ok(Limiter {
        span: c.span_from(keyword.start),
        kind,
        name,
        settings,
    })
}

/// Scheduler options pfctl knows inside `cbq(...)`, `priq(...)`, `hfsc(...)`, `fairq(...)`, `codel(...)`.
const SCHEDULER_OPTIONS: &[&str] = &[
    "default",
    "borrow",
    "red",
    "ecn",
    "rio",
    "cleardrop",
    "flowvalve",
    "linkshare",
    "realtime",
    "upperlimit",
    "buckets",
    "hogs",
    "target",
    "interval",
    "quantum",
    "control",
];

/// Scheduler options that take a value: a bandwidth, or `(m1 d m2)`.
const VALUED_OPTIONS: &[&str] = &[
    "linkshare",
    "realtime",
    "upperlimit",
    "buckets",
    "hogs",
    "target",
    "interval",
    "quantum",
];

/// `altq = "altq" "on" interface { setting } ["queue" (name | "{" names "}")]`
/// `queue = "queue" name ["on" interface] { setting } ["{" names "}"]`
/// where a setting is a word with its argument, or `sched(options)`.
pub(super) fn queue(c: &mut Cur) -> Res<Queue> {
    let keyword = c.bump();
    // `oldqueue` is OpenBSD 5.5's name for the ALTQ `queue` while both existed.
    let kind = if keyword.text == "altq" {
        QueueKind::Altq
    } else {
        QueueKind::Queue
    };
    let mut queue = Queue {
        span: c.span(keyword.start, keyword.end),
        kind,
        name: None,
        interface: None,
        parent: None,
        children: Vec::new(),
        settings: Vec::new(),
    };
    if kind == QueueKind::Queue {
        queue.name = Some(c.string("a queue name after `queue`")?.text.to_string());
    }
    if c.eat("on") {
        let names: Vec<String> = rule::interfaces(c)?.into_iter().map(|i| i.name).collect();
        queue.interface = Some(names.join(" "));
    } else if kind == QueueKind::Altq {
        return Err(c.expected("`on` and an interface after `altq`"));
    }
    while !c.at_end() {
        let t = c.bump();
        match t.text.as_ref() {
            "queue" if kind == QueueKind::Altq => {
                queue.children = names(c, "a queue name after `queue`")?
            }
            "{" if t.kind == Kind::Punct => {
                queue.children = list_rest(c)?;
            }
            "parent" => {
                queue.parent = Some(c.string("a queue name after `parent`")?.text.to_string())
            }
            "cbq" | "priq" | "hfsc" | "fairq" | "codel" => {
                queue.settings.push(t.text.to_string());
                if c.eat("(") {
                    scheduler_options(c, &t.text, &mut queue.settings)?;
                }
            }
            "bandwidth" | "priority" | "qlimit" | "tbrsize" | "min" | "max" | "burst" | "flows"
            | "quantum" | "for" => {
                let v = c.string(&format!("a value after `{}`", t.text))?;
                queue.settings.push(format!("{} {}", t.text, v.text));
                // `min 10M burst 20M for 100ms`: the words that qualify a value.
            }
            "default" => queue.settings.push("default".to_string()),
            _ => {
                return Err(c.error_at(
                    &t,
                    ErrorKind::UnknownOption,
                    format!(
                        "expected a queue setting (bandwidth, priority, qlimit, a scheduler, `{{` child queues), found {}",
                        super::found(&t)
                    ),
                ));
            }
        }
    }
    queue.span = c.span_from(keyword.start);
    Ok(queue)
}

/// `sched_opts = "(" { option ["(" values ")"] } ")"`, the `(` taken.
fn scheduler_options(c: &mut Cur, scheduler: &str, out: &mut Vec<String>) -> Res<()> {
    let mut depth = 1usize;
    while depth > 0 {
        let t = c.bump();
        match t.kind {
            Kind::Newline | Kind::End => {
                return Err(c.error_at(
                    &t,
                    ErrorKind::UnexpectedEnd,
                    format!("`{scheduler}(` is not closed: add `)`"),
                ));
            }
            _ => {}
        }
        match t.text.as_ref() {
            "(" => depth += 1,
            ")" => depth -= 1,
            "," => {}
            w if depth == 1 && !SCHEDULER_OPTIONS.contains(&w) => {
                return Err(c.error_at(
                    &t,
                    ErrorKind::UnknownOption,
                    format!(
                        "unknown {scheduler} option `{w}`: expected one of {}",
                        SCHEDULER_OPTIONS.join(", ")
                    ),
                ));
            }
            w => {
                out.push(w.to_string());
                if depth == 1
                    && VALUED_OPTIONS.contains(&w)
                    && !c.peek().is("(")
                    && !c.peek().is(")")
                    && !c.at_end()
                {
                    out.push(c.bump().text.to_string());
                }
            }
        }
    }
    Ok(())
}

/// `names = name | "{" name { [","] name } "}"`
fn names(c: &mut Cur, what: &str) -> Res<Vec<String>> {
    if c.eat("{") {
        list_rest(c)
    } else {
        Ok(vec![c.string(what)?.text.to_string()])
    }
}

/// The names of a list after its `{`, to its `}`; newlines may split it.
fn list_rest(c: &mut Cur) -> Res<Vec<String>> {
    let mut out = Vec::new();
    loop {
        while c.peek().kind == Kind::Newline || c.peek().is(",") {
            c.bump();
        }
        if c.eat("}") {
            if out.is_empty() {
                return Err(c.expected("a name in the list"));
            }
            return Ok(out);
        }
        out.push(c.string("a name or `}` in the list")?.text.to_string());
    }
}

/// `anchor = ("anchor" | "nat-anchor" | "rdr-anchor" | "binat-anchor" |
/// "scrub-anchor" | "dummynet-anchor") [name] head options ["{" "\n" ruleset "}"]`
fn anchor(st: &mut State, c: &mut Cur, out: &mut PfRuleset) -> Res<Anchor> {
    c.option_at.clear();
    let keyword = c.bump();
    let kind = match keyword.text.as_ref() {
        "nat-anchor" => AnchorKind::Nat,
        "rdr-anchor" => AnchorKind::Rdr,
        "binat-anchor" => AnchorKind::Binat,
        "scrub-anchor" => AnchorKind::Scrub,
        "dummynet-anchor" => AnchorKind::Dummynet,
        _ => AnchorKind::Filter,
    };
    let section = match kind {
        AnchorKind::Nat | AnchorKind::Rdr | AnchorKind::Binat => Section::Translation,
        AnchorKind::Scrub => Section::Normalization,
        _ => Section::Filter,
    };
    checks::order(st, c, &keyword, section)?;
    let next = c.peek();
    let named =
        next.kind == Kind::Str || (next.kind == Kind::Word && !rule::is_head_word(&next.text));
    let name = if named {
        Some(c.bump().text.to_string())
    } else {
        None
    };
    let head = rule::head(c, kind == AnchorKind::Filter)?;
    let options = if kind == AnchorKind::Filter {
        rule::options(c, crate::pf::ast::Action::Match)?
    } else {
        Vec::new()
    };
    checks::anchor(c, &keyword, kind, &head)?;
    let mut anchor = Anchor {
        span: c.span_from(keyword.start),
        kind,
        name,
        direction: head.direction,
        quick: head.quick,
        on: head.on,
        af: head.af,
        proto: head.proto,
        from: head.from,
        to: head.to,
        options,
        body: None,
    };
    if c.peek().is("{") {
        let open = c.bump();
        if kind != AnchorKind::Filter {
            return Err(c.error_at(
                &open,
                ErrorKind::Syntax,
                format!(
                    "`{}` takes no inline rules: only `anchor` does",
                    keyword.text
                ),
            ));
        }
        if c.depth >= MAX_DEPTH {
            return Err(c.error_at(
                &open,
                ErrorKind::InvalidValue,
                format!("anchors nested more than {MAX_DEPTH} deep"),
            ));
        }
        if anchor.name.as_deref().is_some_and(|n| n.contains('*')) {
            return Err(c.error_at(
                &open,
                ErrorKind::Syntax,
                "an anchor with a wildcard name cannot have inline rules".to_string(),
            ));
        }
        if !c.at_end() {
            return Err(c.expected("a new line after `{` of the anchor"));
        }
        c.depth += 1;
        let mut body = Vec::new();
        ruleset(st, c, out, &mut body, true);
        c.depth -= 1;
        if !c.peek().is("}") {
            return Err(c.error_at(
                &open,
                ErrorKind::UnexpectedEnd,
                "the anchor's `{` is never closed: add `}`".to_string(),
            ));
        }
        let close = c.bump();
        anchor.span = c.span(keyword.start, close.end);
        anchor.body = Some(body);
    }
    Ok(anchor)
}

/// `load = "load" "anchor" name "from" string`: the file is read through
/// the loader into the anchor's own ruleset.
fn load_anchor(st: &mut State, c: &mut Cur) -> Res<LoadAnchor> {
    let keyword = c.bump();
    c.expect("anchor", "after `load`")?;
    let name = c.string("an anchor name after `load anchor`")?;
    c.expect("from", "after the anchor name")?;
    let file = c.string("a file name after `from`")?;
    c.end_of_statement("`load anchor` statement")?;
    let mut load = LoadAnchor {
        span: c.span(keyword.start, file.end),
        anchor: name.text.to_string(),
        file: file.text.to_string(),
        ruleset: None,
    };
    if c.depth >= MAX_DEPTH || st.included >= crate::nft::MAX_INCLUDES {
        return Err(c.error_at(&file, ErrorKind::BadReference, format!("more than {} loaded files or {MAX_DEPTH} levels of them (does an anchor load itself?)", crate::nft::MAX_INCLUDES)));
    }
    // A file that cannot be read is reported, and the anchor kept without
    // its rules: semantics must know a ruleset is missing there.
    let files = match (st.loader)(&c.path, &file.text) {
        Ok(files) => files,
        Err(why) => {
            let e = c.error_range(
                keyword.start,
                file.end,
                ErrorKind::BadReference,
                format!(
                    "cannot load anchor `{}` from \"{}\": {why}",
                    name.text, file.text
                ),
            );
            st.errors.push(e);
            return Ok(load);
        }
    };
    let mut ruleset = PfRuleset::default();
    // An anchor file has its own macros: pfctl reads it as a new ruleset.
    let outer = std::mem::take(&mut *st.macros.borrow_mut());
    for (path, text) in files {
        if let Some(why) = st.loop_through(&path) {
            st.errors
                .push(c.error_at(&file, ErrorKind::BadReference, why));
            continue;
        }
        st.included += 1;
        let index = st.add_source(path, text);
        st.file(index, &mut ruleset, c.depth + 1);
    }
    *st.macros.borrow_mut() = outer;
    load.ruleset = Some(ruleset);
    Ok(load)
}

/// `antispoof = "antispoof" ["log"] ["quick"] "for" interfaces [af] ["label" string]`
fn antispoof(c: &mut Cur) -> Res<Antispoof> {
    let keyword = c.bump();
    let (log, quick) = rule::log_quick(c)?;
    c.expect("for", "and the interfaces to guard after `antispoof`")?;
    let interfaces = rule::interfaces(c)?;
    let af = rule::af(c);
    let mut label = None;
    if c.eat("label") {
        label = Some(c.string("a label after `label`")?.text.to_string());
    }
    Ok(Antispoof {
        span: c.span_from(keyword.start),
        log,
        quick,
        interfaces,
        af,
        label,
    })
}

/// `ether = "ether" (pass | block | anchor ...) words`: layer 2 rules are
/// kept as words, since they do not filter IP.
fn ether(c: &mut Cur) -> Res<Item> {
    let keyword = c.bump();
    let action = c.string("`pass`, `block` or `anchor` after `ether`")?;
    if !matches!(action.text.as_ref(), "pass" | "block" | "match" | "anchor") {
        return Err(c.error_at(
            &action,
            ErrorKind::Syntax,
            format!(
                "expected `pass`, `block`, `match` or `anchor` after `ether`, found `{}`",
                action.text
            ),
        ));
    }
    let mut words = vec![action.text.to_string()];
    let mut depth = 0usize;
    while !c.at_end() || depth > 0 {
        let t = c.bump();
        match t.kind {
            Kind::End => {
                return Err(c.error_at(
                    &t,
                    ErrorKind::UnexpectedEnd,
                    "the ether rule's list is not closed".to_string(),
                ));
            }
            Kind::Bad => return Err(c.error_at(&t, ErrorKind::InvalidValue, t.text.to_string())),
            _ => {}
        }
        match t.text.as_ref() {
            "{" => depth += 1,
            "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
        words.push(t.text.to_string());
    }
    Ok(Item::Ether(Box::new(EtherRule {
        span: c.span_from(keyword.start),
        words,
    })))
}
