//! The generated text read with the nft reader, and every span pointed
//! back at what it came from: an XML element, or the step of firewalld's
//! wiring (a source of its own); direct.xml's iptables rules added.

use super::backend::{self, At, Origin, Side};
use super::{GENERATED, Read, Reader, direct};
use crate::Parsed;
use crate::error::ParseError;
use crate::model::{Action, Match, Rule, Ruleset, Skipped, Source, Span};

impl Reader {
    /// Parses the generated text and points every span back at its origin.
    pub(super) fn finish(self, generated: backend::Generated, rpfilter: Option<Span>) -> Read {
        let Reader {
            mut sources,
            mut errors,
            mut skipped,
            direct,
            ..
        } = self;
        let parsed = crate::nft::parse(GENERATED, &generated.text);
        // Step sources: each step's lines, in order.
        let mut step_files: Vec<(&'static str, u32)> = Vec::new();
        let mut step_texts: Vec<String> = Vec::new();
        // generated line (1-based) -> span in a step source
        let mut step_spans: Vec<Option<Span>> = vec![None; generated.lines.len() + 1];
        for (i, (origin, line)) in generated
            .lines
            .iter()
            .zip(generated.text.lines())
            .enumerate()
        {
            let Some(Origin {
                at: At::Step(step), ..
            }) = origin
            else {
                continue;
            };
            let slot = match step_files.iter().position(|(s, _)| s == step) {
                Some(p) => p,
                None => {
                    let file = u32::try_from(sources.len() + step_files.len()).unwrap_or(u32::MAX);
                    step_files.push((step, file));
                    step_texts.push(String::new());
                    step_files.len() - 1
                }
            };
            let text = &mut step_texts[slot];
            let trimmed = line.trim();
            let start = u32::try_from(text.len()).unwrap_or(u32::MAX);
            text.push_str(trimmed);
            text.push('\n');
            let line_no = u32::try_from(text.lines().count()).unwrap_or(u32::MAX);
            if let Some(s) = step_spans.get_mut(i + 1) {
                *s = Some(Span {
                    file: step_files[slot].1,
                    line: line_no,
                    column: 1,
                    start,
                    end: start + u32::try_from(trimmed.len()).unwrap_or(0),
                });
            }
        }
        for ((step, _), text) in step_files.iter().zip(step_texts) {
            sources.push(Source {
                path: format!("firewalld (nftables backend: {step})"),
                text,
            });
        }
        let origin_of = |span: &Span| -> Option<&Origin> {
            if span.file != 0 {
                return None;
            }
            generated
                .lines
                .get((span.line as usize).checked_sub(1)?)?
                .as_ref()
        };
        let map = |span: Span| -> Span {
            if span.file != 0 {
                return span;
            }
            match origin_of(&span).map(|o| &o.at) {
                Some(At::Config(s)) => *s,
                Some(At::Step(_)) => step_spans
                    .get(span.line as usize)
                    .copied()
                    .flatten()
                    .unwrap_or(span),
                None => span,
            }
        };
        let line_text = |span: &Span| -> &str {
            generated
                .text
                .lines()
                .nth((span.line as usize).saturating_sub(1))
                .unwrap_or("")
                .trim()
        };
        let mut ruleset: Ruleset = parsed.ruleset;
        errors.extend(parsed.errors);
        let mut rpfilter_noted = false;
        for table in &mut ruleset.tables {
            for chain in &mut table.chains {
                let mut kept = Vec::with_capacity(chain.rules.len());
                for mut rule in std::mem::take(&mut chain.rules) {
                    let text = line_text(&rule.span);
                    if text.contains(" fib saddr ") {
                        if !rpfilter_noted {
                            rpfilter_noted = true;
                            skipped.push(Skipped {
                                span: rpfilter.unwrap_or(map(rule.span)),
                                what: RPFILTER_NOTE.to_string(),
                            });
                        }
                        continue;
                    }
                    if let Some(unknown) = origin_of(&rule.span).and_then(|o| o.unknown.clone()) {
                        match unknown.side {
                            Some(Side::Source) => rule.matches.retain(|m| {
                                !matches!(m, Match::Source { .. } | Match::SourceRange { .. })
                            }),
                            Some(Side::Destination) => rule.matches.retain(|m| {
                                !matches!(
                                    m,
                                    Match::Destination { .. } | Match::DestinationRange { .. }
                                )
                            }),
                            None => {}
                        }
                        rule.matches.push(Match::Unknown { text: unknown.text });
                    }
                    rule.span = map(rule.span);
                    kept.push(rule);
                }
                chain.rules = kept;
                chain.span = map(chain.span);
            }
            table.span = map(table.span);
        }
        // Zones the host may bind interfaces to at run time: before the
        // default zone's catch-all.
        for (chain, target, span, text) in &generated.runtime_dispatch {
            for table in &mut ruleset.tables {
                if table.chain(target).is_none() {
                    continue;
                }
                let Some(c) = table.chains.iter_mut().find(|c| &c.name == chain) else {
                    continue;
                };
                let index = c
                    .rules
                    .iter()
                    .position(|r| r.matches.is_empty() && matches!(r.action, Action::Goto { .. }))
                    .unwrap_or(c.rules.len());
                c.rules.insert(
                    index,
                    Rule {
                        span: *span,
                        matches: vec![Match::Unknown { text: text.clone() }],
                        action: Action::Goto {
                            chain: target.clone(),
                        },
                    },
                );
            }
        }
        for s in &mut skipped {
            s.span = map(s.span);
        }
        // The nft reader takes the `fib` rule's reverse-path check to pass
        // and notes it at the generated line (and leaves the rule out, so
        // the loop above does not meet it): the note is firewalld's
        // setting, said once, at its line in firewalld.conf.
        if let Some(at) = ruleset
            .skipped
            .iter()
            .find(|s| s.what.contains("reverse-path check"))
            .map(|s| s.span)
        {
            ruleset
                .skipped
                .retain(|s| !s.what.contains("reverse-path check"));
            if !rpfilter_noted {
                skipped.push(Skipped {
                    span: rpfilter.unwrap_or(map(at)),
                    what: RPFILTER_NOTE.to_string(),
                });
            }
        }
        ruleset.skipped.extend(skipped);
        if let Some(first) = sources.first_mut() {
            first.text = generated.text.clone();
        }
        ruleset.sources = sources;
        if let Some(d) = &direct {
            ruleset = direct_rules(d, ruleset, &mut errors);
        }
        errors.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        Read {
            parsed: Parsed { ruleset, errors },
            nft: generated.programmed,
        }
    }
}

/// Adds direct.xml's iptables rules to `ruleset`, each pointing at its
/// `<rule>` element.
fn direct_rules(d: &direct::Direct, mut ruleset: Ruleset, errors: &mut Vec<ParseError>) -> Ruleset {
    for family in [crate::model::Family::Ipv4, crate::model::Family::Ipv6] {
        let Some((text, lines)) = direct::restore_text(d, family) else {
            continue;
        };
        let tool = match family {
            crate::model::Family::Ipv4 => "iptables",
            crate::model::Family::Ipv6 => "ip6tables",
        };
        let path = format!("firewalld (direct rules, {tool}-restore)");
        let file = u32::try_from(ruleset.sources.len()).unwrap_or(u32::MAX);
        let parsed = crate::iptables::parse_noflush(&path, &text, family, ruleset);
        ruleset = parsed.ruleset;
        let xml_of = |line: u32| -> Option<Span> {
            lines
                .get((line as usize).checked_sub(1)?)
                .copied()
                .flatten()
        };
        for table in &mut ruleset.tables {
            for chain in &mut table.chains {
                for rule in &mut chain.rules {
                    if rule.span.file == file
                        && let Some(span) = xml_of(rule.span.line)
                    {
                        rule.span = span;
                    }
                }
            }
        }
        for mut e in parsed.errors {
            if e.path == path
                && let Some(span) = xml_of(e.line)
            {
                e.path = ruleset
                    .sources
                    .get(span.file as usize)
                    .map(|s| s.path.clone())
                    .unwrap_or_default();
                e.line = span.line;
                e.column = span.column;
                e.start = span.start;
                e.end = span.end;
                e.message = format!("in a direct rule: {}", e.message);
            }
            errors.push(e);
        }
    }
    ruleset
}

/// What `IPv6_rpfilter` does, and what results assume of it.
const RPFILTER_NOTE: &str = "IPv6_rpfilter: firewalld drops IPv6 packets whose source would not be \
                             routed back out of the interface they came in on; results assume the \
                             host's routes send replies that way";
