//! The attacker: a host of its own, switched on among the swarm's faults,
//! that tries to pass for other peers and feeds peers and the registry
//! hostile bytes. turmoil does not let a host read others' traffic, so it
//! works from what it can see on its own connections, as a real attacker
//! on a shared network could at the least.
//!
//! It is a sans-IO [`Engine`], run by the same turmoil driver as the
//! others. The run loop tells it when to strike ([`AttackCommand`]); each
//! strike is one connection doing one [`Attack`], drawn from its seeded
//! rng: log in to its own account, to hold a real certificate and know the
//! registry's key ([`account`]); copy a peer's certificate from its
//! handshake ([`probe`]); replay, whole or cut, the bytes of an earlier
//! connection of its own; send garbage, an old protocol's hello, or a
//! handshake that never finishes; or reach a peer claiming another peer's
//! name ([`forge`]: with no certificate, one it signed itself, its own with
//! the name changed, its own valid one under a hello claiming another name,
//! or a copy of the claimed peer's), sending under that name one of each
//! thing a peer attributes to a name.
//!
//! It reports what it did and saw ([`AttackEvent`]); the attribution
//! checker holds the others to it: nothing it sends is ever shown as from a
//! name it stole, no peer ever answers a false name with `Verified`, and
//! the registry never logs its account in more often than it asked.
//! Connections are held a bounded time, then closed; it retires (closes
//! everything, strikes no more) when the heal begins.

mod account;
mod conn;
pub mod forge;
pub mod lan;
mod probe;
pub mod strike;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use confab_engine::secure::{Expect, Local, SigningSecret, StaticSecret};
use confab_engine::timers::TimerTable;
use confab_engine::wire::identity::{Certificate, HandshakePayload, PublicKey};
use confab_engine::wire::registry::Password;
use confab_engine::wire::{FileName, Hello, Message, Name, PROTOCOL_VERSION, Role, encode};
use confab_engine::{CommandError, ConnId, Engine, Input, Output};

use self::account::Account;
use self::conn::{Doing, StrikeConn, Turn};
use self::forge::{Credential, Kit};
use self::probe::Probe;
pub use self::strike::{Attack, Dest, Prefix};
use crate::draw::Rng;
use crate::secure_link::{SecureLink, WallClock};

/// Recordings kept for replays.
const RECORDINGS: usize = 8;

/// A peer the attacker may strike.
#[derive(Debug, Clone)]
pub struct Victim {
    /// Its name.
    pub name: Name,
    /// Where it listens.
    pub addr: SocketAddr,
    /// One of its shared files, for a false download request.
    pub file: Option<FileName>,
}

/// How the attacker is set up.
#[derive(Debug, Clone)]
pub struct AttackerConfig {
    /// Its own account's name (no peer's).
    pub name: Name,
    /// Its own account's password.
    pub password: Password,
    /// Where the registry listens.
    pub registry: SocketAddr,
    /// The address it announces.
    pub listen: SocketAddr,
    /// The peers, in host order.
    pub peers: Vec<Victim>,
    /// Unix milliseconds when it starts.
    pub unix_ms_at_start: u64,
}

/// What the run loop tells the attacker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttackCommand {
    /// Start one strike.
    Strike,
    /// Close everything and strike no more.
    Retire,
}

/// What the attacker reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttackEvent {
    /// A strike of kind `kind` ([`Attack::label`]) began on `conn`, to
    /// the host named `to` (`registry`, or a peer's name).
    Struck {
        conn: ConnId,
        kind: &'static str,
        to: String,
        what: String,
    },
    /// A log-in request of its own account went out.
    LoginSent,
    /// The registry certified its account.
    Certified,
    /// It copied `name`'s certificate from a handshake.
    Captured { name: Name },
    /// A strike's connection ended, `after` it began (`how`).
    Ended {
        conn: ConnId,
        how: String,
        after: Duration,
    },
    /// `victim` answered a false `claimed` with `Verified`: it took the
    /// attacker for `claimed`.
    Believed { victim: Name, claimed: Name },
}

