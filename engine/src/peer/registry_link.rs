//! [`RegistryLink`]: the peer's session with the registry.
//!
//! It connects, says hello, logs in (registering the name first if the
//! registry does not know it), then heartbeats, watches presence and
//! publishes the shared files. When the connection drops it reconnects with
//! seeded, jittered exponential backoff and logs in again; the role machine
//! re-publishes the profile and resumes whatever waited on the registry.
//!
//! **Reply deadline.** A registry that crashed silently (its FIN lost) or a
//! connection that went half-open looks exactly like a slow registry: bytes
//! go out and nothing comes back, and TCP may not say so for many minutes.
//! So every request, the link's own included (log-in, registration,
//! heartbeats), must be answered within `reply_timeout`, and the registry
//! answers in order; a connect must complete within it too. Otherwise the
//! connection is dropped and the usual reconnect-with-backoff follows (with
//! `RegistryLost` if the session had been up). One timer,
//! [`Timer::RegistryReply`], watches the oldest unanswered request; it is
//! moved lazily when it fires, not on every reply.
//!
//! Invariants:
//! - at most one registry connection exists; `pending` holds exactly the
//!   requests sent on it that have not been answered, and is emptied (and
//!   handed back to the caller) when the connection ends;
//! - while a connect or a request is outstanding, [`Timer::RegistryReply`]
//!   is set, no later than its deadline;
//! - every log-in carries a [`LoginStamp`] whose count is one more than the
//!   last one's, persisted before the log-in goes out, so the registry can
//!   refuse one of this peer's older log-ins that arrives late instead of
//!   letting it end the newer session;
//! - only answers that cannot get better by retrying (wrong password, name
//!   taken, replaced by a newer session, version mismatch) stop the peer;
//!   everything else is retried, forever, with backoff.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use crate::api::ConnId;
use crate::bounded::List;
use crate::peer::config::SessionConfig;
use crate::peer::event::PeerEvent;
use crate::peer::io::{Io, Timer};
use crate::peer::misbehaved::RegistryViolation;
use crate::peer::records::PeerRecord;
use crate::secure::{ChannelError, Proven};
use crate::wire::registry::{
    LoginStamp, Password, Presence, Reply, ReplyBody, Request, RequestBody, SharedFile,
};
use crate::wire::relay::RelayMessage;
use crate::wire::{
    Deframer, ErrorCode, Hello, Message, Name, PROTOCOL_VERSION, Refusal, Role, WireError,
};

/// Why a request was sent, so its answer can be routed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Query<Q> {
    /// Log-in, registration, heartbeat, publish, presence watch: the link's own.
    Session(SessionStep),
    /// The role machine's.
    User(Q),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionStep {
    Login,
    Register,
    Chore,
}

/// What the link tells the role machine.
#[derive(Debug)]
pub(crate) enum RegOut<Q> {
    /// Logged in; `first` is true once per engine.
    Up { first: bool },
    /// The session is gone; these requests will never be answered.
    Down { reason: String, abandoned: Vec<Q> },
    /// The peer cannot go on.
    Stopped { code: ErrorCode, reason: String },
    /// The answer to one of the role machine's requests.
    Reply(Q, Result<ReplyBody, Refusal>),
    /// Someone came online or went offline.
    Presence(Presence),
    /// A relayed stream's message (see `peer::relay`).
    Relay(RelayMessage),
}

/// A request sent and not yet answered.
#[derive(Debug)]
struct Pending<Q> {
    query: Query<Q>,
    sent: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for [`Timer::RegistryRetry`].
    Waiting,
    Connecting(ConnId),
    /// Connected; `ready` once logged in.
    Open {
        conn: ConnId,
        ready: bool,
    },
    Stopped,
}

