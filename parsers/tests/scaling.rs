//! No input may make the parser slow: inputs built to stress each place where
//! a careless implementation goes quadratic must take about four times as
//! long at four times the size.
//!
//! Timings are the best of several runs, and the bound is loose (10x for 4x
//! the input, where quadratic work gives 16x) because the machine is shared.

use driftwall_parsers::iptables::parse;
use driftwall_parsers::model::Family;
use std::time::{Duration, Instant};

fn parse_time(text: &str) -> Duration {
    let start = Instant::now();
    std::hint::black_box(parse("scale.rules", text, Family::Ipv4));
    start.elapsed()
}

/// `make(n)` must parse in roughly linear time in `n`. Small and large inputs
/// are timed in turns and the best of each kept, so a busy machine slows both.
fn assert_linear(what: &str, n: usize, make: impl Fn(usize) -> String) {
    let (small, large) = (make(n), make(4 * n));
    let (mut t1, mut t4) = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        t1 = t1.min(parse_time(&small));
        t4 = t4.min(parse_time(&large));
    }
    let ratio = t4.as_secs_f64() / t1.as_secs_f64().max(1e-6);
    println!(
        "{what}: {} bytes in {t1:?}, {} bytes in {t4:?} (x{ratio:.1})",
        small.len(),
        large.len()
    );
    assert!(
        ratio < 10.0 || t4 < Duration::from_millis(50),
        "{what}: 4x the input took {ratio:.1}x the time ({t1:?} -> {t4:?})"
    );
}

fn lines(n: usize, header: &str, line: impl Fn(usize) -> String, footer: &str) -> String {
    let mut text = String::from(header);
    for i in 0..n {
        text.push_str(&line(i));
        text.push('\n');
    }
    text.push_str(footer);
    text
}

/// One test, so the cases run one after another rather than competing for
/// the machine while they are timed.
#[test]
fn parse_time_grows_linearly_with_the_input() {
    // Appends to one chain, inserts at its head and in its middle.
    assert_linear("-A", 3_000, |n| {
        lines(
            n,
            "*filter\n",
            |i| format!("-A INPUT -p tcp --dport {} -j ACCEPT", i % 65536),
            "COMMIT\n",
        )
    });
    assert_linear("-I 1", 3_000, |n| {
        lines(
            n,
            "*filter\n",
            |_| "-I INPUT 1 -j ACCEPT".into(),
            "COMMIT\n",
        )
    });
    assert_linear("-I middle", 3_000, |n| {
        lines(
            n,
            "*filter\n",
            |i| format!("-I INPUT {} -j DROP", i / 2 + 1),
            "COMMIT\n",
        )
    });

    // An error on every line and a table closed after each (errors are
    // sorted once, at the end), and jumps to chains that do not exist.
    assert_linear("errors and tables", 2_000, |n| {
        lines(
            n,
            "",
            |_| "-A INPUT -j ACCEPT\n*filter\n-A INPUT --bogus\nCOMMIT".into(),
            "",
        )
    });
    assert_linear("bad jumps", 3_000, |n| {
        lines(
            n,
            "*filter\n",
            |i| format!("-A INPUT -j nowhere{i}"),
            "COMMIT\n",
        )
    });

    // Many chains, jumps between them (walked for hook checks), deletions.
    assert_linear("chains", 1_500, |n| {
        lines(
            n,
            "*nat\n",
            |i| {
                format!(
                    ":c{i} - [0:0]\n-A PREROUTING -j c{i}\n-A c{i} -p tcp -j DNAT --to-destination 10.0.0.1:80\n-N d{i}\n-X d{i}"
                )
            },
            "COMMIT\n",
        )
    });

    // One long rule: many modules, many addresses, one token of many pieces.
    assert_linear("modules on one line", 1_500, |n| {
        let mut line = String::from("*filter\n-A INPUT -p tcp");
        for i in 0..n {
            line.push_str(&format!(
                " -m limit --limit {}/s -m tcp --dport {}",
                i % 100 + 1,
                i % 65536
            ));
        }
        line + " -j ACCEPT\nCOMMIT\n"
    });
    assert_linear("addresses on one line", 4_000, |n| {
        let addrs: Vec<String> = (0..n)
            .map(|i| format!("10.{}.{}.0/24", (i / 256) % 256, i % 256))
            .collect();
        format!(
            "*filter\n-A INPUT -s {} -j ACCEPT\nCOMMIT\n",
            addrs.join(",")
        )
    });
    assert_linear("glued quoted pieces", 20_000, |n| {
        format!(
            "*filter\n-A INPUT -m comment --comment {}\nCOMMIT\n",
            "\"a\"".repeat(n)
        )
    });
}
