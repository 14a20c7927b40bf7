//! The elements and attributes firewalld 1.3's readers allow
//! (`PARSER_REQUIRED_ELEMENT_ATTRS` and `PARSER_OPTIONAL_ELEMENT_ATTRS` of
//! `io/zone.py`, `io/policy.py`, `io/service.py`): anything else stops the
//! reader, so firewalld refuses the file. firewalld 2.0's additions that a
//! newer `/usr/lib/firewalld` holds (`<disable/>` in a policy, a zone's
//! `ingress-priority` and `egress-priority`) are allowed and reported.

use super::xml::{Doc, Node};
use crate::error::{ErrorKind, ParseError};

/// (element, required attributes, optional attributes).
type Table = &'static [(
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
)];

/// What zones and policies share, rich rules included.
const COMMON: Table = &[
    ("short", &[], &[]),
    ("description", &[], &[]),
    ("service", &["name"], &[]),
    ("port", &["port", "protocol"], &[]),
    ("icmp-block", &["name"], &[]),
    ("icmp-type", &["name"], &[]),
    (
        "forward-port",
        &["port", "protocol"],
        &["to-port", "to-addr"],
    ),
    ("rule", &[], &["family", "priority"]),
    (
        "source",
        &[],
        &["address", "mac", "invert", "family", "ipset"],
    ),
    ("destination", &[], &["address", "invert", "ipset"]),
    ("protocol", &["value"], &[]),
    ("source-port", &["port", "protocol"], &[]),
    ("log", &[], &["prefix", "level"]),
    ("nflog", &[], &["group", "prefix", "queue-size"]),
    ("audit", &[], &[]),
    ("accept", &[], &[]),
    ("reject", &[], &["type"]),
    ("drop", &[], &[]),
    ("mark", &["set"], &[]),
    ("limit", &["value"], &[]),
    ("tcp-mss-clamp", &[], &["value"]),
];

const ZONE: Table = &[
    (
        "zone",
        &[],
        &[
            "name",
            "immutable",
            "target",
            "version",
            "ingress-priority",
            "egress-priority",
        ],
    ),
    ("forward", &[], &[]),
    ("interface", &["name"], &[]),
    ("masquerade", &[], &["enabled"]),
    ("icmp-block-inversion", &[], &[]),
];

const POLICY: Table = &[
    ("policy", &["target"], &["version", "priority"]),
    ("masquerade", &[], &[]),
    ("ingress-zone", &["name"], &[]),
    ("egress-zone", &["name"], &[]),
    ("disable", &[], &[]),
];

const SERVICE: Table = &[
    ("service", &[], &["name", "version"]),
    ("short", &[], &[]),
    ("description", &[], &[]),
    ("port", &[], &["port", "protocol"]),
    ("protocol", &[], &["value"]),
    ("module", &[], &["name"]),
    ("destination", &[], &["ipv4", "ipv6"]),
    ("source-port", &[], &["port", "protocol"]),
    ("include", &[], &["service"]),
    ("helper", &[], &["name"]),
];

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Zone,
    Policy,
    Service,
}

/// The first element or attribute of the file firewalld's reader stops at.
pub(crate) fn check(doc: &Doc, kind: Kind) -> Result<(), ParseError> {
    let tables: &[Table] = match kind {
        Kind::Zone => &[ZONE, COMMON],
        Kind::Policy => &[POLICY, COMMON],
        Kind::Service => &[SERVICE],
    };
    for node in doc
        .doc
        .root_element()
        .descendants()
        .filter(|n| n.is_element())
    {
        element(doc, node, tables)?;
    }
    Ok(())
}

fn element(doc: &Doc, node: Node, tables: &[Table]) -> Result<(), ParseError> {
    let name = node.tag_name().name();
    let Some((_, required, optional)) = tables
        .iter()
        .flat_map(|t| t.iter())
        .find(|(n, _, _)| *n == name)
    else {
        return Err(doc.error(
            doc.span(node),
            ErrorKind::UnknownOption,
            format!("<{name}> is not an element firewalld knows here; firewalld refuses the file"),
        ));
    };
    for r in *required {
        if node.attribute(*r).is_none() {
            return Err(doc.error(
                doc.span(node),
                ErrorKind::MissingArgument,
                format!("<{name}> lacks its `{r}` attribute, which firewalld requires"),
            ));
        }
    }
    for a in node.attributes() {
        let n = a.name();
        if !required.contains(&n) && !optional.contains(&n) {
            return Err(doc.error(
                doc.attr_span(node, n),
                ErrorKind::UnknownOption,
                format!(
                    "<{name}> has no attribute `{n}` firewalld knows; firewalld refuses the file"
                ),
            ));
        }
    }
    Ok(())
}
