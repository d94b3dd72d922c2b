//! A scripted registry client: extra load on the registry beside the real
//! peers, and a second, simpler implementation of a registry session whose
//! every reply the checkers can hold to the protocol.
//!
//! It is a sans-IO [`Engine`] like the real ones, so the same turmoil driver
//! runs it. It speaks `wire::registry` inside the engine's encrypted channel
//! ([`SecureLink`]: a Noise handshake proving the registry's signing key,
//! then the framed stream) and behaves as a peer's registry link does: while
//! it wants to be online it connects, says hello, logs in (registering its
//! name first when the registry does not know it), heartbeats at a third of
//! the registry's timeout, and after any loss reconnects with a doubling,
//! jittered backoff. Its Noise static key and every handshake's entropy come
//! from its seeded rng.
//! The workload tells it to go online or offline and to ask things
//! ([`ClientCommand`]).
//!
//! It also checks what it hears, for the checkers: replies must answer its
//! requests one for one, in order, and a log-in (or a renewal in a heartbeat
//! reply) must bring a certificate for its name and its key, signed by the
//! registry's key ([`ClientEvent::Breach`] otherwise). A
//! request unanswered for [`ClientConfig::reply_timeout`] means the link is
//! dead (turmoil's TCP does not retransmit: a partition stalls a stream for
//! good), so the client drops it and starts over.

mod request;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use confab_engine::rng::Rng;
use confab_engine::secure::certificate;
use confab_engine::secure::{ChannelError, Expect, Local, Proven, StaticSecret};
use confab_engine::timers::TimerTable;
use confab_engine::wire::identity::{Certificate, Fingerprint, HandshakePayload, PublicKey};
use confab_engine::wire::registry::{
    Password, Profile, Reply, ReplyBody, Request, RequestBody, SharedFile, UserEntry,
};
use confab_engine::wire::{ErrorCode, Hello, Message, Name, PROTOCOL_VERSION, Refusal, Role};
use confab_engine::{CommandError, ConnId, Engine, Input, Output};

pub use self::request::Ask;
use crate::secure_link::{SecureLink, WallClock};

/// How a client behaves.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Its name (unique in the simulation).
    pub name: Name,
    /// Its password.
    pub password: Password,
    /// Where the registry listens.
    pub registry: SocketAddr,
    /// The address it announces for peers.
    pub listen: SocketAddr,
    /// Time between heartbeats.
    pub heartbeat_interval: Duration,
    /// A request unanswered this long kills the link.
    pub reply_timeout: Duration,
    /// First reconnection wait; doubles up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest reconnection wait.
    pub reconnect_max: Duration,
    /// Unix milliseconds when the client starts (the simulated wall clock,
    /// as the engines get it).
    pub unix_ms_at_start: u64,
    /// The registry key to hold the registry to; `None`: trust the first
    /// one seen, and hold later connections to it.
    pub registry_pin: Option<Fingerprint>,
}

/// What the workload asks of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCommand {
    /// Be logged in (and stay so across losses).
    GoOnline,
    /// Log out and disconnect.
    GoOffline,
    /// Ask the registry something (only while logged in).
    Ask(Ask),
}

