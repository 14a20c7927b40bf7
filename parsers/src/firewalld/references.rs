//! The references `firewall-offline-cmd --check-config` checks across
//! files, and what the files leave to the host (policies of unbound zones,
//! rich rules firewalld ignores, firewalld 2.0's zone priorities).

use super::config::{Addr, Elements, IcmpType, RichElement};
use super::{Reader, icmp};
use crate::error::ErrorKind;
use crate::model::{Skipped, Span};
use std::collections::BTreeMap;

impl Reader {
    /// The references `firewall-offline-cmd --check-config` checks: every
    /// service, ICMP type, ipset and zone named exists; an interface or a
    /// source is bound to one zone.
    pub(super) fn check(&mut self) {
        let mut problems: Vec<(Span, ErrorKind, String)> = Vec::new();
        let icmp_known = |name: &str, known: &BTreeMap<String, IcmpType>| {
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
}
