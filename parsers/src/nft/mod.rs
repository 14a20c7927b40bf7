//! nftables: the nft language (`nft list ruleset` output and hand-written
//! `/etc/nftables.conf`) and `nft -j list ruleset` JSON, both read into one
//! syntax tree ([`ast`]) and lowered to the model by one function.

pub mod ast;
mod json;
mod lexer;
mod lower;
mod parser;
mod vocab;

use crate::model::{Family, Ruleset, Source, Span};
use crate::{ErrorKind, ParseError, Parsed};

/// Reads `nft -j list ruleset` output.
pub fn parse_json(path: &str, text: &str) -> Parsed {
    let mut errors = Vec::new();
    let mut dormant = Vec::new();
    let tables = json::read(text, &mut errors, &mut dormant);
    // The reader sees one text and no path.
    for e in &mut errors {
        e.path = path.to_string();
    }
    build_active(
        vec![Source {
            path: path.to_string(),
            text: text.to_string(),
        }],
        tables,
        errors,
        &dormant,
    )
}

/// [`build`], with dormant tables reported rather than evaluated.
fn build_active(
    sources: Vec<Source>,
    tables: Vec<ast::Table>,
    errors: Vec<ParseError>,
    dormant: &[(ast::TableFamily, String)],
) -> Parsed {
    // A dormant table filters nothing: it is reported, not evaluated.
    let (dormant, tables): (Vec<ast::Table>, Vec<ast::Table>) = tables
        .into_iter()
        .partition(|t| dormant.contains(&(t.family, t.name.clone())));
    let mut parsed = build(sources, tables, errors);
    for t in dormant {
        parsed.ruleset.skipped.push(crate::model::Skipped {
            span: t.span,
            what: format!(
                "table {} {} is dormant: its chains are not attached, so it filters nothing",
                t.family.name(),
                t.name
            ),
        });
    }
    parsed
}

/// Lowers the tables and assembles the ruleset. An nftables ruleset is the
/// whole of the host's filtering: a family without tables is not filtered
/// at all (everything passes), so both families are always covered.
fn build(sources: Vec<Source>, mut tables: Vec<ast::Table>, mut errors: Vec<ParseError>) -> Parsed {
    let lowered = lower::lower(&mut tables);
    for (span, message) in lowered.errors {
        errors.push(error_at(&sources, span, ErrorKind::InvalidValue, message));
    }
    let ruleset = Ruleset {
        sources,
        families: vec![Family::Ipv4, Family::Ipv6],
        tables: lowered.tables,
        skipped: lowered.skipped,
    };
    errors.extend(crate::jumps::problems(
        &ruleset,
        Some(crate::jumps::NFT_JUMP_STACK),
    ));
    errors.sort_by_key(|e| (e.path.clone(), e.line, e.column));
    crate::error::say_once(&mut errors);
    for e in &mut errors {
        e.message = crate::error::shorten(std::mem::take(&mut e.message));
    }
    Parsed { ruleset, errors }
}

pub(crate) fn error_at(
    sources: &[Source],
    span: Span,
    kind: ErrorKind,
    message: String,
) -> ParseError {
    let path = sources
        .get(span.file as usize)
        .map(|s| s.path.clone())
        .unwrap_or_default();
    ParseError {
        kind,
        path,
        line: span.line,
        column: span.column,
        start: span.start,
        end: span.end,
        message,
    }
}

/// Reads included files: given the including file's path and the pattern
/// of an `include`, the files it names (path and text), in order.
pub type IncludeLoader<'a> = dyn Fn(&str, &str) -> Result<Vec<(String, String)>, String> + 'a;

/// How many files one ruleset may include, so a file that includes itself ends.
pub(crate) const MAX_INCLUDES: usize = 256;

/// What one `include` statement names: the including file, the offset of
/// its pattern, and the files read (indices into the sources) or why not.
pub(crate) struct Include {
    pub file: u32,
    pub offset: u32,
    pub files: Result<Vec<usize>, String>,
}

/// Reads every file the top file includes, transitively, before parsing,
/// so the parser's tokens can borrow all the texts.
fn load_includes(sources: &mut Vec<Source>, loader: &IncludeLoader) -> Vec<Include> {
    let mut includes = Vec::new();
    let mut next = 0;
    while next < sources.len() {
        // `include "pattern"` at the start of a statement.
        // Most files include nothing: do not read them twice for it.
        let maybe = sources[next].text.contains("include");
        let found: Vec<(u32, String)> =
            match lexer::tokens(if maybe { &sources[next].text } else { "" }, next as u32) {
                Err(_) => Vec::new(),
                Ok(toks) => toks
                    .windows(2)
                    .enumerate()
                    .filter(|(i, w)| {
                        w[0].kind == lexer::Kind::Word
                            && w[0].text == "include"
                            && w[1].kind == lexer::Kind::Str
                            && (*i == 0
                                || toks[i - 1].kind == lexer::Kind::Newline
                                || toks[i - 1].text == ";"
                                || toks[i - 1].text == "{")
                    })
                    .map(|(_, w)| (w[1].start, w[1].text.to_string()))
                    .collect(),
            };
        let including = sources[next].path.clone();
        for (offset, pattern) in found {
            let files = if sources.len() > MAX_INCLUDES {
                Err(format!(
                    "more than {MAX_INCLUDES} included files (does a file include itself?)"
                ))
            } else {
                loader(&including, &pattern).map(|list| {
                    list.into_iter()
                        .map(|(path, text)| {
                            sources.push(Source { path, text });
                            sources.len() - 1
                        })
                        .collect()
                })
            };
            includes.push(Include {
                file: next as u32,
                offset,
                files,
            });
        }
        next += 1;
    }
    includes
}

/// Reads the nft language; `include` statements are followed through `loader`.
pub fn parse_with(path: &str, text: &str, loader: &IncludeLoader) -> Parsed {
    read(path, text, loader, true)
}

/// [`parse`] without the fast way for plain rules, to compare with.
#[cfg(test)]
pub(crate) fn parse_general(path: &str, text: &str) -> Parsed {
    read(
        path,
        text,
        &|_: &str, pattern: &str| {
            Err(format!(
                "cannot read included file `{pattern}`: no files are available here"
            ))
        },
        false,
    )
}

fn read(path: &str, text: &str, loader: &IncludeLoader, fast: bool) -> Parsed {
    let mut sources = vec![Source {
        path: path.to_string(),
        text: text.to_string(),
    }];
    let includes = load_includes(&mut sources, loader);
    let mut p = parser::Parser::new(&sources, &includes);
    p.fast = fast;
    p.parse();
    let (tables, errors, dormant) = (
        std::mem::take(&mut p.tables),
        std::mem::take(&mut p.errors),
        std::mem::take(&mut p.dormant),
    );
    drop(p);
    // A dormant table filters nothing: it is reported, not evaluated.
    let (asleep, tables): (Vec<ast::Table>, Vec<ast::Table>) = tables
        .into_iter()
        .partition(|t| dormant.contains(&(t.family, t.name.clone())));
    let mut parsed = build(sources, tables, errors);
    for t in asleep {
        parsed.ruleset.skipped.push(crate::model::Skipped {
            span: t.span,
            what: format!(
                "table {} {} is dormant: its chains are not attached, so it filters nothing",
                t.family.name(),
                t.name
            ),
        });
    }
    parsed
}

/// Reads the nft language with no include files available.
pub fn parse(path: &str, text: &str) -> Parsed {
    parse_with(path, text, &|_: &str, pattern: &str| {
        Err(format!(
            "cannot read included file `{pattern}`: no files are available here"
        ))
    })
}
