//! One-to-one chats end to end: consent, decline, expiry, messages with
//! dropped connections, history, the identity check and registry restarts.

mod peer_support;

use std::time::Duration;

use confab_engine::CommandError;
use confab_engine::limits::MAX_MESSAGE_LEN;
use confab_engine::peer::{PeerCommand, PeerEvent};
use peer_support::{Net, name};

const S: Duration = Duration::from_secs(1);

#[test]
fn chat_with_consent_then_messages_and_history() {
    let mut net = Net::new(1, &["alice", "bob", "carol"]);
    net.open_chat("alice", "bob");
    net.msg("alice", "bob", "hello bob");
    net.msg("bob", "alice", "hi alice");
    let bob = Net::to_user("bob");
    let alice = Net::to_user("alice");
    net.wait_for(
        "alice",
        5 * S,
        |e| matches!(e, PeerEvent::Delivered { to, seq: 1 } if *to == bob),
    );
    net.wait_for("alice", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
    assert_eq!(net.received("bob", "alice", &bob), vec!["hello bob"]);
    assert_eq!(net.received("alice", "bob", &alice), vec!["hi alice"]);
    assert!(net.events("alice").iter().any(|e| matches!(e,
        PeerEvent::Sent { to, seq: 1, queued: false } if *to == bob)));
    // carol never asked: nothing goes to her, and the command says why.
    let err = net
        .cmd(
            "alice",
            PeerCommand::Message {
                to: Net::to_user("carol"),
                text: "x".into(),
            },
        )
        .unwrap_err();
    assert_eq!(err, CommandError::NoChatAskFirst(name("carol")));
    assert!(err.to_string().contains("/chat carol"), "{err}");

    net.ok(
        "alice",
        PeerCommand::History {
            with: bob.clone(),
            last: 10,
        },
    );
    let h = net.wait_for("alice", S, |e| matches!(e, PeerEvent::History { .. }));
    let PeerEvent::History { messages, .. } = h else {
        unreachable!()
    };
    let texts: Vec<_> = messages
        .iter()
        .map(|m| (m.from.as_str(), m.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        vec![("alice", "hello bob"), ("bob", "hi alice")],
        "seed 1"
    );
    assert!(messages[0].at >= 1_700_000_000_000);
    assert!(messages[0].at <= messages[1].at);
}

#[test]
fn decline_and_expiry_close_both_sides() {
    let mut net = Net::new(2, &["alice", "bob", "carol"]);
    net.ok("alice", PeerCommand::Chat(name("bob")));
    net.chat_request("bob", "alice");
    net.ok("bob", PeerCommand::Decline(None));
    net.wait_for("alice", 5 * S, |e| {
        matches!(e, PeerEvent::ChatClosed { with, reason } if with.as_str() == "bob" && reason.contains("declined"))
    });
    assert!(!net.peer("alice").chat_is_open(&name("bob")));

    // carol never answers: both sides are told it expired.
    net.ok("alice", PeerCommand::Chat(name("carol")));
    net.chat_request("carol", "alice");
    net.wait_for("alice", 40 * S, |e| {
        matches!(e, PeerEvent::ChatClosed { with, reason } if with.as_str() == "carol" && reason.contains("did not answer"))
    });
    net.wait_for(
        "carol",
        40 * S,
        |e| matches!(e, PeerEvent::ChatClosed { with, .. } if with.as_str() == "alice"),
    );
    assert_eq!(
        net.cmd("carol", PeerCommand::Accept(None)).unwrap_err(),
        CommandError::NothingWaiting
    );
    // Nothing is delivered on a chat that was never accepted.
    assert!(
        net.cmd(
            "alice",
            PeerCommand::Message {
                to: Net::to_user("carol"),
                text: "x".into()
            }
        )
        .is_err()
    );
}

#[test]
fn chat_with_unknown_or_offline_peer_is_closed_with_a_reason() {
    let mut net = Net::new(3, &["alice", "bob"]);
    net.ok("alice", PeerCommand::Chat(name("nobody")));
    net.wait_for(
        "alice",
        5 * S,
        |e| matches!(e, PeerEvent::ChatClosed { with, .. } if with.as_str() == "nobody"),
    );
    let bob = net.host("bob");
    net.world.crash(bob);
    net.run_for(2 * S);
    net.ok("alice", PeerCommand::Chat(name("bob")));
    net.wait_for("alice", 5 * S, |e| {
        matches!(e, PeerEvent::ChatClosed { with, reason } if with.as_str() == "bob" && reason.contains("not online"))
    });
}

#[test]
fn too_long_message_is_refused_clearly() {
    let mut net = Net::new(4, &["alice", "bob"]);
    net.open_chat("alice", "bob");
    let err = net
        .cmd(
            "alice",
            PeerCommand::Message {
                to: Net::to_user("bob"),
                text: "x".repeat(MAX_MESSAGE_LEN + 1),
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        CommandError::MessageTooLong {
            len: MAX_MESSAGE_LEN + 1
        }
    );
    assert!(
        err.to_string().contains(&MAX_MESSAGE_LEN.to_string()),
        "{err}"
    );
    net.msg("alice", "bob", &"y".repeat(MAX_MESSAGE_LEN));
    net.wait_for("bob", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
}

/// Sends `n` messages from `a` to `b`, cutting their connection now and then,
/// and checks each arrives exactly once and in order.
fn burst_with_cuts(seed: u64, n: usize) {
    let mut net = Net::new(seed, &["alice", "bob", "carol"]);
    net.open_chat("alice", "bob");
    let (a, b) = (net.host("alice"), net.host("bob"));
    let mut i = 0;
    let mut cuts = 0;
    let mut since_cut = 0;
    while i < n {
        // A few messages at once, so that data and acks are in flight when
        // the cut comes.
        for _ in 0..1 + net.world.random(6) {
            if i < n {
                net.msg("alice", "bob", &format!("m{i}"));
                i += 1;
            }
        }
        let step = net.world.random(4);
        net.run_for(Duration::from_millis(step));
        // Half the rounds at random, and never more than three without.
        if net.world.random(2) == 0 || since_cut >= 3 {
            net.world.cut(a, b);
            cuts += 1;
            since_cut = 0;
        } else {
            since_cut += 1;
        }
    }
    assert!(
        cuts > 2,
        "seed {seed}: the test cut too rarely to mean anything"
    );
    let bob = Net::to_user("bob");
    let all = net.run_until(60 * S, |net| {
        net.peer("alice").waiting_for(&name("bob")) == 0
    });
    assert!(all, "seed {seed}: alice still has unacknowledged messages");
    let want: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    assert_eq!(net.received("bob", "alice", &bob), want, "seed {seed}");
    let delivered: Vec<u64> = net
        .events("alice")
        .into_iter()
        .filter_map(|e| match e {
            PeerEvent::Delivered { to, seq } if to == bob => Some(seq),
            _ => None,
        })
        .collect();
    assert_eq!(delivered, (1..=n as u64).collect::<Vec<_>>(), "seed {seed}");
}

#[test]
fn bursts_survive_dropped_connections() {
    for seed in 10..14 {
        burst_with_cuts(seed, 40);
    }
}

#[test]
fn messages_survive_restarts_of_either_side_exactly_once() {
    let seed = 20;
    let mut net = Net::new(seed, &["alice", "bob"]);
    net.open_chat("alice", "bob");
    let (a, b) = (net.host("alice"), net.host("bob"));
    let bob = Net::to_user("bob");
    for i in 0..10 {
        net.msg("alice", "bob", &format!("m{i}"));
    }
    // Crash alice with messages in flight, then bob, then bring both back.
    net.run_for(Duration::from_millis(1));
    net.world.crash(a);
    net.run_for(S);
    net.world.restart(a);
    net.run_for(Duration::from_millis(300));
    net.world.crash(b);
    net.run_for(S);
    net.world.restart(b);
    net.wait_for("alice", 30 * S, |e| matches!(e, PeerEvent::Ready { .. }));
    let ok = net.run_until(60 * S, |net| {
        net.world.is_up(a) && net.peer("alice").waiting_for(&name("bob")) == 0
    });
    assert!(ok, "seed {seed}: messages still waiting");
    for i in 10..15 {
        net.msg("alice", "bob", &format!("m{i}"));
    }
    let ok = net.run_until(30 * S, |net| {
        net.peer("alice").waiting_for(&name("bob")) == 0
    });
    assert!(ok, "seed {seed}: later messages still waiting");
    let want: Vec<String> = (0..15).map(|i| format!("m{i}")).collect();
    assert_eq!(net.received("bob", "alice", &bob), want, "seed {seed}");
    assert!(net.peer("bob").chat_is_open(&name("alice")));
}

#[test]
fn registry_restart_peers_log_back_in_and_keep_chatting() {
    let mut net = Net::new(30, &["alice", "bob", "carol"]);
    net.open_chat("alice", "bob");
    let r = net.registry;
    net.world.crash(r);
    net.wait_for("alice", 5 * S, |e| {
        matches!(e, PeerEvent::RegistryLost { .. })
    });
    net.msg("alice", "bob", "during the outage");
    net.run_for(3 * S);
    net.world.restart(r);
    for p in ["alice", "bob", "carol"] {
        net.wait_for(p, 30 * S, |e| matches!(e, PeerEvent::RegistryBack));
    }
    assert!(net.peer("carol").is_logged_in());
    net.ok("carol", PeerCommand::Who);
    let users = net.wait_for("carol", 5 * S, |e| matches!(e, PeerEvent::Users { .. }));
    let PeerEvent::Users { users } = users else {
        unreachable!()
    };
    let names: Vec<_> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, vec!["alice", "bob", "carol"], "seed 30");
    let bob = Net::to_user("bob");
    net.wait_for("bob", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
    assert_eq!(
        net.received("bob", "alice", &bob),
        vec!["during the outage"]
    );
}

#[test]
fn wrong_password_stops_the_peer() {
    let mut net = Net::new(40, &["alice"]);
    let host = net.host("alice");
    net.world.crash(host);
    // A second "alice" with another password.
    let listen = net.world.addr(host);
    let reg = net.world.addr(net.registry);
    let mut cfg = peer_support::config("alice", reg, listen);
    cfg.password = confab_engine::wire::registry::Password(
        confab_engine::bounded::Text::new("wrong").unwrap(),
    );
    let impostor = net.world.add_host("impostor", move |records, now, seed| {
        Box::new(confab_engine::Peer::new(cfg.clone(), records, now, seed))
    });
    net.peers.insert("impostor".into(), impostor);
    let e = net.wait_for("impostor", 5 * S, |e| {
        matches!(e, PeerEvent::Stopped { .. })
    });
    assert!(
        matches!(
            e,
            PeerEvent::Stopped {
                code: confab_engine::wire::ErrorCode::WrongPassword,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(net.cmd("impostor", PeerCommand::Who).is_err());
}
