//! Unit tests of the registry's ordering rules: replies in request order,
//! and the bytes that wait during a password check.

// The sans-IO scan (`tests/all/sans_io.rs`) skips what follows a `cfg(test)`
// attribute: this whole file is test code, which may read the clock.
#![cfg(test)]

use super::*;
use crate::api::JobId;
use crate::bounded::Text;
use crate::password::PasswordWork;
use crate::wire::decode;
use crate::wire::registry::{Password, Request, RequestBody};

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
