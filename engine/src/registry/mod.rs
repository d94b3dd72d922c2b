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
//! Invariants, checked by the property tests:
//! - every online session belongs to an open connection and has been heard
//!   from within [`RegistryConfig::heartbeat_timeout`] (every handler first
//!   expires the sessions that are due, so no answer ever lists a silent peer);
//! - a name has at most one session, a connection at most one;
//! - listings show exactly the files the online sessions last published.

mod accounts;
mod directory;
mod guard;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub use self::accounts::Accounts;
pub use self::directory::{Directory, Session};
use crate::api::{CommandError, ConnId, Engine, Input, JobId, Output};
use crate::limits::{FRAME_HEADER_LEN, MAX_FRAME_LEN};
use crate::password::{PasswordCost, PasswordDigest, PasswordError, PasswordWork, SALT_LEN, Salt};
use crate::record::Record;
use crate::rng::Rng;
use crate::timers::TimerTable;
use crate::wire::registry::{
    LoginStamp, Password, PeerInfo, Presence, Reply, ReplyBody, Request, RequestBody, SharedFile,
};
use crate::wire::{
    Deframer, ErrorCode, Goodbye, Hello, Message, Name, PROTOCOL_VERSION, Refusal, Role, WireError,
    encode,
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
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            heartbeat_timeout: Duration::from_secs(30),
            hello_timeout: Duration::from_secs(10),
            password_cost: PasswordCost::DEFAULT,
            max_password_jobs: 16,
        }
    }
}

/// What a registry's operator can ask of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryCommand {
    /// Say goodbye to every connection and close them.
    Shutdown,
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
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Hello(ConnId),
    Silence(ConnId),
}

#[derive(Debug)]
struct Conn {
    remote: SocketAddr,
    deframer: Deframer,
    greeted: bool,
    /// A log-in or registration whose password work is outstanding.
    auth_pending: bool,
}

#[derive(Debug)]
enum AuthJob {
    Register {
        conn: ConnId,
        id: u32,
        name: Name,
        salt: Salt,
        cost: PasswordCost,
    },
    Login {
        conn: ConnId,
        id: u32,
        name: Name,
        listen: SocketAddr,
        stamp: LoginStamp,
        digest: PasswordDigest,
    },
}

/// The registry engine. See the module documentation.
#[derive(Debug)]
pub struct Registry {
    config: RegistryConfig,
    rng: Rng,
    next_conn: u64,
    next_job: u64,
    conns: BTreeMap<ConnId, Conn>,
    accounts: Accounts,
    directory: Directory,
    jobs: BTreeMap<JobId, AuthJob>,
    guard: guard::LoginGuard,
    timers: TimerTable<Timer>,
    out: VecDeque<Output<RegistryEvent>>,
    #[cfg(feature = "planted-bugs")]
    planted: Option<PlantedBug>,
}

#[cfg(feature = "planted-bugs")]
pub use crate::planted::PlantedBug;

impl Registry {
    /// A registry with the accounts found in `records` (others are ignored).
    pub fn new(config: RegistryConfig, records: Vec<Record>, _now: Instant, seed: u64) -> Self {
        let accounts = Accounts::restore(records.into_iter().filter_map(|r| match r {
            Record::Account(a) => Some(a),
            _ => None,
        }));
        Self {
            config,
            rng: Rng::new(seed),
            next_conn: 0,
            next_job: 0,
            conns: BTreeMap::new(),
            accounts,
            directory: Directory::default(),
            jobs: BTreeMap::new(),
            guard: guard::LoginGuard::default(),
            timers: TimerTable::new(),
            out: VecDeque::new(),
            #[cfg(feature = "planted-bugs")]
            planted: None,
        }
    }

