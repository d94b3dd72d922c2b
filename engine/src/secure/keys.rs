//! Long-term secrets: a Noise static key (every peer and registry) and an
//! Ed25519 signing key (a registry's, for certificates). Values only: the
//! driver reads and writes the key files; the engine is handed the bytes.
//!
//! Neither type prints its bytes (`Debug` shows the public key's
//! fingerprint), and both are wiped from memory when dropped.

use std::fmt;

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use snow::params::DHChoice;
use snow::resolvers::{CryptoResolver, DefaultResolver};

use crate::rng::Rng;
use crate::wire::identity::{KEY_LEN, PublicKey, Signature};

/// A Noise static private key (X25519).
#[derive(Clone, PartialEq, Eq)]
pub struct StaticSecret([u8; KEY_LEN]);

impl StaticSecret {
    /// The key with these bytes (any 32 bytes are a valid X25519 key).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A new key drawn from `rng`.
    pub fn generate(rng: &mut Rng) -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rng.fill(&mut bytes);
        Self(bytes)
    }

    /// The private bytes, for the driver to keep in its key file.
    pub fn to_bytes(&self) -> [u8; KEY_LEN] {
        self.0
    }

    /// The public half, as the other side of a handshake sees it.
    pub fn public(&self) -> PublicKey {
        let mut dh = DefaultResolver
            .resolve_dh(&DHChoice::Curve25519)
            // snow's default resolver always has X25519 (feature
            // `use-curve25519`), and no byte from a peer reaches this.
            .expect("the default resolver has X25519"); // ok: see above
        dh.set(&self.0);
        let mut out = [0u8; KEY_LEN];
        out.copy_from_slice(&dh.pubkey()[..KEY_LEN]);
        PublicKey(out)
    }
}

impl fmt::Debug for StaticSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StaticSecret(public {})", self.public().fingerprint())
    }
}

impl Drop for StaticSecret {
    fn drop(&mut self) {
        // Best effort: the bytes may have been copied by the caller.
        self.0 = [0; KEY_LEN];
    }
}

/// A registry's Ed25519 signing key.
#[derive(Clone)]
pub struct SigningSecret(SigningKey);

impl SigningSecret {
    /// The key with this 32-byte seed.
    pub fn from_bytes(seed: [u8; KEY_LEN]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// A new key drawn from `rng`.
    pub fn generate(rng: &mut Rng) -> Self {
        let mut seed = [0u8; KEY_LEN];
        rng.fill(&mut seed);
        Self::from_bytes(seed)
    }

    /// The seed, for the driver to keep in its key file.
    pub fn to_bytes(&self) -> [u8; KEY_LEN] {
        self.0.to_bytes()
    }

    /// The public key that checks this key's signatures.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.0.sign(msg).to_bytes())
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningSecret(public {})", self.public().fingerprint())
    }
}

/// Whether `sig` is `key`'s signature over `msg` (strict: no malleable or
/// small-order forms).
pub fn verify(key: &PublicKey, msg: &[u8], sig: &Signature) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(&key.0) else {
        return false;
    };
    let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
    key.verify_strict(msg, &sig).is_ok() && key.verify(msg, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_check_only_with_their_key_and_message() {
        let mut rng = Rng::new(1);
        let a = SigningSecret::generate(&mut rng);
        let b = SigningSecret::generate(&mut rng);
        let sig = a.sign(b"hello");
        assert!(verify(&a.public(), b"hello", &sig));
        assert!(!verify(&a.public(), b"hellO", &sig));
        assert!(!verify(&b.public(), b"hello", &sig));
        let again = SigningSecret::from_bytes(a.to_bytes());
        assert_eq!(again.public(), a.public());
    }

    #[test]
    fn a_static_key_has_a_stable_public_half() {
        let mut rng = Rng::new(2);
        let s = StaticSecret::generate(&mut rng);
        assert_eq!(s.public(), StaticSecret::from_bytes(s.to_bytes()).public());
        assert_ne!(s.public(), StaticSecret::generate(&mut rng).public());
        assert!(!format!("{s:?}").contains(&format!("{:?}", s.to_bytes())));
    }
}
