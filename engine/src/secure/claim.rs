//! A peer's identity without a registry: an Ed25519 identity key derived
//! from its Noise static key, and the identity key's signature binding that
//! Noise key to it. Announcements on the LAN are signed with the identity
//! key; a handshake then proves the Noise key, so whoever completes it holds
//! the key the announcement was signed for.
//!
//! Why derived, not a second key file: the Noise static key is already kept
//! (and pinned by others in `known_keys`); deriving the identity key from it
//! (SHA-256 of a domain string and the secret) gives one secret to keep, one
//! fingerprint to compare (the Noise key's, as `ready` and `/whois` show it
//! with a registry too), and a 1:1 tie between the two keys. LAN
//! announcements are signed and checked here too. Pure values: touches
//! nothing.

use sha2::{Digest, Sha256};

use crate::secure::keys::{SigningSecret, StaticSecret, verify};
use crate::wire::discovery::{Announcement, AnnouncementBody};
use crate::wire::identity::{KEY_LEN, PublicKey, Signature};

/// What the identity key is derived from, before the Noise secret.
const IDENTITY_DOMAIN: &[u8] = b"confab peer identity key v1\0";

/// What a peer's binding signature covers, before its Noise key. Not the
/// registry's domain: a peer's binding can never pass for a registry's.
const PEER_BINDING_DOMAIN: &[u8] = b"confab peer noise key v1\0";

/// The identity (signing) key of the peer whose Noise secret is `noise`.
pub fn identity_of(noise: &StaticSecret) -> SigningSecret {
    let mut h = Sha256::new();
    h.update(IDENTITY_DOMAIN);
    h.update(noise.to_bytes());
    let mut seed = [0u8; KEY_LEN];
    seed.copy_from_slice(&h.finalize()[..KEY_LEN]);
    SigningSecret::from_bytes(seed)
}

/// `identity`'s signature binding `noise_key` to it.
pub fn bind(identity: &SigningSecret, noise_key: &PublicKey) -> Signature {
    identity.sign(&binding_bytes(noise_key))
}

/// Whether `binding` is `identity`'s binding of `noise_key`.
pub fn check(identity: &PublicKey, noise_key: &PublicKey, binding: &Signature) -> bool {
    verify(identity, &binding_bytes(noise_key), binding)
}

/// What an announcement's signature covers, before its body.
const ANNOUNCEMENT_DOMAIN: &[u8] = b"confab lan announcement v1\0";

fn announcement_bytes(body: &AnnouncementBody) -> Vec<u8> {
    let mut bytes = ANNOUNCEMENT_DOMAIN.to_vec();
    // Encoding a plain value into a Vec cannot fail.
    bytes.extend(rmp_serde::to_vec(body).unwrap_or_default());
    bytes
}

/// `body` signed by `identity` (its `identity` field should be that key's).
pub fn sign_announcement(identity: &SigningSecret, body: AnnouncementBody) -> Announcement {
    let signature = identity.sign(&announcement_bytes(&body));
    Announcement { body, signature }
}

/// Why an announcement's signatures do not check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnouncementFault {
    /// Not signed by the identity key it names (forged, damaged, unsigned).
    BadSignature,
    /// The identity key did not bind the Noise key it names.
    BadBinding,
}

/// Whether `ann` is signed by the identity it names, and that identity
/// bound the Noise key it names.
pub fn check_announcement(ann: &Announcement) -> Result<(), AnnouncementFault> {
    let b = &ann.body;
    if !verify(&b.identity, &announcement_bytes(b), &ann.signature) {
        return Err(AnnouncementFault::BadSignature);
    }
    if !check(&b.identity, &b.key, &b.binding) {
        return Err(AnnouncementFault::BadBinding);
    }
    Ok(())
}

fn binding_bytes(noise_key: &PublicKey) -> Vec<u8> {
    let mut bytes = PEER_BINDING_DOMAIN.to_vec();
    bytes.extend_from_slice(&noise_key.0);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn a_binding_ties_one_noise_key_to_one_identity() {
        let mut rng = Rng::new(3);
        let noise = StaticSecret::generate(&mut rng);
        let id = identity_of(&noise);
        assert_eq!(id.public(), identity_of(&noise).public(), "stable");
        let b = bind(&id, &noise.public());
        assert!(check(&id.public(), &noise.public(), &b));
        let other = StaticSecret::generate(&mut rng);
        assert!(!check(&id.public(), &other.public(), &b));
        assert!(!check(&identity_of(&other).public(), &noise.public(), &b));
        // A registry's binding of the same key does not pass for a peer's.
        let reg = crate::secure::certificate::bind(&id, &noise.public());
        assert!(!check(&id.public(), &noise.public(), &reg));
    }
}
