//! firewalld: a configuration directory read the way firewalld applies it.
//!
//! firewalld's XML files (zones, services, policies, ipsets) say what is
//! allowed, but the rules the kernel holds are what firewalld's nftables
//! backend builds from them: base chains, dispatch by source and interface
//! to one zone, a chain per zone and policy with sub-chains ordered by
//! rich-rule priority, the zone's target at the end. [`read`] builds that
//! ruleset as nft text (`backend`), reads it with the nft reader, so its
//! meaning is exactly the nft semantics already checked against the
//! kernel, and then points every rule back at the XML element it came
//! from. firewalld's own wiring is in none of the files: each step is a
//! source of its own, named `firewalld (nftables backend: <step>)`.
//!
//! What the files do not decide is said, not guessed: interfaces the host
//! binds to a zone at run time, ipsets filled at run time and direct rules
//! make results indeterminate or are reported as not evaluated.

mod backend;
mod conf;
mod config;
mod direct;
mod icmp;
mod read;
mod schema;
mod stock;
#[cfg(test)]
mod tests;
mod xml;

pub use config::{Conf, Policy, Service, Zone};

use crate::Parsed;
use crate::error::{ErrorKind, ParseError};
use crate::model::{Action, Match, Rule, Ruleset, Skipped, Source, Span};
use backend::{At, Origin, Side};
use config::{Addr, Elements, Ipset, RichElement};
use std::collections::BTreeMap;

/// A file as found: the path to show and its text.
pub type FileText = (String, String);

/// One firewalld configuration folder's files, as firewalld reads them.
#[derive(Debug, Clone, Default)]
pub struct Folder {
    /// The folder, to name what is absent.
    pub dir: String,
    /// `firewalld.conf`.
    pub conf: Option<FileText>,
    pub zones: Vec<FileText>,
    pub services: Vec<FileText>,
    pub policies: Vec<FileText>,
    pub ipsets: Vec<FileText>,
    pub icmptypes: Vec<FileText>,
    pub helpers: Vec<FileText>,
    /// `direct.xml`.
    pub direct: Option<FileText>,
}

/// The user's folder (`/etc/firewalld`) and the stock definitions
/// (`/usr/lib/firewalld`), or `None` to use the built-in table of stock
/// zones and services.
#[derive(Debug, Clone, Default)]
pub struct Files {
    pub user: Folder,
    pub stock: Option<Folder>,
}

/// A configuration read: the ruleset firewalld would program (with every
/// error on the way) and the nft text it was read from.
#[derive(Debug, Clone)]
pub struct Read {
    pub parsed: Parsed,
    /// The `table inet firewalld` firewalld's nftables backend programs for
    /// these files, as `nft list table inet firewalld` would print it
    /// (rule for rule; handles, counters and conntrack helpers aside). The
    /// ruleset read has more: the chains of zones only the host can bind,
    /// and the unknown dispatch to them.
    pub nft: String,
}

/// The name of the generated nft text among the sources.
pub const GENERATED: &str = "firewalld (nftables backend: generated ruleset)";

/// Reads a firewalld configuration into the ruleset its nftables backend
/// programs.
pub fn read(files: &Files) -> Read {
    let mut r = Reader {
        // Index 0 is the generated text, filled in at the end.
        sources: vec![Source {
            path: GENERATED.to_string(),
            text: String::new(),
        }],
        errors: Vec::new(),
        skipped: Vec::new(),
        zones: BTreeMap::new(),
        services: BTreeMap::new(),
        policies: BTreeMap::new(),
        ipsets: BTreeMap::new(),
        icmptypes: BTreeMap::new(),
        direct: None,
    };
    match &files.stock {
        Some(stock) => r.folder(stock, false),
        None => r.builtin(),
    }
    r.folder(&files.user, true);
    let conf_file = files
        .user
        .conf
        .as_ref()
        .or(files.stock.as_ref().and_then(|s| s.conf.as_ref()));
    let conf_index = conf_file.map(|f| r.add_source(f));
    let conf = conf::read(
        conf_index
            .zip(conf_file)
            .map(|(i, (p, t))| (i, p.as_str(), t.as_str())),
        &mut r.errors,
    );
    r.check();
    if let Some(direct) = &files.user.direct {
        r.direct(direct);
    }
    if let Some(b) = &conf.backend
        && b.value == "iptables"
    {
        r.skipped.push(Skipped {
            span: b.span,
            what: "FirewallBackend=iptables: the rules are evaluated as the nftables backend \
                   builds them; the iptables backend orders some of them differently"
                .to_string(),
        });
    }
    if let Some(span) = conf.zone_drifting {
        r.skipped.push(Skipped {
            span,
            what: "AllowZoneDrifting=yes: the nftables backend of firewalld 1.x ignores it, \
                   a packet is handled by one zone only"
                .to_string(),
        });
    }

    let default_zone = if r.zones.contains_key(&conf.default_zone.value) {
        conf.default_zone.value.clone()
    } else {
        // firewalld logs an error, uses public and goes on
        // (`_start_check`); `--check-config` accepts the files.
        r.skipped.push(Skipped {
            span: conf.default_zone.span,
            what: format!(
                "default zone `{}` is not defined: firewalld uses public instead",
                conf.default_zone.value
            ),
        });
        "public".to_string()
    };
    let generated = backend::generate(&backend::Config {
        zones: &r.zones,
        policies: &r.policies,
        services: &r.services,
        ipsets: &r.ipsets,
        default_zone: &default_zone,
        ipv6_rpfilter: conf.ipv6_rpfilter,
        rfc3964_ipv4: conf.rfc3964_ipv4,
    });
    let rpfilter_span = conf.ipv6_rpfilter_span;
    r.finish(generated, rpfilter_span)
}

