//! [`ScriptClient`]: a remote the test drives message by message.
//!
//! It connects where it is told and runs the encrypted channel every confab
//! connection starts with ([`crate::secure::Channel`]); inside it, it sends
//! whatever [`Message`] (or raw stream bytes) the test gives it and reports
//! every message it receives as a [`ScriptEvent`]. Above the channel it does
//! no protocol of its own, not even a hello, so a test can play a correct
//! peer, a confused one or a hostile one. [`ScriptCommand::SendRaw`] puts
//! bytes on the wire beside the channel, for tests of the channel itself;
//! [`ScriptCommand::ConnectAs`] chooses what the client proves and expects
//! (a peer with a certificate, a forged one, none).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use crate::api::{CommandError, ConnId, Engine, Input, Output};
use crate::rng::Rng;
use crate::secure::channel::{Channel, Expect, Local, Proven, Side};
use crate::secure::keys::StaticSecret;
use crate::wire::identity::HandshakePayload;
use crate::wire::{Deframer, Message, Role, encode};

/// What a [`ScriptClient`] proves and expects on one connection.
#[derive(Debug, Clone)]
pub struct ScriptIdentity {
    /// What it says and proves.
    pub local: Local,
    /// What the other side must prove.
    pub expect: Expect,
}

/// What the test asks of a [`ScriptClient`].
#[derive(Debug, Clone)]
pub enum ScriptCommand {
    /// Open a connection to a registry at `addr` as a peer not yet logged
    /// in (reported as [`ScriptEvent::Connected`], then
    /// [`ScriptEvent::Secured`]).
    Connect(SocketAddr),
    /// Open a connection to `addr` proving and expecting what is given.
    ConnectAs(SocketAddr, Box<ScriptIdentity>),
    /// Open a connection to `addr` with no channel at all: plaintext
    /// frames both ways, as confab before protocol 2 spoke.
    ConnectPlain(SocketAddr),
    /// Send a message on `conn`, through its channel.
    Send(ConnId, Message),
    /// Send stream bytes on `conn`, through its channel.
    SendPlain(ConnId, Vec<u8>),
    /// Send raw bytes on `conn`, beside the channel.
    SendRaw(ConnId, Vec<u8>),
    /// Close `conn`.
    Close(ConnId),
}

/// What a [`ScriptClient`] saw.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptEvent {
    /// A connection is up (outgoing or accepted).
    Connected(ConnId),
    /// A connection could not be made.
    ConnectFailed(ConnId),
    /// The channel's handshake ended: what the other side proved.
    Secured(ConnId, Proven),
    /// The channel failed (why); nothing more is read from `conn`.
    ChannelFailed(ConnId, String),
    /// A message arrived.
    Message(ConnId, Message),
    /// The stream on `conn` was not valid frames.
    BadBytes(ConnId, String),
    /// The connection is gone.
    Closed(ConnId),
}

#[derive(Debug)]
struct Conn {
    /// `None`: a plaintext connection ([`ScriptCommand::ConnectPlain`]).
    channel: Option<Channel>,
    deframer: Deframer,
}

/// See the module documentation.
#[derive(Debug)]
pub struct ScriptClient {
    next_conn: u64,
    conns: BTreeMap<ConnId, Conn>,
    out: VecDeque<Output<ScriptEvent>>,
    rng: Rng,
    now: Option<Instant>,
    /// The Unix time (seconds) certificates are checked at.
    pub unix_secs: u64,
}

impl Default for ScriptClient {
    fn default() -> Self {
        Self {
            next_conn: 0,
            conns: BTreeMap::new(),
            out: VecDeque::new(),
            rng: Rng::new(0x005c_4197),
            now: None,
            unix_secs: 0,
        }
    }
}

impl ScriptClient {
    /// A client with no connections.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id the next `Connect` will get.
    pub fn next_conn_id(&self) -> ConnId {
        ConnId(self.next_conn + 1)
    }

    /// A peer identity with a fresh key and no certificate, expecting a
    /// registry: what [`ScriptCommand::Connect`] uses.
    pub fn anonymous(&mut self) -> ScriptIdentity {
        ScriptIdentity {
            local: Local {
                role: Role::Peer,
                secret: StaticSecret::generate(&mut self.rng),
                payload: HandshakePayload::Peer { certificate: None },
            },
            expect: Expect::Registry { pin: None },
        }
    }

    fn open(&mut self, conn: ConnId, side: Side, id: &ScriptIdentity) {
        let mut entropy = [0u8; 32];
        self.rng.fill(&mut entropy);
        let channel = Channel::new(side, &id.local, id.expect.clone(), entropy);
        self.conns.insert(
            conn,
            Conn {
                channel: Some(channel),
                deframer: Deframer::new(),
            },
        );
    }

