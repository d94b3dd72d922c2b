//! [`Account`]: the attacker playing by the rules, once per strike of this
//! kind: it connects to the registry through the real channel, registers
//! its own name if the registry does not know it, logs in, and keeps the
//! certificate the registry issues (its own name, its own Noise key) and
//! the registry's signing key, which the other strikes need to be taken
//! for a peer at all. Then it leaves; the bytes it sent are a recording to
//! replay later.
//!
//! Touches only its own link; the attacker carries out what it returns.

use std::net::SocketAddr;
use std::time::Instant;

use confab_engine::secure::{Expect, Local, Proven, StaticSecret};
use confab_engine::wire::identity::{Certificate, HandshakePayload, PublicKey};
use confab_engine::wire::registry::{Password, ReplyBody, Request, RequestBody};
use confab_engine::wire::{ErrorCode, Hello, Message, Name, PROTOCOL_VERSION, Refusal, Role};

use crate::draw::Rng;
use crate::secure_link::SecureLink;

/// What the account session asked last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Register,
    Login,
}

/// What a step of the session came to, for the attacker to act on.
#[derive(Debug, Default)]
pub struct Step {
    /// Bytes to send.
    pub send: Vec<u8>,
    /// A log-in request went out.
    pub login_sent: bool,
    /// The registry proved this signing key.
    pub registry_key: Option<PublicKey>,
    /// The registry certified the account.
    pub certificate: Option<Certificate>,
    /// The session is over (why): close the connection.
    pub over: Option<String>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Account {
    name: Name,
    password: Password,
    listen: SocketAddr,
    link: SecureLink,
    next_id: u32,
    asked: Option<(u32, Asked)>,
}

impl Account {
    /// A session for `name` (announcing `listen`) holding `secret`, with
    /// entropy from `rng`.
    pub fn new(
        (name, password, listen): (Name, Password, SocketAddr),
        secret: &StaticSecret,
        rng: &mut Rng,
    ) -> Self {
        let local = Local {
            role: Role::Peer,
            secret: secret.clone(),
            payload: HandshakePayload::Peer { certificate: None },
        };
        let link = SecureLink::dial(&local, Expect::Registry { pin: None }, rng);
        Self {
            name,
            password,
            listen,
            link,
            next_id: 0,
            asked: None,
        }
    }

    /// The connection is up: the first bytes, the hello, and a log-in (or
    /// a registration first, if the account is not known to exist).
    pub fn start(&mut self, now: Instant, registered: bool) -> Step {
        let mut step = Step {
            send: self.link.start(),
            ..Step::default()
        };
        let hello = Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: None,
        };
        self.send(&Message::Hello(hello), now, &mut step);
        self.ask(
            if registered {
                Asked::Login
            } else {
                Asked::Register
            },
            now,
            &mut step,
        );
        step
    }

    fn send(&mut self, msg: &Message, now: Instant, step: &mut Step) {
        match self.link.send(msg, now) {
            Ok(bytes) => step.send.extend(bytes),
            Err(e) => step.over = Some(format!("its channel failed: {e}")),
        }
    }

    fn ask(&mut self, what: Asked, now: Instant, step: &mut Step) {
        self.next_id += 1;
        let body = match what {
            Asked::Register => RequestBody::Register {
                name: self.name.clone(),
                password: self.password.clone(),
            },
            Asked::Login => {
                step.login_sent = true;
                RequestBody::Login {
                    name: self.name.clone(),
                    password: self.password.clone(),
                    listen: self.listen,
                    stamp: Default::default(),
                }
            }
        };
        let req = Request {
            id: self.next_id,
            body,
        };
        self.asked = Some((self.next_id, what));
        self.send(&Message::Request(req), now, step);
    }

    /// Bytes arrived from the registry.
    pub fn receive(&mut self, bytes: &[u8], now: Instant, unix_now: u64) -> Step {
        let mut step = Step::default();
        let opened = match self.link.receive(bytes, now, unix_now) {
            Ok(opened) => opened,
            Err(e) => {
                step.over = Some(format!("the registry's channel failed: {e}"));
                return step;
            }
        };
        step.send = opened.send;
        if let Some(Proven::Registry { signing_key }) = opened.proven {
            step.registry_key = Some(signing_key);
        }
        while step.over.is_none() {
            match self.link.next_message() {
                Ok(Some(msg)) => self.message(msg, now, &mut step),
                Ok(None) => break,
                Err(e) => step.over = Some(format!("bad bytes from the registry: {e}")),
            }
        }
        step
    }

    fn message(&mut self, msg: Message, now: Instant, step: &mut Step) {
        let reply = match msg {
            Message::Reply(reply) => reply,
            Message::Goodbye(g) => {
                step.over = Some(format!("the registry said goodbye: {}", g.reason));
                return;
            }
            // Its hello, presence pushes: nothing to do.
            _ => return,
        };
        let Some((id, what)) = self.asked.take() else {
            return;
        };
        if reply.id != id {
            step.over = Some(format!("a reply to {} while {id} was open", reply.id));
            return;
        }
        match (what, reply.result) {
            (Asked::Register, Ok(_))
            | (
                Asked::Register,
                Err(Refusal {
                    code: ErrorCode::NameTaken,
                    ..
                }),
            ) => self.ask(Asked::Login, now, step),
            (
                Asked::Login,
                Err(Refusal {
                    code: ErrorCode::UnknownName,
                    ..
                }),
            ) => self.ask(Asked::Register, now, step),
            (Asked::Login, Ok(ReplyBody::Certified(cert))) => {
                step.certificate = Some(cert);
                step.over = Some("certified".into());
            }
            (what, result) => {
                step.over = Some(format!("{what:?} answered {result:?}"));
            }
        }
    }
}
