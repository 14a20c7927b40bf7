//! No input makes the policy or configuration reader panic (issue 18):
//! the shipped examples, cut, repeated, and with bytes changed, tens of
//! thousands of times from a fixed seed. Each mutant is either read or
//! refused with errors that have a place; none panics.
//!
//! (A cargo-fuzz campaign is the thorough form of this; this is the part
//! every `cargo test` runs.)

use driftwall::daemon::config::Config;
use driftwall::policy::{Role, load_str_for};

/// xorshift64*: enough to spread mutations, and the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces YAML and the readers give meaning to.
const PIECES: &[&str] = &[
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "!!binary ",
    "'",
    "\"",
    "#",
    "\n",
    "  ",
    "\t",
    "-1",
    "65536",
    "1e400",
    "0x",
    "99999999999999999999",
    "…",
    "\u{feff}",
    "\0",
    "null",
    "~",
    "? ",
    "|\n",
    ">\n",
    "apple:",
    "ports:",
    "expect:",
    "direction:",
    "watch:",
    "path:",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut b: Vec<u8> = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(5) {
            0 if !b.is_empty() => {
                let end = (at + 1 + rng.below(40)).min(b.len());
                b.drain(at.min(end)..end);
            }
            1 => {
                let p = PIECES[rng.below(PIECES.len())].as_bytes();
                b.splice(at..at, p.iter().copied());
            }
            2 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] = rng.next() as u8;
            }
            3 if !b.is_empty() => {
                // Repeat a piece of the text elsewhere.
                let start = rng.below(b.len());
                let end = (start + 1 + rng.below(80)).min(b.len());
                let piece: Vec<u8> = b[start..end].to_vec();
                b.splice(at..at, piece);
            }
            _ => {
                let i = rng.below(b.len() + 1);
                b.truncate(i);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn mutated_policies_and_configurations_never_panic() {
    let policies: Vec<String> = [
        "examples/web-server.policy.yaml",
        "examples/firewalld/firewalld.policy.yaml",
    ]
    .iter()
    .map(|p| std::fs::read_to_string(p).expect("example policy"))
    .collect();
    let config = std::fs::read_to_string("examples/driftwall.yaml").expect("example config");
    let cases: usize = std::env::var("DRIFTWALL_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut rng = Rng(0x5eed_1e55_d00d_f00d);
    let (mut read, mut refused) = (0usize, 0usize);
    for i in 0..cases {
        let base = if i % 3 == 2 {
            &config
        } else {
            &policies[i % policies.len()]
        };
        let text = mutate(&mut rng, base);
        let outcome = std::panic::catch_unwind(|| {
            if i % 3 == 2 {
                match Config::from_str("m.yaml", &text) {
                    Ok(_) => true,
                    Err(errors) => {
                        assert!(
                            errors.iter().all(|e| e.line >= 1 && e.column >= 1),
                            "{errors:?}"
                        );
                        false
                    }
                }
            } else {
                match load_str_for("m.yaml", &text, Some(&Role::default())) {
                    Ok(_) => true,
                    Err(errors) => {
                        assert!(!errors.is_empty());
                        false
                    }
                }
            }
        });
        match outcome {
            Ok(true) => read += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("case {i} panicked on:\n{text}"),
        }
    }
    println!("{cases} mutants: {read} read, {refused} refused, none panicked");
    // The mutations must reach both outcomes, or they test nothing.
    assert!(read > 0 && refused > 0, "{read} read, {refused} refused");
}
