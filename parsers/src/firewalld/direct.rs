//! `direct.xml`: iptables rules firewalld passes to iptables itself.
//!
//! With the nftables backend, firewalld 1.3 puts a direct rule into the
//! chain it names, of iptables' own table (`fw_direct.py`: "if nftables is
//! in use, just put the direct rules in the chain specified by the user"),
//! ordered by the rule's priority, lowest first, and within a priority in
//! file order. Those tables hook at priority 0, before firewalld's
//! `inet firewalld` (+10): a drop there is final, an accept only ends that
//! chain. The reader builds the iptables-restore text of those chains and
//! reads it with the iptables reader, so the rules are evaluated exactly;
//! each rule points at its `<rule>` element. Passthroughs (raw iptables
//! commands, applied in an order firewalld does not keep) and ebtables
//! rules are reported as not evaluated.

use super::xml::{Doc, elements};
use crate::error::{ErrorKind, ParseError};
use crate::model::{Family, Skipped, Span};

/// One `<rule ipv= table= chain= priority=>ARGS</rule>`.
pub(crate) struct Rule {
    pub family: Family,
    pub table: String,
    pub chain: String,
    pub priority: i64,
    pub args: String,
    pub span: Span,
}

/// What direct.xml holds that can be evaluated, and what is reported.
#[derive(Default)]
pub(crate) struct Direct {
    /// `<chain>`: user chains, by family and table.
    pub chains: Vec<(Family, String, String)>,
    pub rules: Vec<Rule>,
    pub skipped: Vec<Skipped>,
}

const TABLES: [&str; 5] = ["filter", "nat", "mangle", "raw", "security"];

fn family(doc: &Doc, node: super::xml::Node) -> Result<Option<Family>, ParseError> {
    match doc.required(node, "ipv")? {
        "ipv4" => Ok(Some(Family::Ipv4)),
        "ipv6" => Ok(Some(Family::Ipv6)),
        "eb" => Ok(None),
        other => Err(doc.bad(
            node,
            "ipv",
            format!("ipv `{other}` is not ipv4, ipv6 or eb"),
        )),
    }
}

fn table(doc: &Doc, node: super::xml::Node) -> Result<String, ParseError> {
    let t = doc.required(node, "table")?;
    if TABLES.contains(&t) {
        Ok(t.to_string())
    } else {
        Err(doc.bad(
            node,
            "table",
            format!("table `{t}` is not one of filter, nat, mangle, raw, security"),
        ))
    }
}

/// Reads the direct configuration; an element firewalld refuses is an error.
pub(crate) fn read(doc: &Doc, errors: &mut Vec<ParseError>) -> Direct {
    let mut d = Direct::default();
    let root = doc.doc.root_element();
    if root.tag_name().name() != "direct" {
        errors.push(doc.error(
            doc.span(root),
            ErrorKind::Syntax,
            format!(
                "the root element is <{}>, expected <direct>",
                root.tag_name().name()
            ),
        ));
        return d;
    }
    for node in elements(root) {
        let span = doc.span(node);
        let result: Result<(), ParseError> = (|| match node.tag_name().name() {
            "chain" => {
                let fam = family(doc, node)?;
                let table = table(doc, node)?;
                let chain = doc.required(node, "chain")?;
                if let Some(f) = fam {
                    d.chains.push((f, table, chain.to_string()));
                }
                Ok(())
            }
            "rule" => {
                let fam = family(doc, node)?;
                let table = table(doc, node)?;
                let chain = doc.required(node, "chain")?.to_string();
                let prio = doc.required(node, "priority")?;
                let priority = prio.trim().parse::<i64>().map_err(|_| {
                    doc.bad(
                        node,
                        "priority",
                        format!("priority `{prio}` is not a number"),
                    )
                })?;
                let args = node.text().unwrap_or("").trim().to_string();
                match fam {
                    Some(family) => d.rules.push(Rule {
                        family,
                        table,
                        chain,
                        priority,
                        args,
                        span,
                    }),
                    None => d.skipped.push(Skipped {
                        span,
                        what: format!(
                            "direct ebtables rule `{args}`: bridge filtering is not evaluated"
                        ),
                    }),
                }
                Ok(())
            }
            "passthrough" => {
                family(doc, node)?;
                d.skipped.push(Skipped {
                    span,
                    what: format!(
                        "direct passthrough `{}`: a raw iptables command, applied in an order \
                         firewalld does not keep; not evaluated",
                        node.text().unwrap_or("").trim()
                    ),
                });
                Ok(())
            }
            other => Err(doc.error(
                span,
                ErrorKind::UnknownOption,
                format!("<{other}> is not an element of direct.xml"),
            )),
        })();
        if let Err(e) = result {
            errors.push(e);
        }
    }
    d
}

/// The iptables-restore text of one family's direct rules, and for each of
/// its lines the `<rule>` it came from.
pub(crate) fn restore_text(d: &Direct, family: Family) -> Option<(String, Vec<Option<Span>>)> {
    let mut rules: Vec<&Rule> = d.rules.iter().filter(|r| r.family == family).collect();
    if rules.is_empty() {
        return None;
    }
    // By priority, file order within one (a stable sort).
    rules.sort_by_key(|r| r.priority);
    let mut text = String::new();
    let mut lines: Vec<Option<Span>> = Vec::new();
    let mut push = |text: &mut String, line: String, span: Option<Span>| {
        text.push_str(&line);
        text.push('\n');
        lines.push(span);
    };
    for table in TABLES {
        let in_table: Vec<&&Rule> = rules.iter().filter(|r| r.table == table).collect();
        let chains: Vec<&String> = d
            .chains
            .iter()
            .filter(|(f, t, _)| *f == family && t == table)
            .map(|(_, _, c)| c)
            .collect();
        if in_table.is_empty() && chains.is_empty() {
            continue;
        }
        push(&mut text, format!("*{table}"), None);
        for c in chains {
            push(&mut text, format!(":{c} - [0:0]"), None);
        }
        for r in in_table {
            // One line per rule: a newline in the text would start another.
            let args = r.args.replace(['\n', '\r'], " ");
            push(&mut text, format!("-A {} {args}", r.chain), Some(r.span));
        }
        push(&mut text, "COMMIT".to_string(), None);
    }
    Some((text, lines))
}
