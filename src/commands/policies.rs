//! `driftwall policies`: the shipped policies and the Apple port catalog.

use super::ExitCode;
use crate::policy::catalog::{Catalog, Row};
use crate::policy::{self, Expect, Policy, PolicyError};
use crate::report::{self, Format};
use serde::Serialize;

/// How `policies list` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
    Markdown,
}

/// An invalid shipped or named policy: every problem, quoted.
fn invalid(errs: &[PolicyError], source: &str) -> ExitCode {
    for e in errs {
        report::emit_err(&report::human::policy_error(e, Some(source)));
    }
    ExitCode::Error
}

/// `policies list`: the shipped policies.
pub fn run_list(format: ListFormat) -> anyhow::Result<ExitCode> {
    let all = match shipped() {
        Ok(all) => all,
        Err(errs) => return Ok(invalid(&errs, "")),
    };
    let text = match format {
        ListFormat::Human => list_human(&list(&all)),
        ListFormat::Json => report::json::value(&list(&all)),
        ListFormat::Markdown => markdown(&all),
    };
    report::emit(&text)?;
    Ok(ExitCode::Clean)
}

/// `policies show NAME`: a policy's requirements.
pub fn run_show(name: String, format: Format) -> anyhow::Result<ExitCode> {
    // A shipped name may be given without its prefix.
    let spec = if !name.contains(':') && policy::shipped::apple(&name).is_some() {
        format!("apple:{name}")
    } else {
        name
    };
    let (shown, text) = policy::read(&spec)?;
    let p = match policy::load_str_for(&shown, &text, None) {
        Ok(p) => p,
        Err(errs) => return Ok(invalid(&errs, &text)),
    };
    let out = match format {
        Format::Human => show_human(&p),
        Format::Json => report::json::value(&p),
    };
    report::emit(&out)?;
    Ok(ExitCode::Clean)
}

/// `policies catalog`: every row of Apple's table.
pub fn run_catalog(format: Format) -> anyhow::Result<ExitCode> {
    let c = Catalog::apple()?;
    let out = match format {
        Format::Human => catalog_human(c),
        Format::Json => report::json::value(&c.rows),
    };
    report::emit(&out)?;
    Ok(ExitCode::Clean)
}

/// One line of `policies list`.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub name: String,
    pub title: Option<String>,
    pub requirements: usize,
    pub products: Vec<String>,
}

/// Every shipped policy, validated without a role.
pub fn shipped() -> Result<Vec<Policy>, Vec<PolicyError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in policy::shipped::APPLE {
        match policy::load_str_for(&format!("apple:{name}"), text, None) {
            Ok(p) => out.push(p),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

pub fn list(policies: &[Policy]) -> Vec<Listed> {
    policies
        .iter()
        .map(|p| Listed {
            name: p.place.path.clone(),
            title: p.title.clone(),
            requirements: p.requirements.len(),
            products: p.products.clone(),
        })
        .collect()
}

/// Columns padded to their widest cell, for terminals.
fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let n = cells.len();
        let mut s = String::new();
        for (i, (c, w)) in cells.into_iter().zip(&width).enumerate() {
            s.push_str(&c);
            if i + 1 < n {
                s.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(head.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

pub fn list_human(items: &[Listed]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|l| {
            vec![
                l.name.clone(),
                l.requirements.to_string(),
                l.title.clone().unwrap_or_default(),
                l.products.join(", "),
            ]
        })
        .collect();
    table(&["NAME", "REQS", "TITLE", "PRODUCTS"], &rows)
}

fn expect_word(e: Expect) -> &'static str {
    match e {
        Expect::Allow => "allow",
        Expect::Deny => "deny",
    }
}

/// The table of profiles for the documentation, one line per requirement.
pub fn markdown(policies: &[Policy]) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from(
        "| policy | requirement | expect | direction | protocols | ports | products |\n|---|---|---|---|---|---|---|\n",
    );
    for p in policies {
        for r in &p.requirements {
            let dirs: Vec<&str> = r.direction.iter().map(|d| d.name()).collect();
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} | {} |\n",
                p.place.path,
                cell(&r.id),
                expect_word(r.expect),
                dirs.join(", "),
                r.protocol_names().join(", "),
                r.ports_text().replace(',', ", "),
                cell(&if r.used_by.is_empty() {
                    p.products.join(", ")
                } else {
                    r.used_by.join(", ")
                })
            ));
        }
    }
    out
}

pub fn show_human(p: &Policy) -> String {
    let mut out = p.place.path.to_string();
    if let Some(t) = &p.title {
        out.push_str(&format!(": {t}"));
    }
    out.push('\n');
    if !p.products.is_empty() {
        out.push_str(&format!("products: {}\n", p.products.join(", ")));
    }
    if let Some(d) = &p.description {
        out.push_str(&format!("\n{}\n", wrap(d.trim(), 78, "")));
    }
    for r in &p.requirements {
        out.push_str(&format!("\n{}:{}  {}", r.place.line, r.place.column, r.id));
        if let Some(t) = &r.title {
            out.push_str(&format!(": {t}"));
        }
        out.push('\n');
        for d in &r.direction {
            out.push_str(&format!(
                "    {} {} {}, {} ({})\n",
                expect_word(r.expect),
                r.protocol_names().join("+"),
                r.ports_text(),
                d.name(),
                d.meaning()
            ));
        }
        if !r.used_by.is_empty() {
            out.push_str(&format!("    used by: {}\n", r.used_by.join(", ")));
        }
        for c in &r.catalog {
            out.push_str(&format!("    Apple's table [{}]: {}\n", c.id, c.text));
        }
        if let Some(d) = &r.description {
            out.push_str(&wrap(d.trim(), 74, "    "));
            out.push('\n');
        }
    }
    out
}

fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for w in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > width {
            lines.push(format!("{indent}{cur}"));
            cur.clear();
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        lines.push(format!("{indent}{cur}"));
    }
    lines.join("\n")
}

pub fn catalog_human(c: &Catalog) -> String {
    let mut out = format!(
        "{} ({}; {} edition, \"{}\"): {} rows\n\n",
        c.source.title,
        c.source.publisher,
        c.source.edition,
        c.source.original_title,
        c.rows.len()
    );
    let rows: Vec<Vec<String>> = c
        .rows
        .iter()
        .map(|r: &Row| {
            vec![
                r.id.clone(),
                r.ports_text(),
                r.protocols_text(),
                r.iana_name.clone().unwrap_or_default(),
                r.service.clone(),
                r.used_by.join(", "),
            ]
        })
        .collect();
    out.push_str(&table(
        &["ID", "PORTS", "PROTO", "IANA", "SERVICE", "USED BY"],
        &rows,
    ));
    out
}
