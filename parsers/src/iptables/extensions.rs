//! The match and target extensions whose options the model interprets, with
//! the rules iptables 1.8 applies to them: option names and aliases, how many
//! arguments each takes, which may be negated, which are required or
//! exclusive, and which protocol, table and hooks they need.
//!
//! Options of extensions that are not listed here are kept as text
//! ([`Match::Unknown`], [`Action::Unknown`]) without checks.

use super::values::{self, PortStyle};
use crate::model::{Action, Family, Hook, Match, Nat, RejectKind, tcp_flags};
use crate::values::{icmp, numbers, protocols, reject};

/// How many arguments an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arity {
    Flag,
    One,
    /// `--tcp-flags mask comp`, `--chunk-types all DATA`.
    Two,
}

/// What an option is, independent of which alias was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opt {
    SourcePort,
    DestinationPort,
    Syn,
    TcpFlags,
    TcpOption,
    ChunkTypes,
    DccpTypes,
    DccpOption,
    SourcePorts,
    DestinationPorts,
    Ports,
    CtState,
    CtProto,
    CtOrigSrc,
    CtOrigDst,
    CtReplSrc,
    CtReplDst,
    CtOrigSrcPort,
    CtOrigDstPort,
    CtReplSrcPort,
    CtReplDstPort,
    CtStatus,
    CtExpire,
    CtDir,
    State,
    Comment,
    SrcRange,
    DstRange,
    IcmpType,
    Icmpv6Type,
    // Targets.
    RejectWith,
    LogLevel,
    LogPrefix,
    LogTcpSequence,
    LogTcpOptions,
    LogIpOptions,
    LogUid,
    LogMacDecode,
    NflogGroup,
    NflogPrefix,
    NflogRange,
    NflogSize,
    NflogThreshold,
    ToDestination,
    ToSource,
    ToPorts,
    Random,
    RandomFully,
    Persistent,
    Notrack,
    Helper,
    Timeout,
    CtEvents,
    ExpEvents,
    Zone,
    ZoneOrig,
    ZoneReply,
    SetXmark,
    SetMark,
    AndMark,
    OrMark,
    XorMark,
}

/// One option of an extension.
#[derive(Debug)]
pub(super) struct OptSpec {
    /// Every spelling, with the leading `--`.
    pub names: &'static [&'static str],
    pub id: Opt,
    pub arity: Arity,
    /// May be preceded by `!`.
    pub invert: bool,
}

const fn opt(names: &'static [&'static str], id: Opt, arity: Arity, invert: bool) -> OptSpec {
    OptSpec {
        names,
        id,
        arity,
        invert,
    }
}

/// A match or target extension.
#[derive(Debug)]
pub(super) struct Extension {
    pub name: &'static str,
    /// `None`: both families.
    pub family: Option<Family>,
    pub options: &'static [OptSpec],
    /// iptables rejects the extension without any option (`-m conntrack`).
    pub needs_option: bool,
    /// An option that must be given (`--state` of `-m state`).
    pub mandatory: Option<Opt>,
    /// Groups of options of which at most one may be given.
    pub exclusive: &'static [&'static [Opt]],
    /// The rule must match exactly one of these protocols (`-m tcp` needs `-p tcp`).
    pub protocols: &'static [u8],
    /// Targets only: the table the target works in, if restricted.
    pub table: Option<&'static str>,
    /// Targets only: the hooks the target works in, if restricted.
    pub hooks: &'static [Hook],
}

const fn ext(name: &'static str, options: &'static [OptSpec]) -> Extension {
    Extension {
        name,
        family: None,
        options,
        needs_option: false,
        mandatory: None,
        exclusive: &[],
        protocols: &[],
        table: None,
        hooks: &[],
    }
}

use Arity::{Flag, One, Two};

