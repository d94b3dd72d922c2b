//! Liveness of links the simulator found wanting: a message queued for a
//! friend over an already open connection, half-open peer connections left
//! by a silent crash or a lost close (keepalive, and a new session replacing
//! a stale connection at once), and a registry that dies silently before
//! answering (the reply deadline).
//!
//! Each test names the simulator seed that found the bug. The harness's
//! `crash_silently` and `cut_quietly` leave the other side holding a
//! half-open connection whose sends vanish, as turmoil (and a real network
//! that lost the FIN) does.

mod peer_support;

use std::time::Duration;

use confab_engine::peer::{PeerCommand, PeerEvent};
use peer_support::{Net, name};

const S: Duration = Duration::from_secs(1);

fn shown(net: &Net, who: &str, from: &str, text: &str) -> bool {
    net.received(who, from, &Net::to_user(who))
        .iter()
        .any(|t| t == text)
}

/// Seed 1: a message to a friend, with no chat but a connection already
/// open (here: left over from a closed chat), asks for the chat at once; it
/// used to wait until that connection happened to drop.
#[test]
fn a_message_queued_for_a_friend_over_an_open_link_asks_for_the_chat() {
    let mut net = Net::new(300, &["alice", "bob"]);
    net.open_chat("alice", "bob");
    net.ok("alice", PeerCommand::CloseChat(name("bob")));
    net.wait_for(
        "bob",
        5 * S,
        |e| matches!(e, PeerEvent::ChatClosed { with, .. } if with.as_str() == "alice"),
    );
    net.run_for(S);
    assert!(
        net.peer("alice").is_connected_to(&name("bob")),
        "seed 300: the connection outlives the chat"
    );
    net.clear("bob");
    net.ok("alice", PeerCommand::FriendAdd(name("bob")));
    net.msg("alice", "bob", "queued for a friend");
    let id = net.chat_request("bob", "alice");
    net.ok("bob", PeerCommand::Accept(Some(id)));
    let ok = net.run_until(5 * S, |net| {
        shown(net, "bob", "alice", "queued for a friend")
    });
    assert!(ok, "seed 300: the queued message was never shown");
}

/// Seed 1113 (and 1032, 1052, 1074, 1102): a peer that crashed silently and
/// came back is not turned away by the stale connection the other side
/// still holds, even though that one was dialed by the smaller name.
#[test]
fn a_restarted_peer_replaces_the_stale_connection_at_once() {
    let mut net = Net::new(301, &["alice", "bob"]);
    // alice dials: the connection is the smaller name's, which the
    // crossed-dial rule prefers.
    net.open_chat("alice", "bob");
    let bob = net.host("bob");
    net.world.crash_silently(bob);
    net.run_for(S);
    net.world.restart(bob);
    net.wait_for("bob", 5 * S, |e| matches!(e, PeerEvent::Ready { .. }));
    assert!(net.peer("alice").is_connected_to(&name("bob")), "seed 301");
    net.msg("bob", "alice", "after the restart");
    // Well under the keepalive timeout: the new session wins at once.
    let ok = net.run_until(5 * S, |net| shown(net, "alice", "bob", "after the restart"));
    assert!(
        ok,
        "seed 301: alice kept the stale connection and turned bob away"
    );
    net.msg("alice", "bob", "and back");
    let ok = net.run_until(5 * S, |net| shown(net, "bob", "alice", "and back"));
    assert!(ok, "seed 301: bob never got alice's answer");
}

/// The same peer process lost the connection (its close never reached the
/// other side): its next dial, a new session of the link, replaces the
/// stale connection instead of being refused as a crossed dial.
#[test]
fn a_lost_close_does_not_lock_the_other_side_out() {
    let mut net = Net::new(302, &["alice", "bob"]);
    net.open_chat("alice", "bob");
    let (alice, bob) = (net.host("alice"), net.host("bob"));
    // bob (the acceptor) learns the connection is gone; alice never does.
    net.world.cut_quietly(bob, alice);
    assert!(!net.peer("bob").is_connected_to(&name("alice")));
    assert!(net.peer("alice").is_connected_to(&name("bob")));
    net.msg("bob", "alice", "after the lost close");
    // bob, which had not dialed, redials after `reconnect_max` (10 s); the
    // keepalive alone would take 30 s.
    let ok = net.run_until(15 * S, |net| {
        shown(net, "alice", "bob", "after the lost close")
    });
    assert!(ok, "seed 302: alice turned bob's new connection away");
}

/// A half-open connection to a peer that vanished is closed by the
/// keepalive (nothing heard for `keepalive_timeout`); a healthy idle one is
/// kept open by it.
#[test]
fn keepalive_keeps_idle_links_and_drops_dead_ones() {
    let mut net = Net::new(303, &["alice", "bob", "carol"]);
    net.open_chat("alice", "bob");
    net.open_chat("alice", "carol");
    let opened = net.peer("alice").connections_opened();
    // Idle for many keepalive intervals: nothing drops.
    net.run_for(120 * S);
    assert!(net.peer("alice").is_connected_to(&name("bob")), "seed 303");
    assert!(net.peer("bob").is_connected_to(&name("alice")), "seed 303");
    assert_eq!(net.peer("alice").connections_opened(), opened, "seed 303");
    let carol = net.host("carol");
    net.world.crash_silently(carol);
    net.run_for(20 * S);
    assert!(
        net.peer("alice").is_connected_to(&name("carol")),
        "seed 303: not before the timeout"
    );
    let ok = net.run_until(15 * S, |net| {
        !net.peer("alice").is_connected_to(&name("carol"))
    });
    assert!(ok, "seed 303: the dead connection was never closed");
    assert!(net.peer("alice").is_connected_to(&name("bob")), "seed 303");
}

/// Seed 258573112: the registry crashed silently after accepting the
/// connection, before answering the log-in. The unanswered log-in drops the
/// connection and the peer logs in again, with `RegistryLost` on the way.
#[test]
fn an_unanswered_login_reconnects() {
    let mut net = Net::bare(304, |_| {});
    net.add_peer("alice");
    // The registry has accepted the connection (1 ms) and the hello and
    // log-in are on their way (they arrive at 3 ms).
    net.run_for(Duration::from_micros(2500));
    let registry = net.registry;
    net.world.crash_silently(registry);
    net.world.restart(registry);
    net.run_for(Duration::from_millis(10));
    assert!(!net.peer("alice").is_logged_in(), "seed 304");
    let ok = net.run_until(60 * S, |net| net.peer("alice").is_logged_in());
    assert!(ok, "seed 304: alice never logged in again");
    assert!(
        net.events("alice")
            .iter()
            .any(|e| matches!(e, PeerEvent::RegistryLost { .. })),
        "seed 304"
    );
}

/// A registry that dies silently under a logged-in, idle peer: the
/// unanswered heartbeat drops the session, and the peer logs in again.
#[test]
fn an_unanswered_heartbeat_reconnects() {
    let mut net = Net::new(305, &["alice"]);
    let registry = net.registry;
    net.world.crash_silently(registry);
    net.world.restart(registry);
    net.clear("alice");
    let ok = net.run_until(60 * S, |net| {
        net.events("alice")
            .iter()
            .any(|e| matches!(e, PeerEvent::RegistryBack))
    });
    assert!(ok, "seed 305: alice never logged in again");
    assert!(net.peer("alice").is_logged_in(), "seed 305");
    assert!(
        net.events("alice")
            .iter()
            .any(|e| matches!(e, PeerEvent::RegistryLost { .. })),
        "seed 305"
    );
}
