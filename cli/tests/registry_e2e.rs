//! End-to-end: the real `confab registry` on 127.0.0.1, spoken to in frames.

mod common;
mod support;

use common::{Client, name, password};
use confab_engine::wire::registry::{ReplyBody, RequestBody};
use confab_engine::wire::{ErrorCode, Message};
use support::{Proc, start_registry};

fn register(
    c: &mut Client,
    who: &str,
    pw: &str,
) -> Result<ReplyBody, confab_engine::wire::Refusal> {
    c.request(RequestBody::Register {
        name: name(who),
        password: password(pw),
    })
}

fn login(c: &mut Client, who: &str, pw: &str) -> Result<ReplyBody, confab_engine::wire::Refusal> {
    c.request(RequestBody::Login {
        name: name(who),
        password: password(pw),
        listen: "127.0.0.1:9".parse().unwrap(),
        stamp: Default::default(),
    })
}

#[test]
fn accounts_log_in_list_refuse_and_survive_a_restart_and_sigterm_is_clean() {
    let data = tempfile::tempdir().unwrap();
    let (mut registry, addr) = start_registry("127.0.0.1:0", data.path());

    let mut alice = Client::connect(addr);
    assert_eq!(register(&mut alice, "alice", "s3cret"), Ok(ReplyBody::Done));
    registry.expect_line("alice registered");
    assert_eq!(login(&mut alice, "alice", "s3cret"), Ok(ReplyBody::Done));
    match alice.request(RequestBody::List { after: None }) {
        Ok(ReplyBody::Users { users, more }) => {
            let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
            assert_eq!(names, ["alice"]);
            assert!(!more);
        }
        other => panic!("expected users, got {other:?}"),
    }

    let mut mallory = Client::connect(addr);
    let refusal = login(&mut mallory, "alice", "guess").unwrap_err();
    assert_eq!(refusal.code, ErrorCode::WrongPassword);
    let taken = register(&mut mallory, "alice", "other").unwrap_err();
    assert_eq!(taken.code, ErrorCode::NameTaken);

    // SIGTERM: every client hears why, and the process exits with success.
    registry.signal(libc::SIGTERM);
    match alice.recv() {
        Some(Message::Goodbye(g)) => assert_eq!(g.code, ErrorCode::ShuttingDown),
        other => panic!("expected a goodbye, got {other:?}"),
    }
    assert_eq!(alice.recv(), None, "then the connection ends");
    registry.expect_line("registry stopped");
    let status = registry.wait_exit();
    assert!(status.success(), "exit status {status}");

    // Same data folder: the account and its password were kept.
    let (_registry, addr) = start_registry("127.0.0.1:0", data.path());
    let mut again = Client::connect(addr);
    assert_eq!(
        login(&mut again, "alice", "guess").unwrap_err().code,
        ErrorCode::WrongPassword
    );
    assert_eq!(login(&mut again, "alice", "s3cret"), Ok(ReplyBody::Done));
}

#[test]
fn sigint_stops_it_too() {
    let data = tempfile::tempdir().unwrap();
    let (mut registry, addr) = start_registry("127.0.0.1:0", data.path());
    let mut c = Client::connect(addr);
    registry.signal(libc::SIGINT);
    assert!(matches!(c.recv(), Some(Message::Goodbye(_))));
    assert!(registry.wait_exit().success());
}

#[test]
fn garbage_closes_only_that_connection() {
    let data = tempfile::tempdir().unwrap();
    let (_registry, addr) = start_registry("127.0.0.1:0", data.path());
    let mut good = Client::connect(addr);

    let mut bad = Client::connect(addr);
    // A length prefix far over the limit.
    bad.send_raw(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    match bad.recv() {
        Some(Message::Goodbye(g)) => assert_eq!(g.code, ErrorCode::ProtocolViolation),
        other => panic!("expected a goodbye, got {other:?}"),
    }

    assert_eq!(register(&mut good, "bob", "pw"), Ok(ReplyBody::Done));
    assert_eq!(login(&mut good, "bob", "pw"), Ok(ReplyBody::Done));
}

#[test]
fn address_in_use_is_a_clear_error() {
    let data = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut r = Proc::start(
        "confab",
        &[
            "registry",
            "--listen",
            &addr,
            "--data",
            data.path().to_str().unwrap(),
        ],
        &[],
    );
    let status = r.wait_exit();
    assert!(!status.success());
    let err = r.stderr_after_exit();
    assert!(err.contains("in use") && err.contains("--listen"), "{err}");
}

#[test]
fn an_unusable_data_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"").unwrap();
    let data = file.join("data");
    let mut r = Proc::start(
        "confab",
        &[
            "registry",
            "--listen",
            "127.0.0.1:0",
            "--data",
            data.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!r.wait_exit().success());
    let err = r.stderr_after_exit();
    assert!(err.contains("--data"), "{err}");
}

#[test]
fn version_and_help() {
    let mut v = Proc::start("confab", &["--version"], &[]);
    let line = v.expect_line("confab");
    assert_eq!(line, format!("confab {}", env!("CARGO_PKG_VERSION")));
    assert!(v.wait_exit().success());

    let mut h = Proc::start("confab", &["peer", "--help"], &[]);
    h.expect_line("--registry");
    assert!(h.wait_exit().success());

    let mut bad = Proc::start("confab", &["peer", "--name", "Alice"], &[]);
    assert!(!bad.wait_exit().success());
    assert!(bad.stderr_after_exit().contains("lowercase"));
}