const TCP_OPTS: &[OptSpec] = &[
    opt(&["--sport", "--source-port"], Opt::SourcePort, One, true),
    opt(
        &["--dport", "--destination-port"],
        Opt::DestinationPort,
        One,
        true,
    ),
    opt(&["--syn"], Opt::Syn, Flag, true),
    opt(&["--tcp-flags"], Opt::TcpFlags, Two, true),
    opt(&["--tcp-option"], Opt::TcpOption, One, true),
];
const UDP_OPTS: &[OptSpec] = &[
    opt(&["--sport", "--source-port"], Opt::SourcePort, One, true),
    opt(
        &["--dport", "--destination-port"],
        Opt::DestinationPort,
        One,
        true,
    ),
];
const SCTP_OPTS: &[OptSpec] = &[
    opt(&["--sport", "--source-port"], Opt::SourcePort, One, true),
    opt(
        &["--dport", "--destination-port"],
        Opt::DestinationPort,
        One,
        true,
    ),
    opt(&["--chunk-types"], Opt::ChunkTypes, Two, true),
];
const DCCP_OPTS: &[OptSpec] = &[
    opt(&["--sport", "--source-port"], Opt::SourcePort, One, true),
    opt(
        &["--dport", "--destination-port"],
        Opt::DestinationPort,
        One,
        true,
    ),
    opt(&["--dccp-types"], Opt::DccpTypes, One, true),
    opt(&["--dccp-option"], Opt::DccpOption, One, true),
];
const MULTIPORT_OPTS: &[OptSpec] = &[
    opt(&["--sports", "--source-ports"], Opt::SourcePorts, One, true),
    opt(
        &["--dports", "--destination-ports"],
        Opt::DestinationPorts,
        One,
        true,
    ),
    opt(&["--ports"], Opt::Ports, One, true),
];
const CONNTRACK_OPTS: &[OptSpec] = &[
    opt(&["--ctstate"], Opt::CtState, One, true),
    opt(&["--ctproto"], Opt::CtProto, One, true),
    opt(&["--ctorigsrc"], Opt::CtOrigSrc, One, true),
    opt(&["--ctorigdst"], Opt::CtOrigDst, One, true),
    opt(&["--ctreplsrc"], Opt::CtReplSrc, One, true),
    opt(&["--ctrepldst"], Opt::CtReplDst, One, true),
    opt(&["--ctorigsrcport"], Opt::CtOrigSrcPort, One, true),
    opt(&["--ctorigdstport"], Opt::CtOrigDstPort, One, true),
    opt(&["--ctreplsrcport"], Opt::CtReplSrcPort, One, true),
    opt(&["--ctrepldstport"], Opt::CtReplDstPort, One, true),
    opt(&["--ctstatus"], Opt::CtStatus, One, true),
    opt(&["--ctexpire"], Opt::CtExpire, One, true),
    opt(&["--ctdir"], Opt::CtDir, One, false),
];
const STATE_OPTS: &[OptSpec] = &[opt(&["--state"], Opt::State, One, true)];
const COMMENT_OPTS: &[OptSpec] = &[opt(&["--comment"], Opt::Comment, One, false)];
const IPRANGE_OPTS: &[OptSpec] = &[
    opt(&["--src-range"], Opt::SrcRange, One, true),
    opt(&["--dst-range"], Opt::DstRange, One, true),
];
const ICMP_OPTS: &[OptSpec] = &[opt(&["--icmp-type"], Opt::IcmpType, One, true)];
const ICMP6_OPTS: &[OptSpec] = &[opt(&["--icmpv6-type"], Opt::Icmpv6Type, One, true)];