/// Who logs in, where, and what it publishes.
#[derive(Debug, Clone)]
pub(crate) struct Login {
    /// Where the registry listens.
    pub registry: SocketAddr,
    pub name: Name,
    pub password: Password,
    /// Where other peers reach this one.
    pub listen: SocketAddr,
    pub shared: Vec<SharedFile>,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct RegistryLink<Q> {
    login: Login,
    times: SessionConfig,
    state: State,
    deframer: Deframer,
    greeted: bool,
    next_id: u32,
    pending: BTreeMap<u32, Pending<Q>>,
    attempts: u32,
    ever_up: bool,
    down_told: bool,
    /// The last log-in's stamp (device 0 until restored or drawn).
    stamp: LoginStamp,
}

impl<Q> RegistryLink<Q> {
    pub fn new(login: Login, times: SessionConfig) -> Self {
        Self {
            login,
            times,
            state: State::Waiting,
            deframer: Deframer::new(),
            greeted: false,
            next_id: 0,
            pending: BTreeMap::new(),
            attempts: 0,
            ever_up: false,
            down_told: false,
            stamp: LoginStamp::default(),
        }
    }

    /// Whether requests can be sent now.
    pub fn is_up(&self) -> bool {
        matches!(self.state, State::Open { ready: true, .. })
    }

    /// The registry connection, while logged in on it.
    pub fn session_conn(&self) -> Option<ConnId> {
        match self.state {
            State::Open { conn, ready: true } => Some(conn),
            _ => None,
        }
    }

    /// Whether `conn` is the registry connection.
    pub fn owns(&self, conn: ConnId) -> bool {
        match self.state {
            State::Connecting(c) | State::Open { conn: c, .. } => c == conn,
            _ => false,
        }
    }

    /// Opens the connection (at start, and when the retry timer fires).
    pub fn connect(&mut self, io: &mut Io) {
        if !matches!(self.state, State::Waiting) {
            return;
        }
        let conn = io.mint_conn();
        io.keys.dial_registry(conn);
        self.state = State::Connecting(conn);
        self.deframer = Deframer::new();
        self.greeted = false;
        io.set_timer(Timer::RegistryReply, self.times.reply_timeout);
        io.out.push_back(crate::api::Output::Connect {
            conn,
            addr: self.login.registry,
        });
    }

    /// `--registry lan`: the registry is announced at `addr` (first, or
    /// again): every connect goes there from now on, and one waiting to
    /// retry, or still connecting elsewhere, goes now.
    pub fn move_to(&mut self, io: &mut Io, addr: SocketAddr) {
        let moved = self.login.registry != addr;
        self.login.registry = addr;
        match self.state {
            State::Connecting(conn) if moved => {
                io.out.push_back(crate::api::Output::Close { conn });
                self.state = State::Waiting;
            }
            State::Waiting => {}
            _ => return,
        }
        io.timers.cancel(&Timer::RegistryRetry);
        io.timers.cancel(&Timer::RegistryReply);
        self.connect(io);
    }

    /// Sends a request for the role machine; `false` if there is no session.
    pub fn request(&mut self, io: &mut Io, q: Q, body: RequestBody) -> bool {
        if !self.is_up() {
            return false;
        }
        self.send_request(io, Query::User(q), body);
        true
    }

    fn send_request(&mut self, io: &mut Io, q: Query<Q>, body: RequestBody) {
        let conn = match self.state {
            State::Open { conn, .. } => conn,
            _ => return,
        };
        self.next_id = self.next_id.wrapping_add(1);
        let id = self.next_id;
        self.pending.insert(
            id,
            Pending {
                query: q,
                sent: io.now,
            },
        );
        if io.timers.get(&Timer::RegistryReply).is_none() {
            io.set_timer(Timer::RegistryReply, self.times.reply_timeout);
        }
        io.send(conn, &Message::Request(Request { id, body }));
    }

