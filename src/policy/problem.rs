//! Problems in a policy file (and in the daemon's configuration, which is
//! validated the same way): each at its place, with a stable code that
//! every report shows (README.md, "Diagnostics").

/// What kind of problem a policy file has. The codes are stable: CI
/// configurations and people's notes refer to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum PolicyCode {
    /// The file is not YAML.
    #[serde(rename = "policy::bad-yaml")]
    BadYaml,
    /// A key the format does not know (a typo, or a newer version's key).
    #[serde(rename = "policy::unknown-key")]
    UnknownKey,
    /// A key given twice in one mapping.
    #[serde(rename = "policy::duplicate-key")]
    DuplicateKey,
    /// A required key is absent.
    #[serde(rename = "policy::missing-key")]
    MissingKey,
    /// Two requirements of one policy have the same id.
    #[serde(rename = "policy::duplicate-id")]
    DuplicateId,
    /// A port or port range that is not one.
    #[serde(rename = "policy::bad-port")]
    BadPort,
    /// A protocol other than tcp or udp.
    #[serde(rename = "policy::bad-protocol")]
    BadProtocol,
    /// An address or network that is not one.
    #[serde(rename = "policy::bad-address")]
    BadAddress,
    /// An interface name that cannot be one.
    #[serde(rename = "policy::bad-interface")]
    BadInterface,
    /// A direction that is unknown, or makes no sense for the role or with
    /// the requirement's other keys.
    #[serde(rename = "policy::bad-direction")]
    BadDirection,
    /// A catalog row that does not exist, or does not fit the requirement.
    #[serde(rename = "policy::bad-catalog-row")]
    BadCatalogRow,
    /// Keys that cannot be given together.
    #[serde(rename = "policy::conflicting-keys")]
    ConflictingKeys,
    /// A value of the wrong kind or outside what the key accepts.
    #[serde(rename = "policy::bad-value")]
    BadValue,
    /// `apple:<name>` names no shipped policy.
    #[serde(rename = "policy::unknown-policy")]
    UnknownPolicy,
}

impl PolicyCode {
    /// Every code, in the order of README.md's table.
    pub const ALL: &[PolicyCode] = &[
        PolicyCode::BadYaml,
        PolicyCode::UnknownKey,
        PolicyCode::DuplicateKey,
        PolicyCode::MissingKey,
        PolicyCode::DuplicateId,
        PolicyCode::BadPort,
        PolicyCode::BadProtocol,
        PolicyCode::BadAddress,
        PolicyCode::BadInterface,
        PolicyCode::BadDirection,
        PolicyCode::BadCatalogRow,
        PolicyCode::ConflictingKeys,
        PolicyCode::BadValue,
        PolicyCode::UnknownPolicy,
    ];

    /// The code as reports show it, e.g. `policy::unknown-key`.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyCode::BadYaml => "policy::bad-yaml",
            PolicyCode::UnknownKey => "policy::unknown-key",
            PolicyCode::DuplicateKey => "policy::duplicate-key",
            PolicyCode::MissingKey => "policy::missing-key",
            PolicyCode::DuplicateId => "policy::duplicate-id",
            PolicyCode::BadPort => "policy::bad-port",
            PolicyCode::BadProtocol => "policy::bad-protocol",
            PolicyCode::BadAddress => "policy::bad-address",
            PolicyCode::BadInterface => "policy::bad-interface",
            PolicyCode::BadDirection => "policy::bad-direction",
            PolicyCode::BadCatalogRow => "policy::bad-catalog-row",
            PolicyCode::ConflictingKeys => "policy::conflicting-keys",
            PolicyCode::BadValue => "policy::bad-value",
            PolicyCode::UnknownPolicy => "policy::unknown-policy",
        }
    }
}

impl std::fmt::Display for PolicyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct PolicyError {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
    /// The stable code every report shows (`policy::bad-port`, ...).
    pub code: PolicyCode,
}

/// A policy named on the command line or in the configuration that could
/// not be read. (The message holds the I/O error's, so it is no `source`:
/// a report printing the chain would repeat it.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyReadError {
    /// `apple:<name>` with a name that is not shipped.
    #[error("no shipped policy `{spec}`; `driftwall policies list` shows them: {shipped}")]
    UnknownShipped { spec: String, shipped: String },
    /// A policy file that cannot be read.
    #[error("{spec}: cannot read the policy: {error}")]
    Unreadable { spec: String, error: std::io::Error },
}

impl PolicyReadError {
    /// The diagnostic code, for the problems that have one.
    pub fn code(&self) -> Option<PolicyCode> {
        match self {
            PolicyReadError::UnknownShipped { .. } => Some(PolicyCode::UnknownPolicy),
            PolicyReadError::Unreadable { .. } => None,
        }
    }
}