/// What a connection carried, for replays.
#[derive(Debug, Clone)]
struct Recording {
    sent: Vec<u8>,
    received: Vec<u8>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Attacker {
    config: AttackerConfig,
    rng: Rng,
    clock: WallClock,
    secret: StaticSecret,
    signing: SigningSecret,
    registered: bool,
    registry_key: Option<PublicKey>,
    certificate: Option<Certificate>,
    captured: BTreeMap<Name, Certificate>,
    recordings: VecDeque<Recording>,
    conns: BTreeMap<ConnId, StrikeConn>,
    deadlines: TimerTable<ConnId>,
    next_conn: u64,
    strikes: u64,
    retired: bool,
    out: VecDeque<Output<AttackEvent>>,
}

impl Attacker {
    /// An attacker with keys drawn from `seed`.
    pub fn new(config: AttackerConfig, now: Instant, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let secret = StaticSecret::generate(&mut rng);
        let signing = SigningSecret::generate(&mut rng);
        Self {
            clock: WallClock {
                unix_ms_at_start: config.unix_ms_at_start,
                start: now,
            },
            config,
            rng,
            secret,
            signing,
            registered: false,
            registry_key: None,
            certificate: None,
            captured: BTreeMap::new(),
            recordings: VecDeque::new(),
            conns: BTreeMap::new(),
            deadlines: TimerTable::new(),
            next_conn: 0,
            strikes: 0,
            retired: false,
            out: VecDeque::new(),
        }
    }

    fn event(&mut self, e: AttackEvent) {
        self.out.push_back(Output::Event(e));
    }

    fn kit(&self, now: Instant) -> Kit<'_> {
        Kit {
            signing: &self.signing,
            key: self.secret.public(),
            own: self.certificate.as_ref(),
            captured: &self.captured,
            unix_now: self.clock.unix_secs(now),
        }
    }

    fn peer_name(&self, i: usize) -> String {
        self.config
            .peers
            .get(i)
            .map_or_else(|| format!("peer #{i}"), |p| p.name.to_string())
    }

    fn dest_name(&self, dest: Dest) -> String {
        match dest {
            Dest::Registry => "the registry".into(),
            Dest::Peer(i) => self.peer_name(i),
        }
    }

    fn addr(&self, dest: Dest) -> SocketAddr {
        match dest {
            Dest::Registry => self.config.registry,
            Dest::Peer(i) => self.config.peers[i].addr,
        }
    }

    /// One strike: draws it, opens its connection.
    fn strike(&mut self, now: Instant) {
        let means = strike::Means {
            peers: self.config.peers.len(),
            recordings: self.recordings.len(),
            ready: self.registry_key.is_some() && self.certificate.is_some(),
        };
        // Which credential can claim which peer, before the draw borrows
        // the rng.
        let kit = self.kit(now);
        let able: Vec<Vec<bool>> = Credential::ALL
            .iter()
            .map(|&c| {
                self.config
                    .peers
                    .iter()
                    .map(|p| forge::can(c, &kit, &p.name))
                    .collect()
            })
            .collect();
        let can = |c: Credential, claimed: usize| {
            let i = Credential::ALL.iter().position(|&k| k == c).unwrap_or(0);
            able[i][claimed]
        };
        let attack = strike::draw(&mut self.rng, &means, can);
        let (dest, doing, what) = self.prepare(attack, now);
        self.next_conn += 1;
        self.strikes += 1;
        let conn = ConnId(self.next_conn);
        let hold = attack.hold(&mut self.rng);
        self.deadlines.set(conn, now + hold);
        self.conns.insert(conn, StrikeConn::new(doing, now));
        let kind = attack.label();
        let to = match dest {
            Dest::Registry => "registry".into(),
            Dest::Peer(i) => self.peer_name(i),
        };
        self.event(AttackEvent::Struck {
            conn,
            kind,
            to,
            what,
        });
        let addr = self.addr(dest);
        self.out.push_back(Output::Connect { conn, addr });
    }

