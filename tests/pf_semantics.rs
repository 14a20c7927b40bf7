//! pf's semantics, case by case, each with the sentence of pf.conf(5)
//! (OpenBSD 7.x; FreeBSD and macOS say the same) that fixes the expected
//! verdict. No pf runs here: the verdicts are reasoned from the manual,
//! and `driftwall probe` must give them. `tests/kernel_pf.rs` adds the
//! kernel's judgement on the part of pf that nftables can express exactly.

mod support;

use serde_json::Value;
use support::{Scratch, bin, run};

/// One probe: (id, kind in|out|fwd, proto, src, dst, dport, iif, oif, expected verdict).
type Probe = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u16,
    &'static str,
    &'static str,
    &'static str,
);

/// Runs `driftwall probe` on `ruleset` and checks every expected verdict.
fn check(name: &str, ruleset: &str, probes: &[Probe]) {
    check_with(name, &[], ruleset, probes)
}

/// [`check`], with more files beside `pf.conf` (anchors it loads).
fn check_with(name: &str, files: &[(&str, &str)], ruleset: &str, probes: &[Probe]) {
    let s = Scratch::new(&format!("pf-sem-{name}"));
    for (path, text) in files {
        s.file(path, text);
    }
    let file = s.file("pf.conf", ruleset);
    let json: Vec<Value> = probes
        .iter()
        .map(|(id, kind, proto, src, dst, dport, iif, oif, _)| {
            let mut p = serde_json::json!({
                "id": id, "kind": kind, "proto": proto, "src": src, "dst": dst,
                "sport": 40000, "dport": dport,
            });
            if !iif.is_empty() {
                p["iif"] = Value::from(*iif);
            }
            if !oif.is_empty() {
                p["oif"] = Value::from(*oif);
            }
            p
        })
        .collect();
    let probes_file = s.file("p.json", &serde_json::to_string(&json).unwrap());
    let (code, out, err) = run(bin()
        .args(["probe", "--input-format", "pf", "--probes"])
        .arg(&probes_file)
        .arg(&file));
    assert_eq!(code, 0, "{name}: {err}{out}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}: {out}"));
    for (i, p) in probes.iter().enumerate() {
        let got = v[i]["verdict"].as_str().unwrap_or("");
        assert_eq!(
            got, p.8,
            "{name}, probe {}: expected {}, got {got}\n{ruleset}\n{:#}",
            p.0, p.8, v[i]
        );
    }
}

const A: &str = "192.0.2.1";
const H: &str = "198.51.100.1";

/// "The last matching rule decides what action is taken." — pf.conf(5)
#[test]
fn the_last_matching_rule_decides() {
    check(
        "last-match",
        "block in all\npass in proto tcp to port 22\nblock in proto tcp from 192.0.2.1 to port 22\n",
        &[
            ("ssh-from-a", "in", "tcp", A, H, 22, "em0", "", "drop"),
            (
                "ssh-from-b",
                "in",
                "tcp",
                "192.0.2.9",
                H,
                22,
                "em0",
                "",
                "allow",
            ),
            ("web", "in", "tcp", A, H, 80, "em0", "", "drop"),
        ],
    );
}

/// "If a packet matches a rule which has the quick option set, this rule
/// is considered the last matching rule, and evaluation of subsequent
/// rules is skipped." — pf.conf(5)
#[test]
fn quick_ends_evaluation() {
    check(
        "quick",
        "pass in quick proto tcp to port 22\nblock in all\n",
        &[
            ("ssh", "in", "tcp", A, H, 22, "em0", "", "allow"),
            ("web", "in", "tcp", A, H, 80, "em0", "", "drop"),
        ],
    );
    check(
        "quick-block-before-pass",
        "block in quick proto udp to port 53\npass in all\n",
        &[
            ("dns", "in", "udp", A, H, 53, "em0", "", "drop"),
            ("ntp", "in", "udp", A, H, 123, "em0", "", "allow"),
        ],
    );
}

