//! Unit tests of the registry's ordering rules: replies in request order,
//! and the bytes that wait during a password check. The test speaks to the
//! registry as a peer does, through a client-side encrypted channel.

// The sans-IO scan (`tests/all/sans_io.rs`) skips what follows a `cfg(test)`
// attribute: this whole file is test code, which may read the clock.
#![cfg(test)]

use super::*;
use crate::api::JobId;
use crate::bounded::Text;
use crate::password::PasswordWork;
use crate::secure::channel::{Channel, Expect, Local, Side};
use crate::secure::keys::StaticSecret;
use crate::wire::encode;
use crate::wire::identity::HandshakePayload;
use crate::wire::registry::{Password, Request, RequestBody};

/// A registry, one connection to it, and the peer's end of its channel.
struct Fixture {
    r: Registry,
    now: Instant,
    conn: ConnId,
    ch: Channel,
    deframer: Deframer,
}

fn registry() -> Fixture {
    let now = Instant::now();
    let config = RegistryConfig {
        password_cost: PasswordCost::TESTING,
        ..RegistryConfig::default()
    };
    let mut r = Registry::new(config, Vec::new(), now, 1);
    let conn = r.accept(now, "10.0.0.1:5000".parse().unwrap());
    let local = Local {
        role: Role::Peer,
        secret: StaticSecret::from_bytes([3; 32]),
        payload: HandshakePayload::Peer { certificate: None },
    };
    let ch = Channel::new(
        Side::Initiator,
        &local,
        Expect::Registry { pin: None },
        [4; 32],
    );
    let mut f = Fixture {
        r,
        now,
        conn,
        ch,
        deframer: Deframer::new(),
    };
    let mut first = Vec::new();
    f.ch.start(&mut first);
    f.r.handle_input(
        now,
        Input::Received {
            conn,
            bytes: &first,
        },
    );
    // The registry's first frame and handshake message, then ours.
    drain(&mut f);
    assert!(f.ch.is_secure(), "handshake done");
    let hello = Message::Hello(Hello {
        version: PROTOCOL_VERSION,
        role: Role::Peer,
        name: None,
    });
    receive(&mut f, &encode(&hello));
    f
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

/// Takes the registry's output; what it sent goes through the channel (its
/// answers to the handshake go back to the registry at once).
fn drain(f: &mut Fixture) -> Drained {
    let mut d = Drained::default();
    while let Some(o) = f.r.poll_output() {
        match o {
            Output::Send { bytes, .. } => {
                let Ok(got) = f.ch.receive(&bytes, f.now, 0) else {
                    continue;
                };
                if !got.send.is_empty() {
                    let conn = f.conn;
                    f.r.handle_input(
                        f.now,
                        Input::Received {
                            conn,
                            bytes: &got.send,
                        },
                    );
                }
                f.deframer.push(&got.plain);
                while let Ok(Some(m)) = f.deframer.next_message() {
                    if let Message::Reply(reply) = m {
                        d.replies
                            .push((reply.id, reply.result.err().map(|e| e.code)));
                    }
                }
            }
            Output::DerivePassword { job, work } => d.jobs.push((job, work)),
            Output::Close { .. } => d.closed = true,
            _ => {}
        }
    }
    d
}

/// Sends stream bytes to the registry through the channel.
fn receive(f: &mut Fixture, plain: &[u8]) {
    let mut bytes = Vec::new();
    f.ch.seal(plain, f.now, &mut bytes).unwrap();
    let conn = f.conn;
    f.r.handle_input(
        f.now,
        Input::Received {
            conn,
            bytes: &bytes,
        },
    );
}

/// Runs the one password job `d` asked for and feeds its answer.
fn answer(f: &mut Fixture, mut d: Drained) {
    assert_eq!(d.jobs.len(), 1, "one password job");
    let (job, work) = d.jobs.remove(0);
    let result = work.run();
    f.r.handle_input(f.now, Input::PasswordDerived { job, result });
}

/// Found by the `registry` fuzz target: a request sent right behind a
/// registration was answered first (reply 2 before reply 1), though
/// replies come in order.
#[test]
fn a_request_behind_a_registration_is_answered_after_it() {
    let mut f = registry();
    let bytes = [register(1), request(2, RequestBody::Heartbeat)].concat();
    receive(&mut f, &bytes);
    let d = drain(&mut f);
    assert!(d.replies.is_empty(), "answered early: {:?}", d.replies);
    answer(&mut f, d);
    let d = drain(&mut f);
    let not_logged_in = Some(ErrorCode::NotLoggedIn);
    assert_eq!(d.replies, vec![(1, None), (2, not_logged_in)]);
    assert!(!d.closed);
}

#[test]
fn a_request_behind_a_login_sees_the_session() {
    let mut f = registry();
    receive(&mut f, &register(1));
    let d = drain(&mut f);
    answer(&mut f, d);
    assert_eq!(drain(&mut f).replies, vec![(1, None)]);
    let login = RequestBody::Login {
        name: Name::new("alice").unwrap(),
        password: Password(Text::new("pw").unwrap()),
        listen: "10.0.0.1:7000".parse().unwrap(),
        stamp: Default::default(),
    };
    let list = RequestBody::List { after: None };
    let bytes = [request(2, login), request(3, list)].concat();
    receive(&mut f, &bytes);
    let d = drain(&mut f);
    assert!(d.replies.is_empty(), "answered early: {:?}", d.replies);
    answer(&mut f, d);
    // Not NotLoggedIn: the list was read after the log-in took effect.
    assert_eq!(drain(&mut f).replies, vec![(2, None), (3, None)]);
}

#[test]
fn a_flood_during_a_password_check_closes_the_connection() {
    let mut f = registry();
    receive(&mut f, &register(1));
    let heartbeat = request(2, RequestBody::Heartbeat);
    let mut sent = 0;
    while sent <= MAX_WAITING_BYTES {
        receive(&mut f, &heartbeat);
        sent += heartbeat.len();
    }
    let d = drain(&mut f);
    assert!(d.replies.is_empty());
    assert!(d.closed, "more than MAX_WAITING_BYTES waiting closes");
    assert_eq!(f.r.connection_count(), 0);
}
