//! The policies built into the binary, addressed as `apple:<name>`.
//!
//! Each is a file in policies/apple/, embedded as text and validated like
//! any other policy when used. A test checks that every profile file there is
//! listed here, so a new file cannot be forgotten.

macro_rules! apple {
    ($($name:literal),* $(,)?) => {
        /// Name and text of every shipped Apple profile, in the order listed.
        pub const APPLE: &[(&str, &str)] = &[$(($name, include_str!(concat!("../../policies/apple/", $name, ".yaml")))),*];
    };
}

apple!(
    "essentials",
    "hardening",
    "icloud",
    "facetime",
    "messages",
    "push-notifications",
    "app-store",
    "software-update",
    "macos-recovery",
    "siri",
    "maps",
    "media",
    "game-center",
    "airplay",
    "bonjour",
    "screen-sharing",
    "file-sharing",
    "mail",
    "printing",
    "time",
    "dns",
    "xcode-server",
    "wifi-calling",
    "macos-server-vpn",
    "directory-services",
    "xsan",
    "filemaker",
    "caching-service",
);

/// The text of a shipped profile.
pub fn apple(name: &str) -> Option<&'static str> {
    APPLE.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_file_is_shipped() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/apple");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".yaml").map(str::to_string))
            .filter(|n| n != "catalog")
            .collect();
        files.sort();
        let mut listed: Vec<String> = APPLE.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(
            files, listed,
            "policies/apple/*.yaml and shipped::APPLE differ"
        );
    }
}
