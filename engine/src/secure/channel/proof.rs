//! What each side of a [`Channel`](super::Channel) must prove in its
//! handshake payload ([`Expect`]), what it did prove ([`Proven`]), and the
//! check between the two ([`prove`]). Touches nothing; the channel calls
//! [`prove`] once per handshake, before anything is delivered.

use crate::planted::{PlantedBug, PlantedBugs};
use crate::secure::certificate;
use crate::secure::certificate::CertError;
use crate::secure::channel::error::ChannelError;
use crate::wire::Name;
use crate::wire::identity::{Fingerprint, HandshakePayload, PublicKey};

/// What the other side must prove before anything it sends is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// We dialed a registry: its signing key, matching `pin` if we have one.
    Registry {
        /// The fingerprint of the registry key this peer trusts, if pinned.
        pin: Option<Fingerprint>,
    },
    /// We dialed `name`: a certificate for `name` signed by `trusted`.
    Peer {
        /// The name dialed.
        name: Name,
        /// The signing key of the registry we trust.
        trusted: PublicKey,
    },
    /// A peer dialed us: a certificate for any name, signed by `trusted`.
    AnyPeer {
        /// The signing key of the registry we trust.
        trusted: PublicKey,
    },
    /// We are the registry and a peer dialed: only its key, which it proves
    /// by the handshake itself; its name it proves by password.
    AnyKey,
}

/// What the other side proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proven {
    /// A registry with this signing key.
    Registry {
        /// Its signing key.
        signing_key: PublicKey,
    },
    /// A peer certified as `name` for `key`.
    Peer {
        /// The certified name.
        name: Name,
        /// Its Noise static key.
        key: PublicKey,
    },
    /// Someone holding `key` (a peer toward its registry).
    Key {
        /// Its Noise static key.
        key: PublicKey,
    },
}

/// Checks what the other side proved against what this side expects.
/// Holds the planted bug `SkipCertificateCheck` (see `crate::planted`).
pub(super) fn prove(
    expect: &Expect,
    payload: HandshakePayload,
    remote: PublicKey,
    unix_now: u64,
    planted: PlantedBugs,
) -> Result<Proven, ChannelError> {
    match (expect, payload) {
        (
            Expect::Registry { pin },
            HandshakePayload::Registry {
                signing_key,
                binding,
            },
        ) => {
            if !certificate::check_binding(&signing_key, &remote, &binding) {
                return Err(ChannelError::BadRegistryBinding);
            }
            if let Some(pin) = pin
                && signing_key.fingerprint() != *pin
            {
                return Err(ChannelError::RegistryKeyChanged {
                    pinned: *pin,
                    got: signing_key.fingerprint(),
                });
            }
            Ok(Proven::Registry { signing_key })
        }
        (Expect::Registry { .. }, _) => Err(ChannelError::NotARegistry),
        (Expect::AnyKey, HandshakePayload::Peer { .. }) => Ok(Proven::Key { key: remote }),
        (
            Expect::Peer { trusted, .. } | Expect::AnyPeer { trusted },
            HandshakePayload::Peer { certificate },
        ) => {
            let cert = certificate.ok_or(ChannelError::Certificate(CertError::Missing))?;
            if planted.has(PlantedBug::SkipCertificateCheck) {
                // PLANTED BUG (tests only): whatever it claims, unchecked.
                let name = cert.body.name;
                return Ok(Proven::Peer { name, key: remote });
            }
            let dialed = match expect {
                Expect::Peer { name, .. } => Some(name),
                _ => None,
            };
            let name = certificate::check(&cert, trusted, &remote, unix_now, dialed)
                .map_err(ChannelError::Certificate)?;
            Ok(Proven::Peer { name, key: remote })
        }
        (_, _) => Err(ChannelError::NotAPeer),
    }
}