struct Reader {
    sources: Vec<Source>,
    errors: Vec<ParseError>,
    skipped: Vec<Skipped>,
    zones: BTreeMap<String, Zone>,
    services: BTreeMap<String, Service>,
    policies: BTreeMap<String, Policy>,
    ipsets: BTreeMap<String, Ipset>,
    icmptypes: BTreeMap<String, config::IcmpType>,
    direct: Option<direct::Direct>,
}

/// The object name firewalld takes from a file name: `zones/public.xml`
/// is zone `public`.
fn stem(path: &str) -> Option<&str> {
    let name = path.rsplit(['/', '\\']).next()?;
    name.strip_suffix(".xml")
}

impl Reader {
    fn add_source(&mut self, (path, text): &FileText) -> u32 {
        self.sources.push(Source {
            path: path.clone(),
            text: text.clone(),
        });
        u32::try_from(self.sources.len() - 1).unwrap_or(u32::MAX)
    }

    fn path(&self, file: u32) -> String {
        self.sources
            .get(file as usize)
            .map(|s| s.path.clone())
            .unwrap_or_default()
    }

    fn builtin(&mut self) {
        let file = u32::try_from(self.sources.len()).unwrap_or(u32::MAX);
        let (text, zones, services, policies) = stock::definitions(file);
        self.sources.push(Source {
            path: stock::SOURCE_NAME.to_string(),
            text,
        });
        for z in zones {
            self.zones.insert(z.name.clone(), z);
        }
        for s in services {
            self.services.insert(s.name.clone(), s);
        }
        for p in policies {
            self.policies.insert(p.name.clone(), p);
        }
    }

    /// Reads every XML file of a folder; a later object of the same name
    /// (the user's) replaces an earlier one (the stock one), as firewalld
    /// lets `/etc/firewalld` override `/usr/lib/firewalld`.
    fn folder(&mut self, folder: &Folder, user: bool) {
        type Kind = fn(&mut Reader, &xml::Doc, &str, bool);
        let kinds: [(&Vec<FileText>, Kind); 6] = [
            (&folder.icmptypes, |r, d, n, _| {
                if let Some(t) = read::icmptype(d, &mut r.errors) {
                    r.icmptypes.insert(n.to_string(), t);
                }
            }),
            (&folder.ipsets, |r, d, n, _| {
                if let Some(s) = read::ipset(d, n, &mut r.errors) {
                    r.ipsets.insert(n.to_string(), s);
                }
            }),
            (&folder.services, |r, d, n, _| {
                if let Err(e) = schema::check(d, schema::Kind::Service) {
                    r.errors.push(e);
                    return;
                }
                if let Some(s) = read::service(d, n, &mut r.errors) {
                    r.services.insert(n.to_string(), s);
                }
            }),
            (&folder.zones, |r, d, n, user| {
                if let Err(e) = schema::check(d, schema::Kind::Zone) {
                    r.errors.push(e);
                    return;
                }
                if let Some(z) = read::zone(d, n, user, &mut r.errors) {
                    r.zones.insert(n.to_string(), z);
                }
            }),
            (&folder.policies, |r, d, n, _| {
                if let Err(e) = schema::check(d, schema::Kind::Policy) {
                    r.errors.push(e);
                    return;
                }
                if let Some(p) = read::policy(d, n, &mut r.errors) {
                    r.policies.insert(n.to_string(), p);
                }
            }),
            (&folder.helpers, |r, d, _, _| read::helper(d, &mut r.errors)),
        ];
        for (files, kind) in kinds {
            for file in files {
                let index = self.add_source(file);
                let Some(name) = stem(&file.0) else {
                    self.errors.push(ParseError {
                        kind: ErrorKind::Syntax,
                        path: file.0.clone(),
                        line: 1,
                        column: 1,
                        start: 0,
                        end: 0,
                        message: "the file name does not end in .xml, firewalld does not read it"
                            .to_string(),
                    });
                    continue;
                };
                match xml::Doc::parse(index, &file.0, &file.1) {
                    Ok(doc) => kind(self, &doc, name, user),
                    Err(e) => self.errors.push(e),
                }
            }
        }
    }

