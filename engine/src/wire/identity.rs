//! Who is at the other end, as the wire carries it: public keys, their
//! fingerprints, the certificate a registry signs for each logged-in peer,
//! and what each side puts in its Noise handshake payload.
//!
//! Leaf types: values and their encodings only. Signing and checking live in
//! [`crate::secure`]; nothing here trusts anything. A key or signature is a
//! MessagePack `bin` of exactly its length, read through [`Blob`] (bounded
//! before anything is allocated); any other length is refused while decoding.
//!
//! rmp-serde is positional: never reorder a field or a variant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bounded::Blob;
use crate::wire::names::Name;

/// Bytes of a public key (X25519 for a Noise static key, Ed25519 for a
/// registry's signing key).
pub const KEY_LEN: usize = 32;

/// Bytes of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// Bytes of a [`Fingerprint`].
pub const FINGERPRINT_LEN: usize = 16;

/// A 32-byte public key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Blob<KEY_LEN>", into = "Blob<KEY_LEN>")]
pub struct PublicKey(pub [u8; KEY_LEN]);

impl PublicKey {
    /// The short form people compare.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.0)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl TryFrom<Blob<KEY_LEN>> for PublicKey {
    type Error = String;
    fn try_from(b: Blob<KEY_LEN>) -> Result<Self, String> {
        let bytes: [u8; KEY_LEN] = b[..]
            .try_into()
            .map_err(|_| format!("a key is {KEY_LEN} bytes, not {}", b.len()))?;
        Ok(Self(bytes))
    }
}

impl From<PublicKey> for Blob<KEY_LEN> {
    fn from(k: PublicKey) -> Self {
        // Exactly KEY_LEN bytes: within the limit by construction.
        Blob::new(k.0.to_vec()).unwrap_or_default()
    }
}

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Blob<SIGNATURE_LEN>", into = "Blob<SIGNATURE_LEN>")]
pub struct Signature(pub [u8; SIGNATURE_LEN]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(..)")
    }
}

impl TryFrom<Blob<SIGNATURE_LEN>> for Signature {
    type Error = String;
    fn try_from(b: Blob<SIGNATURE_LEN>) -> Result<Self, String> {
        let bytes: [u8; SIGNATURE_LEN] = b[..]
            .try_into()
            .map_err(|_| format!("a signature is {SIGNATURE_LEN} bytes, not {}", b.len()))?;
        Ok(Self(bytes))
    }
}

impl From<Signature> for Blob<SIGNATURE_LEN> {
    fn from(s: Signature) -> Self {
        Blob::new(s.0.to_vec()).unwrap_or_default()
    }
}

/// The first 16 bytes of a key's SHA-256, written as 32 lowercase hex
/// digits: what `/whois`, `ready` and the registry's "join with" line show,
/// and what `--registry-key` takes. 128 bits: finding a second key with the
/// same fingerprint costs about 2^128 hashes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub [u8; FINGERPRINT_LEN]);

impl Fingerprint {
    /// The fingerprint of a public key's bytes.
    pub fn of(key: &[u8]) -> Self {
        let digest = Sha256::digest(key);
        let mut out = [0u8; FINGERPRINT_LEN];
        out.copy_from_slice(&digest[..FINGERPRINT_LEN]);
        Self(out)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Why a text is not a fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFingerprint(pub String);

impl fmt::Display for BadFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadFingerprint {}

impl FromStr for Fingerprint {
    type Err = BadFingerprint;

    /// 32 hex digits; `:`, `-` and spaces between them are ignored, so a
    /// fingerprint copied in groups still reads.
    fn from_str(s: &str) -> Result<Self, BadFingerprint> {
        let digits: Vec<u8> = s
            .bytes()
            .filter(|b| !matches!(b, b':' | b'-' | b' '))
            .collect();
        let want = 2 * FINGERPRINT_LEN;
        if digits.len() != want {
            return Err(BadFingerprint(format!(
                "a key fingerprint is {want} hex digits, not {}",
                digits.len()
            )));
        }
        let mut out = [0u8; FINGERPRINT_LEN];
        for (i, pair) in digits.chunks(2).enumerate() {
            // `from_str_radix` takes a leading `+`: only hex digits here.
            let hex = match std::str::from_utf8(pair) {
                Ok(h) if h.bytes().all(|b| b.is_ascii_hexdigit()) => h,
                _ => "zz",
            };
            out[i] = u8::from_str_radix(hex, 16)
                .map_err(|_| BadFingerprint(format!("{hex:?} in a key fingerprint is not hex")))?;
        }
        Ok(Self(out))
    }
}

/// What a registry vouches for: `name` holds the Noise static key `key`,
/// from `not_before` until `not_after` (Unix seconds, the registry's clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateBody {
    /// The logged-in name.
    pub name: Name,
    /// Its Noise static public key (the key of the session it logged in on).
    pub key: PublicKey,
    /// Valid from (Unix seconds).
    pub not_before: u64,
    /// Valid until (Unix seconds).
    pub not_after: u64,
    /// The signing key of the registry that issued it.
    pub registry: PublicKey,
}

/// A [`CertificateBody`] and the registry's signature over its encoding
/// (see `crate::secure::certificate` for exactly what is signed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// What is vouched for.
    pub body: CertificateBody,
    /// The registry's Ed25519 signature.
    pub signature: Signature,
}

/// What a side proves about itself inside the Noise handshake (the payload
/// of its message carrying `s`: the second message for the responder, the
/// third for the initiator; both encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandshakePayload {
    /// A registry: its long-term signing key, and its signature over this
    /// connection's Noise static key (so the Noise key is the registry's).
    Registry {
        /// The registry's Ed25519 public key (what peers pin).
        signing_key: PublicKey,
        /// Its signature over the Noise static key.
        binding: Signature,
    },
    /// A peer: the certificate its registry issued for its Noise static key
    /// (`None` toward the registry, which reads the key from the handshake
    /// and certifies it once the password checks out).
    Peer {
        /// This peer's certificate.
        certificate: Option<Certificate>,
    },
    /// A peer without a registry (issue 20): the name it claims (nobody
    /// certifies it), its Ed25519 identity key, and that key's signature
    /// binding this connection's Noise static key to it (see
    /// `crate::secure::claim`).
    Claim {
        /// The name it claims.
        name: Name,
        /// Its identity key (what its LAN announcements are signed with).
        identity: PublicKey,
        /// The identity key's signature over the Noise static key.
        binding: Signature,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_back_with_or_without_separators() {
        let f = Fingerprint::of(b"some key");
        let text = f.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(text.parse::<Fingerprint>(), Ok(f));
        let grouped: String = text
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(grouped.parse::<Fingerprint>(), Ok(f));
        assert!("abc".parse::<Fingerprint>().is_err());
        assert!("zz".repeat(16).parse::<Fingerprint>().is_err());
        assert!(
            format!("+f{}", "0".repeat(30))
                .parse::<Fingerprint>()
                .is_err()
        );
    }

    #[test]
    fn a_key_of_the_wrong_length_does_not_decode() {
        let short = rmp_serde::to_vec(&Blob::<KEY_LEN>::new(vec![1u8; 31]).unwrap()).unwrap();
        assert!(rmp_serde::from_slice::<PublicKey>(&short).is_err());
        let k = PublicKey([7; KEY_LEN]);
        let bytes = rmp_serde::to_vec(&k).unwrap();
        assert_eq!(rmp_serde::from_slice::<PublicKey>(&bytes).unwrap(), k);
    }
}