    /// [`Timer::RegistryReply`] fired: drops the connection if a connect or
    /// the oldest request is past its deadline, else waits for that one.
    pub fn on_reply_timer(&mut self, io: &mut Io) -> Vec<RegOut<Q>> {
        let secs = self.times.reply_timeout.as_secs_f64();
        match self.state {
            State::Connecting(_) => {
                let why = format!("the registry did not accept the connection within {secs} s");
                return self.close_and_retry(io, ErrorCode::TimedOut, why);
            }
            State::Open { .. } => {}
            State::Waiting | State::Stopped => return Vec::new(),
        }
        let Some(oldest) = self.pending.values().map(|p| p.sent).min() else {
            return Vec::new();
        };
        let deadline = oldest + self.times.reply_timeout;
        if io.now >= deadline {
            let why = format!("the registry did not answer within {secs} s");
            return self.close_and_retry(io, ErrorCode::TimedOut, why);
        }
        io.timers.set(Timer::RegistryReply, deadline);
        Vec::new()
    }

    pub fn on_connected(&mut self, io: &mut Io, conn: ConnId) {
        if self.state != State::Connecting(conn) {
            return;
        }
        self.state = State::Open { conn, ready: false };
        let hello = Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: None,
        };
        io.send(conn, &Message::Hello(hello));
        self.login(io);
    }

    /// The channel proved the registry's key (matching the pin, if any).
    /// A key seen for the first time is pinned and reported, for the
    /// driver to keep.
    pub fn on_proven(&mut self, io: &mut Io, proven: Proven) {
        if let Proven::Registry { signing_key } = proven
            && let Some(fp) = io.keys.registry_proven(signing_key)
        {
            io.event(PeerEvent::RegistryKey {
                registry: self.login.registry,
                fingerprint: fp.to_string(),
            });
        }
    }

    /// The channel to the registry failed. A changed key or another
    /// version stops the peer (retrying cannot help, and a user must
    /// decide); anything else is a lost connection, tried again.
    pub fn on_channel_failed(&mut self, io: &mut Io, e: ChannelError) -> Vec<RegOut<Q>> {
        let (State::Open { conn, .. } | State::Connecting(conn)) = self.state else {
            return Vec::new();
        };
        io.out.push_back(crate::api::Output::Close { conn });
        // Closed here, once: `stop` and `lost` must not close it again.
        self.state = State::Waiting;
        match e {
            ChannelError::RegistryKeyChanged { .. } => {
                self.stop(io, ErrorCode::UntrustedKey, e.to_string())
            }
            ChannelError::VersionMismatch { .. } => {
                self.stop(io, ErrorCode::VersionMismatch, e.to_string())
            }
            ChannelError::Refused(g) if g.code == ErrorCode::VersionMismatch => {
                self.stop(io, g.code, g.reason.to_string())
            }
            e => self.lost(io, format!("the registry connection failed: {e}")),
        }
    }

    /// The stamp saved before a restart.
    pub fn restore_stamp(&mut self, stamp: LoginStamp) {
        self.stamp = stamp;
    }

    fn login(&mut self, io: &mut Io) {
        if self.stamp.device == 0 {
            // First start with this data: this installation's id, for good.
            self.stamp.device = io.rng.next_u64().max(1);
        }
        self.stamp.count += 1;
        io.persist(PeerRecord::Logins(self.stamp));
        let body = RequestBody::Login {
            name: self.login.name.clone(),
            password: self.login.password.clone(),
            listen: self.login.listen,
            stamp: self.stamp,
        };
        self.send_request(io, Query::Session(SessionStep::Login), body);
    }

    /// The connection failed or closed.
    pub fn on_closed(&mut self, io: &mut Io, conn: ConnId) -> Vec<RegOut<Q>> {
        if !self.owns(conn) {
            return Vec::new();
        }
        self.lost(io, "the registry connection closed".into())
    }

    /// Forgets the connection (already closed or closing) and schedules a retry.
    fn lost(&mut self, io: &mut Io, reason: String) -> Vec<RegOut<Q>> {
        self.state = State::Waiting;
        io.timers.cancel(&Timer::Heartbeat);
        io.timers.cancel(&Timer::RegistryReply);
        let wait = io.backoff(
            self.attempts,
            self.times.reconnect.min,
            self.times.reconnect.max,
        );
        self.attempts = self.attempts.saturating_add(1);
        io.set_timer(Timer::RegistryRetry, wait);
        let abandoned = std::mem::take(&mut self.pending)
            .into_values()
            .filter_map(|p| match p.query {
                Query::User(u) => Some(u),
                Query::Session(_) => None,
            })
            .collect();
        if self.down_told {
            return Vec::new();
        }
        self.down_told = true;
        vec![RegOut::Down { reason, abandoned }]
    }

