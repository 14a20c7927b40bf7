//! What nft refuses in a rule that parses: its evaluation step checks each
//! value against its field's type and size, and each statement against what
//! the statements before it say about the packet (the protocol context).
//! A ruleset nft would not load is reported here, where it is, rather than
//! read into a model of a firewall that cannot exist.
//!
//! The rules follow nftables' `src/evaluate.c` and datatypes; each check
//! says which of its messages it stands for.

mod context;
mod options;
mod values;

pub(super) use context::{Net, RuleCtx};
pub(super) use options::{fib, inline_map, limit, log, queue, selector_words, tcp_option};
pub(super) use values::{is_duration, set_value};

#[cfg(test)]
mod tests {
    use crate::ErrorKind;

    /// The one error of a ruleset: line, column, kind, message.
    fn error_of(text: &str) -> (u32, u32, ErrorKind, String) {
        let parsed = crate::nft::parse("t.nft", text);
        assert_eq!(parsed.errors.len(), 1, "{:#?}", parsed.errors);
        let e = &parsed.errors[0];
        (e.line, e.column, e.kind, e.message.clone())
    }

    fn ruleset(family: &str, rule: &str) -> String {
        format!(
            "table {family} t {{\n\tchain c {{\n\t\ttype filter hook input priority 0;\n\t\t{rule}\n\t}}\n}}\n"
        )
    }

    /// The first error of a one-rule ruleset, if any.
    fn message(family: &str, rule: &str) -> Option<String> {
        crate::nft::parse("t.nft", &ruleset(family, rule))
            .errors
            .first()
            .map(|e| e.message.clone())
    }

    #[test]
    fn a_statement_after_a_terminal_one_is_refused_where_it_starts() {
        let (line, column, kind, message) = error_of(&ruleset("ip", "tcp dport 22 accept counter"));
        assert_eq!((line, column, kind), (4, 23, ErrorKind::InvalidValue));
        assert!(message.contains("after `accept`"), "{message}");
        // A comment is the rule's, not a statement.
        assert!(
            crate::nft::parse(
                "t.nft",
                &ruleset("ip", "tcp dport 22 accept comment \"ssh\"")
            )
            .errors
            .is_empty()
        );
    }

    #[test]
    fn reject_codes_and_families_follow_the_rule() {
        let refused = |family: &str, rule: &str| message(family, rule).is_some();
        assert!(refused("ip", "reject with icmpv6 no-route"));
        assert!(refused("ip", "reject with icmp no-route"));
        assert!(refused("ip", "reject with icmpx port-unreachable"));
        assert!(refused(
            "inet",
            "meta nfproto ipv6 reject with icmp host-unreachable"
        ));
        assert!(refused("inet", "meta l4proto udp reject with tcp reset"));
        assert!(refused("bridge", "ether type arp reject"));
        assert!(!refused("inet", "reject with icmpx port-unreachable"));
        assert!(!refused(
            "inet",
            "meta nfproto ipv4 reject with icmp host-unreachable"
        ));
        assert!(!refused("ip", "tcp dport 22 reject with tcp reset"));
        assert!(!refused("ip6", "reject with icmpv6 3"));
    }

    #[test]
    fn nat_needs_its_family_and_a_transport_protocol_for_a_port() {
        assert!(message("inet", "dnat to 1.2.3.4").is_some_and(|m| m.contains("disambiguate")));
        assert!(
            message("inet", "ip6 daddr dead::beef dnat to 10.1.2.3")
                .is_some_and(|m| m.contains("not an IPv6 address"))
        );
        assert!(
            message("ip", "redirect to :1234").is_some_and(|m| m.contains("transport protocol"))
        );
        assert_eq!(
            message("inet", "tcp dport 443 dnat ip6 to [dead::beef]:4443"),
            None
        );
        assert_eq!(message("ip", "ip protocol tcp redirect to :100-200"), None);
    }

    #[test]
    fn values_must_fit_their_fields() {
        assert!(message("bridge", "vlan id 4096").is_some_and(|m| m.contains("12 bits")));
        assert!(message("ip", "ct zone 65536").is_some_and(|m| m.contains("16 bits")));
        assert!(message("ip", "meta day 7 drop").is_some_and(|m| m.contains("at most 6")));
        assert!(message("ip", "meta hour \"24:00\" drop").is_some());
        assert!(message("ip", "ct expiration 1d-1h").is_some_and(|m| m.contains("backwards")));
        assert!(message("ip", "queue num 65536").is_some());
        assert_eq!(message("bridge", "vlan id { 1, 4095 } vlan pcp 1-3"), None);
        assert_eq!(message("ip", "ct mark 0x00000032-0x00000045"), None);
        assert_eq!(message("ip", "meta hour \"23:59:60\" drop"), None);
    }
}
