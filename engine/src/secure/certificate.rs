//! Issuing and checking what a registry vouches for: a peer's certificate
//! (name to Noise static key, for a while) and the registry's own binding of
//! its Noise static key to its signing key.
//!
//! What is signed is a domain string and then the MessagePack encoding of
//! the value (positional, so one value has one encoding); the domain strings
//! keep a signature made for one purpose from being reused for another.
//! Times are Unix seconds; a certificate is accepted [`CLOCK_SKEW`] either
//! side of its validity, as the registry's and the peers' clocks differ.

use std::fmt;

use crate::secure::keys::{SigningSecret, verify};
use crate::wire::Name;
use crate::wire::identity::{Certificate, CertificateBody, Fingerprint, PublicKey, Signature};

/// What a certificate signature covers, before the body.
const CERTIFICATE_DOMAIN: &[u8] = b"confab certificate v1\0";

/// What a registry's binding signature covers, before its Noise key.
const BINDING_DOMAIN: &[u8] = b"confab registry noise key v1\0";

/// How far the clocks of a registry and a peer may disagree, in seconds.
pub const CLOCK_SKEW: u64 = 300;

/// Why a certificate is not accepted. Each says what a user can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertError {
    /// No certificate at all.
    Missing,
    /// Issued by a registry other than the one this peer trusts.
    OtherRegistry {
        /// The registry this peer trusts.
        trusted: Fingerprint,
        /// The one that signed it.
        signer: Fingerprint,
    },
    /// The signature does not check: forged or damaged.
    BadSignature,
    /// Certifies another key than the one this connection proved.
    WrongKey,
    /// Certifies another name than the one dialed.
    WrongName {
        /// The name dialed.
        expected: Name,
        /// The name certified.
        certified: Name,
    },
    /// Not valid any more.
    Expired {
        /// Its end of validity (Unix seconds).
        not_after: u64,
        /// Now (Unix seconds).
        now: u64,
    },
    /// Not valid yet.
    NotYetValid {
        /// Its start of validity (Unix seconds).
        not_before: u64,
        /// Now (Unix seconds).
        now: u64,
    },
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::Missing => f.write_str("it showed no certificate from the registry"),
            CertError::OtherRegistry { trusted, signer } => write!(
                f,
                "its certificate is from another registry (key {signer}; ours is {trusted})"
            ),
            CertError::BadSignature => f.write_str("its certificate's signature is not valid"),
            CertError::WrongKey => {
                f.write_str("its certificate is for another key than the one it connected with")
            }
            CertError::WrongName {
                expected,
                certified,
            } => write!(
                f,
                "dialed {expected}, but the certificate is for {certified}"
            ),
            CertError::Expired { not_after, now } => write!(
                f,
                "its certificate expired {} s ago (check both clocks)",
                now.saturating_sub(*not_after)
            ),
            CertError::NotYetValid { not_before, now } => write!(
                f,
                "its certificate is valid only in {} s (check both clocks)",
                not_before.saturating_sub(*now)
            ),
        }
    }
}

impl std::error::Error for CertError {}

fn signed_bytes(body: &CertificateBody) -> Vec<u8> {
    let mut bytes = CERTIFICATE_DOMAIN.to_vec();
    // Encoding into a Vec cannot fail for a plain struct.
    bytes.extend(rmp_serde::to_vec(body).unwrap_or_default());
    bytes
}

/// A certificate for `name` holding `key`, valid from `now` for `lifetime`
/// seconds, signed by `signer`.
pub fn issue(
    signer: &SigningSecret,
    name: Name,
    key: PublicKey,
    now: u64,
    lifetime: u64,
) -> Certificate {
    let body = CertificateBody {
        name,
        key,
        not_before: now,
        not_after: now.saturating_add(lifetime),
        registry: signer.public(),
    };
    let signature = signer.sign(&signed_bytes(&body));
    Certificate { body, signature }
}