/// "If no rule matches the packet, the default action is to pass the
/// packet." — pf.conf(5)
#[test]
fn with_no_match_the_packet_passes() {
    // Nothing blocks outbound packets: the replies of a connection the
    // default passed (keeping no state) pass too.
    check(
        "default",
        "block in proto tcp to port 23\n",
        &[
            ("telnet", "in", "tcp", A, H, 23, "em0", "", "drop"),
            ("web", "in", "tcp", A, H, 80, "em0", "", "allow"),
        ],
    );
    // Here a rule blocks the reply (from port 80) on its way out; with no
    // state kept, the reply meets it and the connection fails.
    check(
        "default-reply-blocked",
        "block in proto tcp to port 23\nblock out proto tcp from any port 80\n",
        &[("web", "in", "tcp", A, H, 80, "em0", "", "drop")],
    );
}

/// "block return: ... a TCP RST is returned for TCP packets, an ICMP
/// UNREACHABLE for UDP" and "set block-policy ... The default behaviour
/// for block rules": drop unless set to return. — pf.conf(5)
#[test]
fn block_return_answers_and_block_policy_sets_the_default() {
    check(
        "return",
        "block return in proto { tcp, udp } to port { 22, 53 }\nblock drop in proto tcp to port 23\n",
        &[
            ("ssh", "in", "tcp", A, H, 22, "em0", "", "reject"),
            ("dns", "in", "udp", A, H, 53, "em0", "", "reject"),
            ("telnet", "in", "tcp", A, H, 23, "em0", "", "drop"),
        ],
    );
    check(
        "block-policy",
        "set block-policy return\nblock in proto tcp to port 22\n",
        &[("ssh", "in", "tcp", A, H, 22, "em0", "", "reject")],
    );
    check(
        "return-rst-drops-udp",
        "block return-rst in proto { tcp, udp } to port 22\n",
        &[
            ("tcp", "in", "tcp", A, H, 22, "em0", "", "reject"),
            ("udp", "in", "udp", A, H, 22, "em0", "", "drop"),
        ],
    );
}

/// "in or out: This rule applies to incoming or outgoing packets. If
/// neither in nor out are specified, the rule will match packets in both
/// directions." "keep state ... subsequent packets [of the connection]
/// ... pass without evaluating the rules" — pf.conf(5)
#[test]
fn directions_and_state() {
    check(
        "directions",
        "block all\npass out proto udp to port 53\npass in proto tcp to port 22\n",
        &[
            ("dns-out", "out", "udp", H, A, 53, "", "em0", "allow"),
            ("dns-in", "in", "udp", A, H, 53, "em0", "", "drop"),
            ("ssh-in", "in", "tcp", A, H, 22, "em0", "", "allow"),
            ("ssh-out", "out", "tcp", H, A, 22, "", "em0", "drop"),
        ],
    );
    // A forwarded packet is filtered in on its ingress interface and out
    // on its egress interface.
    check(
        "forward",
        "block all\npass in on em1 proto tcp to port 80\npass out on em0 proto tcp to port 80\npass in on em1 proto tcp to port 443\n",
        &[
            (
                "web", "fwd", "tcp", "10.0.0.5", A, 80, "em1", "em0", "allow",
            ),
            (
                "https", "fwd", "tcp", "10.0.0.5", A, 443, "em1", "em0", "drop",
            ),
        ],
    );
}