/// The match extensions the model interprets.
pub(super) static MATCHES: &[Extension] = &[
    Extension {
        protocols: &[6],
        exclusive: &[&[Opt::Syn, Opt::TcpFlags]],
        ..ext("tcp", TCP_OPTS)
    },
    Extension {
        protocols: &[17],
        ..ext("udp", UDP_OPTS)
    },
    Extension {
        protocols: &[132],
        ..ext("sctp", SCTP_OPTS)
    },
    Extension {
        protocols: &[33],
        ..ext("dccp", DCCP_OPTS)
    },
    Extension {
        needs_option: true,
        exclusive: &[&[Opt::SourcePorts, Opt::DestinationPorts, Opt::Ports]],
        ..ext("multiport", MULTIPORT_OPTS)
    },
    Extension {
        needs_option: true,
        ..ext("conntrack", CONNTRACK_OPTS)
    },
    Extension {
        mandatory: Some(Opt::State),
        ..ext("state", STATE_OPTS)
    },
    Extension {
        mandatory: Some(Opt::Comment),
        ..ext("comment", COMMENT_OPTS)
    },
    Extension {
        needs_option: true,
        ..ext("iprange", IPRANGE_OPTS)
    },
    Extension {
        family: Some(Family::Ipv4),
        protocols: &[1],
        mandatory: Some(Opt::IcmpType),
        ..ext("icmp", ICMP_OPTS)
    },
    Extension {
        family: Some(Family::Ipv6),
        protocols: &[58],
        mandatory: Some(Opt::Icmpv6Type),
        ..ext("icmp6", ICMP6_OPTS)
    },
];

const NO_OPTS: &[OptSpec] = &[];
const REJECT_OPTS: &[OptSpec] = &[opt(&["--reject-with"], Opt::RejectWith, One, false)];
const LOG_OPTS: &[OptSpec] = &[
    opt(&["--log-level"], Opt::LogLevel, One, false),
    opt(&["--log-prefix"], Opt::LogPrefix, One, false),
    opt(&["--log-tcp-sequence"], Opt::LogTcpSequence, Flag, false),
    opt(&["--log-tcp-options"], Opt::LogTcpOptions, Flag, false),
    opt(&["--log-ip-options"], Opt::LogIpOptions, Flag, false),
    opt(&["--log-uid"], Opt::LogUid, Flag, false),
    opt(&["--log-macdecode"], Opt::LogMacDecode, Flag, false),
];
const NFLOG_OPTS: &[OptSpec] = &[
    opt(&["--nflog-group"], Opt::NflogGroup, One, false),
    opt(&["--nflog-prefix"], Opt::NflogPrefix, One, false),
    opt(&["--nflog-range"], Opt::NflogRange, One, false),
    opt(&["--nflog-size"], Opt::NflogSize, One, false),
    opt(&["--nflog-threshold"], Opt::NflogThreshold, One, false),
];
const DNAT_OPTS: &[OptSpec] = &[
    opt(&["--to-destination"], Opt::ToDestination, One, false),
    opt(&["--random"], Opt::Random, Flag, false),
    opt(&["--random-fully"], Opt::RandomFully, Flag, false),
    opt(&["--persistent"], Opt::Persistent, Flag, false),
];
const SNAT_OPTS: &[OptSpec] = &[
    opt(&["--to-source"], Opt::ToSource, One, false),
    opt(&["--random"], Opt::Random, Flag, false),
    opt(&["--random-fully"], Opt::RandomFully, Flag, false),
    opt(&["--persistent"], Opt::Persistent, Flag, false),
];
const MASQUERADE_OPTS: &[OptSpec] = &[
    opt(&["--to-ports"], Opt::ToPorts, One, false),
    opt(&["--random"], Opt::Random, Flag, false),
    opt(&["--random-fully"], Opt::RandomFully, Flag, false),
];
const REDIRECT_OPTS: &[OptSpec] = &[
    opt(&["--to-ports"], Opt::ToPorts, One, false),
    opt(&["--random"], Opt::Random, Flag, false),
];
const CT_OPTS: &[OptSpec] = &[
    opt(&["--notrack"], Opt::Notrack, Flag, false),
    opt(&["--helper"], Opt::Helper, One, false),
    opt(&["--timeout"], Opt::Timeout, One, false),
    opt(&["--ctevents"], Opt::CtEvents, One, false),
    opt(&["--expevents"], Opt::ExpEvents, One, false),
    opt(&["--zone"], Opt::Zone, One, false),
    opt(&["--zone-orig"], Opt::ZoneOrig, One, false),
    opt(&["--zone-reply"], Opt::ZoneReply, One, false),
];
const MARK_OPTS: &[OptSpec] = &[
    opt(&["--set-xmark"], Opt::SetXmark, One, false),
    opt(&["--set-mark"], Opt::SetMark, One, false),
    opt(&["--and-mark"], Opt::AndMark, One, false),
    opt(&["--or-mark"], Opt::OrMark, One, false),
    opt(&["--xor-mark"], Opt::XorMark, One, false),
];

