//! The words of the nft language that name what a rule looks at: payload
//! protocols and their fields, meta and ct keys, connection states, TCP
//! flags, the kinds of `reject with`, and the flags and results of `fib`.
//!
//! The parser, its fast path, its checks, the JSON reader and the lowering
//! all read these words; each used to spell them out, so a word added in one
//! place could be missing in another. Here each is a variant with one
//! spelling, and the readers match on variants: a misspelt variant does not
//! compile, where a misspelt literal silently never matched.
//!
//! The syntax tree keeps the words as text (a JSON document may name keys
//! this list does not know); [`Key`] is how a selector reads as these words.

use crate::model::{self, CtStates};
use crate::nft::ast::Selector;

/// A word that is not one of a vocabulary's keywords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownWord;

/// An enum of keywords: each variant with its word (and the other words
/// nft accepts for it, after `|`), `ALL`, `as_str`, `from_word` and
/// `FromStr`. `from_word` tries the words in the order of the variants, so
/// where the order means nothing to nft the words rules use most come first.
macro_rules! keywords {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $word:literal $(| $alias:literal)*,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        // Not every vocabulary needs every reader.
        #[allow(dead_code)]
        impl $name {
            /// Every keyword, in the order of the variants.
            pub(crate) const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The keyword as nft writes it.
            pub(crate) const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }

            /// The keyword `word` is, if it is one. Inlined: where a caller
            /// compares the result with one keyword, the compiler can keep
            /// only that word's comparison.
            #[inline]
            pub(crate) fn from_word(word: &str) -> Option<$name> {
                match word {
                    $($word $(| $alias)* => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Every keyword's word, in the order of `ALL`.
            pub(crate) fn words() -> Vec<String> {
                $name::ALL.iter().map(|k| k.as_str().to_string()).collect()
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownWord;
            fn from_str(word: &str) -> Result<$name, UnknownWord> {
                $name::from_word(word).ok_or(UnknownWord)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keywords! {
    /// Protocols whose header fields a match names (`tcp dport`, `ip saddr`).
    PayloadProtocol {
        Ip = "ip",
        Ip6 = "ip6",
        Tcp = "tcp",
        Udp = "udp",
        Icmp = "icmp",
        Icmpv6 = "icmpv6",
        Udplite = "udplite",
        Th = "th",
        Sctp = "sctp",
        Dccp = "dccp",
        Igmp = "igmp",
        Ether = "ether",
        Vlan = "vlan",
        Arp = "arp",
        Ah = "ah",
        Esp = "esp",
        Comp = "comp",
        Ipcomp = "ipcomp",
        Dst = "dst",
        Hbh = "hbh",
        Frag = "frag",
        Rt = "rt",
        Rt0 = "rt0",
        Rt2 = "rt2",
        Rt4 = "rt4",
        Mh = "mh",
        Srh = "srh",
        Gre = "gre",
        Gretap = "gretap",
        Geneve = "geneve",
        Vxlan = "vxlan",
        Auth = "auth",
    }
}

keywords! {
    /// Header fields the parser checks or the lowering and checks read.
    PayloadField {
        Saddr = "saddr",
        Daddr = "daddr",
        Sport = "sport",
        Dport = "dport",
        Type = "type",
        Code = "code",
        Flags = "flags",
        Protocol = "protocol",
        Nexthdr = "nexthdr",
        Sequence = "sequence",
        Ackseq = "ackseq",
        Doff = "doff",
        Reserved = "reserved",
        Window = "window",
        Checksum = "checksum",
        Urgptr = "urgptr",
        Length = "length",
        Csumcov = "csumcov",
        Vtag = "vtag",
        Version = "version",
        Hdrlength = "hdrlength",
        Dscp = "dscp",
        Ecn = "ecn",
        Id = "id",
        FragOff = "frag-off",
        Ttl = "ttl",
        Flowlabel = "flowlabel",
        Hoplimit = "hoplimit",
        Gateway = "gateway",
        Mtu = "mtu",
        ParameterProblem = "parameter-problem",
        PacketTooBig = "packet-too-big",
        MaxDelay = "max-delay",
        Taddr = "taddr",
        /// `srh last-entry`
        LastEntry = "last-entry",
        /// `srh tag`
        Tag = "tag",
    }
}

impl PayloadProtocol {
    /// The fields nft knows for the protocol, in nft's order; empty for
    /// the headers whose fields are taken as written and left unmodelled.
    pub(crate) fn fields(self) -> &'static [PayloadField] {
        use PayloadField::*;
        use PayloadProtocol as P;
        match self {
            P::Tcp => &[
                Sport, Dport, Sequence, Ackseq, Doff, Reserved, Flags, Window, Checksum, Urgptr,
            ],
            P::Udp | P::Udplite => &[Sport, Dport, Length, Checksum, Csumcov],
            P::Th => &[Sport, Dport],
            P::Sctp => &[Sport, Dport, Vtag, Checksum],
            P::Dccp => &[Sport, Dport, Type],
            P::Ip => &[
                Version, Hdrlength, Dscp, Ecn, Length, Id, FragOff, Ttl, Protocol, Checksum, Saddr,
                Daddr,
            ],
            P::Ip6 => &[
                Version, Dscp, Ecn, Flowlabel, Length, Nexthdr, Hoplimit, Saddr, Daddr,
            ],
            P::Icmp => &[Type, Code, Checksum, Id, Sequence, Gateway, Mtu],
            P::Icmpv6 => &[
                Type,
                Code,
                Checksum,
                ParameterProblem,
                PacketTooBig,
                Mtu,
                Id,
                Sequence,
                MaxDelay,
                Taddr,
                Daddr,
            ],
            P::Igmp
            | P::Ether
            | P::Vlan
            | P::Arp
            | P::Ah
            | P::Esp
            | P::Comp
            | P::Ipcomp
            | P::Dst
            | P::Hbh
            | P::Frag
            | P::Rt
            | P::Rt0
            | P::Rt2
            | P::Rt4
            | P::Mh
            | P::Srh
            | P::Gre
            | P::Gretap
            | P::Geneve
            | P::Vxlan
            | P::Auth => &[],
        }
    }
}

keywords! {
    /// Meta keys (`meta l4proto`, `iifname`).
    MetaKey {
        L4proto = "l4proto",
        Iifname = "iifname",
        Oifname = "oifname",
        Nfproto = "nfproto",
        Iif = "iif",
        Oif = "oif",
        Mark = "mark",
        Iiftype = "iiftype",
        Oiftype = "oiftype",
        Pkttype = "pkttype",
        Skuid = "skuid",
        Skgid = "skgid",
        Cpu = "cpu",
        Cgroup = "cgroup",
        Iifgroup = "iifgroup",
        Oifgroup = "oifgroup",
        Rtclassid = "rtclassid",
        Ibrname = "ibrname",
        Obrname = "obrname",
        Ibriport = "ibriport",
        Obriport = "obriport",
        Secpath = "secpath",
        Priority = "priority",
        Length = "length",
        Random = "random",
        Time = "time",
        Day = "day",
        Hour = "hour",
        Iifkind = "iifkind",
        Oifkind = "oifkind",
        Broute = "broute",
        Sdif = "sdif",
        Sdifname = "sdifname",
        Protocol = "protocol",
        Ipsec = "ipsec",
        Nftrace = "nftrace",
        Secmark = "secmark",
        Ibrpvid = "ibrpvid",
        Ibrvproto = "ibrvproto",
        Ibrhwaddr = "ibrhwaddr",
    }
}

impl MetaKey {
    /// Whether nft writes the key without `meta` (`iifname`, `mark`).
    pub(crate) fn is_bare(self) -> bool {
        !matches!(
            self,
            MetaKey::Protocol
                | MetaKey::Ipsec
                | MetaKey::Nftrace
                | MetaKey::Secmark
                | MetaKey::Ibrpvid
                | MetaKey::Ibrvproto
                | MetaKey::Ibrhwaddr
        )
    }
}

keywords! {
    /// Conntrack keys (`ct state`, `ct original saddr`).
    CtKey {
        State = "state",
        Direction = "direction",
        Status = "status",
        Mark = "mark",
        Expiration = "expiration",
        Helper = "helper",
        L3proto = "l3proto",
        Protocol = "protocol",
        Saddr = "saddr",
        Daddr = "daddr",
        ProtoSrc = "proto-src",
        ProtoDst = "proto-dst",
        Bytes = "bytes",
        Packets = "packets",
        Avgpkt = "avgpkt",
        Zone = "zone",
        Label = "label",
        Event = "event",
        Secmark = "secmark",
        Id = "id",
        Timeout = "timeout",
        Expectation = "expectation",
        Ip = "ip",
        Ip6 = "ip6",
    }
}

impl CtKey {
    /// Whether the key exists per direction (`ct original saddr`, `ct
    /// reply bytes`); `ct original mark` does not.
    pub(crate) fn takes_direction(self) -> bool {
        matches!(
            self,
            CtKey::Ip
                | CtKey::Ip6
                | CtKey::Saddr
                | CtKey::Daddr
                | CtKey::ProtoSrc
                | CtKey::ProtoDst
                | CtKey::Bytes
                | CtKey::Packets
                | CtKey::Avgpkt
                | CtKey::Zone
                | CtKey::L3proto
                | CtKey::Protocol
        )
    }
}

keywords! {
    /// The directions of a connection a ct key can be asked for.
    CtDirection {
        Original = "original",
        Reply = "reply",
    }
}

keywords! {
    /// Connection states (`ct state established,related`), in the order nft
    /// lists them: a whole-value comparison's mask is written in this order.
    CtState {
        Invalid = "invalid",
        Established = "established",
        Related = "related",
        New = "new",
        Untracked = "untracked",
    }
}

impl CtState {
    /// The state's bit in the kernel (`ct state 0x2` is established).
    pub(crate) fn kernel_bit(self) -> u32 {
        match self {
            CtState::Invalid => 1,
            CtState::Established => 2,
            CtState::Related => 4,
            CtState::New => 8,
            CtState::Untracked => 64,
        }
    }

    /// The state in the model.
    pub(crate) fn states(self) -> CtStates {
        match self {
            CtState::Invalid => CtStates::INVALID,
            CtState::Established => CtStates::ESTABLISHED,
            CtState::Related => CtStates::RELATED,
            CtState::New => CtStates::NEW,
            CtState::Untracked => CtStates::UNTRACKED,
        }
    }
}

keywords! {
    /// TCP flags (`tcp flags syn`), in the order of their bits.
    TcpFlag {
        Fin = "fin",
        Syn = "syn",
        Rst = "rst",
        Psh = "psh",
        Ack = "ack",
        Urg = "urg",
        Ecn = "ecn",
        Cwr = "cwr",
    }
}

impl TcpFlag {
    /// The flag's bit in the TCP header.
    pub(crate) fn bit(self) -> u8 {
        use model::tcp_flags::*;
        match self {
            TcpFlag::Fin => FIN,
            TcpFlag::Syn => SYN,
            TcpFlag::Rst => RST,
            TcpFlag::Psh => PSH,
            TcpFlag::Ack => ACK,
            TcpFlag::Urg => URG,
            TcpFlag::Ecn => ECE,
            TcpFlag::Cwr => CWR,
        }
    }
}

keywords! {
    /// What `reject with` answers with: a TCP reset, or an ICMP error of
    /// one family or of the packet's (`icmpx`).
    RejectWith {
        Tcp = "tcp",
        Icmp = "icmp",
        Icmpv6 = "icmpv6" | "icmp6",
        Icmpx = "icmpx",
    }
}

keywords! {
    /// What a `fib` lookup is keyed by (`fib saddr . iif`).
    FibFlag {
        Saddr = "saddr",
        Daddr = "daddr",
        Mark = "mark",
        Iif = "iif",
        Oif = "oif",
    }
}

keywords! {
    /// What a `fib` lookup gives (`fib daddr type`), the word that ends it.
    FibResult {
        Oif = "oif",
        Oifname = "oifname",
        Type = "type",
        Check = "check",
    }
}

/// What a selector names, as the words above: the form the checks and the
/// lowering match on. A word outside the vocabulary (a payload field of a
/// header nft leaves unchecked, a meta key only JSON names) is no key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Payload(PayloadProtocol, PayloadField),
    Meta(MetaKey),
    Ct(CtKey),
}

/// `tcp flags`, which the readers treat as flags rather than a number.
pub(crate) const TCP_FLAGS: Key = Key::Payload(PayloadProtocol::Tcp, PayloadField::Flags);

impl Key {
    /// The key a selector names, if the vocabulary has its words.
    pub(crate) fn of(sel: &Selector) -> Option<Key> {
        match sel {
            Selector::Payload { protocol, field } => Some(Key::Payload(
                PayloadProtocol::from_word(protocol)?,
                PayloadField::from_word(field)?,
            )),
            Selector::Meta(key) => MetaKey::from_word(key).map(Key::Meta),
            Selector::Ct(key) => CtKey::from_word(key).map(Key::Ct),
            Selector::Other(_) => None,
        }
    }
}

/// The protocol of a payload selector, if it is one the vocabulary knows.
pub(crate) fn payload_protocol(sel: &Selector) -> Option<PayloadProtocol> {
    match sel {
        Selector::Payload { protocol, .. } => PayloadProtocol::from_word(protocol),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every keyword reads back as itself, by `from_word` and by `parse`,
    /// and no two share a word.
    fn round_trip<K>(all: &[K], as_str: fn(K) -> &'static str, from_word: fn(&str) -> Option<K>)
    where
        K: Copy + PartialEq + std::fmt::Debug + std::str::FromStr<Err = UnknownWord>,
    {
        for &k in all {
            assert_eq!(from_word(as_str(k)), Some(k), "{k:?}");
            assert_eq!(as_str(k).parse::<K>(), Ok(k), "{k:?}");
        }
        let mut words: Vec<&str> = all.iter().map(|&k| as_str(k)).collect();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), all.len(), "a word names two keywords");
    }

    #[test]
    fn every_keyword_reads_back_as_itself() {
        round_trip(
            PayloadProtocol::ALL,
            PayloadProtocol::as_str,
            PayloadProtocol::from_word,
        );
        round_trip(
            PayloadField::ALL,
            PayloadField::as_str,
            PayloadField::from_word,
        );
        round_trip(MetaKey::ALL, MetaKey::as_str, MetaKey::from_word);
        round_trip(CtKey::ALL, CtKey::as_str, CtKey::from_word);
        round_trip(
            CtDirection::ALL,
            CtDirection::as_str,
            CtDirection::from_word,
        );
        round_trip(CtState::ALL, CtState::as_str, CtState::from_word);
        round_trip(TcpFlag::ALL, TcpFlag::as_str, TcpFlag::from_word);
        round_trip(RejectWith::ALL, RejectWith::as_str, RejectWith::from_word);
        round_trip(FibFlag::ALL, FibFlag::as_str, FibFlag::from_word);
        round_trip(FibResult::ALL, FibResult::as_str, FibResult::from_word);
        assert_eq!(CtState::Established.to_string(), "established");
    }

    #[test]
    fn unknown_words_are_refused() {
        for word in [
            "",
            "SADDR",
            "saddr ",
            "established,related",
            "bogus",
            "ip6 ",
        ] {
            assert_eq!(PayloadField::from_word(word), None, "{word:?}");
            assert_eq!(word.parse::<CtState>(), Err(UnknownWord), "{word:?}");
            assert_eq!(word.parse::<TcpFlag>(), Err(UnknownWord), "{word:?}");
        }
        assert_eq!(PayloadProtocol::from_word("icmp6"), None);
        assert_eq!(MetaKey::from_word("count"), None);
        assert_eq!(CtKey::from_word("original"), None);
        assert_eq!(CtDirection::from_word("state"), None);
        assert_eq!(RejectWith::from_word("reset"), None);
        assert_eq!("tcp-reset".parse::<RejectWith>(), Err(UnknownWord));
    }

    /// Words next to keywords (one byte changed, one more or one fewer)
    /// are read exactly when they are keywords themselves.
    #[test]
    fn words_near_keywords_are_not_taken_for_them() {
        fn near<K: Copy + PartialEq + std::fmt::Debug>(
            all: &[K],
            as_str: fn(K) -> &'static str,
            from_word: fn(&str) -> Option<K>,
        ) {
            let linear = |w: &str| all.iter().copied().find(|k| as_str(*k) == w);
            for &k in all {
                let word = as_str(k);
                let mut tries = vec![
                    format!("{word}x"),
                    format!("x{word}"),
                    word[1..].to_string(),
                    word[..word.len() - 1].to_string(),
                ];
                for i in 0..word.len() {
                    let mut bytes = word.as_bytes().to_vec();
                    bytes[i] = if bytes[i] == b'z' { b'a' } else { bytes[i] + 1 };
                    tries.push(String::from_utf8_lossy(&bytes).into_owned());
                }
                for t in tries {
                    assert_eq!(from_word(&t), linear(&t), "{t:?} near {word:?}");
                }
            }
        }
        near(
            PayloadProtocol::ALL,
            PayloadProtocol::as_str,
            PayloadProtocol::from_word,
        );
        near(
            PayloadField::ALL,
            PayloadField::as_str,
            PayloadField::from_word,
        );
        near(MetaKey::ALL, MetaKey::as_str, MetaKey::from_word);
        near(CtKey::ALL, CtKey::as_str, CtKey::from_word);
        near(
            CtDirection::ALL,
            CtDirection::as_str,
            CtDirection::from_word,
        );
        near(CtState::ALL, CtState::as_str, CtState::from_word);
        near(TcpFlag::ALL, TcpFlag::as_str, TcpFlag::from_word);
        near(FibFlag::ALL, FibFlag::as_str, FibFlag::from_word);
        near(FibResult::ALL, FibResult::as_str, FibResult::from_word);
    }

    #[test]
    fn aliases_read_as_their_keyword() {
        assert_eq!(RejectWith::from_word("icmp6"), Some(RejectWith::Icmpv6));
        assert_eq!(RejectWith::Icmpv6.as_str(), "icmpv6");
    }

    #[test]
    fn every_field_of_a_protocol_is_a_field() {
        for p in PayloadProtocol::ALL {
            for f in p.fields() {
                assert_eq!(PayloadField::from_word(f.as_str()), Some(*f), "{p} {f}");
            }
        }
    }

    #[test]
    fn ct_states_carry_the_kernel_bits_and_the_model_states() {
        let bits: u32 = CtState::ALL.iter().map(|s| s.kernel_bit()).sum();
        assert_eq!(bits, 1 | 2 | 4 | 8 | 64);
        let all = CtState::ALL
            .iter()
            .fold(CtStates::default(), |a, s| a.union(s.states()));
        assert_eq!(all, CtStates::ALL);
        let flags = TcpFlag::ALL.iter().fold(0u8, |a, f| a | f.bit());
        assert_eq!(flags, 0xff);
    }

    #[test]
    fn selectors_read_as_keys() {
        let payload = Selector::Payload {
            protocol: "ip".into(),
            field: "saddr".into(),
        };
        assert_eq!(
            Key::of(&payload),
            Some(Key::Payload(PayloadProtocol::Ip, PayloadField::Saddr))
        );
        assert_eq!(
            Key::of(&Selector::Ct("state".into())),
            Some(Key::Ct(CtKey::State))
        );
        assert_eq!(
            Key::of(&Selector::Meta("l4proto".into())),
            Some(Key::Meta(MetaKey::L4proto))
        );
        let odd = Selector::Payload {
            protocol: "vlan".into(),
            field: "pcp".into(),
        };
        assert_eq!(Key::of(&odd), None);
        assert_eq!(payload_protocol(&odd), Some(PayloadProtocol::Vlan));
        assert_eq!(Key::of(&Selector::Other("fib daddr type".into())), None);
    }
}
