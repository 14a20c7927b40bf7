//! A YAML document as a tree of nodes that remember their line and column,
//! so validation can report every problem at once, each where it is.

use super::problem::PolicyCode;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A value and where it starts (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: u32,
    pub column: u32,
}

impl Node {
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a number",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar as text (numbers included), as a list item or key reads it.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v)
            .map(Value::Int)
            .unwrap_or(Value::Float(v as f64)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            out.push(n);
        }
        Ok(Value::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<Node>()? {
            let v = map.next_value::<Node>()?;
            out.push((k, v));
        }
        Ok(Value::Map(out))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<Value>::deserialize(d)?;
        Ok(Node {
            value: s.value,
            line: s.referenced.line() as u32,
            column: s.referenced.column() as u32,
        })
    }
}

/// A YAML syntax error with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub message: String,
    /// A key given twice is a problem of its own, not of the syntax.
    pub code: PolicyCode,
}

impl SyntaxError {
    /// The message as reports show it: a key given twice is valid YAML,
    /// and said as such; anything else is invalid YAML.
    pub fn display(&self) -> String {
        match self.code {
            PolicyCode::DuplicateKey => self.message.clone(),
            _ => format!("invalid YAML: {}", self.message),
        }
    }
}

/// The first YAML tag in `text` (`!!binary`, `!!float`, `!custom`), as
/// (line, column): a tag makes the reader decode a value another way
/// (base64, a float where a port was written), silently, so policies and
/// configurations take none. A tag is a `!` that begins a node: after the
/// indentation, `- `, `: `, `[`, `{` or `,`, outside quotes and comments.
fn first_tag(text: &str) -> Option<(u32, u32)> {
    for (n, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let (mut quote, mut prev_starts_node) = (None::<char>, true);
        for (i, &c) in chars.iter().enumerate() {
            match quote {
                Some(q) => {
                    if c == q {
                        quote = None;
                    }
                    continue;
                }
                None if c == '"' || c == '\'' => {
                    quote = Some(c);
                    prev_starts_node = false;
                    continue;
                }
                None => {}
            }
            if c == '#' && (i == 0 || chars[i - 1].is_whitespace()) {
                break;
            }
            if c == '!' && prev_starts_node {
                return Some((n as u32 + 1, i as u32 + 1));
            }
            prev_starts_node = match c {
                ' ' | '\t' => prev_starts_node || i == 0,
                '[' | '{' | ',' => true,
                '-' | ':' | '?' => chars.get(i + 1).is_none_or(|n| n.is_whitespace()),
                _ => false,
            };
        }
    }
    None
}

/// How deep a policy or configuration may nest. The reader recurses once
/// per level, and at the library's default (64) a fuzzed configuration of
/// brackets overflowed a 2 MiB thread stack in a debug build; no policy or
/// configuration nests past six.
const MAX_NESTING: usize = 24;

fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_NESTING;
    budget.flow_nesting_limit = MAX_NESTING;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    if let Some((line, column)) = first_tag(text) {
        return Err(SyntaxError {
            line,
            column,
            message:
                "a YAML tag (`!!binary`, `!!float`, ...) is not taken here: write the value itself"
                    .to_string(),
            code: PolicyCode::BadYaml,
        });
    }
    serde_saphyr::from_str_with_options::<Node>(text, options()).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((1, 1));
        let message = plain_message(e.to_string().lines().next().unwrap_or("invalid YAML"));
        let code = match e.without_snippet() {
            serde_saphyr::Error::DuplicateMappingKey { .. } => PolicyCode::DuplicateKey,
            _ => PolicyCode::BadYaml,
        };
        SyntaxError {
            line,
            column,
            message,
            code,
        }
    })
}

/// The YAML reader's message in the words of this tool: its place is
/// given apart, and its advice about its own options ("set
/// DuplicateKeyPolicy in Options") and its budget's internals mean nothing
/// to someone writing a policy.
fn plain_message(raw: &str) -> String {
    let mut m = raw.trim();
    // `error: line 2 column 1: ...`
    if let Some(rest) = m.strip_prefix("error: ")
        && rest.starts_with("line ")
        && let Some((_, after)) = rest.split_once(": ")
    {
        m = after;
    }
    if let Some(key) = m.strip_prefix("duplicate mapping key: ") {
        let key = key.split(", set ").next().unwrap_or(key);
        return format!("key `{key}` is given twice");
    }
    if m.contains("recursion limit exceeded")
        || m.contains("nesting depth")
        || (m.contains("budget breached") && m.contains("Depth"))
    {
        return format!(
            "nested deeper than {MAX_NESTING} levels, far more than a policy or configuration needs"
        );
    }
    if m.contains("budget breached") {
        return "the document expands to more nodes than a policy or configuration may hold \
                (aliases that repeat each other?)"
            .to_string();
    }
    m.to_string()
}

