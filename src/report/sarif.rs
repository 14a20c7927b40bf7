//! SARIF 2.1.0, for code scanning: one rule per requirement, one result per
//! finding at the line of the rule behind it, the other rules involved and
//! the policy clause as related locations, and fingerprints that follow a
//! finding across commits.

use super::findings::{Findings, Level, Loc, TOOL_RULES};
use serde_json::{Value, json};

fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

/// A path as a URI reference: relative paths stay relative to the
/// directory driftwall ran in (`%SRCROOT%`, where code scanning expects the
/// repository's root), absolute ones become `file://` URIs.
pub fn uri(path: &str) -> (String, bool) {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if path.starts_with('/') {
        return (format!("file://{out}"), false);
    }
    (out.strip_prefix("./").unwrap_or(&out).to_string(), true)
}

/// A SARIF `location`: physical for files, logical for the policies
/// compiled into driftwall (`apple:essentials`), which have no file.
fn location(loc: &Loc, message: Option<&str>) -> Value {
    let mut v = if let Some(name) = loc.file.strip_prefix("apple:") {
        json!({ "logicalLocations": [{ "fullyQualifiedName": format!("apple:{name}:{}", loc.line), "kind": "resource" }] })
    } else {
        let (uri, relative) = uri(&loc.file);
        let mut artifact = json!({ "uri": uri });
        if relative {
            artifact["uriBaseId"] = json!("%SRCROOT%");
        }
        let mut physical = json!({ "artifactLocation": artifact });
        if loc.line > 0 {
            let mut region = json!({ "startLine": loc.line });
            if loc.column > 0 {
                region["startColumn"] = json!(loc.column);
                if let Some(first) = loc
                    .text
                    .as_deref()
                    .and_then(|t| t.lines().next())
                    .filter(|t| !t.is_empty())
                {
                    region["endColumn"] = json!(loc.column as usize + first.chars().count());
                }
            }
            if let Some(text) = &loc.text {
                region["snippet"] = json!({ "text": text });
            }
            physical["region"] = region;
        }
        json!({ "physicalLocation": physical })
    };
    if let Some(m) = message {
        v["message"] = json!({ "text": m });
    }
    v
}

pub fn render(f: &Findings) -> String {
    let mut rules: Vec<Value> = f
        .requirements
        .iter()
        .map(|r| {
            let mut d = json!({
                "id": r.id,
                "shortDescription": { "text": r.title },
                "help": { "text": r.help.join("\n"), "markdown": r.help.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n") },
                "defaultConfiguration": { "level": "error" },
                "properties": { "tags": ["firewall", "network", "policy"] },
            });
            if let Some(desc) = &r.description {
                d["fullDescription"] = json!({ "text": desc });
            }
            d
        })
        .collect();
    for (id, title, help) in TOOL_RULES {
        rules.push(json!({ "id": id, "shortDescription": { "text": title }, "help": { "text": help }, "defaultConfiguration": { "level": if *id == "driftwall/not-evaluated" { "note" } else { "error" } } }));
    }
    let index_of = |id: &str| rules.iter().position(|r| r["id"] == id);
    let results: Vec<Value> = f
        .findings
        .iter()
        .map(|x| {
            let mut r = json!({
                "ruleId": x.rule,
                "level": level(x.level),
                "message": { "text": x.message },
                "partialFingerprints": { "driftwallFinding/v1": x.fingerprint },
            });
            if let Some(i) = index_of(&x.rule) {
                r["ruleIndex"] = json!(i);
            }
            // The rule stays coarse (one per kind of input problem) so code
            // scanning groups them; the diagnostic code tells which problem.
            if let Some(code) = x.code {
                r["properties"] = json!({ "code": code });
            }
            if let Some(loc) = &x.location {
                r["locations"] = json!([location(loc, None)]);
            }
            if !x.related.is_empty() {
                let related: Vec<Value> = x
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, (loc, what))| {
                        let mut l = location(loc, Some(what));
                        l["id"] = json!(i + 1);
                        l
                    })
                    .collect();
                r["relatedLocations"] = json!(related);
            }
            r
        })
        .collect();
    let root = std::env::current_dir()
        .ok()
        .map(|d| format!("{}/", uri(&d.display().to_string()).0.trim_end_matches('/')));
    let mut run = json!({
        "tool": { "driver": {
            "name": "driftwall",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        } },
        "invocations": [{ "executionSuccessful": f.exit_code != 2, "exitCode": f.exit_code }],
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": { "command": f.command },
    });
    if let Some(root) = root {
        run["originalUriBaseIds"] = json!({ "%SRCROOT%": { "uri": root } });
    }
    let doc = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    super::json::value(&doc)
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("firewall/rules.v4"), ("firewall/rules.v4".into(), true));
        assert_eq!(uri("./a b#.nft"), ("a%20b%23.nft".into(), true));
        assert_eq!(
            uri("/etc/nftables.conf"),
            ("file:///etc/nftables.conf".into(), false)
        );
    }
}
