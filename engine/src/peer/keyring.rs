//! [`Keyring`]: what a peer proves and trusts, and the encrypted channel of
//! each of its connections.
//!
//! It holds the peer's Noise static key, the certificate its registry
//! issued at the last log-in, and the registry key it trusts (pinned in
//! its configuration, or learned on first contact). Every connection the
//! peer dials or accepts gets a [`Channel`] here, built from those, before
//! a byte is sent; [`crate::peer::io::Io::send`] seals through it, and the
//! role machine opens every received byte through it.
//!
//! Invariant: a peer connection is accepted or dialed only with a trusted
//! registry key (else nobody's certificate can be checked), and accepted
//! only with a certificate of our own (else we cannot prove who we are).

use std::collections::VecDeque;
use std::time::Instant;

use crate::api::{ConnId, Output};
use crate::planted::PlantedBugs;
use crate::rng::Rng;
use crate::secure::channel::{Channel, ChannelError, Expect, Local, Received, Side};
use crate::secure::claim;
use crate::secure::config::{Entropy, SecureConfig};
use crate::secure::{Channels, SigningSecret, StaticSecret};
use crate::wall::WallClock;
use crate::wire::identity::{Certificate, Fingerprint, HandshakePayload, PublicKey, Signature};
use crate::wire::{Name, Role};

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Keyring {
    secret: StaticSecret,
    /// The identity key derived from `secret` (see `secure::claim`).
    identity: SigningSecret,
    /// Without a registry (issue 20): the name this peer claims in its
    /// handshakes while it has no certificate.
    claim: Option<Name>,
    certificate: Option<Certificate>,
    trusted: Option<PublicKey>,
    pin: Option<Fingerprint>,
    /// `--registry lan` with nothing pinned: the key the registry used was
    /// announced with, which its handshake must prove (else a replayed
    /// announcement could lead to another registry that would be trusted).
    announced: Option<Fingerprint>,
    entropy: Entropy,
    channels: Channels,
    clock: WallClock,
    /// Bugs planted on purpose (tests only), handed to every channel.
    planted: PlantedBugs,
    /// Unit tests of the machines above (links, the registry link) only:
    /// no channels, stream bytes go out as they are. Never set otherwise;
    /// there is no way to set it outside `cfg(test)`.
    #[cfg(test)]
    passthrough: bool,
}

impl Keyring {
    pub fn new(config: &SecureConfig, rng: &mut Rng, now: Instant, unix_ms_at_start: u64) -> Self {
        let secret = config.static_key_or(rng);
        Self {
            identity: claim::identity_of(&secret),
            secret,
            claim: None,
            certificate: None,
            trusted: None,
            pin: config.registry_pin,
            announced: None,
            entropy: Entropy::new(config.entropy, rng),
            channels: Channels::new(),
            clock: WallClock::new(now, unix_ms_at_start),
            planted: PlantedBugs::NONE,
            #[cfg(test)]
            passthrough: false,
        }
    }

    /// See the `passthrough` field.
    #[cfg(test)]
    pub fn passthrough(&mut self) {
        self.passthrough = true;
    }

    #[cfg(test)]
    fn is_passthrough(&self) -> bool {
        self.passthrough
    }

    #[cfg(not(test))]
    fn is_passthrough(&self) -> bool {
        false
    }

    /// The bugs planted in this peer (tests only).
    pub fn set_planted(&mut self, planted: PlantedBugs) {
        self.planted = planted;
    }

    /// This peer's Noise static public key.
    pub fn public(&self) -> PublicKey {
        self.secret.public()
    }

    /// This peer's identity key (what its announcements are signed with).
    pub fn identity(&self) -> &SigningSecret {
        &self.identity
    }

    /// The identity key's binding of this peer's Noise key.
    pub fn binding(&self) -> Signature {
        claim::bind(&self.identity, &self.public())
    }

    /// Without a registry: claim `name` in handshakes while this peer has
    /// no certificate, and take connections from peers that claim theirs.
    pub fn claim_as(&mut self, name: Name) {
        self.claim = Some(name);
    }

    pub fn set_certificate(&mut self, cert: Certificate) {
        self.certificate = Some(cert);
    }

    /// The registry key this peer trusts, once known.
    pub fn trusted(&self) -> Option<PublicKey> {
        self.trusted
    }

    /// The registry proved `signing_key` (the channel already checked it
    /// against the pin). Returns its fingerprint if it was not pinned
    /// before: the driver keeps it, so later contacts are held to it.
    pub fn registry_proven(&mut self, signing_key: PublicKey) -> Option<Fingerprint> {
        self.trusted = Some(signing_key);
        let fp = signing_key.fingerprint();
        if self.pin == Some(fp) {
            return None;
        }
        self.pin = Some(fp);
        Some(fp)
    }

