//! A watched source's text as the state holds it: shared, not copied. The
//! current state and the baseline usually hold the same text, and the
//! daemon keeps the state it last saved beside the one it works on; with a
//! 100 MB file, copies would be hundreds of MB (issue 18). On disk the
//! daemon keeps each distinct text once, in its own file named by
//! [`Text::file_name`] (`crate::daemon::state`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

#[derive(Default)]
struct Inner {
    body: String,
    /// The name of the file it is kept in, computed once: hashing a big
    /// text at every save would cost more than the save.
    name: OnceLock<String>,
}

/// Cloning shares the text; comparing looks at the pointer first.
#[derive(Clone, Default)]
pub struct Text(Arc<Inner>);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0.body
    }

    /// The file it is kept in: its FNV-1a hash and its length. FNV is not a
    /// cryptographic hash; it already names the text in the state (`hash`),
    /// where two texts with one hash are taken for one text, so the file
    /// name trusts no more than the state already does.
    pub fn file_name(&self) -> &str {
        self.0.name.get_or_init(|| {
            format!(
                "{}-{}",
                crate::stable_hash::fnv(self.0.body.as_bytes()),
                self.0.body.len()
            )
        })
    }

    /// Whether `name` could be a name [`Text::file_name`] gives: a state
    /// file edited by hand must not make the daemon read other files.
    pub fn is_file_name(name: &str) -> bool {
        name.split_once('-').is_some_and(|(h, n)| {
            h.len() == 16
                && h.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        })
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0.body
    }
}

impl From<String> for Text {
    fn from(body: String) -> Text {
        Text(Arc::new(Inner {
            body,
            name: OnceLock::new(),
        }))
    }
}

impl From<&str> for Text {
    fn from(body: &str) -> Text {
        Text::from(body.to_string())
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.body == other.0.body
    }
}

impl Eq for Text {}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Inline, as a string: the form of a baseline request and of states
/// written before texts were kept in files of their own.
impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        String::deserialize(d).map(Text::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_and_names_are_checked() {
        let a = Text::from("-A INPUT -j DROP\n");
        let b = a.clone();
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_eq!(a, Text::from("-A INPUT -j DROP\n"));
        assert_ne!(a, Text::from(""));
        assert!(Text::is_file_name(a.file_name()), "{}", a.file_name());
        assert!(a.file_name().ends_with("-17"));
        for bad in [
            "../state.json",
            "x-1",
            "0123456789abcdef-",
            "0123456789abcdef-1/",
        ] {
            assert!(!Text::is_file_name(bad), "{bad}");
        }
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#""-A INPUT -j DROP\n""#
        );
    }
}
