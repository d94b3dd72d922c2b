//! What each side of a [`Channel`](super::Channel) must prove in its
//! handshake payload ([`Expect`]), what it did prove ([`Proven`]), and the
//! check between the two ([`prove`]). Touches nothing; the channel calls
//! [`prove`] once per handshake, before anything is delivered.

use crate::planted::{PlantedBug, PlantedBugs};
use crate::secure::certificate;
use crate::secure::certificate::CertError;
use crate::secure::channel::error::ChannelError;
use crate::secure::claim;
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
    /// No registry (issue 20): we dialed `name`, announced with the Noise
    /// key `key`: the other side must hold `key`, claim `name`, and bind
    /// `key` to an identity key.
    Announced {
        /// The name dialed (as announced).
        name: Name,
        /// The Noise static key its announcement named.
        key: PublicKey,
    },
    /// Discovery on: a peer dialed us; any claimed name, with its Noise key
    /// bound to an identity key (the name is a claim: trust on first use
    /// is the peer's `known_keys`), or, with a `trusted` registry, a
    /// certificate from it (which then wins, as with [`Expect::AnyPeer`]).
    AnyClaim {
        /// The signing key of the registry we trust, if any.
        trusted: Option<PublicKey>,
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
    /// A peer without a registry: it holds `key`, bound to `identity`, and
    /// claims `name` (nobody certified it).
    Claimed {
        /// The claimed name.
        name: Name,
        /// Its Noise static key.
        key: PublicKey,
        /// Its identity key.
        identity: PublicKey,
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
    match (expect, payload.clone()) {
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
        (
            Expect::AnyClaim {
                trusted: Some(trusted),
            },
            HandshakePayload::Peer { .. },
        ) => prove(
            &Expect::AnyPeer { trusted: *trusted },
            payload,
            remote,
            unix_now,
            planted,
        ),
        // A peer we found by its signed announcement, which has a
        // certificate: the handshake proved the announced key, and the
        // announcement (signed by the identity bound to that key) the name.
        (Expect::Announced { name, key }, HandshakePayload::Peer { .. }) => {
            if *key != remote {
                return Err(ChannelError::NotTheAnnounced {
                    expected: format!("{name} (key {})", key.fingerprint()),
                    got: format!("key {}", remote.fingerprint()),
                });
            }
            Ok(Proven::Peer {
                name: name.clone(),
                key: remote,
            })
        }
        (
            Expect::Announced { .. } | Expect::AnyClaim { .. },
            HandshakePayload::Claim {
                name,
                identity,
                binding,
            },
        ) => {
            if !claim::check(&identity, &remote, &binding) {
                return Err(ChannelError::BadClaimBinding);
            }
            if let Expect::Announced { name: want, key } = expect
                && (*want != name || *key != remote)
            {
                return Err(ChannelError::NotTheAnnounced {
                    expected: format!("{want} (key {})", key.fingerprint()),
                    got: format!("{name} (key {})", remote.fingerprint()),
                });
            }
            Ok(Proven::Claimed {
                name,
                key: remote,
                identity,
            })
        }
        (_, _) => Err(ChannelError::NotAPeer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::secure::keys::{SigningSecret, StaticSecret};

    fn name(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    /// A peer without a registry: its Noise key and its claim payload.
    fn claimer(seed: u64, claims: &str) -> (PublicKey, HandshakePayload) {
        let noise = StaticSecret::generate(&mut Rng::new(seed));
        let identity = claim::identity_of(&noise);
        let key = noise.public();
        let payload = HandshakePayload::Claim {
            name: name(claims),
            identity: identity.public(),
            binding: claim::bind(&identity, &key),
        };
        (key, payload)
    }

    fn run(
        expect: &Expect,
        payload: HandshakePayload,
        remote: PublicKey,
    ) -> Result<Proven, ChannelError> {
        prove(expect, payload, remote, 1_700_000_000, PlantedBugs::NONE)
    }

    #[test]
    fn a_claim_proves_its_key_and_the_announced_name_only() {
        let (key, bob) = claimer(1, "bob");
        let announced = Expect::Announced {
            name: name("bob"),
            key,
        };
        assert!(matches!(
            run(&announced, bob.clone(), key),
            Ok(Proven::Claimed { name: n, key: k, .. }) if n == name("bob") && k == key
        ));
        assert!(matches!(
            run(&Expect::AnyClaim { trusted: None }, bob.clone(), key),
            Ok(Proven::Claimed { .. })
        ));
        // Another key at the announced address, or another name.
        let (other_key, other) = claimer(2, "bob");
        assert!(matches!(
            run(&announced, other, other_key),
            Err(ChannelError::NotTheAnnounced { .. })
        ));
        let (_, carol) = claimer(1, "carol");
        assert!(matches!(
            run(&announced, carol, key),
            Err(ChannelError::NotTheAnnounced { .. })
        ));
        // A binding of another Noise key than the one the handshake proved.
        assert_eq!(
            run(&Expect::AnyClaim { trusted: None }, bob.clone(), other_key),
            Err(ChannelError::BadClaimBinding)
        );
        // A registry's binding is not a peer's.
        let HandshakePayload::Claim { identity, .. } = bob.clone() else {
            unreachable!()
        };
        let signer = SigningSecret::generate(&mut Rng::new(3));
        let reg_binding = certificate::bind(&signer, &key);
        let forged = HandshakePayload::Claim {
            name: name("bob"),
            identity,
            binding: reg_binding,
        };
        assert_eq!(
            run(&Expect::AnyClaim { trusted: None }, forged, key),
            Err(ChannelError::BadClaimBinding)
        );
        // Where a registry certifies names, a claim is not enough.
        let trusted = signer.public();
        assert_eq!(
            run(&Expect::AnyPeer { trusted }, bob.clone(), key),
            Err(ChannelError::NotAPeer)
        );
        // With a trusted registry, a certificate still counts for AnyClaim.
        let cert = certificate::issue(&signer, name("bob"), key, 1_700_000_000, 3600);
        let certified = HandshakePayload::Peer {
            certificate: Some(cert),
        };
        assert!(matches!(
            run(
                &Expect::AnyClaim {
                    trusted: Some(trusted)
                },
                certified.clone(),
                key
            ),
            Ok(Proven::Peer { .. })
        ));
        assert_eq!(
            run(&Expect::AnyClaim { trusted: None }, certified, key),
            Err(ChannelError::NotAPeer)
        );
    }
}
