//! Validated names: user names, group names and shared file names.
//!
//! A name is checked when it is built and when it is decoded, so a value of
//! these types always obeys its rules:
//!
//! - [`Name`]: 1 to [`MAX_NAME_LEN`] bytes of lowercase ASCII letters, digits,
//!   `.`, `_` and `-`, starting with a letter or digit. Lowercase only, so that
//!   `alice` and `Alice` can never be two different people.
//! - [`GroupName`]: `#` followed by a valid [`Name`].
//! - [`FileName`]: 1 to [`MAX_FILE_NAME_LEN`] bytes, not `.` or `..`, with no
//!   `/`, `\`, NUL or control characters: a plain name inside one folder, never
//!   a path.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::bounded::Text;
use crate::limits::{MAX_FILE_NAME_LEN, MAX_GROUP_NAME_LEN, MAX_NAME_LEN};

/// Why a name was refused; the text tells a user what to type instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName(pub String);

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidName {}

fn check_user_name(s: &str) -> Result<(), InvalidName> {
    if s.is_empty() || s.len() > MAX_NAME_LEN {
        return Err(InvalidName(format!(
            "a name has 1 to {MAX_NAME_LEN} characters, not {}",
            s.len()
        )));
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err(InvalidName(format!(
            "a name starts with a lowercase letter or a digit: {s:?}"
        )));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(InvalidName(format!(
            "a name holds only lowercase letters, digits, '.', '_' and '-', not {c:?}"
        )));
    }
    Ok(())
}

/// A user name. See the module documentation for the rules.
///
/// Shared, not copied: a name is a key of most of a peer's tables and is in
/// most of what it does per message, so a clone only counts a reference.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "Text<MAX_NAME_LEN>")]
pub struct Name(Arc<str>);

impl Name {
    /// Checks `s` against the rules.
    pub fn new(s: &str) -> Result<Self, InvalidName> {
        check_user_name(s)?;
        Ok(Self(Arc::from(s)))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<Text<MAX_NAME_LEN>> for Name {
    type Error = InvalidName;
    fn try_from(t: Text<MAX_NAME_LEN>) -> Result<Self, InvalidName> {
        Self::new(t.as_str())
    }
}

impl From<Name> for Text<MAX_NAME_LEN> {
    fn from(n: Name) -> Self {
        Text::truncate(&n.0)
    }
}

/// As a str, as a `Text<MAX_NAME_LEN>` is (the name is within its limit).
impl Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A group name: `#` and a valid [`Name`].
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(
    try_from = "Text<MAX_GROUP_NAME_LEN>",
    into = "Text<MAX_GROUP_NAME_LEN>"
)]
pub struct GroupName(String);

impl GroupName {
    /// Checks `s` against the rules.
    pub fn new(s: &str) -> Result<Self, InvalidName> {
        let Some(rest) = s.strip_prefix('#') else {
            return Err(InvalidName(format!("a group name starts with '#': {s:?}")));
        };
        check_user_name(rest)?;
        Ok(Self(s.to_owned()))
    }

    /// The name, with its `#`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<Text<MAX_GROUP_NAME_LEN>> for GroupName {
    type Error = InvalidName;
    fn try_from(t: Text<MAX_GROUP_NAME_LEN>) -> Result<Self, InvalidName> {
        Self::new(t.as_str())
    }
}

impl From<GroupName> for Text<MAX_GROUP_NAME_LEN> {
    fn from(n: GroupName) -> Self {
        Text::truncate(&n.0)
    }
}

impl fmt::Display for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A plain file name inside a shared folder. See the module documentation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Text<MAX_FILE_NAME_LEN>", into = "Text<MAX_FILE_NAME_LEN>")]
pub struct FileName(String);

impl FileName {
    /// Checks `s` against the rules.
    pub fn new(s: &str) -> Result<Self, InvalidName> {
        if s.is_empty() || s.len() > MAX_FILE_NAME_LEN {
            return Err(InvalidName(format!(
                "a file name has 1 to {MAX_FILE_NAME_LEN} bytes, not {}",
                s.len()
            )));
        }
        if s == "." || s == ".." {
            return Err(InvalidName(format!("{s:?} is not a file name")));
        }
        if let Some(c) = s
            .chars()
            .find(|c| matches!(c, '/' | '\\') || c.is_control())
        {
            return Err(InvalidName(format!(
                "a file name is a plain name, without {c:?}: {s:?}"
            )));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `n`th other name for the same thing, `stem (n).ext`, as a file
    /// manager would pick when the name is taken; `None` if that would be
    /// too long.
    pub fn numbered(&self, n: u32) -> Option<FileName> {
        FileName::new(&numbered(&self.0, n)).ok()
    }
}

/// `stem (n).ext`: the extension is what follows the last dot that is not
/// the first character (`a.tar.gz` gives `a.tar (1).gz`, `.profile` gives
/// `.profile (1)`). Downloads pick free names this way, both the engine
/// (two downloads of one name at once) and a driver (a final name taken on
/// disk).
pub fn numbered(name: &str, n: u32) -> String {
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name, ""),
    };
    format!("{stem} ({n}){ext}")
}

impl TryFrom<Text<MAX_FILE_NAME_LEN>> for FileName {
    type Error = InvalidName;
    fn try_from(t: Text<MAX_FILE_NAME_LEN>) -> Result<Self, InvalidName> {
        Self::new(t.as_str())
    }
}

impl From<FileName> for Text<MAX_FILE_NAME_LEN> {
    fn from(n: FileName) -> Self {
        Text::truncate(&n.0)
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        for ok in [
            "a",
            "alice",
            "bob-2",
            "x.y_z",
            "9lives",
            &"a".repeat(MAX_NAME_LEN),
        ] {
            assert!(Name::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Alice",
            "-x",
            ".x",
            "a b",
            "a/b",
            "é",
            &"a".repeat(MAX_NAME_LEN + 1),
        ] {
            assert!(Name::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn group_names() {
        assert!(GroupName::new("#team").is_ok());
        assert!(GroupName::new("team").is_err());
        assert!(GroupName::new("#").is_err());
        assert!(GroupName::new("#Team").is_err());
    }

    #[test]
    fn file_names_are_plain() {
        for ok in ["a.txt", "my file (1).pdf", ".profile", "..hidden", "é.txt"] {
            assert!(FileName::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "../etc/passwd",
            "/etc/passwd",
            "a\\b",
            "a\0b",
            "a\nb",
        ] {
            assert!(FileName::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn decoding_checks_the_rules() {
        let bytes = rmp_serde::to_vec(&"../x").unwrap();
        assert!(rmp_serde::from_slice::<FileName>(&bytes).is_err());
        let bytes = rmp_serde::to_vec(&"Alice").unwrap();
        assert!(rmp_serde::from_slice::<Name>(&bytes).is_err());
        let bytes = rmp_serde::to_vec(&Name::new("alice").unwrap()).unwrap();
        assert_eq!(
            rmp_serde::from_slice::<Name>(&bytes).unwrap().as_str(),
            "alice"
        );
    }
}