    /// What `attack` connects to, does, and says it does.
    fn prepare(&mut self, attack: Attack, now: Instant) -> (Dest, Doing, String) {
        match attack {
            Attack::Account => {
                let who = (
                    self.config.name.clone(),
                    self.config.password.clone(),
                    self.config.listen,
                );
                let account = Account::new(who, &self.secret, &mut self.rng);
                let what = format!("logs in as {}", self.config.name);
                (Dest::Registry, Doing::Account(Box::new(account)), what)
            }
            Attack::Probe { peer } => {
                let mut what = format!("dials {} to copy its certificate", self.peer_name(peer));
                let doing = match Probe::new(&self.secret, &mut self.rng) {
                    Ok(p) => Doing::Probe(Box::new(p), self.config.peers[peer].name.clone()),
                    Err(why) => {
                        what += &format!(" (but cannot: {why})");
                        Doing::Raw(Vec::new())
                    }
                };
                (Dest::Peer(peer), doing, what)
            }
            Attack::Replay {
                to,
                recording,
                received,
                cut,
            } => {
                let r = &self.recordings[recording % self.recordings.len()];
                let all = if received { &r.received } else { &r.sent };
                let bytes = all[..cut.unwrap_or(all.len()).min(all.len())].to_vec();
                let what = format!(
                    "replays {} of the {} bytes it {} on an earlier connection to {}",
                    bytes.len(),
                    all.len(),
                    if received { "received" } else { "sent" },
                    self.dest_name(to)
                );
                (to, Doing::Raw(bytes), what)
            }
            Attack::Garbage { to, prefix, len } => {
                let mut bytes = self.prefix(prefix, to);
                let start = bytes.len();
                bytes.resize(start + len, 0);
                self.rng.fill(&mut bytes[start..]);
                let what = format!(
                    "sends {len} random bytes after {prefix:?} to {}",
                    self.dest_name(to)
                );
                (to, Doing::Raw(bytes), what)
            }
            Attack::OldVersion { to } => {
                let hello = Hello {
                    version: 1,
                    role: Role::Peer,
                    name: Some(self.config.name.clone()),
                };
                let what = format!("speaks protocol 1 to {}", self.dest_name(to));
                (to, Doing::Raw(encode(&Message::Hello(hello))), what)
            }
            Attack::Stall { to } => {
                let bytes = self.prefix(Prefix::HandshakeStart, to);
                let what = format!("starts a handshake with {} and stalls", self.dest_name(to));
                (to, Doing::Raw(bytes), what)
            }
            Attack::Impersonate {
                victim,
                claimed,
                credential,
            } => self.impersonate(victim, claimed, credential, now),
        }
    }

