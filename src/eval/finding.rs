//! What an evaluation says of the pieces of a question: each piece's
//! verdict and the rules behind it, and the two tests of pieces' regions
//! the evaluator and its readers share. Below `connection` (which makes
//! findings) and `resolve` (which sorts out the overlapping ones).

use super::program::{DPORT, DST, IIF, OIF, PROTO, SPORT, SRC};
use super::walk::{Decision, Region};
use std::rc::Rc;

/// What the initiating socket observes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Reject,
    Drop,
    Indeterminate,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Reject => "reject",
            Verdict::Drop => "drop",
            Verdict::Indeterminate => "indeterminate",
        }
    }
}

/// A piece of the question's region and what happens to its connections.
#[derive(Debug, Clone)]
pub struct Finding {
    pub region: Region,
    pub verdict: Verdict,
    /// The rules and policies that decided, in order, per phase. Shared by
    /// the pieces of one branch (a long block list makes thousands).
    pub decided: Rc<[Decision]>,
    /// Every rule that matched on the way, for `explain`.
    pub trail: Rc<[Decision]>,
    /// Rules with unmodelled matches whose outcome this piece depends on.
    pub assumed: Rc<[Decision]>,
    pub reason: Option<String>,
}

/// Pieces of the question that went the same way (the boxes of a chunk of
/// one branch), handed out together: what they share is made once, and a
/// reader that only counts and tests boxes builds no finding per box.
pub struct Pieces<'a> {
    pub boxes: Vec<Region>,
    pub verdict: Verdict,
    pub decided: &'a Rc<[Decision]>,
    pub trail: &'a Rc<[Decision]>,
    pub assumed: &'a Rc<[Decision]>,
    pub reason: &'a Option<String>,
}

impl Pieces<'_> {
    /// Each box as a finding of its own.
    pub fn into_findings(self) -> impl Iterator<Item = Finding> {
        let Pieces {
            boxes,
            verdict,
            decided,
            trail,
            assumed,
            reason,
        } = self;
        let (decided, trail, assumed, reason) = (
            decided.clone(),
            trail.clone(),
            assumed.clone(),
            reason.clone(),
        );
        boxes.into_iter().map(move |region| Finding {
            region,
            verdict,
            decided: decided.clone(),
            trail: trail.clone(),
            assumed: assumed.clone(),
            reason: reason.clone(),
        })
    }
}

/// Do two regions share a point? Allocates nothing.
pub fn overlaps(a: &Region, b: &Region) -> bool {
    // Ports first: requirements differ most there.
    [DPORT, PROTO, IIF, OIF, SPORT, SRC, DST]
        .iter()
        .all(|&d| a[d].intersects(&b[d]))
}

pub fn intersect(a: &Region, b: &Region) -> Option<Region> {
    let out: Region = std::array::from_fn(|d| a[d].intersect(&b[d]));
    out.iter().all(|s| !s.is_empty()).then_some(out)
}
