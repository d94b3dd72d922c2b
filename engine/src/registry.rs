//! The registry role: accounts, log-in, heartbeats, and the directory of who is
//! online, where they listen and what they share.
//!
//! Each connection moves through two stages: waiting for the peer's hello
//! (bounded by [`RegistryConfig::hello_timeout`]), then open for requests. A
//! request is answered with exactly one reply, in order: while a connection's
//! log-in or registration waits for its password check, the connection's
//! later messages wait unread (at most [`MAX_WAITING_BYTES`] of them). A connection that
//! breaks the protocol gets a [`Goodbye`] saying why and is closed; nothing
//! else is affected.
//!
//! The rooms: this file holds the configuration, the events, the shared
//! state and what every part uses to answer or close a connection, plus the
//! [`Engine`] impl and the timers; [`inbound`] reads a connection's bytes and
//! its hello; [`requests`] answers requests; [`auth`] runs log-in and
//! registration through their password checks; [`accounts`], [`directory`]
//! and [`guard`] are the stores they consult; [`announce`] says where the
//! registry is on the LAN (issue 20), when configured to.
//!
//! Invariants, checked by the property tests:
//! - every online session belongs to an open connection and has been heard
//!   from within [`RegistryConfig::heartbeat_timeout`] (every handler first
//!   expires the sessions that are due, so no answer ever lists a silent peer);
//! - a name has at most one session, a connection at most one;
//! - listings show exactly the files the online sessions last published.

mod accounts;
mod announce;
mod announcer;
mod auth;
mod directory;
mod guard;
mod inbound;
mod jobs;
mod keys;
mod relay;
mod relays;
mod requests;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub use self::accounts::Accounts;
pub use self::announcer::AnnounceConfig;
pub use self::directory::{Directory, Session};
#[cfg(feature = "testing")]
pub use self::relays::RelayFault;
pub use self::relays::{RELAY_REPORT_EVERY, RelayConfig, RelayStatus};
use crate::api::{CommandError, ConnId, Engine, Input, Output};
use crate::limits::{FRAME_HEADER_LEN, MAX_FRAME_LEN};
use crate::password::PasswordCost;
use crate::planted::PlantedBugs;
use crate::record::Record;
use crate::rng::Rng;
use crate::secure::SecureConfig;
use crate::timers::TimerTable;
use crate::wire::identity::PublicKey;
use crate::wire::registry::{Presence, Reply, ReplyBody};
use crate::wire::{
    Deframer, ErrorCode, Goodbye, Hello, Message, Name, PROTOCOL_VERSION, Refusal, Role,
    encode_into,
};

/// Most bytes a connection may send while its log-in or registration is being
/// checked (they wait unread, so that replies stay in order): one whole frame.
/// A peer has no reason to send more before that reply; more closes the
/// connection rather than piling up in its buffer.
pub const MAX_WAITING_BYTES: usize = FRAME_HEADER_LEN + MAX_FRAME_LEN;

/// How a registry behaves.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// A session not heard from for this long is logged out. Peers heartbeat
    /// at a third of it, so one lost heartbeat is not fatal.
    pub heartbeat_timeout: Duration,
    /// A connection that has not said hello within this long is closed.
    pub hello_timeout: Duration,
    /// argon2id cost for new accounts.
    pub password_cost: PasswordCost,
    /// Most password checks outstanding at once, over all connections. Each
    /// costs tens of milliseconds of CPU and ~19 MiB by design, so beyond this
    /// a log-in is refused as `Busy` (peers retry with backoff) rather than
    /// letting a crowd of connections exhaust the machine.
    pub max_password_jobs: usize,
    /// Bugs planted on purpose (feature `planted-bugs`; tests only): none by
    /// default, and always none without the feature.
    pub planted: PlantedBugs,
    /// Its keys and entropy (see [`SecureConfig`]; empty: drawn from the
    /// seed, for tests).
    pub secure: SecureConfig,
    /// Wall-clock time at construction, in milliseconds since the Unix
    /// epoch: certificates are dated from it and the `now` given.
    pub unix_ms_at_start: u64,
    /// How long a certificate is valid. Peers renew it with their
    /// heartbeats after half of it, so it only has to outlast a registry
    /// outage; short, so that a key stolen with its certificate is of use
    /// only so long. Default 12 hours.
    pub certificate_lifetime: Duration,
    /// Whether and how fast it relays between peers that cannot connect
    /// directly (see `relay`).
    pub relay: RelayConfig,
    /// Whether and where it announces itself on the LAN (see `announce`);
    /// `None`: it does not (the default; `confab registry` turns it on).
    pub announce: Option<AnnounceConfig>,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            heartbeat_timeout: Duration::from_secs(30),
            hello_timeout: Duration::from_secs(10),
            password_cost: PasswordCost::DEFAULT,
            max_password_jobs: 16,
            planted: PlantedBugs::NONE,
            secure: SecureConfig::default(),
            unix_ms_at_start: 0,
            certificate_lifetime: Duration::from_secs(12 * 3600),
            relay: RelayConfig::default(),
            announce: None,
        }
    }
}