/// "no state: ... the packet is passed without creating state": the
/// replies and the later packets meet the rules. "By default, pass rules
/// keep state and use flags S/SA" (a stateful pass takes a TCP
/// connection's first packet only), and a state is made on the crossing
/// of the rule that made it: it passes the connection's packets there and
/// its replies the other way. — pf.conf(5)
#[test]
fn no_state_leaves_the_replies_to_the_rules() {
    check(
        "no-state",
        "block all\npass in proto tcp to port 22 no state\npass out proto tcp from port 22 no state\n",
        &[("ssh", "in", "tcp", A, H, 22, "em0", "", "allow")],
    );
    // Without the rule for the replies, the SYN,ACK is blocked going out.
    check(
        "no-state-no-reply-rule",
        "block all\npass in proto tcp to port 22 no state\n",
        &[("ssh", "in", "tcp", A, H, 22, "em0", "", "drop")],
    );
    // A datagram works when it arrives: nothing needs to come back.
    check(
        "no-state-udp",
        "block all\npass in proto udp to port 514 no state\n",
        &[("syslog", "in", "udp", A, H, 514, "em0", "", "allow")],
    );
    // A forwarded connection: state kept in on the ingress interface does
    // not cover its replies coming in on the egress one, where `block in`
    // meets them unless the crossing out kept state too.
    check(
        "state-per-crossing",
        "block in all\npass in on em1 proto tcp to port 80\n",
        &[("web", "fwd", "tcp", "10.0.0.5", A, 80, "em1", "em0", "drop")],
    );
    check(
        "state-both-crossings",
        "block in all\npass in on em1 proto tcp to port 80\npass out on em0 proto tcp to port 80\n",
        &[(
            "web", "fwd", "tcp", "10.0.0.5", A, 80, "em1", "em0", "allow",
        )],
    );
    // `flags S/SA`: a stateful pass does not take a packet of a connection
    // it did not see begin, so an outbound connection's replies are not
    // passed by a `pass in` for their ports.
    check(
        "flags-s-sa",
        "block all\npass out proto tcp to port 22 no state\npass in proto tcp from port 22\n",
        &[("ssh-out", "out", "tcp", H, A, 22, "", "em0", "drop")],
    );
    check(
        "flags-any",
        "block all\npass out proto tcp to port 22 no state\npass in proto tcp from port 22 flags any\n",
        &[("ssh-out", "out", "tcp", H, A, 22, "", "em0", "allow")],
    );
}

/// "set skip on <ifspec>: Enables skipping of filtering on the given
/// interface." — pf.conf(5). pf's `lo0` is the model's loopback.
#[test]
fn skip_passes_everything_on_the_interface() {
    check(
        "skip",
        "set skip on em1\nblock all\n",
        &[
            ("on-em1", "in", "tcp", A, H, 22, "em1", "", "allow"),
            ("on-em0", "in", "tcp", A, H, 22, "em0", "", "drop"),
        ],
    );
}

/// "Anchors ... are evaluated relative to the anchor in which they are
/// contained": inline anchors in place; "quick ... evaluation ends when
/// a rule inside the anchor matched". An anchor filled at run time makes
/// what it may decide indeterminate. — pf.conf(5)
#[test]
fn anchors_are_evaluated_in_place() {
    check(
        "anchor",
        "block in all\nanchor \"web\" in proto tcp {\n  pass in proto tcp to port 80\n  block in proto tcp to port 81\n}\npass in proto tcp to port 81\n",
        &[
            ("web", "in", "tcp", A, H, 80, "em0", "", "allow"),
            // The later pass outside the anchor is the last match.
            ("81", "in", "tcp", A, H, 81, "em0", "", "allow"),
            ("ssh", "in", "tcp", A, H, 22, "em0", "", "drop"),
        ],
    );
    check(
        "anchor-quick",
        "block in all\nanchor \"web\" in quick proto tcp {\n  pass in proto tcp to port 80\n  block in proto tcp to port 81\n}\npass in proto tcp to port 81\n",
        &[
            ("web", "in", "tcp", A, H, 80, "em0", "", "allow"),
            // Matched inside a quick anchor: evaluation ends there.
            ("81", "in", "tcp", A, H, 81, "em0", "", "drop"),
        ],
    );
    check(
        "anchor-runtime",
        "block in all\nanchor \"com.apple/*\"\npass in proto tcp to port 22\n",
        &[("ssh", "in", "tcp", A, H, 22, "em0", "", "indeterminate")],
    );
}

