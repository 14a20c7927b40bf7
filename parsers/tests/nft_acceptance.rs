//! What the nft language parser refuses, against what nft itself refuses:
//! each case is a small ruleset that `nft -c -f` checks (inside a network
//! namespace made for the test, so nothing is loaded anywhere), and the
//! parser must accept exactly the cases nft accepts. The cases are the
//! checks of `src/nft/parser/checks/` and `objects.rs`, each next to a
//! valid neighbour, so a check that refuses too much fails as surely as one
//! that refuses too little. nft is the oracle: no expected outcome is
//! written here.
//!
//! A second test holds the corpus (`../shared/corpus/nftables`) to the same
//! oracle in the direction that matters most for real files: every file
//! `nft -c -f` loads, driftwall reads without an error.
//!
//! Needs root, `ip` and `nft`; without them the test prints why and passes,
//! unless `DRIFTWALL_REQUIRE_ALL` is set (CI), where that is a failure.
//! `cargo test -p driftwall-parsers --test nft_acceptance -- --nocapture`
//! prints every case with both answers.

#[path = "../../tests/support/common.rs"]
mod support;

use std::process::Command;

/// A table's contents around one case: `family`, then what goes in the
/// table before the chain (sets, objects), the chain's header, the rule.
struct Case {
    family: &'static str,
    decls: &'static str,
    chain: &'static str,
    rule: &'static str,
    /// A valid rule of the kernel feature the case needs: where the kernel
    /// here lacks it (nft then refuses even this), nft cannot judge the
    /// case, and it is skipped with the reason printed.
    needs: Option<&'static str>,
}

const FILTER_IN: &str = "type filter hook input priority 0;";
const NAT_PRE: &str = "type nat hook prerouting priority -100;";
const NAT_POST: &str = "type nat hook postrouting priority 100;";
const NAT_OUT: &str = "type nat hook output priority -100;";

const fn case(family: &'static str, chain: &'static str, rule: &'static str) -> Case {
    Case {
        family,
        decls: "",
        chain,
        rule,
        needs: None,
    }
}

const fn with(family: &'static str, decls: &'static str, rule: &'static str) -> Case {
    Case {
        family,
        decls,
        chain: FILTER_IN,
        rule,
        needs: None,
    }
}

const fn needing(
    needs: &'static str,
    family: &'static str,
    chain: &'static str,
    rule: &'static str,
) -> Case {
    Case {
        family,
        decls: "",
        chain,
        rule,
        needs: Some(needs),
    }
}

