//! [`SecureConfig`]: what an engine needs to encrypt its connections, given
//! by its driver: the long-term keys from its data folder and 256 bits of
//! entropy from the operating system. Left empty (tests, the simulator),
//! keys and entropy are drawn from the engine's seed instead: secret enough
//! for a run, and the same for the same seed.

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng as _, SeedableRng};

use crate::rng::Rng;
use crate::secure::keys::{SigningSecret, StaticSecret};
use crate::wire::identity::Fingerprint;

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct SecureConfig {
    /// This installation's Noise static key (a peer's identity; a
    /// registry's connection key). `None`: a new one for this run.
    pub static_key: Option<StaticSecret>,
    /// A registry's signing key, for certificates (ignored by a peer).
    /// `None`: a new one for this run.
    pub signing_key: Option<SigningSecret>,
    /// A peer's pinned registry key, if it has one (ignored by a registry).
    /// `None`: trust the first registry key seen, and report it.
    pub registry_pin: Option<Fingerprint>,
    /// Entropy for ephemeral keys. `None`: drawn from the engine's seed.
    pub entropy: Option<[u8; 32]>,
}

/// The randomness handshakes draw their ephemeral keys from.
#[derive(Debug, Clone)]
pub struct Entropy(ChaCha20Rng);

impl Entropy {
    /// From `config.entropy`, or else from the engine's rng.
    pub fn new(config: Option<[u8; 32]>, rng: &mut Rng) -> Self {
        let seed = config.unwrap_or_else(|| {
            let mut s = [0u8; 32];
            rng.fill(&mut s);
            s
        });
        Self(ChaCha20Rng::from_seed(seed))
    }

    /// 32 fresh bytes for one handshake.
    pub fn draw(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        self.0.fill_bytes(&mut out);
        out
    }
}

impl SecureConfig {
    /// The static key, or a new one from `rng`.
    pub fn static_key_or(&self, rng: &mut Rng) -> StaticSecret {
        self.static_key
            .clone()
            .unwrap_or_else(|| StaticSecret::generate(rng))
    }

    /// The signing key, or a new one from `rng`.
    pub fn signing_key_or(&self, rng: &mut Rng) -> SigningSecret {
        self.signing_key
            .clone()
            .unwrap_or_else(|| SigningSecret::generate(rng))
    }
}
