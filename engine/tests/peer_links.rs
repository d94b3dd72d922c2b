//! Direct connections: the identity check (certificates in the encrypted
//! handshake), hostile bytes, and crossed dials.

mod peer_support;

use std::time::Duration;

use confab_engine::ConnId;
use confab_engine::peer::{PeerCommand, PeerEvent};
use confab_engine::secure::certificate::issue;
use confab_engine::secure::{Expect, Local, SigningSecret, StaticSecret};
use confab_engine::testing::{AnyEvent, HostId, ScriptCommand, ScriptEvent, ScriptIdentity};
use confab_engine::wire::identity::{Certificate, HandshakePayload, PublicKey};
use confab_engine::wire::{ErrorCode, Hello, Message, PROTOCOL_VERSION, Role};
use peer_support::{Net, UNIX_MS_AT_START, name, registry_signing_key};

const S: Duration = Duration::from_secs(1);

fn goodbye_code(net: &mut Net, script: confab_engine::testing::HostId) -> Option<ErrorCode> {
    net.world
        .take_events(script)
        .into_iter()
        .find_map(|e| match e {
            AnyEvent::Script(ScriptEvent::Message(_, Message::Goodbye(g))) => Some(g.code),
            _ => None,
        })
}

/// What mallory proves when she dials alice: her own key, and `cert` (made
/// by `make` for that key), expecting any peer.
fn as_peer(
    net: &mut Net,
    who: HostId,
    make: impl FnOnce(&confab_engine::wire::identity::PublicKey) -> Option<Certificate>,
) -> Box<ScriptIdentity> {
    let secret = StaticSecret::from_bytes([net.world.random(250) as u8 + 1; 32]);
    let certificate = make(&secret.public());
    let _ = who;
    Box::new(ScriptIdentity {
        local: Local {
            role: Role::Peer,
            secret,
            payload: HandshakePayload::Peer { certificate },
        },
        expect: Expect::AnyKey,
    })
}

const NOW_S: u64 = UNIX_MS_AT_START / 1000;

/// Every way to reach alice as bob without bob's key fails before anything
/// is delivered, and alice says why; the real bob is unaffected.
#[test]
fn nobody_reaches_alice_as_bob_without_bobs_key() {
    let mut net = Net::new(200, &["alice", "bob"]);
    let alice_addr = net.world.addr(net.host("alice"));
    let registry = registry_signing_key();
    let mut rng = confab_engine::rng::Rng::new(5);
    let other_registry = SigningSecret::generate(&mut rng);
    let bob_key = net.peer("bob").public_key();
    type Make = Box<dyn FnOnce(&PublicKey) -> Option<Certificate>>;
    let attempts: Vec<(&str, Make, &str)> = vec![
        ("no certificate", Box::new(|_| None), "no certificate"),
        (
            "signed by another registry",
            Box::new(move |k| Some(issue(&other_registry, name("bob"), *k, NOW_S, 3600))),
            "another registry",
        ),
        (
            "expired",
            Box::new({
                let r = registry.clone();
                move |k| Some(issue(&r, name("bob"), *k, NOW_S - 10 * 3600, 3600))
            }),
            "expired",
        ),
        (
            "bob's certificate, another key",
            Box::new({
                let r = registry.clone();
                move |_| Some(issue(&r, name("bob"), bob_key, NOW_S, 3600))
            }),
            "another key",
        ),
    ];
    for (i, (what, make, why)) in attempts.into_iter().enumerate() {
        let mallory = net.world.add_script(&format!("mallory{i}"));
        let id = as_peer(&mut net, mallory, make);
        net.world
            .script(mallory, ScriptCommand::ConnectAs(alice_addr, id));
        net.run_for(Duration::from_millis(50));
        let hello = Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: Some(name("bob")),
        };
        net.world.script(
            mallory,
            ScriptCommand::Send(ConnId(1), Message::Hello(hello)),
        );
        let chat = Message::Peer(confab_engine::wire::peer::PeerMessage::ChatRequest);
        net.world
            .script(mallory, ScriptCommand::Send(ConnId(1), chat));
        net.run_for(S);
        let events = net.world.take_events(mallory);
        assert!(
            events.contains(&AnyEvent::Script(ScriptEvent::Closed(ConnId(1)))),
            "{what}: still open: {events:?}"
        );
        let notice = net.events("alice").iter().rev().find_map(|e| match e {
            PeerEvent::Notice { message } if message.contains("refused a connection") => {
                Some(message.clone())
            }
            _ => None,
        });
        assert!(
            notice.as_deref().is_some_and(|m| m.contains(why)),
            "{what}: alice said {notice:?}"
        );
    }
    // A valid certificate for mallory's own name, and a hello claiming bob.
    let mallory = net.world.add_script("mallory-own");
    let r = registry.clone();
    let id = as_peer(&mut net, mallory, move |k| {
        Some(issue(&r, name("mallory"), *k, NOW_S, 3600))
    });
    net.world
        .script(mallory, ScriptCommand::ConnectAs(alice_addr, id));
    net.run_for(Duration::from_millis(50));
    let hello = Hello {
        version: PROTOCOL_VERSION,
        role: Role::Peer,
        name: Some(name("bob")),
    };
    net.world.script(
        mallory,
        ScriptCommand::Send(ConnId(1), Message::Hello(hello)),
    );
    net.run_for(S);
    assert_eq!(
        goodbye_code(&mut net, mallory),
        Some(ErrorCode::ProtocolViolation)
    );
    // Alice never showed anything as coming from bob.
    assert!(
        !net.events("alice").iter().any(|e| matches!(e,
            PeerEvent::ChatRequest { from, .. } if from.as_str() == "bob")),
        "alice shows a chat request from bob"
    );
    // The real bob is unaffected.
    net.open_chat("bob", "alice");
}

