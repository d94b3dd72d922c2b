//! The encrypted channel each benchmark client runs toward the registry: a
//! client-side `confab_engine::secure::Channel`, as a real peer's (the
//! plaintext first frame, the Noise XX handshake, then records), so the
//! registry does all the work it does for real peers. Keys and ephemeral
//! seeds come from the client's number: distinct, not secret.

use std::time::{SystemTime, UNIX_EPOCH};

use confab_engine::secure::{Channel, Expect, Local, Side, StaticSecret};
use confab_engine::wire::Role;
use confab_engine::wire::identity::HandshakePayload;

/// A channel for client number `n`, trusting whatever key the registry
/// proves.
pub fn channel(n: u64) -> Channel {
    let mut key = [0x5a; 32];
    key[..8].copy_from_slice(&n.to_le_bytes());
    let mut entropy = [0xa5; 32];
    entropy[..8].copy_from_slice(&n.to_le_bytes());
    let local = Local {
        role: Role::Peer,
        secret: StaticSecret::from_bytes(key),
        payload: HandshakePayload::Peer { certificate: None },
    };
    Channel::new(
        Side::Initiator,
        &local,
        Expect::Registry { pin: None },
        entropy,
    )
}

/// Unix seconds now, for the channel's certificate checks.
pub fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