/// Lists expand to one rule per item (pfctl), so `{ !a, b }` matches what
/// is not a, or is b. Port operators: "`><` ... range", "`<>` ... except
/// range", ":" inclusive. — pf.conf(5)
#[test]
fn lists_and_port_operators() {
    check(
        "ports",
        "block in all\npass in proto tcp to port 1000 >< 1005\npass in proto tcp to port 2000:2002\npass in proto tcp to port != 3000\n",
        &[
            ("1000", "in", "tcp", A, H, 1000, "em0", "", "allow"),
            ("1001", "in", "tcp", A, H, 1001, "em0", "", "allow"),
            ("2002", "in", "tcp", A, H, 2002, "em0", "", "allow"),
            ("3000", "in", "tcp", A, H, 3000, "em0", "", "drop"),
        ],
    );
    check(
        "negated-list",
        "block in all\npass in proto tcp from { !192.0.2.0/24, 192.0.2.7 } to port 22\n",
        &[
            (
                "outside",
                "in",
                "tcp",
                "203.0.113.9",
                H,
                22,
                "em0",
                "",
                "allow",
            ),
            ("inside", "in", "tcp", A, H, 22, "em0", "", "drop"),
            (
                "the-one",
                "in",
                "tcp",
                "192.0.2.7",
                H,
                22,
                "em0",
                "",
                "allow",
            ),
        ],
    );
}

/// What depends on the running host is said, not guessed: `self`, `(if)`,
/// interface groups, tables without contents in the file.
#[test]
fn host_dependent_things_are_indeterminate() {
    check(
        "host",
        "block in all\npass in proto tcp to self port 22\npass in on egress proto tcp to port 80\ntable <t> persist\npass in proto tcp from <t> to port 443\ntable <k> const { 192.0.2.0/24 }\npass in proto tcp from <k> to port 8080\n",
        &[
            ("self", "in", "tcp", A, H, 22, "em0", "", "indeterminate"),
            ("group", "in", "tcp", A, H, 80, "em0", "", "indeterminate"),
            (
                "table-empty",
                "in",
                "tcp",
                A,
                H,
                443,
                "em0",
                "",
                "indeterminate",
            ),
            ("table-known", "in", "tcp", A, H, 8080, "em0", "", "allow"),
            (
                "table-other",
                "in",
                "tcp",
                "203.0.113.1",
                H,
                8080,
                "em0",
                "",
                "drop",
            ),
        ],
    );
}

/// Address translation (FreeBSD and macOS, the pre-4.7 syntax), from
/// pf.conf(5): "Since translation occurs before filtering the filter
/// engine will see packets as they look after any addresses and ports
/// have been translated. Filter rules will therefore have to filter based
/// on the translated address and port number."
#[test]
fn translation_comes_before_the_filter() {
    // The redirected packet meets the pass for its new port; the same port
    // asked for directly does not.
    check(
        "rdr-then-filter",
        "rdr on em0 proto tcp to port 80 -> 127.0.0.1 port 8080\n\
         block in all\n\
         pass in proto tcp to 127.0.0.1 port 8080\n",
        &[
            ("redirected", "in", "tcp", A, H, 80, "em0", "", "allow"),
            ("direct", "in", "tcp", A, H, 8080, "em0", "", "drop"),
            ("other-port", "in", "tcp", A, H, 81, "em0", "", "drop"),
            // "Translation rules apply only to packets that pass through
            // the specified interface."
            ("other-interface", "in", "tcp", A, H, 80, "em1", "", "drop"),
        ],
    );
    // Outbound, the filter sees the new source: the block written for the
    // inside network no longer matches, the pass for the public address does.
    check(
        "nat-then-filter",
        "nat on em1 from 10.0.0.0/24 to any -> 203.0.113.5\n\
         pass in all\n\
         block out on em1 all\n\
         pass out on em1 from 203.0.113.5\n",
        &[
            (
                "natted",
                "fwd",
                "tcp",
                "10.0.0.7",
                "198.51.100.9",
                443,
                "em2",
                "em1",
                "allow",
            ),
            (
                "not-natted",
                "fwd",
                "tcp",
                "10.0.1.7",
                "198.51.100.9",
                443,
                "em2",
                "em1",
                "drop",
            ),
        ],
    );
    // An interface's address is the running host's: a rule that depends on
    // the new source cannot be decided, one that does not still is.
    check(
        "nat-to-interface",
        "nat on em1 from 10.0.0.0/24 to any -> (em1)\n\
         pass in all\n\
         block out on em1 all\n\
         pass out on em1 from 203.0.113.5\n\
         pass out on em1 proto udp\n",
        &[
            (
                "tcp",
                "fwd",
                "tcp",
                "10.0.0.7",
                "198.51.100.9",
                443,
                "em2",
                "em1",
                "indeterminate",
            ),
            (
                "udp",
                "fwd",
                "udp",
                "10.0.0.7",
                "198.51.100.9",
                53,
                "em2",
                "em1",
                "allow",
            ),
        ],
    );
}