const MARK_CHOICES: &[Opt] = &[
    Opt::SetXmark,
    Opt::SetMark,
    Opt::AndMark,
    Opt::OrMark,
    Opt::XorMark,
];

/// The target extensions the model interprets.
pub(super) static TARGETS: &[Extension] = &[
    ext("ACCEPT", NO_OPTS),
    ext("DROP", NO_OPTS),
    ext("RETURN", NO_OPTS),
    Extension {
        hooks: &[Hook::Input, Hook::Forward, Hook::Output],
        ..ext("REJECT", REJECT_OPTS)
    },
    ext("LOG", LOG_OPTS),
    Extension {
        exclusive: &[&[Opt::NflogRange, Opt::NflogSize]],
        ..ext("NFLOG", NFLOG_OPTS)
    },
    Extension {
        mandatory: Some(Opt::ToDestination),
        table: Some("nat"),
        hooks: &[Hook::Prerouting, Hook::Output],
        ..ext("DNAT", DNAT_OPTS)
    },
    Extension {
        mandatory: Some(Opt::ToSource),
        table: Some("nat"),
        hooks: &[Hook::Postrouting, Hook::Input],
        ..ext("SNAT", SNAT_OPTS)
    },
    Extension {
        table: Some("nat"),
        hooks: &[Hook::Postrouting],
        ..ext("MASQUERADE", MASQUERADE_OPTS)
    },
    Extension {
        table: Some("nat"),
        hooks: &[Hook::Prerouting, Hook::Output],
        ..ext("REDIRECT", REDIRECT_OPTS)
    },
    Extension {
        table: Some("raw"),
        ..ext("CT", CT_OPTS)
    },
    Extension {
        table: Some("raw"),
        ..ext("NOTRACK", NO_OPTS)
    },
    Extension {
        needs_option: true,
        exclusive: &[MARK_CHOICES],
        ..ext("MARK", MARK_OPTS)
    },
];

/// No extension: fills unused slots.
pub(super) static NONE: Extension = ext("", NO_OPTS);

pub(super) fn match_extension(name: &str) -> Option<&'static Extension> {
    MATCHES.iter().find(|e| e.name == name)
}

pub(super) fn target_extension(name: &str) -> Option<&'static Extension> {
    TARGETS.iter().find(|e| e.name == name)
}

impl Extension {
    pub(super) fn option(&self, name: &str) -> Option<&'static OptSpec> {
        // `self` is one of the statics above, so its options are too.
        let options: &'static [OptSpec] = self.options;
        options.iter().find(|o| o.names.contains(&name))
    }

    /// The name of `id` as written first in the spec, for messages.
    pub(super) fn option_name(&self, id: Opt) -> &'static str {
        let options: &'static [OptSpec] = self.options;
        options
            .iter()
            .find(|o| o.id == id)
            .and_then(|o| o.names.first().copied())
            .unwrap_or("?")
    }
}

/// The protocol a rule matches so far (`-p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Proto {
    pub given: bool,
    pub negated: bool,
    /// `None` for `all`.
    pub number: Option<u8>,
}

impl Proto {
    /// The rule matches exactly one of `protocols` (given and not negated).
    pub(super) fn is_one_of(&self, protocols: &[u8]) -> bool {
        self.given && !self.negated && self.number.is_some_and(|n| protocols.contains(&n))
    }
}

/// A set of [`Opt`]s, one bit each: an extension's options given so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct OptSet(u64);

// Every `Opt` needs a bit of the set.
const _: () = assert!((Opt::XorMark as u32) < u64::BITS);

