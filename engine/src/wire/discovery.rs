//! LAN discovery datagrams (issue 20): what a peer multicasts to say who it
//! is and where it listens ([`Announcement`]), and the question that asks
//! every peer on the segment to say it now ([`LanDatagram::Query`]).
//!
//! A registry announces itself on the same group ([`RegistryAnnouncement`]):
//! its keys and port, signed by its signing key (checked in
//! `secure::registry_claim`), so a peer can find a registry with no
//! address typed and pin it as `--registry` would.
//!
//! A datagram is one byte [`LAN_KIND`] (so it is told from a call's media,
//! whose first byte is `call::datagram::DATAGRAM_KIND`) and the MessagePack
//! of a [`LanDatagram`]. It is read only after its length is checked
//! against [`MAX_LAN_DATAGRAM_LEN`]; every field is bounded by its type
//! (keys and signatures by length, the name by [`Name`]). Leaf values and
//! their encoding only: signing and checking live in `peer::discovery`.
//!
//! rmp-serde is positional: never reorder a field or a variant.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::limits::MAX_LAN_DATAGRAM_LEN;
use crate::wire::identity::{PublicKey, Signature};
use crate::wire::names::Name;

/// The first byte of every discovery datagram of this version.
pub const LAN_KIND: u8 = 0xD1;

/// The version an announcement carries; others are ignored.
pub const LAN_VERSION: u16 = 1;

/// What a peer says about itself, signed by its identity key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementBody {
    /// [`LAN_VERSION`].
    pub version: u16,
    /// Its Noise static key (what a dial must find at the other end).
    pub key: PublicKey,
    /// Its Ed25519 identity key (what signed this).
    pub identity: PublicKey,
    /// The identity key's signature over `key` (`secure::claim`).
    pub binding: Signature,
    /// The name it claims.
    pub name: Name,
    /// The TCP port it listens on (the address is the datagram's source).
    pub port: u16,
    /// A short digest of its profile and shared-file list: when it
    /// changes, what `/files` showed is out of date. Reveals neither.
    pub digest: u64,
    /// The sender's wall clock when it signed this (Unix ms): a copy older
    /// than what was heard from that key is a replay and refused.
    pub at_ms: u64,
}

/// An [`AnnouncementBody`] and its identity key's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// What is said.
    pub body: AnnouncementBody,
    /// Signed by `body.identity` (see `peer::discovery` for the bytes).
    pub signature: Signature,
}

/// An announcement passed on (peer exchange, and relays on the LAN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passed {
    /// The announcement, exactly as its signer sent it.
    pub ann: Announcement,
    /// Where the one passing it on heard it from (not signed: a wrong
    /// address costs a failed dial, as the dial must prove the key).
    pub addr: SocketAddr,
    /// Seconds since the one passing it on last heard it.
    pub age_s: u64,
}

/// One discovery datagram.
// Parsed and consumed at once, never stored: boxing would only add an
// allocation per datagram.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LanDatagram {
    /// "Who is there?": every peer that hears it announces itself.
    Query,
    /// A peer says who it is.
    Announce(Announcement),
    /// A peer that learned this announcement over a link (peer exchange)
    /// passes it on to its segment, so that segments multicast does not
    /// cross still hear of each other.
    Relay(Passed),
    /// A registry says where it listens and which keys it proves.
    Registry(RegistryAnnouncement),
}

/// What a registry says about itself on the LAN, signed by its signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryAnnouncementBody {
    /// [`LAN_VERSION`].
    pub version: u16,
    /// Its signing key: what peers pin (`--registry-key` is its
    /// fingerprint), and what signed this.
    pub signing_key: PublicKey,
    /// Its Noise static key.
    pub key: PublicKey,
    /// The signing key's binding of `key` (as in its handshakes).
    pub binding: Signature,
    /// The TCP port it listens on (the address is the datagram's source).
    pub port: u16,
    /// Its wall clock when it signed this (Unix ms): an older copy than
    /// what was heard from that key is a replay and refused.
    pub at_ms: u64,
}