/// "Evaluation order of the translation rules is dependent on the type of
/// the translation rules and of the direction of a packet. binat rules are
/// always evaluated first. Then either the rdr rules are evaluated on an
/// inbound packet or the nat rules on an outbound packet. Rules of the
/// same type are evaluated in the same order in which they appear in the
/// ruleset. The first matching rule decides what action is taken. If no
/// rule matches the packet, it is passed to the filter unmodified." And a
/// `no` rule: "translation rules can be negated ... the packets they
/// match are not translated." — pf.conf(5)
#[test]
fn the_first_matching_translation_decides() {
    check(
        "rdr-first-match",
        "rdr on em0 proto tcp to port 80 -> 127.0.0.1 port 8080\n\
         rdr on em0 proto tcp to port 80 -> 127.0.0.1 port 9090\n\
         block in all\n\
         pass in proto tcp to port 8080\n",
        &[("first-wins", "in", "tcp", A, H, 80, "em0", "", "allow")],
    );
    check(
        "no-rdr",
        "no rdr on em0 proto tcp from 192.0.2.1 to port 80\n\
         rdr pass on em0 proto tcp to port 80 -> 127.0.0.1 port 8080\n\
         block in all\n",
        &[
            ("exempt", "in", "tcp", A, H, 80, "em0", "", "drop"),
            (
                "others",
                "in",
                "tcp",
                "192.0.2.9",
                H,
                80,
                "em0",
                "",
                "allow",
            ),
        ],
    );
    // binat comes before rdr: the packet to the binat address goes where
    // the binat sends it, and the rdr below never sees it. (The packet is
    // forwarded; `pass out` keeps the state its replies need, as pf's
    // states are per crossing.)
    check(
        "binat-before-rdr",
        "rdr on em1 proto tcp to 203.0.113.5 port 22 -> 127.0.0.1 port 2222\n\
         binat on em1 from 10.0.0.5 to any -> 203.0.113.5\n\
         block in all\n\
         pass in proto tcp to 10.0.0.5 port 22\n\
         pass out all\n",
        &[
            (
                "binat",
                "in",
                "tcp",
                A,
                "203.0.113.5",
                22,
                "em1",
                "",
                "allow",
            ),
            (
                "elsewhere",
                "in",
                "tcp",
                A,
                "203.0.113.6",
                22,
                "em1",
                "",
                "drop",
            ),
        ],
    );
    // binat's outbound half: the inside address leaves as the outside one.
    check(
        "binat-out",
        "binat on em1 from 10.0.0.5 to any -> 203.0.113.5\n\
         pass in all\n\
         block out on em1 all\n\
         pass out on em1 from 203.0.113.5\n",
        &[
            (
                "mapped",
                "fwd",
                "udp",
                "10.0.0.5",
                "198.51.100.9",
                53,
                "em2",
                "em1",
                "allow",
            ),
            (
                "unmapped",
                "fwd",
                "udp",
                "10.0.0.6",
                "198.51.100.9",
                53,
                "em2",
                "em1",
                "drop",
            ),
        ],
    );
}