    fn push_send(&mut self, conn: ConnId, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.out.push_back(Output::Send { conn, bytes });
        }
    }

    fn seal(&mut self, conn: ConnId, plain: &[u8]) {
        let (Some(now), Some(c)) = (self.now, self.conns.get_mut(&conn)) else {
            return;
        };
        let Some(channel) = &mut c.channel else {
            return self.push_send(conn, plain.to_vec());
        };
        let mut bytes = Vec::new();
        if channel.seal(plain, now, &mut bytes).is_ok() {
            self.push_send(conn, bytes);
        }
    }

    fn event(&mut self, e: ScriptEvent) {
        self.out.push_back(Output::Event(e));
    }

    fn received(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        let unix = self.unix_secs;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let got = match &mut c.channel {
            None => crate::secure::channel::Received {
                plain: bytes.to_vec(),
                ..Default::default()
            },
            Some(channel) => match channel.receive(bytes, now, unix) {
                Ok(got) => got,
                Err(e) => {
                    let why = e.to_string();
                    return self.event(ScriptEvent::ChannelFailed(conn, why));
                }
            },
        };
        c.deframer.push(&got.plain);
        let mut events = Vec::new();
        if let Some(p) = got.proven {
            events.push(ScriptEvent::Secured(conn, p));
        }
        loop {
            match c.deframer.next_message() {
                Ok(Some(m)) => events.push(ScriptEvent::Message(conn, m)),
                Ok(None) => break,
                Err(e) => {
                    events.push(ScriptEvent::BadBytes(conn, e.to_string()));
                    break;
                }
            }
        }
        self.push_send(conn, got.send);
        for e in events {
            self.event(e);
        }
    }
}

impl Engine for ScriptClient {
    type Command = ScriptCommand;
    type Event = ScriptEvent;

    /// An accepted connection proves an anonymous key and expects a peer
    /// with any certificate (it checks none: [`Expect::AnyKey`]).
    fn accept(&mut self, now: Instant, _remote: SocketAddr) -> ConnId {
        self.now = Some(now);
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        let mut id = self.anonymous();
        id.expect = Expect::AnyKey;
        self.open(conn, Side::Responder, &id);
        if let Some(Conn {
            channel: Some(channel),
            ..
        }) = self.conns.get_mut(&conn)
        {
            let mut bytes = Vec::new();
            channel.start(&mut bytes);
            self.push_send(conn, bytes);
        }
        self.event(ScriptEvent::Connected(conn));
        conn
    }

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.now = Some(now);
        match input {
            Input::Connected { conn } => {
                if let Some(Conn {
                    channel: Some(channel),
                    ..
                }) = self.conns.get_mut(&conn)
                {
                    let mut bytes = Vec::new();
                    channel.start(&mut bytes);
                    self.push_send(conn, bytes);
                }
                self.event(ScriptEvent::Connected(conn));
            }
            Input::ConnectFailed { conn } => {
                self.conns.remove(&conn);
                self.event(ScriptEvent::ConnectFailed(conn));
            }
            Input::Received { conn, bytes } => self.received(now, conn, bytes),
            Input::Closed { conn } if self.conns.remove(&conn).is_some() => {
                self.event(ScriptEvent::Closed(conn));
            }
            _ => {}
        }
    }

    fn handle_command(&mut self, now: Instant, cmd: ScriptCommand) -> Result<(), CommandError> {
        self.now = Some(now);
        match cmd {
            ScriptCommand::Connect(addr) => {
                let id = self.anonymous();
                self.handle_command(now, ScriptCommand::ConnectAs(addr, Box::new(id)))?;
            }
            ScriptCommand::ConnectAs(addr, id) => {
                self.next_conn += 1;
                let conn = ConnId(self.next_conn);
                self.open(conn, Side::Initiator, &id);
                self.out.push_back(Output::Connect { conn, addr });
            }
            ScriptCommand::ConnectPlain(addr) => {
                self.next_conn += 1;
                let conn = ConnId(self.next_conn);
                let plain = Conn {
                    channel: None,
                    deframer: Deframer::new(),
                };
                self.conns.insert(conn, plain);
                self.out.push_back(Output::Connect { conn, addr });
            }
            ScriptCommand::Send(conn, msg) => self.seal(conn, &encode(&msg)),
            ScriptCommand::SendPlain(conn, bytes) => self.seal(conn, &bytes),
            ScriptCommand::SendRaw(conn, bytes) => self.push_send(conn, bytes),
            ScriptCommand::Close(conn) => {
                self.conns.remove(&conn);
                self.out.push_back(Output::Close { conn });
            }
        }
        Ok(())
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
    }

    fn poll_output(&mut self) -> Option<Output<ScriptEvent>> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}