/// A [`RegistryAnnouncementBody`] and its signing key's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryAnnouncement {
    /// What is said.
    pub body: RegistryAnnouncementBody,
    /// Signed by `body.signing_key` (see `secure::registry_claim`).
    pub signature: Signature,
}

impl LanDatagram {
    /// Whether `bytes` is meant as a discovery datagram (its first byte).
    pub fn is_lan(bytes: &[u8]) -> bool {
        bytes.first() == Some(&LAN_KIND)
    }

    /// The datagram in `bytes`, or why not. Never panics; nothing is
    /// allocated for a datagram over [`MAX_LAN_DATAGRAM_LEN`].
    pub fn parse(bytes: &[u8]) -> Result<LanDatagram, String> {
        if bytes.len() > MAX_LAN_DATAGRAM_LEN {
            return Err(format!(
                "a discovery datagram of {} bytes is over the limit of {MAX_LAN_DATAGRAM_LEN}",
                bytes.len()
            ));
        }
        match bytes.split_first() {
            Some((&LAN_KIND, body)) => rmp_serde::from_slice(body)
                .map_err(|e| format!("a malformed discovery datagram: {e}")),
            _ => Err("not a discovery datagram".into()),
        }
    }

    /// Its bytes, [`LAN_KIND`] first.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![LAN_KIND];
        // Encoding a plain value into a Vec cannot fail.
        out.extend(rmp_serde::to_vec(self).unwrap_or_default());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LanDatagram {
        LanDatagram::Announce(Announcement {
            body: AnnouncementBody {
                version: LAN_VERSION,
                key: PublicKey([1; 32]),
                identity: PublicKey([2; 32]),
                binding: Signature([3; 64]),
                name: Name::new("a-name-as-long-as-names-may-be-x").unwrap(),
                port: 7000,
                digest: u64::MAX,
                at_ms: u64::MAX,
            },
            signature: Signature([4; 64]),
        })
    }

    #[test]
    fn an_announcement_is_tiny_and_reads_back() {
        let d = sample();
        let bytes = d.to_bytes();
        assert!(bytes.len() < MAX_LAN_DATAGRAM_LEN, "{} bytes", bytes.len());
        assert!(
            bytes.len() < 300,
            "well under one datagram: {}",
            bytes.len()
        );
        assert_eq!(LanDatagram::parse(&bytes), Ok(d));
        assert_eq!(
            LanDatagram::parse(&LanDatagram::Query.to_bytes()),
            Ok(LanDatagram::Query)
        );
        let reg = registry_sample();
        let bytes = reg.to_bytes();
        assert!(
            bytes.len() < 300,
            "well under one datagram: {}",
            bytes.len()
        );
        assert_eq!(LanDatagram::parse(&bytes), Ok(reg));
    }

    fn registry_sample() -> LanDatagram {
        LanDatagram::Registry(RegistryAnnouncement {
            body: RegistryAnnouncementBody {
                version: LAN_VERSION,
                signing_key: PublicKey([5; 32]),
                key: PublicKey([6; 32]),
                binding: Signature([7; 64]),
                port: u16::MAX,
                at_ms: u64::MAX,
            },
            signature: Signature([8; 64]),
        })
    }

    /// Every cut of `bytes` is refused; every flipped byte is refused or
    /// read, never a panic.
    fn cuts_refused_flips_survive(bytes: &[u8]) {
        for n in 0..bytes.len() {
            assert!(LanDatagram::parse(&bytes[..n]).is_err(), "cut at {n}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.to_vec();
            b[i] ^= 0xFF;
            let _ = LanDatagram::parse(&b);
        }
    }

    #[test]
    fn every_cut_of_a_registry_announcement_is_refused() {
        cuts_refused_flips_survive(&registry_sample().to_bytes());
    }

    #[test]
    fn every_cut_and_flip_of_a_datagram_is_refused_or_read_without_panic() {
        cuts_refused_flips_survive(&sample().to_bytes());
        assert!(LanDatagram::parse(&vec![LAN_KIND; MAX_LAN_DATAGRAM_LEN + 1]).is_err());
        assert!(LanDatagram::parse(&[0xC1, 0x90]).is_err());
    }
}
