//! The identities of everyone the peer target's driver plays: the
//! registry's signing and Noise keys, each pool name's Noise key, the
//! certificates the registry issues, and the forgeries of a hostile end
//! (another registry's key, another name's certificate, an expired one).
//! Fixed bytes, so every run of one input is the same; the derived public
//! keys are computed once.

use std::sync::OnceLock;

use confab_engine::secure::certificate::{CLOCK_SKEW, issue};
use confab_engine::secure::{SigningSecret, StaticSecret};
use confab_engine::wire::Name;
use confab_engine::wire::identity::{Certificate, PublicKey};

use crate::generate::NAME_POOL;

/// How long the certificates the driver issues are valid (seconds): short,
/// so that a script's time passing reaches expiry and renewal.
pub const LIFETIME: u64 = 3600;

/// The registry the peer logs in to (the samples' registry).
pub fn signer() -> &'static SigningSecret {
    static KEY: OnceLock<SigningSecret> = OnceLock::new();
    KEY.get_or_init(crate::samples::registry_signer)
}

/// The trusted registry's public signing key.
pub fn trusted() -> PublicKey {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    *KEY.get_or_init(|| signer().public())
}

/// Another registry, whose certificates and key the peer must refuse.
pub fn other_signer() -> &'static SigningSecret {
    static KEY: OnceLock<SigningSecret> = OnceLock::new();
    KEY.get_or_init(|| SigningSecret::from_bytes([0x5b; 32]))
}

/// The registry's Noise static key.
pub fn registry_static() -> StaticSecret {
    StaticSecret::from_bytes([0x44; 32])
}

/// The Noise static key of pool name number `k`.
pub fn static_of(k: usize) -> StaticSecret {
    StaticSecret::from_bytes([0x60 + (k % NAME_POOL.len()) as u8; 32])
}

/// The public half of [`static_of`]`(k)`.
pub fn public_of(k: usize) -> PublicKey {
    static KEYS: OnceLock<Vec<PublicKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        (0..NAME_POOL.len())
            .map(|k| static_of(k).public())
            .collect()
    })[k % NAME_POOL.len()]
}

/// A certificate by `by` for `name` holding `key`, valid from `unix_now`.
pub fn certificate(by: &SigningSecret, name: &str, key: PublicKey, unix_now: u64) -> Certificate {
    let name = Name::new(name).unwrap_or_else(|_| Name::new(NAME_POOL[1]).expect("pool name"));
    issue(by, name, key, unix_now, LIFETIME)
}

/// A certificate that expired, beyond the clock skew allowed, before `unix_now`.
pub fn expired(name: &str, key: PublicKey, unix_now: u64) -> Certificate {
    let issued = unix_now.saturating_sub(2 * LIFETIME + CLOCK_SKEW + 60);
    certificate(signer(), name, key, issued)
}
