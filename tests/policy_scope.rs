//! What a requirement asks about: connections that can exist on the
//! interfaces it names. A loopback, unspecified or IPv4-mapped address is
//! never on a wire other than loopback's (the kernel drops loopback
//! addresses elsewhere as martians, a connection to `::` or `0.0.0.0` goes
//! to the host itself, and an IPv6 socket sends to `::ffff:a.b.c.d` as
//! IPv4), so a rule about them cannot fail a requirement about eth0, and
//! no witness is such a packet.

mod support;

use support::{Scratch, bin, run};

const POLICY: &str = "policy: p\nrequirements:\n  - id: dns-out\n    expect: allow\n    direction: outbound\n    protocol: tcp\n    ports: [53]\n  - id: dns-out-lo\n    expect: allow\n    direction: outbound\n    protocol: tcp\n    ports: [53]\n    out_interface: [lo]\n";

#[test]
fn loopback_addresses_are_asked_about_only_on_loopback() {
    let s = Scratch::new("policy-scope");
    let policy = s.file("p.yaml", POLICY);
    let rules = s.file(
        "r.nft",
        "table inet t {\n chain o {\n  type filter hook output priority 0;\n  ip6 daddr { ::1, ::, ::ffff:0.0.0.0/96 } reject\n  ip daddr { 127.0.0.0/8, 0.0.0.0 } reject\n }\n}\n",
    );
    let (code, out, err) = run(bin()
        .args(["check", "--format", "json", "--policy"])
        .arg(&policy)
        .arg(&rules));
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let status = |id: &str| {
        v["inputs"][0]["results"]
            .as_array()
            .and_then(|r| r.iter().find(|x| x["requirement"] == id))
            .map(|x| x["status"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    // On the interfaces that are not lo, nothing is rejected.
    assert_eq!(status("dns-out"), "pass", "{out}");
    // On lo, the rejects are real.
    assert_eq!(status("dns-out-lo"), "fail", "{out}");
    assert_eq!(code, 1, "{err}");
}
