//! How a requirement's part of a message reads: the one judgement the
//! sections, their order, their colour and the subject all follow.

/// How a requirement's section reads, worst first: the order of the
/// sections, and what the subject names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Mood {
    /// It passed and fails now.
    Broke,
    /// It fails at the first reading of its file.
    FailsAtStart,
    /// It still fails, as reported before.
    Still,
    /// The ruleset loaded in the kernel judges it otherwise than its file.
    Live,
    /// Some of its connections changed verdict; its result did not.
    Changed,
    /// It passes again.
    Recovered,
    /// It still fails, and a person accepted that as the baseline.
    Accepted,
    /// Not judged while its file does not parse.
    HeldBack,
}

impl Mood {
    /// Whether accepting the current state or reverting is worth offering.
    pub(super) fn actionable(self) -> bool {
        matches!(
            self,
            Mood::Broke | Mood::FailsAtStart | Mood::Still | Mood::Changed
        )
    }
}