    /// PLANTED BUG: switches `bug` on in this registry (tests only).
    #[cfg(feature = "planted-bugs")]
    pub fn plant_bug(&mut self, bug: PlantedBug) {
        self.planted = Some(bug);
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

    fn send(&mut self, conn: ConnId, msg: &Message) {
        self.out.push_back(Output::Send {
            conn,
            bytes: encode(msg),
        });
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
        self.timers.cancel(&Timer::Hello(conn));
        self.timers.cancel(&Timer::Silence(conn));
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
        let push = Message::Presence(Presence {
            name: name.clone(),
            online: false,
            addr: None,
        });
        for watcher in self.directory.watchers(None) {
            self.send(watcher, &push);
        }
        self.out
            .push_back(Output::Event(RegistryEvent::Offline { name, reason }));
    }

    fn run_timers(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::Hello(conn) => self.close(
                    conn,
                    ErrorCode::ProtocolViolation,
                    "no hello in time",
                    OfflineReason::Violation,
                ),
                #[cfg(feature = "planted-bugs")]
                Timer::Silence(_) if self.planted == Some(PlantedBug::NeverExpireHeartbeat) => {}
                Timer::Silence(conn) => {
                    let secs = self.config.heartbeat_timeout.as_secs_f64();
                    self.close(
                        conn,
                        ErrorCode::TimedOut,
                        &format!("no heartbeat for {secs:.0} s; log in again"),
                        OfflineReason::TimedOut,
                    )
                }
            }
        }
    }

    fn handle_received(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.deframer.push(bytes);
        self.read_messages(now, conn);
    }

    /// Handles the whole messages buffered on `conn`, in order, until one
    /// starts a password check: the rest wait for its answer, so that each
    /// request is answered in order and after the ones before it took effect.
    fn read_messages(&mut self, now: Instant, conn: ConnId) {
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            if c.auth_pending {
                if c.deframer.buffered() > MAX_WAITING_BYTES {
                    let reason = format!(
                        "more than {MAX_WAITING_BYTES} bytes sent while a log-in was being \
                         checked; wait for its reply"
                    );
                    return self.violation(conn, reason);
                }
                return;
            }
            match c.deframer.next_message() {
                Ok(Some(msg)) => self.handle_message(now, conn, msg),
                Ok(None) => return,
                Err(e @ (WireError::FrameTooLong { .. } | WireError::Malformed(_))) => {
                    return self.violation(conn, e.to_string());
                }
            }
        }
    }

    fn handle_message(&mut self, now: Instant, conn: ConnId, msg: Message) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !c.greeted {
            let Message::Hello(hello) = msg else {
                return self.violation(conn, "the first message must be a hello".into());
            };
            if hello.version != PROTOCOL_VERSION {
                let reason = format!(
                    "this registry speaks confab protocol {PROTOCOL_VERSION}, you speak {}; \
                     use the same confab version on both sides",
                    hello.version
                );
                return self.close(
                    conn,
                    ErrorCode::VersionMismatch,
                    &reason,
                    OfflineReason::Violation,
                );
            }
            if hello.role != Role::Peer {
                return self.violation(
                    conn,
                    format!("a registry talks to peers, not to a {}", hello.role),
                );
            }
            c.greeted = true;
            self.timers.cancel(&Timer::Hello(conn));
            return;
        }
        match msg {
            Message::Request(req) => self.handle_request(now, conn, req),
            Message::Goodbye(_) => {
                // The peer is leaving; it closes the connection itself.
                self.conns.remove(&conn);
                self.out.push_back(Output::Close { conn });
                self.forget(conn, OfflineReason::Disconnected);
            }
            Message::Hello(_) => self.violation(conn, "a second hello".into()),
            other => self.violation(conn, format!("a registry does not take {}", other.kind())),
        }
    }

    fn handle_request(&mut self, now: Instant, conn: ConnId, req: Request) {
        let Request { id, body } = req;
        // Any request from a session is a sign of life.
        if let Some(s) = self.directory.get_mut_by_conn(conn) {
            s.last_seen = now;
            self.timers
                .set(Timer::Silence(conn), now + self.config.heartbeat_timeout);
        }
        let session = self.directory.name_of(conn).cloned();
        let result = match (body, session) {
            (RequestBody::Register { name, password }, _) => {
                return self.start_register(conn, id, name, password);
            }
            (
                RequestBody::Login {
                    name,
                    password,
                    listen,
                    stamp,
                },
                None,
            ) => {
                return self.start_login(now, conn, id, name, password, (listen, stamp));
            }
            (RequestBody::Login { .. }, Some(current)) => Err(Refusal::new(
                ErrorCode::AlreadyLoggedIn,
                &format!("this connection is already logged in as {current}; log out first"),
            )),
            (_, None) => Err(Refusal::new(ErrorCode::NotLoggedIn, "log in first")),
            (RequestBody::Logout, Some(_)) => {
                self.timers.cancel(&Timer::Silence(conn));
                if let Some((name, _)) = self.directory.end_by_conn(conn) {
                    self.announce_offline(name, OfflineReason::LoggedOut);
                }
                Ok(ReplyBody::Done)
            }
            (RequestBody::Heartbeat, Some(_)) => Ok(ReplyBody::Done),
            (RequestBody::List { after }, Some(_)) => {
                let (users, more) = self.directory.users_page(after.as_ref(), None);
                Ok(ReplyBody::Users { users, more })
            }
            (RequestBody::Search { text, after }, Some(_)) => {
                let needle = text.to_lowercase();
                let (users, more) = self.directory.users_page(after.as_ref(), Some(&needle));
                Ok(ReplyBody::Users { users, more })
            }
            (RequestBody::Lookup { name }, Some(_)) => match self.accounts.get(&name) {
                Some(account) => Ok(ReplyBody::Peer(PeerInfo {
                    name: name.clone(),
                    addr: self.directory.get(&name).map(|s| s.listen),
                    profile: account.profile.clone(),
                })),
                None => Err(Refusal::new(
                    ErrorCode::UnknownName,
                    &format!("nobody is called {name}"),
                )),
            },
            (RequestBody::Publish { files }, Some(_)) => self.publish(conn, files.into_vec()),
            (RequestBody::SetProfile { profile }, Some(name)) => {
                if let Some(record) = self.accounts.set_profile(&name, profile) {
                    self.out.push_back(Output::Persist(Record::Account(record)));
                }
                Ok(ReplyBody::Done)
            }
            (RequestBody::Files { owner, after }, Some(_)) => {
                if let Some(o) = &owner
                    && self.directory.get(o).is_none()
                {
                    let why =
                        format!("{o} is not online; files are listed only while their owner is");
                    return self.reply(conn, id, Err(Refusal::new(ErrorCode::NotFound, &why)));
                }
                let (files, more) = self.directory.files_page(owner.as_ref(), after.as_ref());
                Ok(ReplyBody::Files { files, more })
            }
            (RequestBody::WatchPresence { on }, Some(_)) => {
                if let Some(s) = self.directory.get_mut_by_conn(conn) {
                    s.watching = on;
                }
                Ok(ReplyBody::Done)
            }
        };
        self.reply(conn, id, result);
    }

    fn publish(&mut self, conn: ConnId, mut files: Vec<SharedFile>) -> Result<ReplyBody, Refusal> {
        files.sort();
        if let Some(w) = files.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(Refusal::new(
                ErrorCode::InvalidRequest,
                &format!(
                    "{} is listed twice; shared file names must be unique",
                    w[0].name
                ),
            ));
        }
        if let Some(s) = self.directory.get_mut_by_conn(conn) {
            s.files = files;
        }
        Ok(ReplyBody::Done)
    }

    fn new_job(&mut self) -> JobId {
        self.next_job += 1;
        JobId(self.next_job)
    }

    fn begin_auth(&mut self, conn: ConnId, password: &Password) -> Result<(), Refusal> {
        let Some(c) = self.conns.get_mut(&conn) else {
            return Err(Refusal::new(ErrorCode::Busy, "connection closing"));
        };
        if c.auth_pending {
            return Err(Refusal::new(
                ErrorCode::Busy,
                "a log-in or registration is already under way",
            ));
        }
        if self.jobs.len() >= self.config.max_password_jobs {
            return Err(Refusal::new(
                ErrorCode::Busy,
                "the registry is busy checking passwords; try again in a moment",
            ));
        }
        if password.0.is_empty() {
            return Err(Refusal::new(
                ErrorCode::InvalidPassword,
                "the password must not be empty",
            ));
        }
        c.auth_pending = true;
        Ok(())
    }

    fn start_register(&mut self, conn: ConnId, id: u32, name: Name, password: Password) {
        if self.accounts.is_taken(&name) {
            let why =
                format!("the name {name} is taken; log in with its password or pick another name");
            return self.reply(conn, id, Err(Refusal::new(ErrorCode::NameTaken, &why)));
        }
        if let Err(refusal) = self.begin_auth(conn, &password) {
            return self.reply(conn, id, Err(refusal));
        }
        let mut salt = [0u8; SALT_LEN];
        self.rng.fill(&mut salt);
        let salt = Salt(salt);
        let cost = self.config.password_cost;
        self.accounts.reserve(name.clone());
        let job = self.new_job();
        self.jobs.insert(
            job,
            AuthJob::Register {
                conn,
                id,
                name,
                salt,
                cost,
            },
        );
        self.out.push_back(Output::DerivePassword {
            job,
            work: PasswordWork::new(password, salt, cost),
        });
    }

    fn start_login(
        &mut self,
        now: Instant,
        conn: ConnId,
        id: u32,
        name: Name,
        password: Password,
        (listen, stamp): (SocketAddr, LoginStamp),
    ) {
        let Some(account) = self.accounts.get(&name) else {
            let why = format!("there is no account called {name}; register it first");
            return self.reply(conn, id, Err(Refusal::new(ErrorCode::UnknownName, &why)));
        };
        let (salt, cost, digest) = (account.salt, account.cost, account.digest);
        let ip = self.conns.get(&conn).map(|c| c.remote.ip());
        if let Some(Err(wait)) = ip.map(|ip| self.guard.check(now, &name, ip)) {
            let why = format!(
                "too many wrong passwords for {name} from this address; try again in {} s",
                wait.as_secs_f64().ceil()
            );
            return self.reply(conn, id, Err(Refusal::new(ErrorCode::Busy, &why)));
        }
        if let Err(refusal) = self.begin_auth(conn, &password) {
            return self.reply(conn, id, Err(refusal));
        }
        let job = self.new_job();
        self.jobs.insert(
            job,
            AuthJob::Login {
                conn,
                id,
                name,
                listen,
                stamp,
                digest,
            },
        );
        self.out.push_back(Output::DerivePassword {
            job,
            work: PasswordWork::new(password, salt, cost),
        });
    }

    fn handle_password(
        &mut self,
        now: Instant,
        job: JobId,
        result: Result<PasswordDigest, PasswordError>,
    ) {
        let Some(job) = self.jobs.remove(&job) else {
            return;
        };
        let conn = match &job {
            AuthJob::Register { conn, .. } | AuthJob::Login { conn, .. } => *conn,
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.auth_pending = false;
        }
        let connected = self.conns.contains_key(&conn);
        match (job, result) {
            (AuthJob::Register { id, name, .. }, Err(e))
            | (AuthJob::Login { id, name, .. }, Err(e)) => {
                self.accounts.unreserve(&name);
                if connected {
                    let why = format!("the registry could not check the password: {e}");
                    self.reply(conn, id, Err(Refusal::new(ErrorCode::Busy, &why)));
                }
            }
            (
                AuthJob::Register {
                    id,
                    name,
                    salt,
                    cost,
                    ..
                },
                Ok(digest),
            ) => {
                let record = self.accounts.create(name.clone(), salt, cost, digest);
                self.out.push_back(Output::Persist(Record::Account(record)));
                self.out
                    .push_back(Output::Event(RegistryEvent::Registered { name }));
                if connected {
                    self.reply(conn, id, Ok(ReplyBody::Done));
                }
            }
            (
                AuthJob::Login {
                    id,
                    name,
                    listen,
                    stamp,
                    digest,
                    ..
                },
                Ok(got),
            ) => {
                if !connected {
                    return;
                }
                let ip = self.conns.get(&conn).map(|c| c.remote.ip());
                if !digest.matches(&got) {
                    if let Some(ip) = ip {
                        self.guard.failed(now, &name, ip);
                    }
                    let why = format!("wrong password for {name}");
                    return self.reply(conn, id, Err(Refusal::new(ErrorCode::WrongPassword, &why)));
                }
                if let Some(ip) = ip {
                    self.guard.succeeded(&name, ip);
                }
                if self.directory.name_of(conn).is_some() {
                    let why = "this connection logged in meanwhile; log out first";
                    return self.reply(
                        conn,
                        id,
                        Err(Refusal::new(ErrorCode::AlreadyLoggedIn, why)),
                    );
                }
                if let Some(current) = self.directory.get(&name)
                    && stamp.is_older_than(&current.stamp)
                {
                    let why = format!(
                        "{name} has logged in again since this log-in was sent; it is not taken"
                    );
                    return self.reply(conn, id, Err(Refusal::new(ErrorCode::StaleLogin, &why)));
                }
                self.start_session(now, conn, id, name, (listen, stamp));
            }
        }
    }

    fn start_session(
        &mut self,
        now: Instant,
        conn: ConnId,
        id: u32,
        name: Name,
        (listen, stamp): (SocketAddr, LoginStamp),
    ) {
        let session = Session {
            conn,
            listen,
            stamp,
            files: Vec::new(),
            watching: false,
            last_seen: now,
        };
        if let Some(old) = self.directory.start(name.clone(), session) {
            let remote = self.conns.get(&conn).map(|c| c.remote);
            let from = remote.map_or_else(String::new, |r| format!(" from {r}"));
            let why = format!("{name} logged in again{from}; this session is over");
            // The old connection loses its session quietly: the name stays online.
            self.timers.cancel(&Timer::Silence(old.conn));
            if self.conns.remove(&old.conn).is_some() {
                let goodbye = Goodbye {
                    code: ErrorCode::SessionReplaced,
                    reason: crate::bounded::Text::truncate(&why),
                };
                self.send(old.conn, &Message::Goodbye(goodbye));
                self.out.push_back(Output::Close { conn: old.conn });
            }
            self.out.push_back(Output::Event(RegistryEvent::Offline {
                name: name.clone(),
                reason: OfflineReason::Replaced,
            }));
        }
        self.timers
            .set(Timer::Silence(conn), now + self.config.heartbeat_timeout);
        self.reply(conn, id, Ok(ReplyBody::Done));
        let push = Message::Presence(Presence {
            name: name.clone(),
            online: true,
            addr: Some(listen),
        });
        for watcher in self.directory.watchers(Some(conn)) {
            self.send(watcher, &push);
        }
        self.out.push_back(Output::Event(RegistryEvent::Online {
            name,
            addr: listen,
            conn,
        }));
    }
}

