//! What every peer sub-machine shares: the output queue, the one timer table
//! (keyed by [`Timer`]), the seeded randomness, the connection id counter and
//! the current time, and the [`Keyring`] every byte on a connection is
//! sealed through. The role machine owns one [`Io`] and lends it to each
//! sub-machine in turn, so sub-machines never hold references to each other.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::api::{ConnId, Output, TransferId};
use crate::bounded::Text;
use crate::peer::command::RequestId;
use crate::peer::event::PeerEvent;
use crate::peer::keyring::Keyring;
use crate::peer::records::PeerRecord;
use crate::record::{Record, RecordKey};
use crate::rng::Rng;
use crate::secure::SecureConfig;
use crate::timers::TimerTable;
use crate::wire::{ErrorCode, Goodbye, GroupName, Message, Name, encode_into};

/// Every timer of a peer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// Reconnect to the registry.
    RegistryRetry,
    /// Send the registry a heartbeat.
    Heartbeat,
    /// The registry connect or its oldest unanswered request is due.
    RegistryReply,
    /// A peer connection that is not open by now is closed.
    Handshake(ConnId),
    /// An open peer connection's keepalive check (ping or close if silent).
    Keepalive(ConnId),
    /// Try again to reach this peer.
    Dial(Name),
    /// Reached through the relay: try a direct connection again.
    DirectRetry(Name),
    /// Resend what this peer has not acknowledged.
    Retransmit(Name),
    /// This peer has not answered our chat request.
    ChatExpiry(Name),
    /// The user has not answered this question.
    QuestionExpiry(RequestId),
    /// This invitation into this group has not been answered.
    InviteExpiry(GroupName, Name),
    /// This transfer's own deadline (offer expiry, idle give-up).
    Transfer(TransferId),
    /// Names missing from the roster after the registry came back and not
    /// back since are reported offline (see `peer::presence`).
    PresenceGrace,
    /// Our call to this peer has rung long enough.
    CallRing(Name),
    /// A call that is up: stats, report, and the other side's silence.
    CallTick(Name),
    /// A frame of this call waits in the jitter buffer until now.
    CallPlayout(Name),
    /// Time to announce ourselves on the LAN again (issue 20).
    Announce,
    /// `/whois NAME` asked this peer itself and it has not answered.
    ProfileAsk(Name),
    /// `/files NAME` asked this peer itself and it has not answered.
    FilesAsk(Name),
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Io {
    pub now: Instant,
    pub out: VecDeque<Output<PeerEvent>>,
    pub timers: TimerTable<Timer>,
    pub rng: Rng,
    pub keys: Keyring,
    next_conn: u64,
    /// The frame being sent, kept between sends so that encoding one
    /// allocates nothing.
    frame: Vec<u8>,
    /// The buffer the last read's plaintext went to, kept between reads for
    /// the same reason (see `Peer::on_bytes`).
    pub opened: Vec<u8>,
}

impl Io {
    /// For unit tests of the machines: sends go out unsealed (see
    /// `Keyring::passthrough`), so tests read the messages machines send.
    #[cfg(test)]
    pub fn new(now: Instant, seed: u64) -> Self {
        let mut io = Self::with_keys(now, seed, &SecureConfig::default(), 0);
        io.keys.passthrough();
        io
    }

    pub fn with_keys(
        now: Instant,
        seed: u64,
        secure: &SecureConfig,
        unix_ms_at_start: u64,
    ) -> Self {
        let mut rng = Rng::new(seed);
        let keys = Keyring::new(secure, &mut rng, now, unix_ms_at_start);
        Self {
            now,
            out: VecDeque::new(),
            timers: TimerTable::new(),
            rng,
            keys,
            next_conn: 0,
            frame: Vec::new(),
            opened: Vec::new(),
        }
    }

    /// A connection id never used before by this engine.
    pub fn mint_conn(&mut self) -> ConnId {
        self.next_conn += 1;
        ConnId(self.next_conn)
    }

    pub fn event(&mut self, e: PeerEvent) {
        self.out.push_back(Output::Event(e));
    }

    pub fn notice(&mut self, message: impl Into<String>) {
        self.event(PeerEvent::Notice {
            message: message.into(),
        });
    }

    pub fn error(&mut self, message: impl Into<String>) {
        self.event(PeerEvent::Error {
            message: message.into(),
        });
    }

    pub fn persist(&mut self, r: PeerRecord) {
        self.out.push_back(Output::Persist(Record::Peer(r)));
    }

    pub fn forget(&mut self, key: RecordKey) {
        self.out.push_back(Output::Forget(key));
    }

    /// Sends `msg` on `conn`, sealed by its channel. A channel that has
    /// failed sends nothing; its owner has been told (or is being told)
    /// and closes the connection.
    pub fn send(&mut self, conn: ConnId, msg: &Message) {
        self.frame.clear();
        encode_into(msg, &mut self.frame);
        let _ = self.keys.seal(conn, &self.frame, self.now, &mut self.out);
    }

    /// Says why, then closes.
    pub fn goodbye(&mut self, conn: ConnId, code: ErrorCode, reason: &str) {
        let bye = Goodbye {
            code,
            reason: Text::truncate(reason),
        };
        self.send(conn, &Message::Goodbye(bye));
        self.out.push_back(Output::Close { conn });
    }

    pub fn set_timer(&mut self, t: Timer, after: Duration) {
        let at = self.now + after;
        self.timers.set(t, at);
    }

    /// The wait before attempt `attempts` (0-based): `min` doubled per
    /// attempt up to `max`, then drawn from its upper half so that peers
    /// that lost the same thing at once do not all come back at once.
    pub fn backoff(&mut self, attempts: u32, min: Duration, max: Duration) -> Duration {
        let base = min
            .saturating_mul(1u32 << attempts.min(16))
            .min(max)
            .max(Duration::from_millis(1));
        let half = base / 2;
        let nanos = half.as_nanos().min(u64::MAX as u128) as u64;
        half + Duration::from_nanos(self.rng.below(nanos.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_with_jitter() {
        let mut io = Io::new(Instant::now(), 1);
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(2));
        let d0 = io.backoff(0, min, max);
        assert!(d0 >= min / 2 && d0 <= min, "{d0:?}");
        let d9 = io.backoff(9, min, max);
        assert!(d9 >= max / 2 && d9 <= max, "{d9:?}");
        let d40 = io.backoff(40, min, max);
        assert!(d40 <= max);
    }
}