/// What a client reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The link to the registry is gone (or could not be made).
    Lost { reason: String },
    /// The registry created this client's account.
    Registered,
    /// A session started on `conn`.
    LoggedIn { conn: ConnId },
    /// The session ended by this client's logout.
    LoggedOut,
    /// The registry ended the session (goodbye with `code`).
    Ended { code: ErrorCode },
    /// A request went out.
    Asked { what: &'static str, id: u32 },
    /// A request was refused.
    Refused { what: &'static str, code: ErrorCode },
    /// An answer listing online users, to a request sent `waited` ago.
    Users {
        users: Vec<UserEntry>,
        more: bool,
        waited: Duration,
    },
    /// Any other answer.
    Answered { what: &'static str },
    /// A presence push.
    Presence { name: Name, online: bool },
    /// A command that needs a session came while there was none.
    Skipped { what: &'static str },
    /// The registry broke the protocol as this client sees it.
    Breach { what: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Reconnect,
    Heartbeat,
    ReplyDeadline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Down,
    Connecting(ConnId),
    Up(ConnId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Session {
    None,
    Authenticating,
    LoggedIn,
    LoggingOut,
}

#[derive(Debug)]
struct Pending {
    id: u32,
    what: &'static str,
    sent: Instant,
    kind: request::Kind,
}

/// See the module documentation.
#[derive(Debug)]
pub struct RegistryClient {
    config: ClientConfig,
    rng: Rng,
    want_online: bool,
    link: Link,
    greeted: bool,
    /// The encrypted channel of the current connection.
    secure: Option<SecureLink>,
    /// This client's Noise static key.
    secret: StaticSecret,
    clock: WallClock,
    /// The registry key held to: pinned, or learned on first contact.
    pin: Option<Fingerprint>,
    /// The registry's signing key, once proven.
    registry_key: Option<PublicKey>,
    session: Session,
    pending: VecDeque<Pending>,
    next_conn: u64,
    next_id: u32,
    backoff: Duration,
    timers: TimerTable<Timer>,
    out: VecDeque<Output<ClientEvent>>,
}

impl RegistryClient {
    /// A client that wants to be online from the start.
    pub fn new(config: ClientConfig, now: Instant, seed: u64) -> Self {
        let mut timers = TimerTable::new();
        timers.set(Timer::Reconnect, now);
        let mut rng = Rng::new(seed);
        let secret = StaticSecret::generate(&mut rng);
        Self {
            backoff: config.reconnect_min,
            clock: WallClock {
                unix_ms_at_start: config.unix_ms_at_start,
                start: now,
            },
            pin: config.registry_pin,
            config,
            rng,
            want_online: true,
            link: Link::Down,
            greeted: false,
            secure: None,
            secret,
            registry_key: None,
            session: Session::None,
            pending: VecDeque::new(),
            next_conn: 0,
            next_id: 0,
            timers,
            out: VecDeque::new(),
        }
    }

    /// Its name.
    pub fn name(&self) -> &Name {
        &self.config.name
    }

    /// The address it announces.
    pub fn listen(&self) -> SocketAddr {
        self.config.listen
    }

    /// Whether it wants to be logged in.
    pub fn wants_online(&self) -> bool {
        self.want_online
    }

    /// Whether it believes it is logged in.
    pub fn is_logged_in(&self) -> bool {
        self.session == Session::LoggedIn
    }

    fn event(&mut self, e: ClientEvent) {
        self.out.push_back(Output::Event(e));
    }

    fn conn(&self) -> Option<ConnId> {
        match self.link {
            Link::Up(c) => Some(c),
            _ => None,
        }
    }

    fn request(&mut self, now: Instant, kind: request::Kind, body: RequestBody) {
        let Some(conn) = self.conn() else { return };
        self.next_id = self.next_id.wrapping_add(1);
        let id = self.next_id;
        let what = kind.label();
        self.send(now, conn, &Message::Request(Request { id, body }));
        if self.pending.is_empty() {
            self.timers
                .set(Timer::ReplyDeadline, now + self.config.reply_timeout);
        }
        self.pending.push_back(Pending {
            id,
            what,
            sent: now,
            kind,
        });
        if self.session == Session::LoggedIn {
            self.timers
                .set(Timer::Heartbeat, now + self.config.heartbeat_interval);
        }
        self.event(ClientEvent::Asked { what, id });
    }

    fn login(&mut self, now: Instant) {
        self.session = Session::Authenticating;
        let body = RequestBody::Login {
            name: self.config.name.clone(),
            password: self.config.password.clone(),
            listen: self.config.listen,
            // A scripted client keeps no state between log-ins.
            stamp: Default::default(),
        };
        self.request(now, request::Kind::Login, body);
    }

    fn register(&mut self, now: Instant) {
        self.session = Session::Authenticating;
        let body = RequestBody::Register {
            name: self.config.name.clone(),
            password: self.config.password.clone(),
        };
        self.request(now, request::Kind::Register, body);
    }

    /// Seals `msg` into the connection's channel (held there until its
    /// handshake ends).
    fn send(&mut self, now: Instant, conn: ConnId, msg: &Message) {
        let Some(secure) = self.secure.as_mut() else {
            return;
        };
        match secure.send(msg, now) {
            Ok(bytes) if bytes.is_empty() => {}
            Ok(bytes) => self.out.push_back(Output::Send { conn, bytes }),
            Err(e) => self.lose(now, format!("the channel is closed: {e}")),
        }
    }

    /// Gives up the link (if any) and schedules the next attempt.
    fn lose(&mut self, now: Instant, reason: String) {
        match self.link {
            Link::Down => return,
            Link::Connecting(conn) | Link::Up(conn) => {
                self.out.push_back(Output::Close { conn });
            }
        }
        self.drop_link(now, reason);
    }

    /// The link is gone (already closed on the driver's side).
    fn drop_link(&mut self, now: Instant, reason: String) {
        self.link = Link::Down;
        self.secure = None;
        self.session = Session::None;
        self.pending.clear();
        self.timers.cancel(&Timer::ReplyDeadline);
        self.timers.cancel(&Timer::Heartbeat);
        self.event(ClientEvent::Lost { reason });
        if self.want_online {
            let jitter = self.backoff.mul_f64(crate::draw::unit(&mut self.rng) / 2.0);
            self.timers
                .set(Timer::Reconnect, now + self.backoff + jitter);
            self.backoff = (self.backoff * 2).min(self.config.reconnect_max);
        }
    }

    fn connect(&mut self) {
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.link = Link::Connecting(conn);
        self.greeted = false;
        let local = Local {
            role: Role::Peer,
            secret: self.secret.clone(),
            payload: HandshakePayload::Peer { certificate: None },
        };
        let expect = Expect::Registry { pin: self.pin };
        self.secure = Some(SecureLink::dial(&local, expect, &mut self.rng));
        self.out.push_back(Output::Connect {
            conn,
            addr: self.config.registry,
        });
    }

    /// Moves toward what the client wants, from wherever it is.
    fn steer(&mut self, now: Instant) {
        match (self.want_online, self.link, self.session) {
            (true, Link::Down, _) if self.timers.get(&Timer::Reconnect).is_none() => {
                self.connect();
            }
            (true, Link::Up(_), Session::None) => self.login(now),
            (false, Link::Up(_), Session::LoggedIn) => {
                self.session = Session::LoggingOut;
                self.request(now, request::Kind::Logout, RequestBody::Logout);
            }
            (false, Link::Up(_) | Link::Connecting(_), Session::None) => {
                self.lose(now, "going offline".into());
            }
            _ => {}
        }
    }

    fn handle_message(&mut self, now: Instant, msg: Message) {
        if !self.greeted {
            match msg {
                Message::Hello(h) if h.role == Role::Registry && h.version == PROTOCOL_VERSION => {
                    self.greeted = true;
                }
                other => self.breach(
                    now,
                    format!("first message {} is no registry hello", other.kind()),
                ),
            }
            return;
        }
        match msg {
            Message::Reply(reply) => self.handle_reply(now, reply),
            Message::Presence(p) => self.event(ClientEvent::Presence {
                name: p.name,
                online: p.online,
            }),
            Message::Goodbye(g) => {
                self.event(ClientEvent::Ended { code: g.code });
                if matches!(
                    g.code,
                    ErrorCode::ProtocolViolation | ErrorCode::VersionMismatch
                ) {
                    self.breach(
                        now,
                        format!("the registry says we broke the protocol: {}", g.reason),
                    );
                } else {
                    self.lose(now, format!("goodbye: {}", g.code));
                }
            }
            other => self.breach(now, format!("a registry sent {}", other.kind())),
        }
    }

    fn breach(&mut self, now: Instant, what: String) {
        self.event(ClientEvent::Breach { what: what.clone() });
        self.lose(now, what);
    }

    fn handle_reply(&mut self, now: Instant, reply: Reply) {
        let Some(front) = self.pending.pop_front() else {
            return self.breach(now, format!("reply {} to no request", reply.id));
        };
        if front.id != reply.id {
            return self.breach(
                now,
                format!(
                    "reply {} out of order: the oldest request is {} ({})",
                    reply.id, front.id, front.what
                ),
            );
        }
        match self.pending.front() {
            Some(next) => self
                .timers
                .set(Timer::ReplyDeadline, next.sent + self.config.reply_timeout),
            None => self.timers.cancel(&Timer::ReplyDeadline),
        }
        let waited = now.saturating_duration_since(front.sent);
        match (front.kind, reply.result) {
            (request::Kind::Register, Ok(_)) => {
                self.event(ClientEvent::Registered);
                self.login(now);
            }
            (
                request::Kind::Register,
                Err(Refusal {
                    code: ErrorCode::NameTaken,
                    ..
                }),
            ) => self.login(now),
            (request::Kind::Login, Ok(body)) => {
                if let Err(why) = self.certified(now, body, true) {
                    return self.breach(now, format!("log-in answered {why}"));
                }
                self.session = Session::LoggedIn;
                self.backoff = self.config.reconnect_min;
                self.timers
                    .set(Timer::Heartbeat, now + self.config.heartbeat_interval);
                let conn = self.conn().unwrap_or(ConnId(0));
                self.event(ClientEvent::LoggedIn { conn });
            }
            (
                request::Kind::Login,
                Err(Refusal {
                    code: ErrorCode::UnknownName,
                    ..
                }),
            ) => self.register(now),
            (request::Kind::Logout, Ok(_)) => {
                self.session = Session::None;
                self.timers.cancel(&Timer::Heartbeat);
                self.event(ClientEvent::LoggedOut);
            }
            (kind @ (request::Kind::Register | request::Kind::Login), Err(r)) => {
                self.event(ClientEvent::Refused {
                    what: kind.label(),
                    code: r.code,
                });
                self.lose(now, format!("{} refused: {}", kind.label(), r.code));
            }
            (_, Ok(ReplyBody::Users { users, more })) => self.event(ClientEvent::Users {
                users: users.into_vec(),
                more,
                waited,
            }),
            (request::Kind::Heartbeat, Ok(body)) => {
                if let Err(why) = self.certified(now, body, false) {
                    return self.breach(now, format!("heartbeat answered {why}"));
                }
                self.event(ClientEvent::Answered {
                    what: request::Kind::Heartbeat.label(),
                });
            }
            (kind, Ok(_)) => self.event(ClientEvent::Answered { what: kind.label() }),
            (kind, Err(r)) => self.event(ClientEvent::Refused {
                what: kind.label(),
                code: r.code,
            }),
        }
    }

    /// Checks the body of a log-in reply (`required`: it must be a
    /// certificate) or of a heartbeat reply (a certificate, or `Done`): a
    /// certificate must be for this client's name and key, signed by the
    /// registry's key and valid now. `Err` says what was wrong.
    fn certified(&self, now: Instant, body: ReplyBody, required: bool) -> Result<(), String> {
        let cert: Certificate = match body {
            ReplyBody::Certified(cert) => cert,
            ReplyBody::Done if !required => return Ok(()),
            other => return Err(format!("with {other:?} instead of a certificate")),
        };
        let Some(registry) = self.registry_key else {
            return Err("with a certificate before the registry proved its key".into());
        };
        let unix = self.clock.unix_secs(now);
        let name = &self.config.name;
        certificate::check(&cert, &registry, &self.secret.public(), unix, Some(name))
            .map(drop)
            .map_err(|e| format!("with a certificate that does not check: {e}"))
    }

    /// Bytes arrived on the current connection: through the channel, then
    /// message by message.
    fn received(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        let Some(secure) = self.secure.as_mut() else {
            return;
        };
        let opened = match secure.receive(bytes, now, self.clock.unix_secs(now)) {
            Ok(opened) => opened,
            Err(ChannelError::Refused(g)) => {
                return self.breach(
                    now,
                    format!(
                        "the registry refused the channel: {} ({})",
                        g.reason, g.code
                    ),
                );
            }
            Err(e) => return self.breach(now, format!("the registry's channel failed: {e}")),
        };
        if !opened.send.is_empty() {
            self.out.push_back(Output::Send {
                conn,
                bytes: opened.send,
            });
        }
        match opened.proven {
            Some(Proven::Registry { signing_key }) => {
                // The channel held it to the pin, if any: from now on, this key.
                self.pin = Some(signing_key.fingerprint());
                self.registry_key = Some(signing_key);
            }
            Some(other) => {
                return self.breach(now, format!("a registry proved {other:?}"));
            }
            None => {}
        }
        while self.conn() == Some(conn) {
            let Some(secure) = self.secure.as_mut() else {
                return;
            };
            match secure.next_message() {
                Ok(Some(msg)) => self.handle_message(now, msg),
                Ok(None) => break,
                Err(e) => self.breach(now, format!("bad bytes from the registry: {e}")),
            }
        }
    }

    fn ask(&mut self, now: Instant, ask: Ask) {
        if self.session != Session::LoggedIn {
            return self.event(ClientEvent::Skipped { what: ask.label() });
        }
        let (kind, body) = ask.into_request();
        self.request(now, kind, body);
    }

    fn run_timers(&mut self, now: Instant) {
        while let Some(t) = self.timers.pop_due(now) {
            match t {
                Timer::Reconnect => {
                    if self.want_online && self.link == Link::Down {
                        self.connect();
                    }
                }
                Timer::Heartbeat => {
                    if self.session == Session::LoggedIn {
                        self.request(now, request::Kind::Heartbeat, RequestBody::Heartbeat);
                    }
                }
                Timer::ReplyDeadline => {
                    let secs = self.config.reply_timeout.as_secs_f64();
                    self.lose(now, format!("no reply in {secs:.1} s"));
                }
            }
        }
    }
}

impl Engine for RegistryClient {
    type Command = ClientCommand;
    type Event = ClientEvent;

    fn accept(&mut self, _now: Instant, _remote: SocketAddr) -> ConnId {
        // A registry client listens for nobody; the driver never calls this.
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.out.push_back(Output::Close { conn });
        conn
    }

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.run_timers(now);
        match input {
            Input::Connected { conn } if self.link == Link::Connecting(conn) => {
                self.link = Link::Up(conn);
                if let Some(secure) = self.secure.as_mut() {
                    let bytes = secure.start();
                    self.out.push_back(Output::Send { conn, bytes });
                }
                let hello = Hello {
                    version: PROTOCOL_VERSION,
                    role: Role::Peer,
                    name: None,
                };
                self.send(now, conn, &Message::Hello(hello));
            }
            Input::ConnectFailed { conn } if self.link == Link::Connecting(conn) => {
                self.drop_link(now, "could not connect".into());
            }
            Input::Closed { conn } if self.conn() == Some(conn) => {
                self.drop_link(now, "connection closed".into());
            }
            Input::Received { conn, bytes } if self.conn() == Some(conn) => {
                self.received(now, conn, bytes);
            }
            _ => {}
        }
        self.steer(now);
    }

    fn handle_command(&mut self, now: Instant, cmd: ClientCommand) -> Result<(), CommandError> {
        self.run_timers(now);
        match cmd {
            ClientCommand::GoOnline => self.want_online = true,
            ClientCommand::GoOffline => {
                self.want_online = false;
                self.timers.cancel(&Timer::Reconnect);
            }
            ClientCommand::Ask(ask) => self.ask(now, ask),
        }
        self.steer(now);
        Ok(())
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.run_timers(now);
        self.steer(now);
    }

    fn poll_output(&mut self) -> Option<Output<ClientEvent>> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }
}

/// The profile a client sets, for variety in the traffic.
pub fn profile_for(name: &Name, n: u64) -> Profile {
    Profile {
        nick: confab_engine::bounded::Text::truncate(&format!("{name} #{n}")),
        ..Profile::default()
    }
}

/// A shared file list for a client, `n` files long.
pub fn files_for(name: &Name, n: u64) -> Vec<SharedFile> {
    (0..n)
        .filter_map(|i| {
            let file = confab_engine::wire::FileName::new(&format!("{name}-{i}.txt")).ok()?;
            Some(SharedFile {
                kind: Default::default(),
                name: file,
                size: i * 1000 + 1,
                md5: confab_engine::wire::Md5([i as u8; 16]),
            })
        })
        .collect()
}