impl OptSet {
    pub(super) fn insert(&mut self, id: Opt) {
        self.0 |= 1 << id as u32;
    }

    pub(super) fn contains(self, id: Opt) -> bool {
        self.0 & (1 << id as u32) != 0
    }

    pub(super) fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// An option as given in a rule, with its arguments (borrowed from the line).
#[derive(Debug, Clone)]
pub(super) struct Given<'t> {
    pub spec: &'static OptSpec,
    pub negated: bool,
    /// The first `argc` are given ([`Arity`] allows at most two).
    pub args: [&'t str; 2],
    pub argc: usize,
    /// The protocol when the option was read: multiport and NAT ports look
    /// at `-p` given before them, as iptables does.
    pub proto: Proto,
    /// Byte offset and length of the option in the line, for errors.
    pub at: (usize, usize),
}

impl Given<'_> {
    fn args(&self) -> &[&str] {
        self.args.get(..self.argc).unwrap_or(&[])
    }

    fn arg(&self) -> &str {
        self.args().first().copied().unwrap_or("")
    }

    /// Appends the option as text, for [`Match::Unknown`] and [`Action::Unknown`].
    fn write_text(&self, text: &mut String) {
        if self.negated {
            text.push_str("! ");
        }
        text.push_str(self.spec.names.first().copied().unwrap_or("?"));
        for a in self.args() {
            text.push(' ');
            if a.is_empty() || a.contains([' ', '\t', '"']) {
                text.push('"');
                text.push_str(&a.replace('"', "\\\""));
                text.push('"');
            } else {
                text.push_str(a);
            }
        }
    }
}

