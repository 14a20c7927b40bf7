use super::*;

fn file(path: &str, text: &str) -> FileText {
    (format!("/etc/firewalld/{path}"), text.to_string())
}

fn zone(name: &str, body: &str) -> FileText {
    file(
        &format!("zones/{name}.xml"),
        &format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>\n{body}</zone>\n"),
    )
}

fn folder(zones: Vec<FileText>) -> Files {
    Files {
        user: Folder {
            dir: "/etc/firewalld".to_string(),
            conf: Some(file("firewalld.conf", "DefaultZone=public\n")),
            zones,
            ..Folder::default()
        },
        stock: None,
    }
}

#[test]
fn debug_print() {
    let r = read(&folder(vec![zone(
        "public",
        "  <service name=\"ssh\"/>\n  <port port=\"8080\" protocol=\"tcp\"/>\n  <rule family=\"ipv4\" priority=\"-1\"><source address=\"10.0.0.0/8\"/><port port=\"22\" protocol=\"tcp\"/><drop/></rule>\n",
    )]));
    println!("{}", r.nft);
    for e in &r.parsed.errors {
        println!("ERR {e}");
    }
    for s in &r.parsed.ruleset.skipped {
        println!("SKIP {} {}", r.parsed.ruleset.path(&s.span), s.what);
    }
    for t in &r.parsed.ruleset.tables {
        for c in &t.chains {
            for rule in &c.rules {
                println!(
                    "{:?} {} {}:{} {:?}",
                    t.family,
                    c.name,
                    r.parsed.ruleset.path(&rule.span),
                    rule.span.line,
                    rule.action
                );
            }
        }
    }
}