/// What a registry's operator can ask of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryCommand {
    /// Say goodbye to every connection and close them.
    Shutdown,
    /// Report the relay now ([`RegistryEvent::RelayStatus`]), as the
    /// operator asked (`status` on `confab registry`'s standard input).
    RelayStatus,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineReason {
    /// The peer logged out.
    LoggedOut,
    /// The connection closed.
    Disconnected,
    /// No heartbeat within the timeout.
    TimedOut,
    /// The same name logged in elsewhere.
    Replaced,
    /// The connection broke the protocol.
    Violation,
    /// The registry is shutting down.
    Shutdown,
}

/// What a registry reports (to its log, or to a checker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryEvent {
    /// A new account.
    Registered { name: Name },
    /// A session started.
    Online {
        name: Name,
        addr: SocketAddr,
        conn: ConnId,
    },
    /// A session ended.
    Offline { name: Name, reason: OfflineReason },
    /// A log-in or registration was refused.
    Refused { conn: ConnId, code: ErrorCode },
    /// A connection broke the protocol and was closed.
    Violation {
        conn: ConnId,
        remote: SocketAddr,
        reason: String,
    },
    /// A relayed stream opened from `from` to `to`; `open` streams now.
    RelayOpened {
        stream: u64,
        from: Name,
        to: Name,
        open: usize,
    },
    /// A relayed stream ended after carrying `bytes`; `open` streams now.
    RelayClosed {
        stream: u64,
        from: Name,
        to: Name,
        bytes: u64,
        open: usize,
    },
    /// What the relay carries now: every minute while any stream is open,
    /// and when the operator asks ([`RegistryCommand::RelayStatus`]).
    RelayStatus(RelayStatus),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Hello(ConnId),
    Silence(ConnId),
    /// Credit held back by a relay cap is looked at again.
    RelayRelease,
    /// The relay's minute report is due (armed while streams are open).
    RelayReport,
    /// Time to announce ourselves on the LAN again (see `announce`).
    Announce,
}

#[derive(Debug)]
struct Conn {
    remote: SocketAddr,
    /// The Noise static key its channel proved, once it has.
    key: Option<PublicKey>,
    deframer: Deframer,
    greeted: bool,
    /// A log-in or registration whose password work is outstanding.
    auth_pending: bool,
}

/// The registry engine. See the module documentation.
#[derive(Debug)]
pub struct Registry {
    config: RegistryConfig,
    rng: Rng,
    next_conn: u64,
    conns: BTreeMap<ConnId, Conn>,
    accounts: Accounts,
    directory: Directory,
    jobs: jobs::AuthJobs,
    guard: guard::LoginGuard,
    timers: TimerTable<Timer>,
    out: VecDeque<Output<RegistryEvent>>,
    keys: keys::RegistryKeys,
    relays: relays::Relays,
    announcer: announcer::Announcer,
    /// The latest time given.
    now: Instant,
    /// The frame being sent, kept so that encoding one allocates nothing.
    frame: Vec<u8>,
}