/// Interprets one option of match `ext`. `Ok(None)`: the option is valid and
/// adds nothing (never happens today, kept for options such as `--ctdir`
/// that a later model may read).
pub(super) fn match_option(
    ext: &Extension,
    given: &Given<'_>,
    family: Family,
) -> Result<Option<Match>, String> {
    let negated = given.negated;
    let arg = given.arg();
    let unknown = || {
        let mut text = String::with_capacity(ext.name.len() + 32);
        text.push_str(ext.name);
        text.push(' ');
        given.write_text(&mut text);
        Match::Unknown { text }
    };
    let style = if matches!(ext.name, "tcp" | "sctp") {
        PortStyle::CNumber
    } else {
        PortStyle::Decimal
    };
    let m = match given.spec.id {
        Opt::SourcePort => Match::SourcePort {
            negated,
            ports: smallvec::smallvec![values::port_range(arg, style)?],
        },
        Opt::DestinationPort => Match::DestinationPort {
            negated,
            ports: smallvec::smallvec![values::port_range(arg, style)?],
        },
        Opt::Syn => {
            use tcp_flags::*;
            Match::TcpFlags {
                negated,
                mask: FIN | SYN | RST | ACK,
                comp: SYN,
            }
        }
        Opt::TcpFlags => {
            let mask = values::tcp_flag_list(arg)?;
            let comp = values::tcp_flag_list(given.args().get(1).copied().unwrap_or(""))?;
            Match::TcpFlags {
                negated,
                mask,
                comp,
            }
        }
        Opt::TcpOption | Opt::DccpOption => {
            numbers::c_number(arg, 255)
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("`{arg}` is not an option number, expected 1-255"))?;
            unknown()
        }
        Opt::ChunkTypes => {
            if !matches!(arg, "all" | "any" | "only") {
                return Err(format!(
                    "unknown chunk match type `{arg}`, expected all, any or only"
                ));
            }
            unknown()
        }
        Opt::DccpTypes => unknown(),
        Opt::SourcePorts | Opt::DestinationPorts | Opt::Ports => {
            multiport_protocol(given.proto)?;
            let ports: crate::model::Ports = values::port_list(arg)?.into();
            match given.spec.id {
                Opt::SourcePorts => Match::SourcePort { negated, ports },
                Opt::DestinationPorts => Match::DestinationPort { negated, ports },
                _ => Match::AnyPort { negated, ports },
            }
        }
        Opt::CtState | Opt::State => match values::ct_states(arg, given.spec.id == Opt::CtState)? {
            Some(states) => Match::ConnState { negated, states },
            None => unknown(),
        },
        Opt::CtProto => {
            if protocols::protocol(arg)?.is_none() {
                let why = if negated {
                    "always matches"
                } else {
                    "never matches"
                };
                return Err(format!(
                    "`--ctproto {arg}` {why}, expected a protocol other than all/0"
                ));
            }
            unknown()
        }
        Opt::CtOrigSrc | Opt::CtOrigDst | Opt::CtReplSrc | Opt::CtReplDst => {
            values::network(arg, family)?;
            unknown()
        }
        Opt::CtOrigSrcPort | Opt::CtOrigDstPort | Opt::CtReplSrcPort | Opt::CtReplDstPort => {
            values::port_range(arg, PortStyle::Decimal)?;
            unknown()
        }
        Opt::CtStatus => {
            values::ct_statuses(arg)?;
            unknown()
        }
        Opt::CtExpire => {
            values::u32_range(arg)?;
            unknown()
        }
        Opt::CtDir => {
            if !arg.eq_ignore_ascii_case("ORIGINAL") && !arg.eq_ignore_ascii_case("REPLY") {
                return Err(format!(
                    "unknown direction `{arg}`, expected ORIGINAL or REPLY"
                ));
            }
            Match::ConnDirection {
                reply: arg.eq_ignore_ascii_case("REPLY"),
            }
        }
        Opt::Comment => Match::Comment {
            text: arg.to_string(),
        },
        Opt::SrcRange | Opt::DstRange => {
            let (start, end) = values::address_range(arg, family)?;
            if start > end {
                // iptables accepts it with a warning; it never matches.
                let mut text = format!("{} ", ext.name);
                given.write_text(&mut text);
                text.push_str(" (reversed range, never matches)");
                Match::Unknown { text }
            } else if given.spec.id == Opt::SrcRange {
                Match::SourceRange {
                    negated,
                    start,
                    end,
                }
            } else {
                Match::DestinationRange {
                    negated,
                    start,
                    end,
                }
            }
        }
        Opt::IcmpType | Opt::Icmpv6Type => {
            let (icmp_type, codes) = icmp::icmp_type(arg, given.spec.id == Opt::Icmpv6Type)?;
            Match::Icmp {
                negated,
                icmp_type,
                codes,
            }
        }
        _ => {
            return Err(format!(
                "option `{}` belongs to a target, not to match {}",
                given.spec.names.first().copied().unwrap_or("?"),
                ext.name
            ));
        }
    };
    Ok(Some(m))
}

fn multiport_protocol(proto: Proto) -> Result<(), String> {
    const PORT_PROTOCOLS: &[u8] = &[6, 17, 136, 132, 33];
    if proto.given && proto.negated {
        return Err("multiport cannot follow a negated `-p`, expected `-p tcp`, `-p udp`, `-p udplite`, `-p sctp` or `-p dccp`".into());
    }
    if !proto.is_one_of(PORT_PROTOCOLS) {
        return Err(
            "multiport needs `-p tcp`, `-p udp`, `-p udplite`, `-p sctp` or `-p dccp` before it"
                .into(),
        );
    }
    Ok(())
}

/// Everything a target needs to become an action.
pub(super) struct TargetInput<'g> {
    pub ext: &'static Extension,
    pub given: &'g [Given<'g>],
    pub family: Family,
    /// The protocol at the end of the rule (REJECT's tcp-reset checks it then).
    pub proto: Proto,
}

/// NAT ports need a protocol with ports (ICMP counts: its id is mapped).
fn nat_ports_allowed(proto: Proto, option: &str) -> Result<(), String> {
    if proto.is_one_of(&[6, 17, 132, 33, 1]) {
        Ok(())
    } else {
        Err(format!(
            "`{option}` with ports needs `-p tcp`, `-p udp`, `-p sctp` or `-p dccp` before the target"
        ))
    }
}

