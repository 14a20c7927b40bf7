//! Statements and selectors kept as words, against what nft accepts of
//! them: `log`, `limit` and `queue` options, `fib` flags, TCP options,
//! `ipsec`, `osf`, and NAT maps written inline.

use crate::nft::parser::expr::number;
use crate::nft::vocab::FibFlag;

/// `log` options, as (keyword, value) pairs: nft's `stmt_evaluate_log`.
pub(in crate::nft::parser) fn log(opts: &[(&str, &str)]) -> Result<(), String> {
    let has = |k: &str| opts.iter().any(|(o, _)| *o == k);
    // `group`, `snaplen` and `queue-threshold` send to nflog; `level` and
    // `flags` are for the kernel log.
    let group = ["group", "snaplen", "queue-threshold"]
        .into_iter()
        .find(|k| has(k));
    if let Some(g) = group
        && let Some(k) = ["level", "flags"].into_iter().find(|k| has(k))
    {
        return Err(format!(
            "log: {k} and {g} are mutually exclusive ({g} sends to nflog, {k} is for the kernel log)"
        ));
    }
    if opts.iter().any(|(o, v)| *o == "level" && *v == "audit") && opts.len() > 1 {
        return Err("log level audit doesn't support any further options".into());
    }
    for (o, v) in opts {
        match *o {
            "prefix" if v.len() >= 128 => {
                return Err("log prefix is too long (at most 127 bytes)".into());
            }
            "level"
                if !matches!(
                    *v,
                    "emerg"
                        | "alert"
                        | "crit"
                        | "err"
                        | "warn"
                        | "notice"
                        | "info"
                        | "debug"
                        | "audit"
                ) =>
            {
                return Err(format!(
                    "unknown log level `{v}`, expected one of emerg, alert, crit, err, warn, notice, info, debug, audit"
                ));
            }
            "group" | "snaplen" | "queue-threshold" if number(v).is_none() => {
                return Err(format!("log {o}: expected a number, found `{v}`"));
            }
            "group" | "queue-threshold" if number(v).is_some_and(|n| n > 65535) => {
                return Err(format!("log {o} {v} exceeds 65535"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// `limit rate [over] N[/]UNIT [burst N UNIT]`: a packet rate takes a
/// burst in packets, a byte rate in bytes; byte units go up to mbytes.
pub(in crate::nft::parser) fn limit(words: &[&str]) -> Result<(), String> {
    if words.first() != Some(&"limit") {
        return Ok(());
    }
    // Glue the words back: `1 kbytes / second` and `1025bytes/second`.
    let text = words.join(" ");
    let Some(rest) = text.strip_prefix("limit rate") else {
        return Ok(());
    };
    let rest = rest.trim_start().trim_start_matches("over").trim_start();
    let (rate, burst) = match rest.split_once("burst") {
        Some((r, b)) => (r.trim(), Some(b.trim())),
        None => (rest.trim(), None),
    };
    if rate.starts_with('{') || rate.starts_with('@') || rate.starts_with('$') {
        return Err("limit rate takes one rate, not a set".into());
    }
    // Whether a unit counts bytes; `None` for one nft does not know.
    let counts_bytes = |unit: &str| match unit {
        "" | "packets" => Some(false),
        "bytes" | "kbytes" | "mbytes" => Some(true),
        _ => None,
    };
    let digits = |c: char| c.is_ascii_digit();
    let rate_unit = rate
        .trim_start_matches(digits)
        .trim()
        .split('/')
        .next()
        .unwrap_or("")
        .trim();
    let Some(bytes_rate) = counts_bytes(rate_unit) else {
        return Err(format!(
            "limit: unknown rate unit `{rate_unit}`, expected bytes, kbytes or mbytes"
        ));
    };
    if let Some(b) = burst {
        let unit = b
            .trim_start_matches(digits)
            .split_whitespace()
            .next()
            .unwrap_or("");
        let Some(bytes_burst) = counts_bytes(unit) else {
            return Err(format!("limit: unknown burst unit `{unit}`"));
        };
        if bytes_burst != bytes_rate {
            return Err(format!(
                "limit: a {} rate takes a burst in {}",
                if bytes_rate { "byte" } else { "packet" },
                if bytes_rate { "bytes" } else { "packets" }
            ));
        }
    }
    Ok(())
}

/// `queue [flags F] [num|to] N|A-B|EXPR`: nft's `stmt_evaluate_queue`.
pub(in crate::nft::parser) fn queue(words: &[&str]) -> Result<(), String> {
    let mut fanout = words.contains(&"fanout");
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        i += 1;
        if w == "flags" {
            // `flags bypass,fanout`
            while i < words.len() && (words[i] == "," || matches!(words[i], "bypass" | "fanout")) {
                fanout |= words[i] == "fanout";
                i += 1;
            }
            continue;
        }
        if w != "num" && w != "to" {
            continue;
        }
        let target = &words[i..];
        let Some(&first) = target.first() else {
            return Err(format!("queue {w}: expected a queue number"));
        };
        let plain = |s: &str| -> Option<(u64, u64)> {
            match s.split_once('-') {
                Some((a, b)) => Some((number(a)?, number(b)?)),
                None => number(s).map(|n| (n, n)),
            }
        };
        if let Some((a, b)) = plain(first) {
            if fanout && !first.contains('-') {
                return Err("queue fanout requires a range to be specified".into());
            }
            if b > 65535 || a > 65535 {
                return Err(format!("queue number {first} exceeds 65535"));
            }
            if a > b {
                return Err(format!("queue range {first} runs backwards"));
            }
            return Ok(());
        }
        if w == "num" {
            return Err(format!(
                "queue num takes a number or a range, found `{first}` (use `queue to EXPR`)"
            ));
        }
        if fanout {
            return Err("queue fanout requires a range to be specified".into());
        }
        // An expression: a hash or number generator bounded by `mod N
        // [offset M]`, or a map of queue numbers.
        if target.contains(&"map") {
            return Ok(());
        }
        if matches!(first, "jhash" | "symhash" | "numgen") {
            let after = |k: &str| {
                target
                    .iter()
                    .position(|t| *t == k)
                    .and_then(|p| target.get(p + 1))
                    .and_then(|n| number(n))
            };
            let max = after("mod")
                .unwrap_or(0)
                .saturating_sub(1)
                .saturating_add(after("offset").unwrap_or(0));
            if max > 65535 {
                return Err(format!(
                    "queue expression max value exceeds 65535 (it can reach {max})"
                ));
            }
            return Ok(());
        }
        return Err(format!(
            "queue expression max value exceeds 65535: `{first}` is not a queue number"
        ));
    }
    Ok(())
}

/// `fib FLAGS RESULT`: one of saddr and daddr; iif and oif exclude each other.
pub(in crate::nft::parser) fn fib(words: &[String]) -> Result<(), String> {
    let flags: Vec<&str> = words
        .get(1..words.len().saturating_sub(1))
        .unwrap_or(&[])
        .iter()
        .map(String::as_str)
        .filter(|w| *w != ".")
        .collect();
    let mut known = Vec::with_capacity(flags.len());
    for f in &flags {
        match FibFlag::from_word(f) {
            Some(flag) => known.push(flag),
            None => {
                return Err(format!(
                    "fib: unknown flag `{f}`, expected saddr, daddr, mark, iif or oif"
                ));
            }
        }
    }
    let has = |f: FibFlag| known.contains(&f);
    if has(FibFlag::Saddr) == has(FibFlag::Daddr) {
        return Err("fib: exactly one of saddr and daddr is required".into());
    }
    if has(FibFlag::Iif) && has(FibFlag::Oif) {
        return Err("fib: iif and oif are mutually exclusive".into());
    }
    Ok(())
}

/// A TCP option by name or kind, and the field read from it.
pub(in crate::nft::parser) fn tcp_option(name: &str, field: Option<&str>) -> Result<(), String> {
    let fields: &[&str] = match name {
        "eol" | "nop" | "noop" => &["kind"],
        "maxseg" | "mss" => &["kind", "length", "size"],
        "window" => &["kind", "length", "count"],
        "sack-perm" | "sack-permitted" | "fastopen" | "md5sig" => &["kind", "length"],
        "sack" | "sack0" | "sack1" | "sack2" | "sack3" => &["kind", "length", "left", "right"],
        "timestamp" => &["kind", "length", "tsval", "tsecr"],
        "mptcp" => &["kind", "length", "subtype"],
        _ if name.starts_with('@') => return Ok(()),
        _ => match number(name) {
            Some(n) if n <= 255 => return Ok(()),
            Some(_) => {
                return Err(format!(
                    "tcp option {name}: an option kind is a number from 0 to 255"
                ));
            }
            None => return Err(format!("unknown tcp option `{name}`")),
        },
    };
    match field {
        Some(f) if !fields.contains(&f) => Err(format!(
            "tcp option {name} has no field `{f}`, only {}",
            fields.join(", ")
        )),
        _ => Ok(()),
    }
}

/// The words of a selector kept as text (`tcp option sack left`, `ipsec in
/// spnum 3 reqid`, `osf ttl skip name`): what nft knows of each.
pub(in crate::nft::parser) fn selector_words(words: &[String]) -> Result<(), String> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["tcp", "option", name, rest @ ..] => tcp_option(name, rest.first().copied()),
        ["ipsec", dir, rest @ ..] => {
            if !matches!(*dir, "in" | "out") {
                return Err(format!("ipsec: expected `in` or `out`, found `{dir}`"));
            }
            if let Some(n) = rest.first().and_then(|r| r.strip_prefix("spnum "))
                && number(n).is_none_or(|n| n > 255)
            {
                return Err(format!("ipsec spnum {n}: a policy number is from 0 to 255"));
            }
            Ok(())
        }
        ["osf", "ttl", ttl, ..] if !matches!(*ttl, "loose" | "skip") => Err(format!(
            "osf ttl: expected `loose` or `skip`, found `{ttl}`"
        )),
        _ => Ok(()),
    }
}

/// The words of an expression ending in `map { KEY : DATA, ... }`: every
/// element has its data, and nothing but flags follows the map.
pub(in crate::nft::parser) fn inline_map(words: &[String]) -> Result<(), String> {
    let Some(open) = words
        .iter()
        .position(|w| w == "map")
        .filter(|m| words.get(m + 1).is_some_and(|w| w == "{"))
    else {
        return Ok(());
    };
    let mut depth = 0usize;
    let mut element_has_data = false;
    let mut element_empty = true;
    for (i, w) in words.iter().enumerate().skip(open + 1) {
        match w.as_str() {
            "{" => depth += 1,
            "}" | "," if depth == 1 => {
                if !element_empty && !element_has_data {
                    return Err("an element of a map needs `: data`".into());
                }
                element_has_data = false;
                element_empty = true;
                if w == "}" {
                    if let Some(extra) = words[i + 1..].iter().find(|x| {
                        !matches!(
                            x.as_str(),
                            "random" | "fully-random" | "persistent" | "netmap" | ","
                        )
                    }) {
                        return Err(format!("unexpected `{extra}` after the map"));
                    }
                    return Ok(());
                }
            }
            "}" => depth = depth.saturating_sub(1),
            _ => {
                element_empty = false;
                element_has_data |= w.starts_with(':')
                    || w.ends_with(':')
                    || w.get(1..).is_some_and(|r| r.contains(':')) && w.matches(':').count() == 1;
            }
        }
    }
    Ok(())
}
