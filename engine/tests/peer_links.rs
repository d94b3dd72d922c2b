//! Direct connections: the identity check, hostile bytes, and crossed dials.

mod peer_support;

use std::time::Duration;

use confab_engine::ConnId;
use confab_engine::peer::{PeerCommand, PeerEvent};
use confab_engine::testing::{AnyEvent, ScriptCommand, ScriptEvent};
use confab_engine::wire::{ErrorCode, Hello, Message, PROTOCOL_VERSION, Role};
use peer_support::{Net, name};

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

#[test]
fn a_claimed_name_from_the_wrong_address_is_refused() {
    let mut net = Net::new(200, &["alice", "bob"]);
    let mallory = net.world.add_script("mallory");
    let alice_addr = net.world.addr(net.host("alice"));
    net.world
        .script(mallory, ScriptCommand::Connect(alice_addr));
    net.run_for(Duration::from_millis(10));
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
        Some(ErrorCode::InvalidRequest),
        "seed 200"
    );
    assert!(net.events("alice").iter().any(|e| matches!(e,
        PeerEvent::Notice { message } if message.contains("claiming to be bob"))));
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
    net.world.script(
        evil,
        ScriptCommand::SendRaw(ConnId(1), vec![0, 0, 0, 3, 0xff, 0xff, 0xff]),
    );
    net.run_for(S);
    assert_eq!(
        goodbye_code(&mut net, evil),
        Some(ErrorCode::ProtocolViolation)
    );
    // A message before the handshake is over is a violation too.
    net.world.script(evil, ScriptCommand::Connect(alice_addr));
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

#[test]
fn silent_connections_time_out() {
    let mut net = Net::new(202, &["alice"]);
    let quiet = net.world.add_script("quiet");
    let alice_addr = net.world.addr(net.host("alice"));
    net.world.script(quiet, ScriptCommand::Connect(alice_addr));
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
                |e| matches!(e, PeerEvent::ChatOpened { with } if *with == o),
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