/// The action of a modelled target, from its options. Errors name the option
/// (by index into `given`) when one is at fault, else the target.
pub(super) fn target_action(input: &TargetInput<'_>) -> Result<Action, (Option<usize>, String)> {
    let TargetInput {
        ext,
        given,
        family,
        proto,
    } = *input;
    let find = |id: Opt| given.iter().position(|g| g.spec.id == id);
    let with_index = |i: usize| move |m: String| (Some(i), m);
    let unknown_text = || {
        let mut text = ext.name.to_string();
        for g in given {
            text.push(' ');
            g.write_text(&mut text);
        }
        text
    };
    // Values first, in the order given, so the first bad one is reported.
    for (i, g) in given.iter().enumerate() {
        let arg = g.arg();
        let checked: Result<(), String> = match g.spec.id {
            Opt::LogLevel => values::log_level(arg).map(|_| ()),
            Opt::NflogGroup | Opt::NflogThreshold => values::u16_value(arg).map(|_| ()),
            Opt::NflogRange | Opt::NflogSize => values::u32_value(arg).map(|_| ()),
            Opt::LogPrefix | Opt::NflogPrefix if arg.is_empty() => Err(format!(
                "`{}` needs a non-empty prefix",
                g.spec.names.first().copied().unwrap_or("?")
            )),
            Opt::SetXmark | Opt::SetMark => values::mark_mask(arg).map(|_| ()),
            Opt::AndMark | Opt::OrMark | Opt::XorMark => values::u32_value(arg).map(|_| ()),
            Opt::Zone | Opt::ZoneOrig | Opt::ZoneReply if arg.eq_ignore_ascii_case("mark") => {
                Ok(())
            }
            Opt::Zone | Opt::ZoneOrig | Opt::ZoneReply => values::u16_value(arg).map(|_| ()),
            Opt::CtEvents => events(
                arg,
                &[
                    "new",
                    "related",
                    "destroy",
                    "reply",
                    "assured",
                    "protoinfo",
                    "helper",
                    "mark",
                    "natseqinfo",
                    "secmark",
                ],
            ),
            Opt::ExpEvents => events(arg, &["new"]),
            _ => Ok(()),
        };
        checked.map_err(with_index(i))?;
    }
    let action = match ext.name {
        "ACCEPT" => Action::Accept,
        "DROP" => Action::Drop,
        "RETURN" => Action::Return,
        "NOTRACK" => Action::NoTrack,
        "LOG" | "NFLOG" | "MARK" => Action::Continue,
        "CT" => {
            if find(Opt::Notrack).is_some() {
                Action::NoTrack
            } else {
                Action::Continue
            }
        }
        "REJECT" => {
            let with = match find(Opt::RejectWith) {
                Some(i) => reject::by_name(given.get(i).map(Given::arg).unwrap_or(""), family)
                    .map_err(with_index(i))?,
                None if family == Family::Ipv6 => Some(RejectKind::Icmp6PortUnreachable),
                None => Some(RejectKind::IcmpPortUnreachable),
            };
            match with {
                Some(with) => {
                    if with.is_tcp_reset() && !proto.is_one_of(&[6]) {
                        let i = find(Opt::RejectWith);
                        return Err((i, "`--reject-with tcp-reset` needs `-p tcp`".into()));
                    }
                    Action::Reject { with }
                }
                // A valid kind the model has no variant for.
                None => Action::Unknown {
                    text: unknown_text(),
                },
            }
        }
        "DNAT" | "SNAT" => {
            let id = if ext.name == "DNAT" {
                Opt::ToDestination
            } else {
                Opt::ToSource
            };
            let Some(i) = find(id) else {
                return Err((
                    None,
                    format!("target {} needs `{}`", ext.name, ext.option_name(id)),
                ));
            };
            let g = given
                .get(i)
                .ok_or((None, String::from("internal: option index out of range")))?;
            let target =
                values::nat_target(g.arg(), family, ext.name == "DNAT").map_err(with_index(i))?;
            if target.ports.is_some() {
                nat_ports_allowed(g.proto, ext.option_name(id)).map_err(with_index(i))?;
            }
            let ports = target.ports.map(|p| p.range);
            if target.ports.is_some_and(|p| p.shift_base.is_some()) {
                // Ports shifted by an offset: not a mapping onto the range.
                Action::Unknown {
                    text: unknown_text(),
                }
            } else if ext.name == "DNAT" {
                Action::Nat(Nat::Dnat {
                    addr: target.addr,
                    ports,
                })
            } else {
                Action::Nat(Nat::Snat {
                    addr: target.addr,
                    ports,
                })
            }
        }
        "MASQUERADE" | "REDIRECT" => {
            let ports = match find(Opt::ToPorts) {
                Some(i) => {
                    let g = given
                        .get(i)
                        .ok_or((None, String::from("internal: option index out of range")))?;
                    nat_ports_allowed(g.proto, "--to-ports").map_err(with_index(i))?;
                    Some(
                        values::nat_ports(g.arg(), false)
                            .map_err(with_index(i))?
                            .range,
                    )
                }
                None => None,
            };
            if ext.name == "MASQUERADE" {
                Action::Nat(Nat::Masquerade { ports })
            } else {
                Action::Nat(Nat::Redirect { ports })
            }
        }
        _ => Action::Unknown {
            text: unknown_text(),
        },
    };
    Ok(action)
}