impl Engine for Registry {
    type Command = RegistryCommand;
    type Event = RegistryEvent;

    fn accept(&mut self, now: Instant, remote: SocketAddr) -> ConnId {
        self.run_timers(now);
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.conns.insert(
            conn,
            Conn {
                remote,
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
            Input::PasswordDerived { job, result } => {
                let conn = self.jobs.get(&job).map(|j| match j {
                    AuthJob::Register { conn, .. } | AuthJob::Login { conn, .. } => *conn,
                });
                self.handle_password(now, job, result);
                // Messages that arrived during the check waited for its answer.
                if let Some(conn) = conn {
                    self.read_messages(now, conn);
                }
            }
            // A registry opens no connections and moves no files.
            Input::Connected { .. }
            | Input::ConnectFailed { .. }
            | Input::ChunkRead { .. }
            | Input::ChunkWritten { .. }
            | Input::StorageFailed { .. }
            | Input::SourceHashing { .. }
            | Input::SourceOpened { .. }
            | Input::PartOpened { .. }
            | Input::FileFinished { .. } => {}
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
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.run_timers(now);
    }

    fn poll_output(&mut self) -> Option<Output<RegistryEvent>> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded::Text;
    use crate::wire::decode;

    fn registry() -> (Registry, Instant, ConnId) {
        let now = Instant::now();
        let config = RegistryConfig {
            password_cost: PasswordCost::TESTING,
            ..RegistryConfig::default()
        };
        let mut r = Registry::new(config, Vec::new(), now, 1);
        let conn = r.accept(now, "10.0.0.1:5000".parse().unwrap());
        let hello = Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: None,
        });
        r.handle_input(
            now,
            Input::Received {
                conn,
                bytes: &encode(&hello),
            },
        );
        (r, now, conn)
    }

