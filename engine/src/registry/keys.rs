//! [`RegistryKeys`]: the registry's long-term keys, the channel of each of
//! its connections, and the certificates it issues.
//!
//! The registry proves itself to every peer with its signing key (what
//! peers pin) and a signature binding its Noise static key to it; it asks a
//! peer only to prove a Noise key ([`Expect::AnyKey`]), since the name is
//! proven by password. Once the password checks out, it certifies that
//! name for that key ([`RegistryKeys::certify`]).
//!
//! Touches only its own state; the registry calls it for every byte in and
//! out, so no connection has a path around the encryption.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::api::{ConnId, Output};
use crate::rng::Rng;
use crate::secure::certificate::{bind, issue};
use crate::secure::channel::{Channel, ChannelError, Expect, Local, Received, Side};
use crate::secure::config::{Entropy, SecureConfig};
use crate::secure::registry_claim;
use crate::secure::{Channels, SigningSecret};
use crate::wall::WallClock;
use crate::wire::discovery::RegistryAnnouncement;
use crate::wire::identity::{Certificate, HandshakePayload, PublicKey};
use crate::wire::{Name, Role};

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct RegistryKeys {
    signing: SigningSecret,
    local: Local,
    entropy: Entropy,
    channels: Channels,
    clock: WallClock,
    lifetime: Duration,
}

impl RegistryKeys {
    pub fn new(
        config: &SecureConfig,
        rng: &mut Rng,
        now: Instant,
        unix_ms_at_start: u64,
        lifetime: Duration,
    ) -> Self {
        let signing = config.signing_key_or(rng);
        let secret = config.static_key_or(rng);
        let binding = bind(&signing, &secret.public());
        let local = Local {
            role: Role::Registry,
            secret,
            payload: HandshakePayload::Registry {
                signing_key: signing.public(),
                binding,
            },
        };
        Self {
            signing,
            local,
            entropy: Entropy::new(config.entropy, rng),
            channels: Channels::new(),
            clock: WallClock::new(now, unix_ms_at_start),
            lifetime,
        }
    }

    /// The key peers pin.
    pub fn signing_key(&self) -> PublicKey {
        self.signing.public()
    }

    /// Our LAN announcement (see `registry::announce`), listening on
    /// `port`, signed at `now`.
    pub fn announcement(&self, port: u16, now: Instant) -> RegistryAnnouncement {
        registry_claim::sign(&self.signing, &self.local.secret, port, self.clock.ms(now))
    }

    /// A certificate for `name` holding `key`, from `now`.
    pub fn certify(&self, name: Name, key: PublicKey, now: Instant) -> Certificate {
        issue(
            &self.signing,
            name,
            key,
            self.clock.secs(now),
            self.lifetime.as_secs(),
        )
    }

    /// Whether a certificate valid until `not_after` is past half its
    /// life at `now` (a heartbeat then brings a new one).
    pub fn due_for_renewal(&self, not_after: u64, now: Instant) -> bool {
        not_after.saturating_sub(self.clock.secs(now)) < self.lifetime.as_secs() / 2
    }

    /// A channel for an accepted connection; its first bytes go out now.
    pub fn accept<E>(&mut self, conn: ConnId, out: &mut VecDeque<Output<E>>) {
        let channel = Channel::new(
            Side::Responder,
            &self.local,
            Expect::AnyKey,
            self.entropy.draw(),
        );
        self.channels.insert(conn, channel);
        self.channels.start(conn, out);
    }

    pub fn seal<E>(
        &mut self,
        conn: ConnId,
        plain: &[u8],
        now: Instant,
        out: &mut VecDeque<Output<E>>,
    ) -> Result<(), ChannelError> {
        self.channels.seal(conn, plain, now, out)
    }

    pub fn open<E>(
        &mut self,
        conn: ConnId,
        bytes: &[u8],
        now: Instant,
        out: &mut VecDeque<Output<E>>,
    ) -> Option<Result<Received, ChannelError>> {
        let unix = self.clock.secs(now);
        self.channels.open(conn, bytes, now, unix, out)
    }

    pub fn remove(&mut self, conn: ConnId) {
        self.channels.remove(conn);
    }
}