/// The entries of a mapping, each with its key node; unknown and repeated
/// keys go to `err` with their node, and the rest is still returned.
pub fn entries<'n>(
    n: &'n Node,
    known: &[&str],
    what: &str,
    err: &mut dyn FnMut(PolicyCode, &Node, String),
) -> Option<Vec<(&'n str, &'n Node, &'n Node)>> {
    let Value::Map(map) = &n.value else {
        err(
            PolicyCode::BadValue,
            n,
            format!("expected {what} (a mapping), found {}", n.kind()),
        );
        return None;
    };
    let mut out: Vec<(&str, &Node, &Node)> = Vec::new();
    for (k, v) in map {
        let Some(key) = k.as_str() else {
            err(
                PolicyCode::BadValue,
                k,
                format!("expected a key name, found {}", k.kind()),
            );
            continue;
        };
        if !known.contains(&key) {
            err(
                PolicyCode::UnknownKey,
                k,
                format!(
                    "unknown key `{key}` in {what}, expected one of: {}",
                    known.join(", ")
                ),
            );
            continue;
        }
        if out.iter().any(|(seen, _, _)| *seen == key) {
            err(
                PolicyCode::DuplicateKey,
                k,
                format!("key `{key}` is given twice"),
            );
            continue;
        }
        out.push((key, k, v));
    }
    Some(out)
}

/// The value of a key among [`entries`].
pub fn get<'n>(e: &[(&str, &'n Node, &'n Node)], key: &str) -> Option<&'n Node> {
    e.iter().find(|(k, _, _)| *k == key).map(|(_, _, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_where_they_are() {
        let n = parse("policy: x\nrequirements:\n  - id: a\n    ports: [80, 443-445]\n").unwrap();
        let Value::Map(top) = &n.value else {
            panic!("not a map")
        };
        assert_eq!(top[0].0.as_str(), Some("policy"));
        assert_eq!((top[0].0.line, top[0].0.column), (1, 1));
        let Value::Seq(reqs) = &top[1].1.value else {
            panic!("not a seq")
        };
        let Value::Map(r) = &reqs[0].value else {
            panic!("not a map")
        };
        assert_eq!((r[1].0.line, r[1].0.column), (4, 5));
        let Value::Seq(ports) = &r[1].1.value else {
            panic!("not a seq")
        };
        assert_eq!(ports[0].value, Value::Int(80));
        assert_eq!(ports[1].value, Value::Str("443-445".into()));
        assert_eq!((ports[1].line, ports[1].column), (4, 17));
    }

    /// Issue 18: the YAML library's internals leaked into messages.
    #[test]
    fn messages_say_nothing_of_the_yaml_library() {
        let e = parse("policy: p\npolicy: q\n").unwrap_err();
        assert_eq!(e.message, "key `policy` is given twice");
        assert_eq!((e.line, e.code), (2, PolicyCode::DuplicateKey));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let e = parse(&bomb).unwrap_err();
        assert!(
            e.message.starts_with("the document expands to more nodes"),
            "{e:?}"
        );
        assert!(!e.message.contains("Nodes {"), "{e:?}");
    }

    /// Issue 18: tags were honoured in silence (`!!binary` decoded).
    #[test]
    fn tags_are_refused_at_their_place() {
        for (text, at) in [
            ("id: !!binary aGVsbG8=\n", (1, 5)),
            ("ports: [80, !!float 23]\n", (1, 13)),
            ("a:\n  - !custom x\n", (2, 5)),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!((e.line, e.column), at, "{text}: {e:?}");
            assert!(e.message.contains("YAML tag"), "{e:?}");
        }
        // `!` inside a value, a quoted string or a comment is no tag.
        for text in [
            "title: \"!important\"\n",
            "title: wow!\n",
            "a: b # !!binary\n",
            "title: 'x' \n",
        ] {
            assert!(parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let e = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(e.line >= 1, "{e:?}");
    }
}
