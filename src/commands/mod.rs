//! One module per subcommand; each returns values for the report layer.

pub mod check;
pub mod diff;
pub mod explain;
pub mod policies;
pub mod probe;
pub mod test_email;