#[test]
fn garbage_closes_only_that_connection() {
    let mut net = Net::new(201, &["alice", "bob"]);
    let evil = net.world.add_script("evil");
    let alice_addr = net.world.addr(net.host("alice"));
    net.world.script(evil, ScriptCommand::Connect(alice_addr));
    net.run_for(Duration::from_millis(10));
    // Garbage where the handshake belongs.
    net.world.script(
        evil,
        ScriptCommand::SendRaw(ConnId(1), vec![0xff, 0xff, 0xff, 0xff, 1, 2, 3]),
    );
    net.run_for(S);
    let events = net.world.take_events(evil);
    assert!(
        events.contains(&AnyEvent::Script(ScriptEvent::Closed(ConnId(1)))),
        "{events:?}"
    );
    assert!(net.events("alice").iter().any(|e| matches!(e,
        PeerEvent::Notice { message } if message.contains("refused a connection"))));
    // A certified stranger whose first message is not a hello.
    let r = registry_signing_key();
    let id = as_peer(&mut net, evil, move |k| {
        Some(issue(&r, name("mallory"), *k, NOW_S, 3600))
    });
    net.world
        .script(evil, ScriptCommand::ConnectAs(alice_addr, id));
    net.run_for(Duration::from_millis(10));
    let early = Message::Peer(confab_engine::wire::peer::PeerMessage::ChatRequest);
    net.world
        .script(evil, ScriptCommand::Send(ConnId(2), early));
    net.run_for(S);
    assert_eq!(
        goodbye_code(&mut net, evil),
        Some(ErrorCode::ProtocolViolation)
    );
    assert!(net.peer("alice").is_logged_in());
    net.open_chat("alice", "bob");
}

/// A connection that never says hello is closed by the handshake deadline.
#[test]
fn silent_connections_time_out() {
    let mut net = Net::new(202, &["alice"]);
    let quiet = net.world.add_script("quiet");
    let alice_addr = net.world.addr(net.host("alice"));
    let r = registry_signing_key();
    let id = as_peer(&mut net, quiet, move |k| {
        Some(issue(&r, name("quiet"), *k, NOW_S, 3600))
    });
    net.world
        .script(quiet, ScriptCommand::ConnectAs(alice_addr, id));
    net.run_for(20 * S);
    assert_eq!(goodbye_code(&mut net, quiet), Some(ErrorCode::TimedOut));
}

#[test]
fn crossed_chat_requests_open_one_chat_on_one_connection() {
    for seed in 210..214 {
        let mut net = Net::new(seed, &["ann", "ben"]);
        let before = net.world.connection_count();
        net.ok("ann", PeerCommand::Chat(name("ben")));
        net.ok("ben", PeerCommand::Chat(name("ann")));
        for (me, other) in [("ann", "ben"), ("ben", "ann")] {
            let o = name(other);
            net.wait_for(
                me,
                10 * S,
                |e| matches!(e, PeerEvent::ChatOpened { with, .. } if *with == o),
            );
        }
        net.run_for(5 * S);
        assert_eq!(
            net.world.connection_count(),
            before + 1,
            "seed {seed}: one connection per pair"
        );
        for p in ["ann", "ben"] {
            let opened = net.peer(p).connections_opened();
            assert!(
                (1..=2).contains(&opened),
                "seed {seed}: {p} opened {opened} connections"
            );
        }
        assert!(
            !net.events("ann")
                .iter()
                .any(|e| matches!(e, PeerEvent::ChatRequest { .. })),
            "seed {seed}"
        );
        net.msg("ann", "ben", "one");
        net.msg("ben", "ann", "two");
        net.run_for(S);
        assert_eq!(
            net.received("ben", "ann", &Net::to_user("ben")),
            vec!["one"],
            "seed {seed}"
        );
        assert_eq!(
            net.received("ann", "ben", &Net::to_user("ann")),
            vec!["two"],
            "seed {seed}"
        );
    }
}

#[test]
fn quit_says_goodbye_and_stops() {
    let mut net = Net::new(203, &["ann", "ben"]);
    net.open_chat("ann", "ben");
    net.ok("ann", PeerCommand::Quit);
    let e = net.wait_for("ann", S, |e| matches!(e, PeerEvent::Stopped { .. }));
    assert!(matches!(
        e,
        PeerEvent::Stopped {
            code: ErrorCode::Normal,
            ..
        }
    ));
    net.wait_for(
        "ben",
        5 * S,
        |e| matches!(e, PeerEvent::Presence { name, online: false } if name.as_str() == "ann"),
    );
}

/// bob reinstalls (same name and password, a new key): alice, who talked to
/// him before, is told his key changed, with both fingerprints, when she
/// reaches him again (the user decides what the change means).
#[test]
fn a_changed_key_of_a_known_peer_is_reported() {
    let mut net = Net::new(203, &["alice", "bob"]);
    net.open_chat("alice", "bob");
    net.msg("alice", "bob", "before");
    net.wait_for("bob", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
    let old = net.peer("bob").public_key().fingerprint().to_string();
    // The new installation logs in as bob; the old one is replaced.
    net.add_peer("bob");
    let new = net.peer("bob").public_key().fingerprint().to_string();
    assert_ne!(old, new);
    net.run_for(2 * S);
    // Whatever the new installation knows of the chat, alice reaches it.
    net.ok("alice", PeerCommand::Chat(name("bob")));
    net.wait_for("alice", 20 * S, |e| {
        matches!(e,
        PeerEvent::KeyChanged { name, old: o, new: n }
            if name.as_str() == "bob" && *o == old && *n == new)
    });
}