    fn request(id: u32, body: RequestBody) -> Vec<u8> {
        encode(&Message::Request(Request { id, body }))
    }

    fn register(id: u32) -> Vec<u8> {
        let name = Name::new("alice").unwrap();
        let password = Password(Text::new("pw").unwrap());
        request(id, RequestBody::Register { name, password })
    }

    /// What a registry did with an input, as far as these tests care.
    #[derive(Default)]
    struct Drained {
        /// Replies sent: id, and the refusal code if refused.
        replies: Vec<(u32, Option<ErrorCode>)>,
        /// Password work asked for.
        jobs: Vec<(JobId, PasswordWork)>,
        /// Whether a connection was closed.
        closed: bool,
    }

    fn drain(r: &mut Registry) -> Drained {
        let mut d = Drained::default();
        while let Some(o) = r.poll_output() {
            match o {
                Output::Send { bytes, .. } => {
                    if let Ok(Message::Reply(reply)) = decode(&bytes[FRAME_HEADER_LEN..]) {
                        d.replies
                            .push((reply.id, reply.result.err().map(|e| e.code)));
                    }
                }
                Output::DerivePassword { job, work } => d.jobs.push((job, work)),
                Output::Close { .. } => d.closed = true,
                _ => {}
            }
        }
        d
    }

