//! The crypto resolver every handshake is built with: ring's AES-GCM and
//! SHA-256 (measured fastest here, see BENCHMARKS.md), snow's pure-Rust
//! X25519 (ring has no static-key X25519), and randomness from a seed the
//! engine draws from its own seeded rng: never ring's or the OS's. So the ephemeral keys, and with them every byte a connection
//! sends, follow from the engine's seed: the simulator replays a run byte
//! for byte. The real driver seeds the engine from the operating system,
//! with 256 bits (see `PeerConfig::entropy`).

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng as _, SeedableRng};
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver, RingResolver};
use snow::types::{Cipher, Dh, Hash, Random};

/// See the module documentation. One per handshake: its rng is used for the
/// one ephemeral key the handshake makes.
pub(crate) struct SeededResolver {
    seed: [u8; 32],
}

impl SeededResolver {
    pub fn new(seed: [u8; 32]) -> Self {
        Self { seed }
    }
}

struct SeededRandom(ChaCha20Rng);

impl Random for SeededRandom {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoResolver for SeededResolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        Some(Box::new(SeededRandom(ChaCha20Rng::from_seed(self.seed))))
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        DefaultResolver.resolve_dh(choice)
    }

    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        RingResolver
            .resolve_hash(choice)
            .or_else(|| DefaultResolver.resolve_hash(choice))
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        RingResolver
            .resolve_cipher(choice)
            .or_else(|| DefaultResolver.resolve_cipher(choice))
    }
}
