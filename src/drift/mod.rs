//! Drift: what changed between two versions of a ruleset ([`diff`]: rule by
//! rule, and for each requirement the connections whose verdict changes),
//! and for a watched source what a new text changes against what was read
//! before and the accepted baseline ([`assess`]), as events ([`event`]).
//!
//! Below the report, alert and daemon layers, which all read its values;
//! it imports none of them.

pub mod assess;
pub mod diff;
pub mod event;
pub mod sources;
pub mod text;