    fn receive(r: &mut Registry, now: Instant, conn: ConnId, bytes: &[u8]) {
        r.handle_input(now, Input::Received { conn, bytes });
    }

    /// Runs the one password job `d` asked for and feeds its answer.
    fn answer(r: &mut Registry, now: Instant, mut d: Drained) {
        assert_eq!(d.jobs.len(), 1, "one password job");
        let (job, work) = d.jobs.remove(0);
        let result = work.run();
        r.handle_input(now, Input::PasswordDerived { job, result });
    }

    /// Found by the `registry` fuzz target: a request sent right behind a
    /// registration was answered first (reply 2 before reply 1), though
    /// replies come in order.
    #[test]
    fn a_request_behind_a_registration_is_answered_after_it() {
        let (mut r, now, conn) = registry();
        let bytes = [register(1), request(2, RequestBody::Heartbeat)].concat();
        receive(&mut r, now, conn, &bytes);
        let d = drain(&mut r);
        assert!(d.replies.is_empty(), "answered early: {:?}", d.replies);
        answer(&mut r, now, d);
        let d = drain(&mut r);
        let not_logged_in = Some(ErrorCode::NotLoggedIn);
        assert_eq!(d.replies, vec![(1, None), (2, not_logged_in)]);
        assert!(!d.closed);
    }