    fn close_and_retry(&mut self, io: &mut Io, code: ErrorCode, reason: String) -> Vec<RegOut<Q>> {
        match self.state {
            State::Open { conn, .. } => io.goodbye(conn, code, &reason),
            State::Connecting(conn) => io.out.push_back(crate::api::Output::Close { conn }),
            State::Waiting | State::Stopped => {}
        }
        self.lost(io, reason)
    }

    fn violation(&mut self, io: &mut Io, v: RegistryViolation) -> Vec<RegOut<Q>> {
        self.close_and_retry(io, ErrorCode::ProtocolViolation, v.to_string())
    }

    fn stop(&mut self, io: &mut Io, code: ErrorCode, reason: String) -> Vec<RegOut<Q>> {
        if let State::Open { conn, .. } | State::Connecting(conn) = self.state {
            io.out.push_back(crate::api::Output::Close { conn });
        }
        self.state = State::Stopped;
        self.pending.clear();
        io.timers.cancel(&Timer::Heartbeat);
        io.timers.cancel(&Timer::RegistryRetry);
        io.timers.cancel(&Timer::RegistryReply);
        vec![RegOut::Stopped { code, reason }]
    }

    /// Logs out and closes (for `/quit`).
    pub fn quit(&mut self, io: &mut Io) {
        if self.is_up() {
            self.send_request(io, Query::Session(SessionStep::Chore), RequestBody::Logout);
        }
        match self.state {
            State::Open { conn, .. } => io.goodbye(conn, ErrorCode::Normal, "logging out"),
            // Not up yet: it carried nothing, not even a hello.
            State::Connecting(conn) => io.out.push_back(crate::api::Output::Close { conn }),
            State::Waiting | State::Stopped => {}
        }
        self.state = State::Stopped;
        self.pending.clear();
        io.timers.cancel(&Timer::Heartbeat);
        io.timers.cancel(&Timer::RegistryRetry);
        io.timers.cancel(&Timer::RegistryReply);
    }

    pub fn on_retry_timer(&mut self, io: &mut Io) {
        self.connect(io);
    }

    pub fn on_heartbeat_timer(&mut self, io: &mut Io) {
        if self.is_up() {
            self.send_request(
                io,
                Query::Session(SessionStep::Chore),
                RequestBody::Heartbeat,
            );
            io.set_timer(Timer::Heartbeat, self.times.heartbeat_interval);
        }
    }

    pub fn on_received(&mut self, io: &mut Io, conn: ConnId, bytes: &[u8]) -> Vec<RegOut<Q>> {
        if !matches!(self.state, State::Open { conn: c, .. } if c == conn) {
            return Vec::new();
        }
        self.deframer.push(bytes);
        let mut outs = Vec::new();
        loop {
            if !matches!(self.state, State::Open { conn: c, .. } if c == conn) {
                return outs;
            }
            match self.deframer.next_message() {
                Ok(Some(msg)) => outs.extend(self.on_message(io, msg)),
                Ok(None) => return outs,
                Err(e @ (WireError::FrameTooLong { .. } | WireError::Malformed(_))) => {
                    outs.extend(self.violation(io, RegistryViolation::BadBytes(e)));
                    return outs;
                }
            }
        }
    }

