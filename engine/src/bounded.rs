//! Wire types that carry their own size limit.
//!
//! [`Text`], [`Blob`] and [`List`] are a `String`, a `Vec<u8>` and a `Vec<T>`
//! whose maximum length is part of the type. Their `Deserialize` checks the
//! length a peer *claims* before reserving memory for it, and counts elements
//! as they arrive, so a hostile MessagePack length prefix cannot make the
//! decoder allocate more than the limit. Every string and list in a message is
//! one of these, which makes "every field has a documented maximum" a property
//! the compiler checks rather than a convention.
//!
//! Invariant: a value of `Text<N>`, `Blob<N>` or `List<T, N>` never holds more
//! than `N` bytes (or elements), however it was built.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// A value was longer than its type allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong {
    /// The limit of the type.
    pub max: usize,
    /// The length that was offered.
    pub len: usize,
}

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes is over the limit of {}", self.len, self.max)
    }
}

impl std::error::Error for TooLong {}

/// UTF-8 text of at most `MAX` bytes.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    /// Wraps `s`, or says by how much it is too long.
    pub fn new(s: impl Into<String>) -> Result<Self, TooLong> {
        let s = s.into();
        if s.len() > MAX {
            return Err(TooLong {
                max: MAX,
                len: s.len(),
            });
        }
        Ok(Self(s))
    }

    /// Wraps the longest prefix of `s` that fits, cut at a character boundary.
    /// For text the engine writes itself (reasons), where cutting beats failing.
    pub fn truncate(s: &str) -> Self {
        let mut end = s.len().min(MAX);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Self(s[..end].to_owned())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, unwrapped.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> Deref for Text<MAX> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> fmt::Debug for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = TooLong;
    fn try_from(s: String) -> Result<Self, TooLong> {
        Self::new(s)
    }
}

impl<const MAX: usize> TryFrom<&str> for Text<MAX> {
    type Error = TooLong;
    fn try_from(s: &str) -> Result<Self, TooLong> {
        Self::new(s)
    }
}

impl<const MAX: usize> Serialize for Text<MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const MAX: usize>;
        impl<const MAX: usize> Visitor<'_> for V<MAX> {
            type Value = Text<MAX>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a string of at most {MAX} bytes")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.len() > MAX {
                    return Err(E::invalid_length(v.len(), &self));
                }
                Ok(Text(v.to_owned()))
            }
        }
        d.deserialize_str(V::<MAX>)
    }
}

/// Bytes of at most `MAX` length, encoded as a MessagePack `bin`.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Blob<const MAX: usize>(Vec<u8>);

impl<const MAX: usize> Blob<MAX> {
    /// Wraps `bytes`, or says by how much they are too long.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, TooLong> {
        let bytes = bytes.into();
        if bytes.len() > MAX {
            return Err(TooLong {
                max: MAX,
                len: bytes.len(),
            });
        }
        Ok(Self(bytes))
    }

    /// The bytes, unwrapped.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl<const MAX: usize> Deref for Blob<MAX> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<const MAX: usize> fmt::Debug for Blob<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl<const MAX: usize> Serialize for Blob<MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Blob<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const MAX: usize>;
        impl<'de, const MAX: usize> Visitor<'de> for V<MAX> {
            type Value = Blob<MAX>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "at most {MAX} bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                if v.len() > MAX {
                    return Err(E::invalid_length(v.len(), &self));
                }
                Ok(Blob(v.to_vec()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                // Tolerate bytes sent as an array of integers, within the same limit.
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    if out.len() == MAX {
                        return Err(de::Error::invalid_length(MAX + 1, &self));
                    }
                    out.push(b);
                }
                Ok(Blob(out))
            }
        }
        d.deserialize_bytes(V::<MAX>)
    }
}

/// A list of at most `MAX` elements.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct List<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> Default for List<T, MAX> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T, const MAX: usize> List<T, MAX> {
    /// Wraps `items`, or says by how much the list is too long.
    pub fn new(items: Vec<T>) -> Result<Self, TooLong> {
        if items.len() > MAX {
            return Err(TooLong {
                max: MAX,
                len: items.len(),
            });
        }
        Ok(Self(items))
    }

    /// The elements, unwrapped.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T, const MAX: usize> Deref for List<T, MAX> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: fmt::Debug, const MAX: usize> fmt::Debug for List<T, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<T: Serialize, const MAX: usize> Serialize for List<T, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in &self.0 {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for List<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const MAX: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for V<T, MAX> {
            type Value = List<T, MAX>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a list of at most {MAX} elements")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let claimed = seq.size_hint().unwrap_or(0);
                if claimed > MAX {
                    return Err(de::Error::invalid_length(claimed, &self));
                }
                // The claim is within MAX but may still be a lie about the
                // bytes that follow: reserve only a little up front.
                let mut out = Vec::with_capacity(claimed.min(16));
                while let Some(item) = seq.next_element()? {
                    if out.len() == MAX {
                        return Err(de::Error::invalid_length(MAX + 1, &self));
                    }
                    out.push(item);
                }
                Ok(List(out))
            }
        }
        d.deserialize_seq(V::<T, MAX>(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_refuses_over_limit() {
        assert!(Text::<3>::new("abc").is_ok());
        assert_eq!(
            Text::<3>::new("abcd").unwrap_err(),
            TooLong { max: 3, len: 4 }
        );
    }

    #[test]
    fn text_truncate_respects_char_boundaries() {
        let t = Text::<4>::truncate("héllo");
        assert_eq!(t.as_str(), "hél");
    }

    #[test]
    fn decode_refuses_long_text() {
        let bytes = rmp_serde::to_vec(&"abcd").unwrap();
        assert!(rmp_serde::from_slice::<Text<3>>(&bytes).is_err());
        assert_eq!(
            rmp_serde::from_slice::<Text<4>>(&bytes).unwrap().as_str(),
            "abcd"
        );
    }

    #[test]
    fn decode_refuses_long_list_from_its_header() {
        // array32 header claiming 2^32-1 elements, followed by nothing.
        let bytes = [0xdd, 0xff, 0xff, 0xff, 0xff];
        assert!(rmp_serde::from_slice::<List<u8, 10>>(&bytes).is_err());
        let ok = rmp_serde::to_vec(&vec![1u8, 2, 3]).unwrap();
        assert_eq!(
            &*rmp_serde::from_slice::<List<u8, 3>>(&ok).unwrap(),
            &[1, 2, 3]
        );
        assert!(rmp_serde::from_slice::<List<u8, 2>>(&ok).is_err());
    }

    #[test]
    fn blob_round_trips_as_bin() {
        let b = Blob::<8>::new(vec![1, 2, 3]).unwrap();
        let bytes = rmp_serde::to_vec(&b).unwrap();
        assert_eq!(bytes[0], 0xc4, "encoded as bin8");
        assert_eq!(rmp_serde::from_slice::<Blob<8>>(&bytes).unwrap(), b);
        assert!(rmp_serde::from_slice::<Blob<2>>(&bytes).is_err());
    }
}
