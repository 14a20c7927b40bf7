//! Value readers both formats share: IP protocol names, ICMP type names,
//! reject kinds, and address ranges as networks.
//!
//! iptables and nftables name these things from the same kernel tables, so
//! each table is kept once here and both formats read from it: a name added
//! for one format is known to the other. The spellings only one format has
//! (its options, its keywords) stay with that format's parser.

pub(crate) mod icmp;
pub(crate) mod networks;
pub(crate) mod numbers;
pub(crate) mod protocols;
pub(crate) mod reject;

/// A value, or a message saying what was expected instead.
pub(crate) type ValueResult<T> = Result<T, String>;

/// `name` starts with `prefix`, ignoring ASCII case (C's `strncasecmp(prefix, name, strlen(prefix)) == 0`).
pub(crate) fn starts_with_ignore_case(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name
            .as_bytes()
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}