    #[test]
    fn a_request_behind_a_login_sees_the_session() {
        let (mut r, now, conn) = registry();
        receive(&mut r, now, conn, &register(1));
        let d = drain(&mut r);
        answer(&mut r, now, d);
        assert_eq!(drain(&mut r).replies, vec![(1, None)]);
        let login = RequestBody::Login {
            name: Name::new("alice").unwrap(),
            password: Password(Text::new("pw").unwrap()),
            listen: "10.0.0.1:7000".parse().unwrap(),
            stamp: Default::default(),
        };
        let list = RequestBody::List { after: None };
        let bytes = [request(2, login), request(3, list)].concat();
        receive(&mut r, now, conn, &bytes);
        let d = drain(&mut r);
        assert!(d.replies.is_empty(), "answered early: {:?}", d.replies);
        answer(&mut r, now, d);
        // Not NotLoggedIn: the list was read after the log-in took effect.
        assert_eq!(drain(&mut r).replies, vec![(2, None), (3, None)]);
    }

    #[test]
    fn a_flood_during_a_password_check_closes_the_connection() {
        let (mut r, now, conn) = registry();
        receive(&mut r, now, conn, &register(1));
        let heartbeat = request(2, RequestBody::Heartbeat);
        let mut sent = 0;
        while sent <= MAX_WAITING_BYTES {
            receive(&mut r, now, conn, &heartbeat);
            sent += heartbeat.len();
        }
        let d = drain(&mut r);
        assert!(d.replies.is_empty());
        assert!(d.closed, "more than MAX_WAITING_BYTES waiting closes");
        assert_eq!(r.connection_count(), 0);
    }
}