#[cfg(feature = "planted-bugs")]
pub use crate::planted::PlantedBug;

impl Registry {
    /// A registry with the accounts found in `records` (others are ignored).
    pub fn new(config: RegistryConfig, records: Vec<Record>, now: Instant, seed: u64) -> Self {
        let accounts = Accounts::restore(records.into_iter().filter_map(|r| match r {
            Record::Account(a) => Some(a),
            _ => None,
        }));
        let mut rng = Rng::new(seed);
        let keys = keys::RegistryKeys::new(
            &config.secure,
            &mut rng,
            now,
            config.unix_ms_at_start,
            config.certificate_lifetime,
        );
        let mut registry = Self {
            config,
            rng,
            keys,
            relays: relays::Relays::default(),
            announcer: announcer::Announcer::new(now),
            now,
            next_conn: 0,
            conns: BTreeMap::new(),
            accounts,
            directory: Directory::default(),
            jobs: jobs::AuthJobs::default(),
            guard: guard::LoginGuard::default(),
            timers: TimerTable::new(),
            out: VecDeque::new(),
            frame: Vec::new(),
        };
        registry.announce();
        registry
    }

    /// The sessions online now, in name order.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The accounts.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// How many connections are open.
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// The configuration.
    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// The key peers pin (its fingerprint is what `--registry-key` takes).
    pub fn signing_key(&self) -> PublicKey {
        self.keys.signing_key()
    }

    /// Sends `msg` on `conn`, sealed by its channel (nothing if the channel
    /// failed: the connection is being closed).
    fn send(&mut self, conn: ConnId, msg: &Message) {
        self.frame.clear();
        encode_into(msg, &mut self.frame);
        let _ = self.keys.seal(conn, &self.frame, self.now, &mut self.out);
    }

    fn reply(&mut self, conn: ConnId, id: u32, result: Result<ReplyBody, Refusal>) {
        if let Err(r) = &result
            && matches!(
                r.code,
                ErrorCode::WrongPassword | ErrorCode::NameTaken | ErrorCode::UnknownName
            )
        {
            self.out
                .push_back(Output::Event(RegistryEvent::Refused { conn, code: r.code }));
        }
        self.send(conn, &Message::Reply(Reply { id, result }));
    }

    /// Says goodbye, closes, and forgets `conn`, ending its session.
    fn close(&mut self, conn: ConnId, code: ErrorCode, reason: &str, why: OfflineReason) {
        if self.conns.remove(&conn).is_none() {
            return;
        }
        let goodbye = Goodbye {
            code,
            reason: crate::bounded::Text::truncate(reason),
        };
        self.send(conn, &Message::Goodbye(goodbye));
        self.out.push_back(Output::Close { conn });
        self.forget(conn, why);
    }

    /// Drops everything about a connection that is already gone.
    fn forget(&mut self, conn: ConnId, why: OfflineReason) {
        self.conns.remove(&conn);
        self.keys.remove(conn);
        self.timers.cancel(&Timer::Hello(conn));
        self.timers.cancel(&Timer::Silence(conn));
        self.relay_end_conn(conn);
        if let Some((name, _)) = self.directory.end_by_conn(conn) {
            self.announce_offline(name, why);
        }
    }

