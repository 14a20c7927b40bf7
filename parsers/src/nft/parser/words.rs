//! What a word of a rule is, before the statement or expression that holds
//! it is read: a statement's first word, a range, a payload protocol, a
//! bare meta key. The statement and expression readers both ask.

use crate::nft::ast::Value;
use crate::nft::vocab::{MetaKey, PayloadProtocol};

/// Words that begin a statement. (Functions rather than lists: a `match`
/// compares lengths first, and these are asked about most words.)
pub(in crate::nft) fn is_statement_word(w: &str) -> bool {
    is_stop_word(w)
        || matches!(
            w,
            "xt" | "add" | "update" | "delete" | "flow" | "ct" | "meta" | "mark" | "set" | "vmap"
        )
}

/// Words that start a new statement after an expression (an effect's
/// value, a NAT mapping) that driftwall reads over without modelling.
pub(in crate::nft) fn is_stop_word(w: &str) -> bool {
    matches!(
        w,
        "accept"
            | "drop"
            | "reject"
            | "jump"
            | "goto"
            | "return"
            | "continue"
            | "queue"
            | "counter"
            | "log"
            | "limit"
            | "quota"
            | "comment"
            | "notrack"
            | "dnat"
            | "snat"
            | "masquerade"
            | "redirect"
            | "tproxy"
            | "synproxy"
            | "fwd"
            | "dup"
            | "meter"
    )
}

/// `1024-65535` or `10.0.0.1-10.0.0.9` is a range; `echo-request` is a name.
pub(in crate::nft) fn split_range(text: &str) -> Value {
    // A byte search: `split_once` would set up a memchr for these few bytes.
    if let Some((a, b)) = text
        .bytes()
        .position(|b| b == b'-')
        .map(|i| (&text[..i], &text[i + 1..]))
    {
        let number_like = |s: &str| {
            !s.is_empty()
                && (s.parse::<u64>().is_ok()
                    || s.parse::<std::net::IpAddr>().is_ok()
                    || s.parse::<i64>().is_ok())
        };
        if number_like(a) && number_like(b) {
            return Value::Range(a.into(), b.into());
        }
    }
    Value::Atom(text.into())
}

/// Protocols whose header fields a match can name (`tcp dport`, `ip saddr`).
pub(in crate::nft) fn is_payload_protocol(w: &str) -> bool {
    PayloadProtocol::from_word(w).is_some()
}

/// Meta keys that nft writes without `meta`.
pub(in crate::nft) fn is_bare_meta(w: &str) -> bool {
    MetaKey::from_word(w).is_some_and(MetaKey::is_bare)
}