const CASES: &[Case] = &[
    // A statement after a terminal one; a rule's comment is not one.
    case("ip", FILTER_IN, "tcp dport 22 accept counter"),
    case("ip", FILTER_IN, "tcp dport 22 counter accept"),
    case("ip", FILTER_IN, "tcp dport 22 accept comment \"ssh\""),
    case("ip", NAT_OUT, "tcp dport 22 redirect accept"),
    // reject: codes of their kind, families that agree.
    case("ip", FILTER_IN, "reject with icmp host-unreachable"),
    case("ip", FILTER_IN, "reject with icmp no-route"),
    case("ip", FILTER_IN, "reject with icmpv6 no-route"),
    case("ip", FILTER_IN, "reject with icmpx port-unreachable"),
    case("ip6", FILTER_IN, "reject with icmpv6 addr-unreachable"),
    case("inet", FILTER_IN, "reject with icmpx port-unreachable"),
    case(
        "inet",
        FILTER_IN,
        "meta nfproto ipv6 reject with icmp host-unreachable",
    ),
    case(
        "inet",
        FILTER_IN,
        "meta nfproto ipv4 reject with icmp host-unreachable",
    ),
    case("inet", FILTER_IN, "meta l4proto udp reject with tcp reset"),
    case("inet", FILTER_IN, "tcp dport 22 reject with tcp reset"),
    needing("reject", "bridge", FILTER_IN, "ether type arp reject"),
    needing("reject", "bridge", FILTER_IN, "ether type ip reject"),
    // NAT: a family to say, a transport protocol for a port.
    case("ip", NAT_PRE, "dnat to 10.0.0.1:80"),
    case("ip", NAT_PRE, "tcp dport 80 dnat to 10.0.0.1:8080"),
    case("inet", NAT_PRE, "tcp dport 80 dnat to 10.0.0.1"),
    case("inet", NAT_PRE, "tcp dport 80 dnat ip to 10.0.0.1"),
    case("inet", NAT_PRE, "ip6 daddr ::1 dnat to 10.0.0.1"),
    case("ip", NAT_POST, "masquerade to :1024-2048"),
    case("ip", NAT_POST, "meta l4proto tcp masquerade to :1024-2048"),
    // Values against their fields.
    case("ip", FILTER_IN, "ct zone 65536"),
    case("ip", FILTER_IN, "ct zone 65535"),
    case("ip", FILTER_IN, "meta mark set { 1, 2 }"),
    case("ip6", FILTER_IN, "ip6 flowlabel 1048576"),
    case("ip6", FILTER_IN, "ip6 flowlabel 1048575"),
    case("ip", FILTER_IN, "meta day 7"),
    case("ip", FILTER_IN, "meta day 6"),
    case("ip", FILTER_IN, "meta hour \"24:00\""),
    case("ip", FILTER_IN, "meta hour \"23:59\""),
    case("ip", FILTER_IN, "ct status xxx"),
    case("ip", FILTER_IN, "ct status assured"),
    case("ip", FILTER_IN, "ct expiration 1d-1h"),
    case("ip", FILTER_IN, "ct expiration 1m-1h"),
    case("ip", FILTER_IN, "@nh,8,1 2"),
    case("ip", FILTER_IN, "@nh,8,8 0xff"),
    case("bridge", FILTER_IN, "vlan id 4096"),
    case("bridge", FILTER_IN, "vlan id 4095"),
    case("bridge", FILTER_IN, "ether type ip vlan id 1"),
    case("bridge", FILTER_IN, "ether type vlan vlan id 1"),
    // Options that exclude each other.
    case("ip", FILTER_IN, "log level audit prefix \"x\""),
    case("ip", FILTER_IN, "log level audit"),
    case("ip", FILTER_IN, "log group 1 level info"),
    case("ip", FILTER_IN, "log group 1 prefix \"x\""),
    case("ip", FILTER_IN, "limit rate 10/second burst 5 bytes"),
    case("ip", FILTER_IN, "limit rate 10/second burst 5 packets"),
    case("ip", FILTER_IN, "limit rate 1 gbytes/second"),
    case("ip", FILTER_IN, "limit rate 10 mbytes/second"),
    needing("queue num 1", "ip", FILTER_IN, "queue num 65536"),
    needing("queue num 1", "ip", FILTER_IN, "queue num 65535"),
    needing("queue num 1", "ip", FILTER_IN, "queue num 2 fanout"),
    needing("queue num 1", "ip", FILTER_IN, "queue num 2-3 fanout"),
    // Protocol conflicts.
    case("ip", FILTER_IN, "meta l4proto { tcp, udp } tcp dport 20"),
    case("ip", FILTER_IN, "meta l4proto { tcp, udp } th dport 20"),
    case("ip", FILTER_IN, "icmp type 2 icmp mtu 5"),
    case("ip", FILTER_IN, "icmp type echo-request icmp id 5"),
    case("inet", FILTER_IN, "ct original saddr 1.2.3.4"),
    case("inet", FILTER_IN, "ct original ip saddr 1.2.3.4"),
    case("ip", FILTER_IN, "ct original id 5"),
    case("ip", FILTER_IN, "ct id 5"),
    case("inet", FILTER_IN, "ip6 saddr ::1 ip daddr 1.2.3.4"),
    case("ip", FILTER_IN, "meta ibrname \"br0\""),
    needing(
        "meta ibrname \"br0\"",
        "bridge",
        FILTER_IN,
        "meta ibrname \"br0\"",
    ),
    needing(
        "meta ibrname \"br0\"",
        "bridge",
        FILTER_IN,
        "meta ibrname \"br0\" meta ibrname set \"br1\"",
    ),
    case("ip", FILTER_IN, "meta skuid set 1"),
    case("ip", FILTER_IN, "meta nftrace set 1"),
    case("ip", FILTER_IN, "fib saddr . daddr oif \"lo\""),
    case("ip", FILTER_IN, "fib daddr type local"),
    case("ip", FILTER_IN, "tcp flags & (fin | syn) == syn"),
    // An empty prefix: nft 1.0.6 (Debian 12) takes it, newer versions do
    // not; driftwall takes what a supported nft loads.
    case("ip", FILTER_IN, "log prefix \"\""),
    case(
        "ip",
        FILTER_IN,
        "log prefix \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456\"",
    ),
    case(
        "ip",
        FILTER_IN,
        "log prefix \"01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567\"",
    ),
    case("ip6", FILTER_IN, "reject with icmpv6 host-unreachable"),
    case(
        "inet",
        FILTER_IN,
        "meta nfproto ipv4 ct original saddr 1.2.3.4",
    ),
    // tproxy: a transport protocol, and a family an inet table is told.
    case(
        "ip",
        "type filter hook prerouting priority -150;",
        "tproxy to :8080",
    ),
    needing(
        "meta l4proto tcp tproxy to :8080",
        "ip",
        "type filter hook prerouting priority -150;",
        "meta l4proto tcp tproxy to 127.0.0.1:8080",
    ),
    needing(
        "meta l4proto tcp tproxy ip to :8080",
        "inet",
        "type filter hook prerouting priority -150;",
        "meta l4proto tcp tproxy to 127.0.0.1:8080",
    ),
    needing(
        "meta l4proto tcp tproxy ip to :8080",
        "inet",
        "type filter hook prerouting priority -150;",
        "meta l4proto tcp tproxy ip to 127.0.0.1:8080",
    ),
    // Sets and maps.
    with(
        "ip",
        "set s { type ipv4_addr; elements = { 10.0.0.0/8 } }",
        "ip saddr @s",
    ),
    with(
        "ip",
        "set s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8 } }",
        "ip saddr @s",
    ),
    with("inet", "set s { type ipv4_addr; }", "ip6 daddr @s"),
    with("inet", "set s { type ipv6_addr; }", "ip6 daddr @s"),
    case(
        "ip",
        FILTER_IN,
        "ip saddr vmap { 10.0.0.0/8 : accept, 10.1.0.0/16 : drop }",
    ),
    case(
        "ip",
        FILTER_IN,
        "ip saddr vmap { 10.0.0.0/8 : accept, 10.128.0.0-10.255.255.255 : drop }",
    ),
    case(
        "ip",
        FILTER_IN,
        "ip saddr vmap { 10.0.0.0/9 : accept, 10.128.0.0-10.255.255.255 : drop }",
    ),
    case("ip", FILTER_IN, "tcp dport vmap { 22 : accept, 22 : drop }"),
    // Named objects.
    case("ip", FILTER_IN, "counter name \"c1\""),
    with("ip", "counter c1 { }", "counter name \"c1\""),
    with("ip", "quota q1 { 25 mbytes }", "quota name \"q2\""),
    with("ip", "quota q1 { 25 mbytes }", "quota name \"q1\""),
];

