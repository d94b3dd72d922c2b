//! The long-term keys of a run, as the data folders of real installations
//! would keep them: the registry's signing key and Noise key, and each
//! peer's Noise key. They survive every crash and restart (a key that
//! changed on restart would make every peer refuse the registry, as it
//! should).
//!
//! Drawn from a stream of their own (the seed mixed with a constant), so
//! the other draws of a seed are as they were. Half the peers and clients
//! pin the registry's key up front (as `--registry-key` does); the others
//! trust it on first contact, so both paths run in every seed.

use confab_engine::secure::{SecureConfig, SigningSecret, StaticSecret};
use confab_engine::wire::identity::{Fingerprint, PublicKey};

use crate::draw::Rng;

/// Mixed into the seed for the stream that draws the keys.
const KEYS_STREAM: u64 = 0x6b65_7973_0000_0003;

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Keys {
    /// The registry's keys (for `RegistryConfig::secure`).
    pub registry: SecureConfig,
    signing_key: PublicKey,
    peers: Vec<StaticSecret>,
}

impl Keys {
    /// The keys of `seed` for `peers` peers.
    pub fn draw(seed: u64, peers: usize) -> Self {
        let mut rng = Rng::new(seed ^ KEYS_STREAM);
        let signing = SigningSecret::generate(&mut rng);
        let signing_key = signing.public();
        let registry = SecureConfig {
            static_key: Some(StaticSecret::generate(&mut rng)),
            signing_key: Some(signing),
            ..SecureConfig::default()
        };
        let peers = (0..peers)
            .map(|_| StaticSecret::generate(&mut rng))
            .collect();
        Self {
            registry,
            signing_key,
            peers,
        }
    }

    /// The registry's signing key (what peers pin).
    pub fn signing_key(&self) -> PublicKey {
        self.signing_key
    }

    /// Peer `i`'s `PeerConfig::secure`: its own Noise key, and the
    /// registry's key pinned for every other peer.
    pub fn peer(&self, i: usize) -> SecureConfig {
        SecureConfig {
            static_key: self.peers.get(i).cloned(),
            registry_pin: self.pin_for(i),
            ..SecureConfig::default()
        }
    }

    /// The registry key the `i`th peer or client pins up front, if it does.
    pub fn pin_for(&self, i: usize) -> Option<Fingerprint> {
        (i % 2 == 1).then(|| self.signing_key.fingerprint())
    }
}
