//! The Apple port catalog: every row of Apple's article "TCP and UDP ports
//! used by Apple software products", as data (policies/apple/catalog.yaml).
//!
//! Profiles name rows instead of repeating ports, so a failure can say which
//! row of Apple's table a port comes from and which products use it.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Where the catalog comes from.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub original_title: String,
    pub publisher: String,
    pub edition: String,
    pub language: String,
    pub document: String,
}

/// An inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    pub fn text(&self) -> String {
        if self.start == self.end {
            self.start.to_string()
        } else {
            format!("{}-{}", self.start, self.end)
        }
    }
}

/// A port as the catalog writes it: a number, or a range "a-b".
#[derive(Deserialize)]
#[serde(untagged)]
enum PortText {
    Number(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let text = match PortText::deserialize(d)? {
            PortText::Number(n) => n.to_string(),
            PortText::Text(s) => s,
        };
        parse_port_range(&text)
            .map(|(start, end)| PortRange { start, end })
            .map_err(D::Error::custom)
    }
}

/// Why a port or port range is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PortError {
    #[error("`{0}` is not a port number")]
    NotANumber(String),
    #[error("port {0} is out of range, expected 1-65535")]
    OutOfRange(u32),
    #[error("port range {0} is reversed, expected start <= end")]
    Reversed(String),
}

/// Why a port catalog cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// Not YAML of the catalog's shape; the location is in the message.
    #[error("{0}")]
    Format(String),
    #[error("row id `{0}` is given twice")]
    DuplicateRow(String),
    #[error("row `{0}` has no port or no protocol")]
    EmptyRow(String),
    /// The catalog built into the binary is broken (a build mistake).
    #[error("apple catalog: {0}")]
    Apple(Box<CatalogError>),
}

/// A port number or an inclusive range `a-b`, each 1-65535, not reversed.
pub fn parse_port_range(s: &str) -> Result<(u16, u16), PortError> {
    let num = |t: &str| -> Result<u16, PortError> {
        let n: u32 = t
            .trim()
            .parse()
            .map_err(|_| PortError::NotANumber(t.trim().to_string()))?;
        match u16::try_from(n) {
            Ok(p) if p > 0 => Ok(p),
            _ => Err(PortError::OutOfRange(n)),
        }
    };
    let (a, b) = match s.split_once('-') {
        // `-1`, `80-`: a sign or a half range, not a port.
        Some((a, b)) if a.trim().is_empty() || b.trim().is_empty() => {
            return Err(PortError::NotANumber(s.trim().to_string()));
        }
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let p = num(s)?;
            (p, p)
        }
    };
    if a > b {
        return Err(PortError::Reversed(s.trim().to_string()));
    }
    Ok((a, b))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// One row of Apple's table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub id: String,
    pub ports: Vec<PortRange>,
    pub protocols: Vec<Protocol>,
    /// False where the article gives no protocol and the catalog assumes one
    /// (the notes say which and why).
    pub protocols_stated: bool,
    pub service: String,
    pub rfc: Vec<String>,
    pub iana_name: Option<String>,
    /// Products, as tags in English.
    pub used_by: Vec<String>,
    /// The whole "used by" cell in English.
    pub used_by_text: String,
    /// The cell as the source edition writes it, to check the translation.
    pub used_by_original: String,
    pub notes: Vec<String>,
}

impl Row {
    pub fn ports_text(&self) -> String {
        self.ports
            .iter()
            .map(PortRange::text)
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn protocols_text(&self) -> String {
        self.protocols
            .iter()
            .map(|p| p.name().to_uppercase())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// How a report names the row: "UDP 3478-3497 (nat-stun-port - ipether232port, used by FaceTime, Game Center)".
    pub fn describe(&self) -> String {
        let name = self
            .iana_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.service);
        let mut s = format!(
            "{} {} ({}",
            self.protocols_text(),
            self.ports_text(),
            if name.is_empty() { &self.id } else { name }
        );
        if !self.used_by.is_empty() {
            s.push_str(", used by ");
            s.push_str(&self.used_by.join(", "));
        }
        s.push(')');
        s
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub source: Source,
    pub rows: Vec<Row>,
}

impl Catalog {
    /// Reads a catalog and checks what serde cannot: unique ids, and rows
    /// with at least one port and protocol.
    pub fn from_yaml(text: &str) -> Result<Catalog, CatalogError> {
        let c: Catalog = serde_saphyr::from_str(text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!("{}:{}: ", l.line(), l.column()))
                .unwrap_or_default();
            CatalogError::Format(format!(
                "{at}{}",
                e.to_string().lines().next().unwrap_or("invalid catalog")
            ))
        })?;
        for (i, r) in c.rows.iter().enumerate() {
            if c.rows[..i].iter().any(|o| o.id == r.id) {
                return Err(CatalogError::DuplicateRow(r.id.clone()));
            }
            if r.ports.is_empty() || r.protocols.is_empty() {
                return Err(CatalogError::EmptyRow(r.id.clone()));
            }
        }
        Ok(c)
    }

    /// The catalog built into the binary.
    pub fn apple() -> Result<&'static Catalog, CatalogError> {
        static APPLE: OnceLock<Result<Catalog, CatalogError>> = OnceLock::new();
        APPLE
            .get_or_init(|| {
                Catalog::from_yaml(APPLE_CATALOG).map_err(|e| CatalogError::Apple(Box::new(e)))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn row(&self, id: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.id == id)
    }
}

pub const APPLE_CATALOG: &str = include_str!("../../policies/apple/catalog.yaml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_loads() {
        let c = Catalog::apple().unwrap();
        assert!(c.rows.len() > 100, "{} rows", c.rows.len());
        let stun = c
            .rows
            .iter()
            .find(|r| r.ports.iter().any(|p| p.start == 3478 && p.end == 3497))
            .expect("the FaceTime STUN row");
        assert_eq!(stun.protocols, vec![Protocol::Udp]);
        assert!(stun.used_by.iter().any(|u| u == "FaceTime"));
    }

    #[test]
    fn bad_rows_are_refused() {
        let head = "source: {title: t, original_title: t, publisher: p, edition: e, language: pl, document: d}\nrows:\n";
        let row = |id: &str, ports: &str| {
            format!(
                "  - {{id: {id}, ports: {ports}, protocols: [tcp], protocols_stated: true, service: s, rfc: [], iana_name: null, used_by: [], used_by_text: '', used_by_original: '', notes: []}}\n"
            )
        };
        assert!(Catalog::from_yaml(&format!("{head}{}", row("a", "[80, \"8000-8010\"]"))).is_ok());
        assert!(
            Catalog::from_yaml(&format!("{head}{}{}", row("a", "[80]"), row("a", "[81]")))
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        assert!(
            Catalog::from_yaml(&format!("{head}{}", row("a", "[\"20-10\"]")))
                .unwrap_err()
                .to_string()
                .contains("reversed")
        );
        assert!(
            Catalog::from_yaml(&format!("{head}{}", row("a", "[70000]")))
                .unwrap_err()
                .to_string()
                .contains("out of range")
        );
        assert!(
            Catalog::from_yaml(&format!("{head}{}", row("a", "[]")))
                .unwrap_err()
                .to_string()
                .contains("no port")
        );
        assert!(Catalog::from_yaml(&format!("{head}  - {{id: x, colour: red}}\n")).is_err());
    }
}
