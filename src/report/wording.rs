//! The words of the reports, shared by every renderer so that a finding
//! reads the same in the terminal, in SARIF and in a JUnit failure.

use crate::eval::Verdict;
use crate::policy::Expect;
use crate::policy::check::{Culprit, CulpritKind, Failure, RequirementResult, Status};

fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Allow => "let through",
        Verdict::Reject => "rejected",
        Verdict::Drop => "dropped",
        Verdict::Indeterminate => "indeterminate",
    }
}

/// One line for a failing connection of a requirement.
pub(crate) fn headline(r: &RequirementResult, f: &Failure) -> String {
    let mut dir = format!("{:?}", f.direction).to_lowercase();
    if let [spec] = r.direction.as_slice()
        && spec.is_relative()
    {
        dir = format!("{dir} ({})", spec.name());
    }
    let want = match r.expect {
        Expect::Allow => "must be allowed",
        Expect::Deny => "must be denied",
    };
    let what = format!(
        "{dir} {} {} ({})",
        f.witness.protocol,
        r.ports,
        f.family.name()
    );
    match f.status {
        Status::Indeterminate => format!(
            "{}/{}: {what} {want}, but the result depends on rules driftwall cannot model",
            r.policy, r.requirement
        ),
        _ => format!(
            "{}/{}: {what} {want}, but some connections are {}",
            r.policy,
            r.requirement,
            verdict_words(f.verdict)
        ),
    }
}

/// What a culprit did to the connection, for labels.
pub(crate) fn culprit_role(c: &Culprit, verdict: Verdict) -> String {
    let did = match verdict {
        Verdict::Allow => "lets through",
        Verdict::Drop => "drops",
        Verdict::Reject => "rejects",
        Verdict::Indeterminate => "cannot be modelled, and decides",
    };
    match c.kind {
        CulpritKind::Policy => format!("the policy of {} {} {did} {}", c.table, c.chain, c.phase),
        CulpritKind::Rule => format!("{did} {} ({} {})", c.phase, c.table, c.chain),
    }
}
