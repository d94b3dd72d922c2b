//! End-to-end: the real `confab registry` on 127.0.0.1, spoken to in frames
//! inside the encrypted channel (and, to see it refused, around it).

mod common;
mod support;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;

use common::{Client, name, password};
use confab_engine::secure::ChannelError;
use confab_engine::wire::registry::{ReplyBody, RequestBody};
use confab_engine::wire::{Deframer, ErrorCode, Hello, Message, Role, encode};
use support::{Proc, registry_key_of, start_registry};

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
    // The log-in is answered with a certificate: alice's name, for the key
    // this very connection proved, signed by the key the registry printed.
    let key = registry_key_of(&mut registry);
    match login(&mut alice, "alice", "s3cret") {
        Ok(ReplyBody::Certified(cert)) => {
            assert_eq!(cert.body.name.as_str(), "alice");
            assert_eq!(cert.body.key, alice.key);
            assert_eq!(Some(cert.body.registry), alice.registry_key);
            assert_eq!(cert.body.registry.fingerprint().to_string(), key);
        }
        other => panic!("expected a certificate, got {other:?}"),
    }
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

    // Same data folder: the account, its password and the registry's key
    // were kept.
    let (mut registry, addr) = start_registry("127.0.0.1:0", data.path());
    assert_eq!(registry_key_of(&mut registry), key, "the same key");
    let mut again = Client::connect(addr);
    assert_eq!(
        login(&mut again, "alice", "guess").unwrap_err().code,
        ErrorCode::WrongPassword
    );
    assert!(matches!(
        login(&mut again, "alice", "s3cret"),
        Ok(ReplyBody::Certified(_))
    ));
    let file = data.path().join("registry.key");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", file.display());
}

#[test]
fn a_client_pinned_to_another_key_gets_nothing_through() {
    let data = tempfile::tempdir().unwrap();
    let (mut registry, addr) = start_registry("127.0.0.1:0", data.path());
    let key = registry_key_of(&mut registry);
    let other = "00112233445566778899aabbccddeeff";
    assert_ne!(key, other);
    let mut c = Client::open(addr, Some(other.parse().unwrap()));
    assert_eq!(c.recv(), None, "nothing is delivered");
    match &c.failed {
        Some(ChannelError::RegistryKeyChanged { pinned, got }) => {
            assert_eq!(
                (pinned.to_string(), got.to_string()),
                (other.into(), key.clone())
            );
        }
        e => panic!("expected a changed key, got {e:?}"),
    }
    let mut pinned = Client::open(addr, Some(key.parse().unwrap()));
    assert!(matches!(pinned.recv(), Some(Message::Hello(_))));
}

#[test]
fn a_client_of_another_protocol_version_is_told_in_plaintext() {
    let data = tempfile::tempdir().unwrap();
    let (_registry, addr) = start_registry("127.0.0.1:0", data.path());
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(common::PATIENCE)).unwrap();
    // What confab spoke before encryption: a version-1 hello, in clear.
    let old = Message::Hello(Hello {
        version: 1,
        role: Role::Peer,
        name: None,
    });
    s.write_all(&encode(&old)).unwrap();
    let mut d = Deframer::new();
    let mut buf = [0u8; 4096];
    let mut got = Vec::new();
    loop {
        while let Some(m) = d.next_message().expect("plaintext frames") {
            got.push(m);
        }
        // The registry's own hello, then the goodbye; the handshake bytes
        // after the hello are not frames, so stop at the goodbye.
        if got.iter().any(|m| matches!(m, Message::Goodbye(_))) {
            break;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => d.push(&buf[..n]),
        }
    }
    assert!(
        matches!(&got[0], Message::Hello(h) if h.role == Role::Registry && h.version == 2),
        "{got:?}"
    );
    match got.last() {
        Some(Message::Goodbye(g)) => {
            assert_eq!(g.code, ErrorCode::VersionMismatch);
            assert!(g.reason.as_str().contains("protocol 1"), "{g:?}");
        }
        other => panic!("expected a goodbye, got {other:?} after {got:?}"),
    }
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
    // Inside the channel, a frame length far over the limit: the registry
    // says why, in the channel.
    bad.send_sealed(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    match bad.recv() {
        Some(Message::Goodbye(g)) => assert_eq!(g.code, ErrorCode::ProtocolViolation),
        other => panic!("expected a goodbye, got {other:?}"),
    }

    // Around the channel, a record that does not decrypt: closed at once
    // (nothing can be said through a channel that failed).
    let mut forged = Client::connect(addr);
    let mut record = vec![0, 40];
    record.extend([0x5a; 40]);
    forged.send_raw(&record);
    assert_eq!(forged.recv(), None);

    assert_eq!(register(&mut good, "bob", "pw"), Ok(ReplyBody::Done));
    assert!(matches!(
        login(&mut good, "bob", "pw"),
        Ok(ReplyBody::Certified(_))
    ));
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