/// A translated connection keeps state, though the pass that lets it in
/// says `no state`: pf makes the state the translation needs (pf.c,
/// pf_test_rule: a state is created when a translation rule matched), so
/// the replies are translated back and pass with it.
#[test]
fn a_translation_keeps_state() {
    check(
        "rdr-no-state",
        "rdr on em0 proto tcp to port 80 -> 127.0.0.1 port 8080\n\
         block all\n\
         pass in proto tcp to port 8080 no state\n",
        &[("redirected", "in", "tcp", A, H, 80, "em0", "", "allow")],
    );
}

/// "If the pass modifier is given, packets matching the translation rule
/// are passed without inspecting the filter rules." — pf.conf(5). pf runs
/// once per interface a packet crosses: the skipped filter is that of the
/// crossing the translation is made on, and a forwarded packet still
/// meets the filter where it leaves.
#[test]
fn pass_on_a_translation_skips_the_filter_of_its_crossing() {
    check(
        "rdr-pass",
        "rdr pass on em0 proto tcp to port 80 -> 127.0.0.1 port 8080\n\
         block in all\n",
        &[
            ("redirected", "in", "tcp", A, H, 80, "em0", "", "allow"),
            ("direct", "in", "tcp", A, H, 8080, "em0", "", "drop"),
        ],
    );
    check(
        "rdr-pass-forwarded",
        "rdr pass on em0 proto tcp to port 80 -> 10.0.0.5\n\
         block in all\n\
         block out all\n",
        &[("out-filtered", "in", "tcp", A, H, 80, "em0", "", "drop")],
    );
    check(
        "nat-pass",
        "nat pass on em1 from 10.0.0.0/24 to any -> 203.0.113.5\n\
         pass in all\n\
         block out all\n",
        &[
            (
                "natted",
                "fwd",
                "tcp",
                "10.0.0.7",
                "198.51.100.9",
                443,
                "em2",
                "em1",
                "allow",
            ),
            (
                "not-natted",
                "fwd",
                "tcp",
                "10.0.1.7",
                "198.51.100.9",
                443,
                "em2",
                "em1",
                "drop",
            ),
        ],
    );
}

/// `nat-anchor`, `rdr-anchor` and `binat-anchor` evaluate the anchor's
/// translation rules in place; `load anchor` reads them from a file. An
/// anchor filled at run time may translate anything it is given.
#[test]
fn translation_anchors_are_evaluated_in_place() {
    check_with(
        "rdr-anchor",
        &[(
            "fw.conf",
            "rdr pass on em0 proto tcp to port 80 -> 127.0.0.1 port 8080\n",
        )],
        "rdr-anchor \"fw\"\n\
         block in all\n\
         load anchor \"fw\" from \"fw.conf\"\n",
        &[
            ("redirected", "in", "tcp", A, H, 80, "em0", "", "allow"),
            ("other", "in", "tcp", A, H, 81, "em0", "", "drop"),
        ],
    );
    check(
        "rdr-anchor-runtime",
        "rdr-anchor \"com.apple/*\"\n\
         block in all\n",
        &[("unknown", "in", "tcp", A, H, 80, "em0", "", "indeterminate")],
    );
}