    fn on_message(&mut self, io: &mut Io, msg: Message) -> Vec<RegOut<Q>> {
        if !self.greeted {
            return match msg {
                Message::Hello(h) if h.version != PROTOCOL_VERSION => {
                    let why = format!(
                        "the registry speaks confab protocol {}, this peer speaks {PROTOCOL_VERSION}",
                        h.version
                    );
                    self.stop(io, ErrorCode::VersionMismatch, why)
                }
                Message::Hello(h) if h.role == Role::Registry => {
                    self.greeted = true;
                    Vec::new()
                }
                // A goodbye can come first (the registry refused us at once).
                Message::Goodbye(g) => self.on_goodbye(io, g.code, g.reason.to_string()),
                other => self.violation(io, RegistryViolation::NoHello { got: other.kind() }),
            };
        }
        match msg {
            Message::Reply(r) => self.on_reply(io, r),
            Message::Presence(p) => vec![RegOut::Presence(p)],
            Message::Relay(r) if self.is_up() => vec![RegOut::Relay(r)],
            Message::Goodbye(g) => self.on_goodbye(io, g.code, g.reason.to_string()),
            other => self.violation(io, RegistryViolation::Unexpected { kind: other.kind() }),
        }
    }

    fn on_goodbye(&mut self, io: &mut Io, code: ErrorCode, reason: String) -> Vec<RegOut<Q>> {
        match code {
            ErrorCode::SessionReplaced | ErrorCode::VersionMismatch => self.stop(io, code, reason),
            _ => {
                if let State::Open { conn, .. } = self.state {
                    io.out.push_back(crate::api::Output::Close { conn });
                }
                self.lost(io, format!("the registry said goodbye: {reason} ({code})"))
            }
        }
    }

    fn on_reply(&mut self, io: &mut Io, reply: Reply) -> Vec<RegOut<Q>> {
        let Some(Pending { query: q, .. }) = self.pending.remove(&reply.id) else {
            return self.violation(io, RegistryViolation::UnaskedReply(reply.id));
        };
        match (q, reply.result) {
            (Query::User(u), result) => vec![RegOut::Reply(u, result)],
            (Query::Session(SessionStep::Chore), Ok(ReplyBody::Certified(cert))) => {
                io.keys.set_certificate(cert);
                Vec::new()
            }
            (Query::Session(SessionStep::Chore), Ok(_)) => Vec::new(),
            (Query::Session(SessionStep::Chore), Err(r)) => {
                io.notice(format!("the registry refused: {r}"));
                Vec::new()
            }
            (Query::Session(SessionStep::Login), Ok(body)) => {
                if let ReplyBody::Certified(cert) = body {
                    io.keys.set_certificate(cert);
                }
                self.logged_in(io)
            }
            (Query::Session(SessionStep::Login), Err(r)) if r.code == ErrorCode::UnknownName => {
                let body = RequestBody::Register {
                    name: self.login.name.clone(),
                    password: self.login.password.clone(),
                };
                self.send_request(io, Query::Session(SessionStep::Register), body);
                Vec::new()
            }
            (Query::Session(SessionStep::Register), Ok(_)) => {
                io.notice(format!("registered the name {}", self.login.name));
                self.login(io);
                Vec::new()
            }
            (Query::Session(_), Err(r)) => match r.code {
                ErrorCode::WrongPassword
                | ErrorCode::InvalidPassword
                | ErrorCode::InvalidName
                | ErrorCode::NameTaken => self.stop(io, r.code, r.message.to_string()),
                _ => {
                    let why = format!("log-in refused for now: {r}");
                    self.close_and_retry(io, ErrorCode::Normal, why)
                }
            },
        }
    }

    /// The shared folder changed: remembers `files` for every later log-in
    /// and, if the session is up, publishes them now (the registry replaces
    /// the whole list).
    pub fn set_shared(&mut self, io: &mut Io, files: Vec<SharedFile>) {
        self.login.shared = files;
        if self.is_up() {
            self.publish(io);
        }
    }

    fn publish(&mut self, io: &mut Io) {
        let files = List::new(self.login.shared.clone()).unwrap_or_else(|e| {
            io.error(format!("too many shared files to publish: {e}"));
            List::default()
        });
        let chore = Query::Session(SessionStep::Chore);
        self.send_request(io, chore, RequestBody::Publish { files });
    }