    /// The bytes before garbage (see [`Prefix`]).
    fn prefix(&mut self, prefix: Prefix, to: Dest) -> Vec<u8> {
        let hello = Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: None,
        };
        match prefix {
            Prefix::Nothing => Vec::new(),
            Prefix::Preamble => encode(&Message::Hello(hello)),
            Prefix::HandshakeStart => {
                let expect = match to {
                    Dest::Registry => Expect::Registry { pin: None },
                    Dest::Peer(_) => Expect::AnyKey,
                };
                let local = self.local(None);
                SecureLink::dial(&local, expect, &mut self.rng).start()
            }
            Prefix::HugeFrame => vec![0xff; 4],
            Prefix::HugeHandshake => {
                let mut bytes = encode(&Message::Hello(hello));
                bytes.extend([0xff, 0xff]);
                bytes
            }
        }
    }

    fn local(&self, certificate: Option<Certificate>) -> Local {
        Local {
            role: Role::Peer,
            secret: self.secret.clone(),
            payload: HandshakePayload::Peer { certificate },
        }
    }

    fn impersonate(
        &mut self,
        victim: usize,
        claimed: usize,
        credential: Credential,
        now: Instant,
    ) -> (Dest, Doing, String) {
        let claimed_name = self.config.peers[claimed].name.clone();
        let victim_name = self.config.peers[victim].name.clone();
        let cert = forge::certificate(credential, &self.kit(now), &claimed_name);
        let trusted = self.registry_key.unwrap_or(self.signing.public());
        let expect = Expect::AnyPeer { trusted };
        let link = SecureLink::dial(&self.local(cert), expect, &mut self.rng);
        let stream = forge::false_messages(
            &claimed_name,
            &victim_name,
            self.strikes,
            self.rng.next_u64(),
            self.config.peers[victim].file.clone(),
        );
        let what = format!(
            "reaches {victim_name} as {claimed_name} with {}",
            credential.label()
        );
        let doing = Doing::False {
            link: Box::new(link),
            victim: victim_name,
            claimed: claimed_name,
            stream,
        };
        (Dest::Peer(victim), doing, what)
    }

    /// Carries out one turn of the strike on `conn`.
    fn take_turn(&mut self, conn: ConnId, now: Instant, turn: Turn) {
        if !turn.send.is_empty() {
            self.out.push_back(Output::Send {
                conn,
                bytes: turn.send,
            });
        }
        if turn.login_sent {
            self.event(AttackEvent::LoginSent);
        }
        if let Some(key) = turn.registry_key {
            self.registry_key = Some(key);
        }
        if let Some(cert) = turn.certificate {
            self.certificate = Some(cert);
            self.registered = true;
            self.event(AttackEvent::Certified);
        }
        if let Some((name, cert)) = turn.captured {
            self.event(AttackEvent::Captured { name: name.clone() });
            self.captured.insert(name, cert);
        }
        if let Some((victim, claimed)) = turn.believed {
            self.event(AttackEvent::Believed { victim, claimed });
        }
        if let Some(how) = turn.over {
            self.end(conn, now, how, true);
        }
    }

    /// The strike on `conn` is over: reported, recorded for replays, and
    /// closed if `close` (else the other side already did).
    fn end(&mut self, conn: ConnId, now: Instant, how: String, close: bool) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        self.deadlines.cancel(&conn);
        if close {
            self.out.push_back(Output::Close { conn });
        }
        let how = c.ending(how);
        let after = now.saturating_duration_since(c.opened);
        self.event(AttackEvent::Ended { conn, how, after });
        if c.legit_looking() {
            if self.recordings.len() == RECORDINGS {
                self.recordings.pop_front();
            }
            self.recordings.push_back(Recording {
                sent: c.sent,
                received: c.received,
            });
        }
    }

    fn run_deadlines(&mut self, now: Instant) {
        while let Some(conn) = self.deadlines.pop_due(now) {
            let up = self.conns.get(&conn).is_some_and(|c| c.up);
            let how = if up {
                "held, then closed"
            } else {
                "could not connect in time"
            };
            self.end(conn, now, how.into(), true);
        }
    }
}

impl Engine for Attacker {
    type Command = AttackCommand;
    type Event = AttackEvent;

    fn accept(&mut self, _now: Instant, _remote: SocketAddr) -> ConnId {
        // It listens for nobody; the driver never calls this.
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.out.push_back(Output::Close { conn });
        conn
    }

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.run_deadlines(now);
        match input {
            Input::Connected { conn } => {
                let registered = self.registered;
                if let Some(c) = self.conns.get_mut(&conn) {
                    let turn = c.connected(now, registered);
                    self.take_turn(conn, now, turn);
                }
            }
            Input::ConnectFailed { conn } => self.end(conn, now, "could not connect".into(), false),
            Input::Closed { conn } => self.end(conn, now, "closed by the other side".into(), false),
            Input::Received { conn, bytes } => {
                let unix = self.clock.unix_secs(now);
                if let Some(c) = self.conns.get_mut(&conn) {
                    let turn = c.received(bytes, now, unix);
                    self.take_turn(conn, now, turn);
                }
            }
            _ => {}
        }
    }

    fn handle_command(&mut self, now: Instant, cmd: AttackCommand) -> Result<(), CommandError> {
        self.run_deadlines(now);
        match cmd {
            AttackCommand::Strike if !self.retired => self.strike(now),
            AttackCommand::Strike => {}
            AttackCommand::Retire => {
                self.retired = true;
                let conns: Vec<ConnId> = self.conns.keys().copied().collect();
                for conn in conns {
                    self.end(conn, now, "retired".into(), true);
                }
            }
        }
        Ok(())
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.run_deadlines(now);
    }

    fn poll_output(&mut self) -> Option<Output<AttackEvent>> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.next_deadline()
    }
}
