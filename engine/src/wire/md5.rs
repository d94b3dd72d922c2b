//! A 16-byte MD5 digest as it travels and as users see it (32 lowercase hex
//! digits), and the digest that stands for a whole folder
//! ([`folder_digest`]).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// An MD5 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Md5(pub [u8; 16]);

impl Md5 {
    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        use md5::Digest;
        Self(md5::Md5::digest(data).into())
    }

    /// 32 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(32);
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    /// Parses 32 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 32 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Display for Md5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Md5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Md5({})", self.to_hex())
    }
}

impl Serialize for Md5 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Md5 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Md5;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("16 bytes of MD5 digest")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Md5, E> {
                let arr: [u8; 16] = v
                    .try_into()
                    .map_err(|_| E::invalid_length(v.len(), &self))?;
                Ok(Md5(arr))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// The digest of a folder's contents, as listings and transfers show it:
/// the MD5 of one text line per regular file inside it (at any depth),
/// sorted bytewise by path,
///
/// ```text
/// <md5 of the file, 32 lowercase hex digits> <size in bytes, decimal> <path>\n
/// ```
///
/// where `path` is relative to the folder itself (`sub/a.txt`, not
/// `photos/sub/a.txt`, so renaming the folder keeps its digest), with `/`
/// between components. Paths cannot hold a newline (every component is a
/// [`crate::wire::FileName`]), so the lines are unambiguous. Empty
/// sub-folders count for nothing; a folder without files has the MD5 of no
/// bytes. By hand, inside the folder:
/// `find . -type f -printf '%P\n' | LC_ALL=C sort | while IFS= read -r p; do
/// echo "$(md5sum < "$p" | cut -c1-32) $(stat -c %s "$p") $p"; done | md5sum`.
pub fn folder_digest<'a>(files: impl IntoIterator<Item = (&'a str, u64, Md5)>) -> Md5 {
    use md5::Digest;
    let mut lines: Vec<(&str, u64, Md5)> = files.into_iter().collect();
    lines.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut hasher = md5::Md5::new();
    for (path, size, md5) in lines {
        hasher.update(format!("{} {size} {path}\n", md5.to_hex()).as_bytes());
    }
    Md5(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest_and_hex() {
        let d = Md5::of(b"");
        assert_eq!(d.to_hex(), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(Md5::from_hex(&d.to_hex()), Some(d));
        assert_eq!(Md5::from_hex("zz"), None);
    }

    #[test]
    fn a_folder_digest_is_the_md5_of_its_sorted_listing() {
        let a = Md5::of(b"a");
        let b = Md5::of(b"bb");
        let d = folder_digest([("z/b", 2, b), ("a-c", 1, a)]);
        let text = format!("{a} 1 a-c\n{b} 2 z/b\n");
        assert_eq!(d, Md5::of(text.as_bytes()));
        assert_eq!(d, folder_digest([("a-c", 1, a), ("z/b", 2, b)]), "order");
        assert_ne!(d, folder_digest([("a-c", 1, a), ("z/b", 3, b)]), "size");
        assert_ne!(d, folder_digest([("a-d", 1, a), ("z/b", 2, b)]), "path");
        assert_eq!(folder_digest([]), Md5::of(b""));
    }
}