    /// `--registry lan`: the registry chosen is held to `fp` (pinned
    /// before, for the address it was announced at).
    pub fn pin_registry(&mut self, fp: Fingerprint) {
        self.pin = Some(fp);
    }

    /// `--registry lan`: the registry chosen was announced with `fp`; with
    /// nothing pinned, its handshake must still prove it (and, proven, it
    /// is trusted on first use and reported as usual).
    pub fn expect_registry(&mut self, fp: Fingerprint) {
        self.announced = Some(fp);
    }

    /// What this side proves: toward the registry its key only (`claim`
    /// false), toward a peer its certificate, else its claimed name.
    fn local(&self, claim: bool) -> Local {
        Local {
            role: Role::Peer,
            secret: self.secret.clone(),
            payload: match (&self.certificate, &self.claim) {
                (None, Some(name)) if claim => HandshakePayload::Claim {
                    name: name.clone(),
                    identity: self.identity.public(),
                    binding: self.binding(),
                },
                _ => HandshakePayload::Peer {
                    certificate: self.certificate.clone(),
                },
            },
        }
    }

    fn add(&mut self, conn: ConnId, side: Side, expect: Expect) {
        let claim = !matches!(expect, Expect::Registry { .. });
        let channel = Channel::new(side, &self.local(claim), expect, self.entropy.draw())
            .with_planted(self.planted);
        self.channels.insert(conn, channel);
    }

    /// A channel for a connection to the registry.
    pub fn dial_registry(&mut self, conn: ConnId) {
        let expect = Expect::Registry {
            pin: self.pin.or(self.announced),
        };
        self.add(conn, Side::Initiator, expect);
    }

    /// A channel for a connection to `name`; `false` if no registry key is
    /// trusted yet (nobody's certificate could be checked).
    pub fn dial_peer(&mut self, conn: ConnId, name: Name) -> bool {
        if self.is_passthrough() {
            return true;
        }
        let Some(trusted) = self.trusted else {
            return false;
        };
        self.add(conn, Side::Initiator, Expect::Peer { name, trusted });
        true
    }

    /// A channel for a connection to `name`, announced on the LAN with the
    /// Noise key `key`; `false` if this peer claims no name (no discovery).
    pub fn dial_announced(&mut self, conn: ConnId, name: Name, key: PublicKey) -> bool {
        if self.is_passthrough() {
            return true;
        }
        if self.claim.is_none() {
            return false;
        }
        self.add(conn, Side::Initiator, Expect::Announced { name, key });
        true
    }

    /// A channel for a connection another peer made; `Err` says why this
    /// peer cannot take it yet.
    pub fn accept_peer(&mut self, conn: ConnId) -> Result<(), &'static str> {
        if self.is_passthrough() {
            return Ok(());
        }
        let Some(trusted) = self.trusted else {
            if self.claim.is_some() {
                self.add(conn, Side::Responder, Expect::AnyClaim { trusted: None });
                return Ok(());
            }
            return Err("this peer has not reached its registry yet");
        };
        if self.claim.is_some() {
            let trusted = Some(trusted);
            self.add(conn, Side::Responder, Expect::AnyClaim { trusted });
            return Ok(());
        }
        if self.certificate.is_none() {
            return Err("this peer has not logged in yet");
        }
        self.add(conn, Side::Responder, Expect::AnyPeer { trusted });
        Ok(())
    }

    /// The connection is up: its first bytes go out.
    pub fn start<E>(&mut self, conn: ConnId, out: &mut VecDeque<Output<E>>) {
        self.channels.start(conn, out);
    }

    /// Seals stream bytes for `conn` (or holds them for its handshake).
    pub fn seal<E>(
        &mut self,
        conn: ConnId,
        plain: &[u8],
        now: Instant,
        out: &mut VecDeque<Output<E>>,
    ) -> Result<(), ChannelError> {
        if self.is_passthrough() {
            out.push_back(Output::Send {
                conn,
                bytes: plain.to_vec(),
            });
            return Ok(());
        }
        self.channels.seal(conn, plain, now, out)
    }

    /// Opens bytes that arrived on `conn` into `got` (`None`: no channel).
    pub fn open<E>(
        &mut self,
        conn: ConnId,
        bytes: &[u8],
        now: Instant,
        out: &mut VecDeque<Output<E>>,
        got: &mut Received,
    ) -> Option<Result<(), ChannelError>> {
        let unix = self.clock.secs(now);
        self.channels.open_into(conn, bytes, now, unix, out, got)
    }

    /// Drops `conn`'s channel.
    pub fn remove(&mut self, conn: ConnId) {
        self.channels.remove(conn);
    }
}