/// Whether the test can run here, and if not why.
fn unavailable() -> Option<String> {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        return Some("needs root to make a network namespace".into());
    }
    for tool in ["ip", "nft"] {
        if Command::new(tool).arg("--version").output().is_err() {
            return Some(format!("needs `{tool}`"));
        }
    }
    None
}

/// A network namespace, removed when dropped.
struct Netns(String);

impl Netns {
    fn new(what: &str) -> Netns {
        let name = format!("dw-{what}-{}", std::process::id());
        let status = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("run ip");
        assert!(status.success(), "ip netns add {name}");
        Netns(name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

fn ruleset(c: &Case, rule: &str) -> String {
    let decls = if c.decls.is_empty() {
        String::new()
    } else {
        format!("\t{}\n", c.decls)
    };
    format!(
        "table {} t {{\n{decls}\tchain c {{\n\t\t{}\n\t\t{rule}\n\t}}\n}}\n",
        c.family, c.chain
    )
}

/// `nft -c -f` on a ruleset in the namespace: accepted, or its first error.
fn nft_check(ns: &Netns, path: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).expect("write the case");
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0, "nft", "-c", "-f"])
        .arg(path)
        .output()
        .expect("run nft");
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Err(stderr
        .lines()
        .find(|l| l.contains("Error"))
        .unwrap_or(stderr.trim())
        .to_string())
}

/// `None` (with the reason printed, or a failure under CI) where the test
/// cannot run here.
fn ready() -> Option<()> {
    if let Some(reason) = unavailable() {
        support::skip(&reason);
        return None;
    }
    Some(())
}