    /// `direct.xml`: its rules go to iptables' own tables, in front of
    /// firewalld's (see `direct`).
    fn direct(&mut self, file: &FileText) {
        let index = self.add_source(file);
        let doc = match xml::Doc::parse(index, &file.0, &file.1) {
            Ok(doc) => doc,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        let mut d = direct::read(&doc, &mut self.errors);
        self.skipped.append(&mut d.skipped);
        self.direct = Some(d);
    }

    fn error_at(&mut self, span: Span, kind: ErrorKind, message: String) {
        self.errors.push(ParseError {
            kind,
            path: self.path(span.file),
            line: span.line,
            column: span.column,
            start: span.start,
            end: span.end,
            message,
        });
    }

    /// The references `firewall-offline-cmd --check-config` checks: every
    /// service, ICMP type, ipset and zone named exists; an interface or a
    /// source is bound to one zone.
    fn check(&mut self) {
        let mut problems: Vec<(Span, ErrorKind, String)> = Vec::new();
        let icmp_known = |name: &str, known: &BTreeMap<String, config::IcmpType>| {
            known.contains_key(name) || icmp::families(name) != (false, false)
        };
        let check_elements = |el: &Elements, problems: &mut Vec<(Span, ErrorKind, String)>| {
            for s in &el.services {
                if !self.services.contains_key(&s.value) {
                    problems.push((
                        s.span,
                        ErrorKind::BadReference,
                        format!(
                            "service `{}` is not defined (no services/{}.xml)",
                            s.value, s.value
                        ),
                    ));
                }
            }
            for b in &el.icmp_blocks {
                if !icmp_known(&b.value, &self.icmptypes) {
                    problems.push((
                        b.span,
                        ErrorKind::BadReference,
                        format!("ICMP type `{}` is not one firewalld knows", b.value),
                    ));
                } else if icmp::families(&b.value) == (false, false) {
                    // nftables.py's ICMP_TYPES_FRAGMENTS has no match for it:
                    // the backend refuses to apply the zone.
                    problems.push((
                        b.span,
                        ErrorKind::Unsupported,
                        format!(
                            "ICMP type `{}` is defined, but firewalld's nftables backend has no match for it and fails to apply the zone",
                            b.value
                        ),
                    ));
                }
            }
            for r in &el.rules {
                match &r.element {
                    Some(RichElement::Service(s)) if !self.services.contains_key(s) => problems
                        .push((
                            r.span,
                            ErrorKind::BadReference,
                            format!("rich rule names service `{s}`, which is not defined"),
                        )),
                    Some(RichElement::IcmpBlock(n)) | Some(RichElement::IcmpType(n))
                        if !icmp_known(n, &self.icmptypes) =>
                    {
                        problems.push((
                            r.span,
                            ErrorKind::BadReference,
                            format!(
                                "rich rule names ICMP type `{n}`, which firewalld does not know"
                            ),
                        ))
                    }
                    _ => {}
                }
                for (addr, _) in r.source.iter().chain(r.destination.iter()) {
                    if let Addr::Ipset(name) = addr
                        && !self.ipsets.contains_key(name)
                    {
                        problems.push((
                            r.span,
                            ErrorKind::BadReference,
                            format!("rich rule names ipset `{name}`, which is not defined"),
                        ));
                    }
                }
                if let (Some(RichElement::Service(s)), Some(_)) = (&r.element, &r.destination)
                    && self.services.get(s).is_some_and(|svc| {
                        svc.destination_v4.is_some() || svc.destination_v6.is_some()
                    })
                {
                    problems.push((
                        r.span,
                        ErrorKind::InvalidValue,
                        format!(
                            "service `{s}` has its own destination, which conflicts with the rule's"
                        ),
                    ));
                }
            }
        };
        let mut interfaces: BTreeMap<&str, &str> = BTreeMap::new();
        let mut sources: BTreeMap<String, &str> = BTreeMap::new();
        for z in self.zones.values() {
            check_elements(&z.elements, &mut problems);
            for i in &z.interfaces {
                if let Some(other) = interfaces.insert(&i.value, &z.name) {
                    problems.push((
                        i.span,
                        ErrorKind::BadReference,
                        format!(
                            "interface `{}` is bound to zones {other} and {}; firewalld allows one",
                            i.value, z.name
                        ),
                    ));
                }
            }
            for s in &z.sources {
                let key = format!("{:?}", s.value);
                if let Some(other) = sources.insert(key, &z.name) {
                    problems.push((
                        s.span,
                        ErrorKind::BadReference,
                        format!(
                            "this source is bound to zones {other} and {}; firewalld allows one",
                            z.name
                        ),
                    ));
                }
                if let Addr::Ipset(name) = &s.value
                    && !self.ipsets.contains_key(name)
                {
                    problems.push((
                        s.span,
                        ErrorKind::BadReference,
                        format!("source ipset `{name}` is not defined"),
                    ));
                }
            }
        }
        for p in self.policies.values() {
            check_elements(&p.elements, &mut problems);
            for (list, what) in [(&p.ingress, "ingress"), (&p.egress, "egress")] {
                for z in list {
                    if z.value != "ANY" && z.value != "HOST" && !self.zones.contains_key(&z.value) {
                        problems.push((
                            z.span,
                            ErrorKind::BadReference,
                            format!("{what} zone `{}` is not defined", z.value),
                        ));
                    }
                    if (z.value == "ANY" || z.value == "HOST") && list.len() > 1 {
                        problems.push((
                            z.span,
                            ErrorKind::InvalidValue,
                            format!(
                                "{what} zone {} cannot be combined with other zones",
                                z.value
                            ),
                        ));
                    }
                }
            }
            if p.ingress.is_empty() || p.egress.is_empty() {
                self.skipped.push(Skipped {
                    span: p.span,
                    what: format!(
                        "policy {} has no ingress or no egress zone: firewalld never applies it",
                        p.name
                    ),
                });
            }
            let host_both = p.ingress.iter().any(|z| z.value == "HOST")
                && p.egress.iter().any(|z| z.value == "HOST");
            if host_both {
                problems.push((
                    p.span,
                    ErrorKind::InvalidValue,
                    "a policy cannot have HOST as both ingress and egress zone".to_string(),
                ));
            }
        }
        for s in self.services.values() {
            for inc in &s.includes {
                if !self.services.contains_key(&inc.value) {
                    problems.push((
                        inc.span,
                        ErrorKind::BadReference,
                        format!("included service `{}` is not defined", inc.value),
                    ));
                }
            }
        }
        for (span, kind, message) in problems {
            self.error_at(span, kind, message);
        }
        let ignored: Vec<Skipped> = self
            .zones
            .values()
            .map(|z| &z.elements)
            .chain(self.policies.values().map(|p| &p.elements))
            .flat_map(|el| &el.ignored)
            .map(|i| Skipped {
                span: i.span,
                what: format!(
                    "firewalld ignores this rich rule with a warning: {}",
                    i.value
                ),
            })
            .collect();
        self.skipped.extend(ignored);
        // Policies whose zones have no binding in the files: firewalld
        // applies them only once the host binds something to the zones.
        let bound = |z: &str| {
            z == "ANY"
                || z == "HOST"
                || self
                    .zones
                    .get(z)
                    .is_some_and(|z| !z.interfaces.is_empty() || !z.sources.is_empty())
        };
        let mut notes = Vec::new();
        for z in self.zones.values() {
            if let Some(span) = z.priority {
                notes.push(Skipped {
                    span,
                    what: format!(
                        "zone {}: ingress-priority and egress-priority are firewalld 2.0's; \
                         dispatch here follows firewalld 1.3 (sources, then interfaces)",
                        z.name
                    ),
                });
            }
        }
        for p in self.policies.values() {
            if let Some(span) = p.disabled {
                notes.push(Skipped {
                    span,
                    what: format!(
                        "policy {} is disabled (<disable/>, firewalld 2.0; firewalld 1.3 refuses \
                         the element): it is not applied",
                        p.name
                    ),
                });
                continue;
            }
            if p.ingress.is_empty() || p.egress.is_empty() {
                continue;
            }
            let active = p.ingress.iter().any(|z| bound(&z.value))
                && p.egress.iter().any(|z| bound(&z.value));
            if !active {
                notes.push(Skipped {
                    span: p.span,
                    what: format!(
                        "policy {} is not active: its zones have no interface or source in the files; \
                         firewalld applies it once the host binds one at run time, so its rules are not evaluated",
                        p.name
                    ),
                });
            }
        }
        self.skipped.extend(notes);
    }

    /// Parses the generated text and points every span back at its origin.
    fn finish(self, generated: backend::Generated, rpfilter: Option<Span>) -> Read {
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
                                what: "IPv6_rpfilter: firewalld drops IPv6 packets whose source \
                                       would not be routed back out of the interface they came in \
                                       on; results assume the host's routes send replies that way"
                                    .to_string(),
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