    fn violation(&mut self, conn: ConnId, reason: String) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let remote = c.remote;
        self.out.push_back(Output::Event(RegistryEvent::Violation {
            conn,
            remote,
            reason: reason.clone(),
        }));
        self.close(
            conn,
            ErrorCode::ProtocolViolation,
            &reason,
            OfflineReason::Violation,
        );
    }

    fn announce_offline(&mut self, name: Name, reason: OfflineReason) {
        // A shutdown ends every session one after another: telling the
        // watchers not yet closed that the earlier ones went offline would
        // be false news (those peers are still there, only the registry
        // goes). Each watcher hears the goodbye instead.
        if reason != OfflineReason::Shutdown {
            let push = Message::Presence(Presence {
                name: name.clone(),
                online: false,
                addr: None,
            });
            for watcher in self.directory.watchers(None) {
                self.send(watcher, &push);
            }
        }
        self.out
            .push_back(Output::Event(RegistryEvent::Offline { name, reason }));
    }

    fn run_timers(&mut self, now: Instant) {
        self.now = self.now.max(now);
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::Hello(conn) => self.close(
                    conn,
                    ErrorCode::ProtocolViolation,
                    "no hello in time",
                    OfflineReason::Violation,
                ),
                // PLANTED BUG `NeverExpireHeartbeat`: a silent session stays.
                #[cfg(feature = "planted-bugs")]
                Timer::Silence(_) if self.config.planted.has(PlantedBug::NeverExpireHeartbeat) => {}
                Timer::Silence(conn) => {
                    let secs = self.config.heartbeat_timeout.as_secs_f64();
                    self.close(
                        conn,
                        ErrorCode::TimedOut,
                        &format!("no heartbeat for {secs:.0} s; log in again"),
                        OfflineReason::TimedOut,
                    )
                }
                Timer::RelayRelease => self.relay_release(now),
                Timer::RelayReport => self.relay_report(now),
                Timer::Announce => self.announce(),
            }
        }
    }
}

impl Engine for Registry {
    type Command = RegistryCommand;
    type Event = RegistryEvent;

    fn accept(&mut self, now: Instant, remote: SocketAddr) -> ConnId {
        self.run_timers(now);
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.keys.accept(conn, &mut self.out);
        self.conns.insert(
            conn,
            Conn {
                remote,
                key: None,
                deframer: Deframer::new(),
                greeted: false,
                auth_pending: false,
            },
        );
        self.timers
            .set(Timer::Hello(conn), now + self.config.hello_timeout);
        let hello = Hello {
            version: PROTOCOL_VERSION,
            role: Role::Registry,
            name: None,
        };
        self.send(conn, &Message::Hello(hello));
        conn
    }

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.run_timers(now);
        match input {
            Input::Received { conn, bytes } => self.handle_received(now, conn, bytes),
            Input::Closed { conn } => self.forget(conn, OfflineReason::Disconnected),
            // A query on the LAN is answered; nothing else is heard.
            Input::Datagram { from, bytes } => self.on_datagram(from, bytes),
            Input::PasswordDerived { job, result } => {
                let conn = self.jobs.conn_of(job);
                self.handle_password(now, job, result);
                // Messages that arrived during the check waited for its answer.
                if let Some(conn) = conn {
                    self.read_messages(now, conn);
                }
            }
            // A registry opens no connections, moves no files, takes no calls.
            Input::Connected { .. }
            | Input::ConnectFailed { .. }
            | Input::ChunkRead { .. }
            | Input::ChunkWritten { .. }
            | Input::StorageFailed { .. }
            | Input::SourceHashing { .. }
            | Input::SourceOpened { .. }
            | Input::PartOpened { .. }
            | Input::FileFinished { .. } => {}
            // Its records are durable before it answers (it does not wait).
            Input::RecordsDurable { .. } => {}
        }
    }

    fn handle_command(&mut self, now: Instant, cmd: RegistryCommand) -> Result<(), CommandError> {
        self.run_timers(now);
        match cmd {
            RegistryCommand::Shutdown => {
                let conns: Vec<ConnId> = self.conns.keys().copied().collect();
                for conn in conns {
                    self.close(
                        conn,
                        ErrorCode::ShuttingDown,
                        "the registry is shutting down",
                        OfflineReason::Shutdown,
                    );
                }
                Ok(())
            }
            RegistryCommand::RelayStatus => {
                let status = self.relay_status();
                self.out
                    .push_back(Output::Event(RegistryEvent::RelayStatus(status)));
                Ok(())
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.run_timers(now);
    }

    fn poll_output(&mut self) -> Option<Output<RegistryEvent>> {
        let o = self.out.pop_front();
        if let Some(Output::Close { conn }) = &o {
            self.keys.remove(*conn);
        }
        o
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }
}

#[cfg(test)]
mod tests;