#[test]
fn the_parser_refuses_what_nft_refuses() {
    if ready().is_none() {
        return;
    }
    let ns = Netns::new("accept");
    let dir = support::Scratch::new("nft-acceptance");
    let version = Command::new("nft")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("oracle: {version}");
    let (mut disagree, mut accepted, mut refused, mut skipped) = (Vec::new(), 0, 0, 0);
    for (i, c) in CASES.iter().enumerate() {
        let path = dir.join(format!("{i}.nft"));
        if let Some(needs) = c.needs
            && let Err(e) = nft_check(&ns, &path, &ruleset(c, needs))
        {
            println!(
                "{:<7} {:<70} skipped: this kernel lacks what `{needs}` needs ({e})",
                c.family, c.rule
            );
            skipped += 1;
            continue;
        }
        let text = ruleset(c, c.rule);
        let nft = nft_check(&ns, &path, &text);
        let nft_error = nft.as_ref().err().cloned();
        let nft_ok = nft.is_ok();
        let parsed = driftwall_parsers::nft::parse(&path.display().to_string(), &text);
        let ours = parsed
            .errors
            .first()
            .map(|e| format!("{}:{}: {}", e.line, e.column, e.message));
        let ours_ok = ours.is_none();
        if nft_ok {
            accepted += 1
        } else {
            refused += 1
        }
        println!(
            "{:<7} {:<70} nft: {}\n{:<78} driftwall: {}",
            c.family,
            c.rule,
            nft_error.as_deref().unwrap_or("accepted"),
            "",
            ours.as_deref().unwrap_or("accepted")
        );
        if nft_ok != ours_ok {
            disagree.push(format!(
                "{} `{}`: nft {}, driftwall {}",
                c.family,
                c.rule,
                nft_error.as_deref().unwrap_or("accepts"),
                ours.as_deref().unwrap_or("accepts")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{} cases: nft accepted {accepted} and refused {refused}; {skipped} skipped for this kernel; driftwall disagreed on {}",
        CASES.len(),
        disagree.len()
    );
    // Both answers occur, or the cases prove nothing.
    assert!(
        accepted > 10 && refused > 10,
        "nft accepted {accepted} and refused {refused}: is nft working here?"
    );
    assert!(
        disagree.is_empty(),
        "driftwall and nft disagree:\n{}",
        disagree.join("\n")
    );
}

#[test]
fn every_corpus_file_nft_loads_is_read_without_an_error() {
    if ready().is_none() {
        return;
    }
    let Some(dir) = support::corpus("nftables") else {
        return;
    };
    let ns = Netns::new("corpus");
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .expect("read the corpus")
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    let (mut loaded, mut refused, mut with_includes, mut wrong, mut lenient) =
        (0, 0, 0, Vec::new(), 0);
    for path in names {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        if !path.is_file()
            || name.ends_with(".t")
            || name.ends_with(".md")
            || name.starts_with("tests-bogons-")
        {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&path).expect("read a corpus file"))
            .into_owned();
        // What an include brings in depends on the machine it is read on.
        if text.contains("include") {
            with_includes += 1;
            continue;
        }
        let nft = Command::new("ip")
            .args(["netns", "exec", &ns.0, "nft", "-c", "-f"])
            .arg(&path)
            .output()
            .expect("run nft");
        let parsed = driftwall_parsers::nft::parse(&name, &text);
        if nft.status.success() {
            loaded += 1;
            if let Some(e) = parsed.errors.first() {
                wrong.push(format!("{name}:{}:{}: {}", e.line, e.column, e.message));
            }
        } else {
            refused += 1;
            // nft refuses what it checks against this host (users,
            // interfaces) or what is newer than it; not a failure.
            if parsed.errors.is_empty() {
                lenient += 1;
            }
        }
    }
    println!(
        "corpus: nft loaded {loaded} files and refused {refused} ({lenient} of which driftwall reads: host-specific names or syntax newer than this nft); {with_includes} with includes left out; driftwall refused {} that nft loads",
        wrong.len()
    );
    for w in &wrong {
        println!("  {w}");
    }
    assert!(
        loaded > 100,
        "nft loaded only {loaded} files: is it working here?"
    );
    assert!(
        wrong.is_empty(),
        "driftwall refuses files nft loads:\n{}",
        wrong.join("\n")
    );
}
