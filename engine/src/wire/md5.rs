//! A 16-byte MD5 digest as it travels and as users see it (32 lowercase hex digits).

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
}