/// Checks `cert` for a connection whose Noise static key is `session_key`:
/// signed by `trusted`, for that key, valid at `now`, and for `expected` if
/// given. Returns the certified name.
pub fn check(
    cert: &Certificate,
    trusted: &PublicKey,
    session_key: &PublicKey,
    now: u64,
    expected: Option<&Name>,
) -> Result<Name, CertError> {
    let body = &cert.body;
    if body.registry != *trusted {
        return Err(CertError::OtherRegistry {
            trusted: trusted.fingerprint(),
            signer: body.registry.fingerprint(),
        });
    }
    if !verify(trusted, &signed_bytes(body), &cert.signature) {
        return Err(CertError::BadSignature);
    }
    if body.key != *session_key {
        return Err(CertError::WrongKey);
    }
    if now.saturating_add(CLOCK_SKEW) < body.not_before {
        return Err(CertError::NotYetValid {
            not_before: body.not_before,
            now,
        });
    }
    if body.not_after.saturating_add(CLOCK_SKEW) < now {
        return Err(CertError::Expired {
            not_after: body.not_after,
            now,
        });
    }
    if let Some(expected) = expected
        && *expected != body.name
    {
        return Err(CertError::WrongName {
            expected: expected.clone(),
            certified: body.name.clone(),
        });
    }
    Ok(body.name.clone())
}

/// The registry's signature binding its Noise static key to its signing key.
pub fn bind(signer: &SigningSecret, noise_key: &PublicKey) -> Signature {
    let mut bytes = BINDING_DOMAIN.to_vec();
    bytes.extend_from_slice(&noise_key.0);
    signer.sign(&bytes)
}

/// Whether `binding` is `signing_key`'s binding of `noise_key`.
pub fn check_binding(signing_key: &PublicKey, noise_key: &PublicKey, binding: &Signature) -> bool {
    let mut bytes = BINDING_DOMAIN.to_vec();
    bytes.extend_from_slice(&noise_key.0);
    verify(signing_key, &bytes, binding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::secure::keys::StaticSecret;

    fn name(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    #[test]
    fn a_certificate_checks_only_for_its_name_key_registry_and_time() {
        let mut rng = Rng::new(7);
        let reg = SigningSecret::generate(&mut rng);
        let other = SigningSecret::generate(&mut rng);
        let key = StaticSecret::generate(&mut rng).public();
        let cert = issue(&reg, name("bob"), key, 1000, 3600);
        let trusted = reg.public();
        assert_eq!(
            check(&cert, &trusted, &key, 1000, Some(&name("bob"))),
            Ok(name("bob"))
        );
        assert_eq!(check(&cert, &trusted, &key, 2000, None), Ok(name("bob")));
        assert!(matches!(
            check(&cert, &trusted, &key, 1000, Some(&name("alice"))),
            Err(CertError::WrongName { .. })
        ));
        let other_key = StaticSecret::generate(&mut rng).public();
        assert_eq!(
            check(&cert, &trusted, &other_key, 1000, None),
            Err(CertError::WrongKey)
        );
        assert!(matches!(
            check(&cert, &other.public(), &key, 1000, None),
            Err(CertError::OtherRegistry { .. })
        ));
        assert!(matches!(
            check(&cert, &trusted, &key, 1000 + 3600 + CLOCK_SKEW + 1, None),
            Err(CertError::Expired { .. })
        ));
        assert!(matches!(
            check(&cert, &trusted, &key, 1000 - CLOCK_SKEW - 1, None),
            Err(CertError::NotYetValid { .. })
        ));
        // A body changed after signing (another name, same signature).
        let mut forged = cert.clone();
        forged.body.name = name("mallory");
        assert_eq!(
            check(&forged, &trusted, &key, 1000, None),
            Err(CertError::BadSignature)
        );
        // Signed by another registry but claiming ours.
        let mut resigned = issue(&other, name("bob"), key, 1000, 3600);
        resigned.body.registry = trusted;
        assert_eq!(
            check(&resigned, &trusted, &key, 1000, None),
            Err(CertError::BadSignature)
        );
    }

    #[test]
    fn a_binding_checks_only_for_its_keys() {
        let mut rng = Rng::new(8);
        let reg = SigningSecret::generate(&mut rng);
        let noise = StaticSecret::generate(&mut rng).public();
        let b = bind(&reg, &noise);
        assert!(check_binding(&reg.public(), &noise, &b));
        let other = StaticSecret::generate(&mut rng).public();
        assert!(!check_binding(&reg.public(), &other, &b));
    }
}