    fn logged_in(&mut self, io: &mut Io) -> Vec<RegOut<Q>> {
        if let State::Open { conn, .. } = self.state {
            self.state = State::Open { conn, ready: true };
        }
        self.attempts = 0;
        self.down_told = false;
        let chore = || Query::Session(SessionStep::Chore);
        self.send_request(io, chore(), RequestBody::WatchPresence { on: true });
        self.publish(io);
        io.set_timer(Timer::Heartbeat, self.times.heartbeat_interval);
        let first = !self.ever_up;
        self.ever_up = true;
        vec![RegOut::Up { first }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Output;
    use crate::bounded::Text;
    use crate::wire::{Goodbye, encode};
    use std::time::{Duration, Instant};

    /// Regression (peer fuzz target): `/quit` while the registry connection
    /// was still connecting sent a goodbye as its first frame.
    #[test]
    fn quit_while_connecting_closes_without_a_goodbye() {
        let (mut io, mut l) = unconnected();
        l.connect(&mut io);
        io.out.clear();
        l.quit(&mut io);
        let outs: Vec<_> = io.out.drain(..).collect();
        assert!(
            matches!(&outs[..], [Output::Close { conn }] if *conn == ConnId(1)),
            "{outs:?}"
        );
    }

    /// Regression (peer fuzz target): a channel to the registry that failed
    /// for good (another version, a changed key) was closed twice, once
    /// before stopping and once by the stop.
    #[test]
    fn a_channel_failed_for_good_closes_once() {
        for e in [
            ChannelError::VersionMismatch { theirs: 9 },
            ChannelError::Handshake("bad".into()),
        ] {
            let (mut io, mut l, conn) = link();
            io.out.clear();
            l.on_channel_failed(&mut io, e);
            let closes = io
                .out
                .iter()
                .filter(|o| matches!(o, Output::Close { conn: c } if *c == conn))
                .count();
            assert_eq!(closes, 1);
        }
    }

    /// A link for "ann" that has not dialed yet (1 s heartbeat, 2 s reply
    /// deadline).
    fn unconnected() -> (Io, RegistryLink<u8>) {
        let io = Io::new(Instant::now(), 1);
        let addr: SocketAddr = "10.0.0.1:7000".parse().unwrap();
        let d = Duration::from_secs(1);
        let login = Login {
            registry: addr,
            name: Name::new("ann").unwrap(),
            password: Password(Text::new("pw").unwrap()),
            listen: addr,
            shared: Vec::new(),
        };
        let times = SessionConfig {
            heartbeat_interval: d,
            reply_timeout: 2 * d,
            reconnect: crate::peer::config::Backoff { min: d, max: d },
        };
        let l = RegistryLink::new(login, times);
        (io, l)
    }

    fn link() -> (Io, RegistryLink<u8>, ConnId) {
        let (mut io, mut l) = unconnected();
        l.connect(&mut io);
        let conn = ConnId(1);
        l.on_connected(&mut io, conn);
        let hello = Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            role: Role::Registry,
            name: None,
        });
        assert!(l.on_received(&mut io, conn, &encode(&hello)).is_empty());
        (io, l, conn)
    }

