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
//! direct.xml's rules are iptables rules in iptables' own tables, read with
//! the iptables reader (`direct`). What the files do not decide is said,
//! not guessed: interfaces the host binds to a zone at run time and ipsets
//! filled at run time make results indeterminate; passthroughs and
//! policies of unbound zones are reported as not evaluated.

mod backend;
mod conf;
mod config;
mod direct;
mod icmp;
mod read;
mod references;
mod remap;
mod schema;
mod stock;
#[cfg(test)]
mod tests;
mod xml;

pub use config::{Conf, Policy, Service, Zone};

use crate::Parsed;
use crate::error::{ErrorKind, ParseError};
use crate::model::{Skipped, Source, Span};
use config::Ipset;
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
}
