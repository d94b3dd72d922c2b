//! Encrypted, authenticated connections: every byte a confab engine sends
//! or receives on a connection goes through a [`Channel`] (Noise XX with
//! snow, see [`channel`] for the bytes and why this pattern), and nothing
//! reaches a role's protocol machines before the other side has proven who
//! it is ([`Expect`], [`Proven`]).
//!
//! Who vouches for whom: a registry has a long-term Ed25519 signing key
//! ([`keys::SigningSecret`]); at each log-in, once the password checks out
//! inside the encrypted channel, it signs a short-lived certificate binding
//! the peer's name to the Noise static key of that connection
//! ([`certificate`]). Peers show each other these certificates in their
//! handshakes; each checks it was signed by the registry it trusts (pinned
//! the first time, as SSH's known_hosts), for the Noise key the handshake
//! proved, for the name dialed, and not expired.
//!
//! Pure computation: no clock (time comes in), no OS randomness (ephemeral
//! keys come from a seed the engine draws from its own seeded rng, through
//! [`resolver`]), no I/O.

pub mod certificate;
pub mod channel;
pub mod channels;
pub mod claim;
pub mod config;
pub mod keys;
pub mod registry_claim;
mod resolver;

pub use channel::{Channel, ChannelError, Expect, Local, Proven, Received, RekeyPolicy, Side};
pub use channels::Channels;
pub use config::SecureConfig;
pub use keys::{SigningSecret, StaticSecret};