    /// The bodies of the requests sent so far, with their ids.
    fn requests(io: &mut Io) -> Vec<(u32, RequestBody)> {
        io.out
            .drain(..)
            .filter_map(|o| match o {
                Output::Send { bytes, .. } => match crate::wire::decode(&bytes[4..]) {
                    Ok(Message::Request(r)) => Some((r.id, r.body)),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    fn reply(
        io: &mut Io,
        l: &mut RegistryLink<u8>,
        conn: ConnId,
        id: u32,
        result: Result<ReplyBody, Refusal>,
    ) -> Vec<RegOut<u8>> {
        l.on_received(io, conn, &encode(&Message::Reply(Reply { id, result })))
    }

    /// The stamp is saved before the log-in goes out, and a restart goes
    /// on counting from the saved one.
    #[test]
    fn login_stamps_are_saved_first_and_keep_counting_after_a_restart() {
        let saved = LoginStamp {
            device: 42,
            count: 9,
        };
        let (mut io, mut l) = unconnected();
        l.restore_stamp(saved);
        l.connect(&mut io);
        io.out.clear();
        l.on_connected(&mut io, ConnId(1));
        let outs: Vec<_> = io.out.drain(..).collect();
        let want = LoginStamp {
            device: 42,
            count: 10,
        };
        let persisted = outs.iter().position(|o| {
            matches!(o, Output::Persist(crate::Record::Peer(PeerRecord::Logins(s))) if *s == want)
        });
        let login = outs.iter().position(|o| match o {
            Output::Send { bytes, .. } => matches!(
                crate::wire::decode(&bytes[4..]),
                Ok(Message::Request(Request { body: RequestBody::Login { stamp, .. }, .. })) if stamp == want
            ),
            _ => false,
        });
        assert!(
            matches!((persisted, login), (Some(p), Some(s)) if p < s),
            "{outs:?}"
        );
    }

    #[test]
    fn first_login_registers_then_logs_in() {
        let (mut io, mut l, conn) = link();
        let r = requests(&mut io);
        assert!(matches!(&r[..], [(1, RequestBody::Login { .. })]));
        let refusal = Refusal::new(ErrorCode::UnknownName, "who?");
        assert!(reply(&mut io, &mut l, conn, 1, Err(refusal)).is_empty());
        assert!(matches!(
            &requests(&mut io)[..],
            [(2, RequestBody::Register { .. })]
        ));
        reply(&mut io, &mut l, conn, 2, Ok(ReplyBody::Done));
        assert!(matches!(
            &requests(&mut io)[..],
            [(3, RequestBody::Login { .. })]
        ));
        let outs = reply(&mut io, &mut l, conn, 3, Ok(ReplyBody::Done));
        assert!(matches!(&outs[..], [RegOut::Up { first: true }]));
        // Each log-in was stamped one more than the last, from one device.
        assert_eq!(l.stamp.count, 2);
        assert_ne!(l.stamp.device, 0);
        assert!(l.is_up());
        let r = requests(&mut io);
        assert!(matches!(
            &r[..],
            [
                (_, RequestBody::WatchPresence { on: true }),
                (_, RequestBody::Publish { .. })
            ]
        ));
    }

    #[test]
    fn wrong_password_and_replacement_stop_other_losses_retry() {
        let (mut io, mut l, conn) = link();
        requests(&mut io);
        let outs = reply(
            &mut io,
            &mut l,
            conn,
            1,
            Err(Refusal::new(ErrorCode::WrongPassword, "no")),
        );
        assert!(matches!(
            &outs[..],
            [RegOut::Stopped {
                code: ErrorCode::WrongPassword,
                ..
            }]
        ));
        assert!(io.timers.is_empty(), "no retry after a stop");

        let (mut io, mut l, conn) = link();
        requests(&mut io);
        reply(&mut io, &mut l, conn, 1, Ok(ReplyBody::Done));
        assert!(l.request(&mut io, 7, RequestBody::Heartbeat));
        let outs = l.on_closed(&mut io, conn);
        assert!(matches!(&outs[..], [RegOut::Down { abandoned, .. }] if abandoned == &vec![7]));
        assert!(io.timers.get(&Timer::RegistryRetry).is_some());
        l.on_retry_timer(&mut io);
        let conn2 = ConnId(2);
        assert!(l.owns(conn2));
        l.on_connected(&mut io, conn2);
        let bye = Message::Goodbye(Goodbye {
            code: ErrorCode::SessionReplaced,
            reason: Text::new("elsewhere").unwrap(),
        });
        let hello = Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            role: Role::Registry,
            name: None,
        });
        l.on_received(&mut io, conn2, &encode(&hello));
        let outs = l.on_received(&mut io, conn2, &encode(&bye));
        assert!(matches!(
            &outs[..],
            [RegOut::Stopped {
                code: ErrorCode::SessionReplaced,
                ..
            }]
        ));
    }
}