/// OpenBSD 4.7 and later: "match: ... the translation options (nat-to,
/// rdr-to, binat-to) are applied immediately ... subsequent rules will
/// see the packet as it looks after the translation" — and a `pass` rule's
/// translation "is applied if the rule is the last matching rule".
#[test]
fn match_translations_of_the_newer_dialect() {
    check(
        "match-rdr-to",
        "match in on em0 proto tcp to port 80 rdr-to 127.0.0.1 port 8080\n\
         block in all\n\
         pass in proto tcp to 127.0.0.1 port 8080\n",
        &[
            ("redirected", "in", "tcp", A, H, 80, "em0", "", "allow"),
            ("direct", "in", "tcp", A, H, 8080, "em0", "", "drop"),
        ],
    );
    // A `pass` translates only when it is the last match, and decides on
    // the packet as it came; the crossing out sees the new destination.
    check(
        "pass-rdr-to",
        "block in all\n\
         pass in on em0 proto tcp to port 80 rdr-to 127.0.0.1 port 8080\n\
         block in proto tcp from 192.0.2.9\n",
        &[
            ("redirected", "in", "tcp", A, H, 80, "em0", "", "allow"),
            (
                "last-match-blocks",
                "in",
                "tcp",
                "192.0.2.9",
                H,
                80,
                "em0",
                "",
                "drop",
            ),
            ("direct", "in", "tcp", A, H, 8080, "em0", "", "drop"),
        ],
    );
    check(
        "pass-rdr-to-forwarded",
        "pass in on em0 proto tcp to port 80 rdr-to 10.0.0.5\n\
         block out all\n\
         pass out proto tcp to 10.0.0.5 port 80\n",
        &[(
            "out-sees-new-destination",
            "in",
            "tcp",
            A,
            H,
            80,
            "em0",
            "",
            "allow",
        )],
    );
    check(
        "pass-nat-to",
        "pass in all\n\
         block out on em1 all\n\
         pass out on em1 from 10.0.0.0/24 nat-to 203.0.113.5\n",
        &[
            (
                "natted",
                "fwd",
                "tcp",
                "10.0.0.7",
                "198.51.100.9",
                443,
                "em2",
                "em1",
                "allow",
            ),
            (
                "other",
                "fwd",
                "tcp",
                "10.0.1.7",
                "198.51.100.9",
                443,
                "em2",
                "em1",
                "drop",
            ),
        ],
    );
    // Behind a filter rule the earlier rules see the packet untranslated:
    // not modelled, so the packets it matches are indeterminate.
    check(
        "match-after-filter",
        "block in all\n\
         match in on em0 proto tcp to port 80 rdr-to 127.0.0.1 port 8080\n\
         pass in proto tcp to 127.0.0.1 port 8080\n",
        &[
            (
                "redirected",
                "in",
                "tcp",
                A,
                H,
                80,
                "em0",
                "",
                "indeterminate",
            ),
            ("untouched", "in", "tcp", A, H, 81, "em0", "", "drop"),
        ],
    );
}

/// `antispoof for lo0` as pfctl expands it: "block drop in on ! lo0 inet
/// from 127.0.0.0/8 to any" (and `::1` for inet6). Any other interface's
/// network is the running host's. — pf.conf(5), "antispoof"
#[test]
fn antispoof_for_the_loopback_is_exact() {
    check(
        "antispoof-lo",
        "antispoof quick for lo0\npass in all\n",
        &[
            (
                "spoofed",
                "in",
                "tcp",
                "127.0.0.1",
                H,
                22,
                "em0",
                "",
                "drop",
            ),
            ("honest", "in", "tcp", A, H, 22, "em0", "", "allow"),
        ],
    );
    check(
        "antispoof-other",
        "antispoof quick for em0\npass in all\n",
        &[("any", "in", "tcp", A, H, 22, "em1", "", "indeterminate")],
    );
}

/// `anchor "x/*"`: "the anchor's child anchors are evaluated in
/// alphabetical order" — pf.conf(5). Children loaded from files are
/// evaluated, in name order; a child the ruleset only names is filled at
/// run time (as macOS's `com.apple/*` children are).
#[test]
fn wildcard_anchors_evaluate_their_children_in_name_order() {
    check_with(
        "wildcard-children",
        &[
            ("b.conf", "pass in quick proto tcp to port 22\n"),
            ("a.conf", "block in quick proto tcp to port 22\n"),
        ],
        "pass in all\n\
         anchor \"x/*\"\n\
         load anchor \"x/b\" from \"b.conf\"\n\
         load anchor \"x/a\" from \"a.conf\"\n",
        &[
            // x/a comes first: its quick block decides.
            ("ssh", "in", "tcp", A, H, 22, "em0", "", "drop"),
            ("web", "in", "tcp", A, H, 80, "em0", "", "allow"),
        ],
    );
    check_with(
        "wildcard-named-only",
        &[("x.conf", "anchor \"c/*\"\n")],
        "pass in all\n\
         anchor \"x/*\"\n\
         load anchor \"x\" from \"x.conf\"\n",
        &[("ssh", "in", "tcp", A, H, 22, "em0", "", "indeterminate")],
    );
}
