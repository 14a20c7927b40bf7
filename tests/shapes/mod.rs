//! Rulesets built to be hard on the evaluator, shared by the benches
//! (`benches/check.rs`, which times them) and the tests that need a slow
//! input (`tests/daemon_faults.rs`).

/// `n` rules, each with its own source /32, destination port range and
/// source port list, with negations and interface wildcards, from a fixed
/// xorshift (the same input on every run): minutes of work before the
/// evaluator's limit, seconds with it.
pub fn fragmenting(head: &str, n: usize) -> String {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut t = head.to_string();
    for _ in 0..n {
        let not = |r: u64| if r == 0 { "! " } else { "" };
        let src = format!("{}.{}.{}.{}/32", 1 + rnd(222), rnd(256), rnd(256), rnd(256));
        let a = 1 + rnd(65000);
        let b = a + rnd(500);
        let ports: Vec<String> = (0..2 + rnd(4))
            .map(|_| (1 + rnd(65534)).to_string())
            .collect();
        let iface = ["eth+", "wg+", "eth0", "eth1", "ens+"][rnd(5) as usize];
        let proto = ["tcp", "udp"][rnd(2) as usize];
        let verdict = ["ACCEPT", "DROP", "REJECT"][rnd(3) as usize];
        t.push_str(&format!(
            "-A INPUT {}-i {iface} {}-s {src} -p {proto} --dport {a}:{b} -m multiport {}--sports {} -j {verdict}\n",
            not(rnd(5)),
            not(rnd(5)),
            not(rnd(5)),
            ports.join(",")
        ));
    }
    t.push_str("COMMIT\n");
    t
}