/// A comma-separated event list of the CT target.
fn events(text: &str, known: &[&str]) -> Result<(), String> {
    for item in text.split(',') {
        if !known.contains(&item) {
            return Err(format!(
                "unknown event `{item}` in `{text}`, expected {}",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

/// Targets that never decide a packet's fate and whose options are only
/// kept as text.
pub(super) const CONTINUE_TARGETS: &[&str] = &[
    "ULOG",
    "CONNMARK",
    "TCPMSS",
    "DSCP",
    "TOS",
    "TTL",
    "HL",
    "CLASSIFY",
    "CONNSECMARK",
    "SECMARK",
    "AUDIT",
    "CHECKSUM",
    "IDLETIMER",
    "LED",
    "RATEEST",
    "TRACE",
    "SET",
    "TCPOPTSTRIP",
    "ECN",
    "IPV4OPTSSTRIP",
    "TEE",
    "HMARK",
    "NETMAP_LOG",
    "LOGMARK",
    "SYSRQ",
    "DHCPMAC",
];

/// Targets that may decide a packet's fate but are not modelled.
pub(super) const UNKNOWN_TARGETS: &[&str] = &[
    "QUEUE",
    "NFQUEUE",
    "TPROXY",
    "SYNPROXY",
    "NETMAP",
    "CLUSTERIP",
    "TARPIT",
    "DELUDE",
    "CHAOS",
    "MIRROR",
    "DNPT",
    "SNPT",
    "ECHO",
    "STEAL",
    "RAWDNAT",
    "RAWSNAT",
    "IPMARK",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_name_is_unique_within_its_extension() {
        for e in MATCHES.iter().chain(TARGETS) {
            let mut names: Vec<&str> = e
                .options
                .iter()
                .flat_map(|o| o.names.iter().copied())
                .collect();
            let before = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), before, "{}", e.name);
            assert!(names.iter().all(|n| n.starts_with("--")), "{}", e.name);
        }
    }

    #[test]
    fn options_resolve_by_alias() {
        let tcp = match_extension("tcp").unwrap();
        assert_eq!(
            tcp.option("--destination-port").map(|o| o.id),
            Some(Opt::DestinationPort)
        );
        assert_eq!(tcp.option("--dports").map(|o| o.id), None);
        assert_eq!(
            match_extension("multiport")
                .unwrap()
                .option("--source-ports")
                .map(|o| o.id),
            Some(Opt::SourcePorts)
        );
        assert!(
            target_extension("DNAT")
                .unwrap()
                .option("--to-destination")
                .is_some()
        );
        assert!(
            target_extension("ACCEPT")
                .unwrap()
                .option("--to-destination")
                .is_none()
        );
    }
}
