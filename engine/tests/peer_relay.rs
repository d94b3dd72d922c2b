//! Relay through the registry (issue 19): two peers whose direct paths are
//! cut (a partition between them, the registry reachable from both) chat
//! and fetch through the registry; every message once and in order, the
//! stream's bytes never more than a window ahead of its receiver, and the
//! relay surviving a dropped registry connection and a registry restart.

mod peer_support;
mod peer_transfer_support;

use std::time::Duration;

use confab_engine::limits::{MAX_RELAY_WAITING, RELAY_WINDOW};
use confab_engine::peer::{Direction, PeerCommand, PeerConfig, PeerEvent, Via};
use confab_engine::registry::{RELAY_REPORT_EVERY, RegistryEvent, RelayFault, RelayStatus};
use confab_engine::testing::AnyEvent;
use confab_engine::{Engine, Registry, RegistryCommand, RegistryConfig};
use peer_support::{Net, name};
use peer_transfer_support::{bytes, check_received, get, share, transfers, wait_done};

const S: Duration = Duration::from_secs(1);

fn registry_events(net: &Net) -> Vec<RegistryEvent> {
    net.world
        .events(net.registry)
        .iter()
        .filter_map(|(_, e)| match e {
            AnyEvent::Registry(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn no_violations(net: &Net) {
    let bad: Vec<_> = registry_events(net)
        .into_iter()
        .filter(|e| matches!(e, RegistryEvent::Violation { .. }))
        .collect();
    assert!(bad.is_empty(), "seed {}: {bad:?}", net.seed);
}

/// Sends `n` numbered messages each way between alice and bob, and checks
/// each side received exactly the other's, once, in order.
fn burst(net: &mut Net, tag: &str, n: usize) {
    for i in 0..n {
        net.msg("alice", "bob", &format!("{tag} a{i}"));
        net.msg("bob", "alice", &format!("{tag} b{i}"));
    }
    let want_a: Vec<String> = (0..n).map(|i| format!("{tag} a{i}")).collect();
    let want_b: Vec<String> = (0..n).map(|i| format!("{tag} b{i}")).collect();
    let ok = net.run_until(60 * S, |net| {
        net.peer("alice").waiting_for(&name("bob")) == 0
            && net.peer("bob").waiting_for(&name("alice")) == 0
    });
    assert!(
        ok,
        "seed {}: {tag}: messages still unacknowledged",
        net.seed
    );
    let of = |net: &Net, who: &str, from: &str, tag: &str| -> Vec<String> {
        net.received(who, from, &Net::to_user(who))
            .into_iter()
            .filter(|t| t.starts_with(&format!("{tag} ")))
            .collect()
    };
    assert_eq!(of(net, "bob", "alice", tag), want_a, "seed {}", net.seed);
    assert_eq!(of(net, "alice", "bob", tag), want_b, "seed {}", net.seed);
}

fn cut_apart(seed: u64, tweak: fn(&mut PeerConfig)) -> Net {
    let mut net = Net::with(seed, &["alice", "bob"], tweak);
    let (a, b) = (net.host("alice"), net.host("bob"));
    net.world.partition(a, b);
    net
}

#[test]
fn chat_goes_through_the_relay_when_peers_cannot_connect() {
    for seed in 1..=4 {
        let mut net = cut_apart(seed, |_| {});
        net.open_chat("alice", "bob");
        assert!(
            net.peer("alice").is_relayed_to(&name("bob")),
            "seed {seed}: the chat is not relayed"
        );
        assert!(net.peer("bob").is_relayed_to(&name("alice")), "seed {seed}");
        // The user sees the path: `via` on `chat_opened`, on both sides.
        for (who, with) in [("alice", "bob"), ("bob", "alice")] {
            let vias: Vec<Via> = net
                .events(who)
                .into_iter()
                .filter_map(|e| match e {
                    PeerEvent::ChatOpened { with: w, via } if w.as_str() == with => Some(via),
                    _ => None,
                })
                .collect();
            assert_eq!(vias, [Via::Relay], "seed {seed}: {who}'s chat_opened");
        }
        burst(&mut net, "one", 30);
        let opened = registry_events(&net)
            .into_iter()
            .filter(|e| matches!(e, RegistryEvent::RelayOpened { .. }))
            .count();
        assert!(opened >= 1, "seed {seed}: no relayed stream opened");
        no_violations(&net);
        let status = net.world.engine::<Registry>(net.registry).relay_status();
        assert!(status.bytes > 0, "seed {seed}: {status:?}");
    }
}

fn relay_reports(net: &Net) -> Vec<RelayStatus> {
    registry_events(net)
        .into_iter()
        .filter_map(|e| match e {
            RegistryEvent::RelayStatus(s) => Some(s),
            _ => None,
        })
        .collect()
}

#[test]
fn the_operator_sees_the_relayed_streams_every_minute_and_when_asked() {
    let seed = 5;
    let mut net = cut_apart(seed, |_| {});
    net.open_chat("alice", "bob");
    burst(&mut net, "ops", 5);
    assert!(
        relay_reports(&net).is_empty(),
        "a report before a minute passed"
    );
    // Asked: at once, with the stream, its two ends and its bytes.
    let r = net.registry;
    net.world
        .with::<Registry, _>(r, |reg, now| {
            reg.handle_command(now, RegistryCommand::RelayStatus)
        })
        .unwrap();
    let asked = relay_reports(&net);
    let [status] = asked.as_slice() else {
        panic!("one report asked, got {asked:?}");
    };
    assert_eq!(status.streams.len(), 1, "{status:?}");
    let (_, a, b, bytes) = &status.streams[0];
    let mut ends = [a.as_str(), b.as_str()];
    ends.sort_unstable();
    assert_eq!(ends, ["alice", "bob"]);
    assert!(*bytes > 0 && status.bytes >= *bytes, "{status:?}");
    assert_eq!((status.opened, status.capped), (1, 0), "{status:?}");
    // Every minute while the stream is open, by itself.
    net.run_for(RELAY_REPORT_EVERY * 2 + S);
    let reports = relay_reports(&net);
    assert!(reports.len() >= 3, "no minute reports: {reports:?}");
    assert!(reports.iter().all(|s| s.streams.len() == 1), "{reports:?}");
}

#[test]
fn relayed_chat_survives_a_dropped_registry_connection_and_a_registry_restart() {
    for seed in 10..=12 {
        let mut net = cut_apart(seed, |_| {});
        net.open_chat("alice", "bob");
        for i in 0..10 {
            net.msg("alice", "bob", &format!("x a{i}"));
            net.msg("bob", "alice", &format!("x b{i}"));
        }
        // Mid-burst: alice loses the registry (and with it the relay).
        net.run_for(Duration::from_millis(3));
        let (a, r) = (net.host("alice"), net.registry);
        net.world.cut(a, r);
        for i in 10..20 {
            net.msg("alice", "bob", &format!("x a{i}"));
            net.msg("bob", "alice", &format!("x b{i}"));
        }
        net.run_for(Duration::from_millis(5));
        net.world.restart(r);
        for i in 20..30 {
            net.msg("alice", "bob", &format!("x a{i}"));
            net.msg("bob", "alice", &format!("x b{i}"));
        }
        let ok = net.run_until(120 * S, |net| {
            net.peer("alice").waiting_for(&name("bob")) == 0
                && net.peer("bob").waiting_for(&name("alice")) == 0
        });
        assert!(ok, "seed {seed}: messages still unacknowledged");
        let want = |p: &str| (0..30).map(|i| format!("x {p}{i}")).collect::<Vec<_>>();
        assert_eq!(
            net.received("bob", "alice", &Net::to_user("bob")),
            want("a"),
            "seed {seed}"
        );
        assert_eq!(
            net.received("alice", "bob", &Net::to_user("alice")),
            want("b"),
            "seed {seed}"
        );
        assert!(net.peer("alice").is_relayed_to(&name("bob")), "seed {seed}");
    }
}

fn big_window(c: &mut PeerConfig) {
    // 64 chunks of 64 KiB in flight: twice the relay's window, so the
    // credit, not the transfer's window, is what holds the sender back.
    c.transfer.chunk_size = 64 * 1024;
    c.transfer.window = 64;
}

#[test]
fn a_fetch_through_the_relay_is_held_to_the_window_and_arrives_whole() {
    let seed = 20;
    let mut net = cut_apart(seed, big_window);
    let data = bytes(seed, 9 * 1024 * 1024 + 123);
    share(&mut net, "alice", "big.bin", &data);
    get(&mut net, "bob", "alice", "big.bin");
    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "big.bin");
    check_received(&net, "bob", "big.bin", &data, &path, md5);
    assert!(net.peer("bob").is_relayed_to(&name("alice")), "seed {seed}");
    // `via` on the transfer events, on both sides.
    wait_done(&mut net, "alice", Direction::Send, "big.bin");
    for who in ["alice", "bob"] {
        let vias: Vec<Via> =
            net.events(who)
                .into_iter()
                .filter_map(|e| match e {
                    PeerEvent::TransferProgress { via, .. }
                    | PeerEvent::TransferDone { via, .. } => Some(via),
                    _ => None,
                })
                .collect();
        assert!(!vias.is_empty(), "{who}: no transfer events");
        assert!(vias.iter().all(|v| *v == Via::Relay), "{who}: {vias:?}");
    }
    // The registry closes a sender that goes beyond its credit: none did,
    // though the transfer's window alone would have let 4 MiB go at once.
    no_violations(&net);
    let status = net.world.engine::<Registry>(net.registry).relay_status();
    assert!(status.bytes >= data.len() as u64, "seed {seed}: {status:?}");
    const { assert!(RELAY_WINDOW < 64 * 64 * 1024) };
}

fn bulky(c: &mut PeerConfig) {
    // 8 MiB of chunks in flight: far more than the relay's credit lets
    // out, so bytes pile up for credit unless the transfer is held back.
    c.transfer.chunk_size = 256 * 1024;
    c.transfer.window = 32;
}

fn slow_relay(r: &mut RegistryConfig) {
    r.relay.peer_rate = 4 * 1024 * 1024;
}

#[test]
fn a_full_relayed_stream_holds_the_transfer_back_and_loses_nothing() {
    let seed = 23;
    let mut net = Net::with_registry(seed, &["alice", "bob"], bulky, slow_relay);
    let (a, b) = (net.host("alice"), net.host("bob"));
    net.world.partition(a, b);
    let data = bytes(seed, 12 * 1024 * 1024 + 77);
    share(&mut net, "alice", "big.bin", &data);
    get(&mut net, "bob", "alice", "big.bin");
    let mut most = 0;
    let ended = net.run_until(600 * S, |net| {
        most = most.max(net.peer("alice").relay_waiting());
        net.events("bob").iter().any(|e| {
            matches!(
                e,
                PeerEvent::TransferDone { .. } | PeerEvent::TransferFailed { .. }
            )
        })
    });
    assert!(ended, "seed {seed}: the fetch never ended");
    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "big.bin");
    check_received(&net, "bob", "big.bin", &data, &path, md5);
    assert!(net.peer("bob").is_relayed_to(&name("alice")), "seed {seed}");
    // The stream filled (so the limit was what held the sender back) and
    // never went beyond it by more than one chunk and its framing.
    let slack = 256 * 1024 + 16 * 1024;
    assert!(most >= MAX_RELAY_WAITING, "never full: {most}");
    assert!(most <= MAX_RELAY_WAITING + slack, "{most} bytes waited");
    no_violations(&net);
}

#[test]
fn a_relayed_fetch_resumes_after_the_registry_restarts() {
    let seed = 21;
    let mut net = cut_apart(seed, big_window);
    let data = bytes(seed, 6 * 1024 * 1024);
    share(&mut net, "alice", "f.bin", &data);
    get(&mut net, "bob", "alice", "f.bin");
    net.wait_for(
        "bob",
        30 * S,
        |e| matches!(e, PeerEvent::TransferProgress { done, .. } if *done > 0),
    );
    let r = net.registry;
    net.world.restart(r);
    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "f.bin");
    check_received(&net, "bob", "f.bin", &data, &path, md5);
    net.ok("bob", PeerCommand::Transfers);
}

fn quick_retry(c: &mut PeerConfig) {
    c.link.direct_retry = 2 * S;
}

fn paths(net: &Net, who: &str, with: &str) -> Vec<Via> {
    net.events(who)
        .into_iter()
        .filter_map(|e| match e {
            PeerEvent::Path { with: w, via } if w.as_str() == with => Some(via),
            _ => None,
        })
        .collect()
}

#[test]
fn the_conversation_moves_to_a_direct_connection_once_one_is_possible() {
    for seed in 30..=33 {
        let mut net = cut_apart(seed, quick_retry);
        net.open_chat("alice", "bob");
        assert!(net.peer("alice").is_relayed_to(&name("bob")), "seed {seed}");
        let (a, b) = (net.host("alice"), net.host("bob"));
        // Under load: messages keep going both ways while the path moves.
        let mut sent = 0;
        for round in 0..8 {
            for _ in 0..5 {
                net.msg("alice", "bob", &format!("m a{sent}"));
                net.msg("bob", "alice", &format!("m b{sent}"));
                sent += 1;
            }
            if round == 2 {
                net.world.heal(a, b);
            }
            net.run_for(S);
        }
        let ok = net.run_until(30 * S, |net| {
            net.peer("alice").is_connected_to(&name("bob"))
                && !net.peer("alice").is_relayed_to(&name("bob"))
                && net.peer("alice").waiting_for(&name("bob")) == 0
                && net.peer("bob").waiting_for(&name("alice")) == 0
        });
        assert!(ok, "seed {seed}: never moved to a direct connection");
        assert!(
            !net.peer("bob").is_relayed_to(&name("alice")),
            "seed {seed}"
        );
        let want = |p: &str| (0..sent).map(|i| format!("m {p}{i}")).collect::<Vec<_>>();
        assert_eq!(
            net.received("bob", "alice", &Net::to_user("bob")),
            want("a"),
            "seed {seed}"
        );
        assert_eq!(
            net.received("alice", "bob", &Net::to_user("alice")),
            want("b"),
            "seed {seed}"
        );
        assert_eq!(
            paths(&net, "alice", "bob").last(),
            Some(&Via::Direct),
            "seed {seed}"
        );
        assert_eq!(
            paths(&net, "alice", "bob").first(),
            Some(&Via::Relay),
            "seed {seed}"
        );
        no_violations(&net);
    }
}

fn bob_does_not_listen(c: &mut PeerConfig) {
    if c.name.as_str() == "bob" {
        c.listen.set_port(0);
    }
}

fn nobody_listens(c: &mut PeerConfig) {
    c.listen.set_port(0);
}

#[test]
fn a_peer_that_takes_no_connections_dials_back_one_that_does() {
    let seed = 40;
    let mut net = Net::with(seed, &["alice", "bob"], bob_does_not_listen);
    net.open_chat("alice", "bob");
    // bob (--listen off) was asked through the registry to dial alice, and
    // did: a direct connection, no relay.
    assert!(
        net.peer("alice").is_connected_to(&name("bob")),
        "seed {seed}"
    );
    assert!(
        !net.peer("alice").is_relayed_to(&name("bob")),
        "seed {seed}"
    );
    assert_eq!(
        paths(&net, "alice", "bob"),
        vec![Via::Direct],
        "seed {seed}"
    );
    burst(&mut net, "q", 5);
    let relayed = registry_events(&net)
        .into_iter()
        .any(|e| matches!(e, RegistryEvent::RelayOpened { .. }));
    assert!(
        !relayed,
        "seed {seed}: relayed although bob could dial alice"
    );
}

#[test]
fn two_peers_that_take_no_connections_talk_through_the_relay_at_once() {
    let seed = 41;
    let mut net = Net::with(seed, &["alice", "bob"], nobody_listens);
    net.open_chat("alice", "bob");
    assert!(net.peer("alice").is_relayed_to(&name("bob")), "seed {seed}");
    burst(&mut net, "q", 5);
    // No direct dial was tried: nothing failed first.
    let tried = net.events("alice").into_iter().any(|e| {
        matches!(&e, PeerEvent::Notice { message } if message.contains("cannot be reached directly"))
    });
    assert!(!tried, "seed {seed}: alice dialed bob's port 0");
}

#[test]
fn a_dial_back_that_cannot_connect_falls_back_to_the_relay() {
    let seed = 42;
    let mut net = Net::with(seed, &["alice", "bob"], bob_does_not_listen);
    let (a, b) = (net.host("alice"), net.host("bob"));
    net.world.partition(a, b);
    // bob's dial back cannot connect; after the handshake timeout alice
    // reaches him through the relay.
    net.ok("alice", PeerCommand::Chat(name("bob")));
    let req = net.wait_for("bob", 30 * S, |e| {
        matches!(e, PeerEvent::ChatRequest { .. })
    });
    let PeerEvent::ChatRequest { id, .. } = req else {
        unreachable!()
    };
    net.ok("bob", PeerCommand::Accept(Some(id)));
    net.wait_for("alice", 10 * S, |e| {
        matches!(e, PeerEvent::ChatOpened { .. })
    });
    assert!(net.peer("alice").is_relayed_to(&name("bob")), "seed {seed}");
    burst(&mut net, "q", 5);
}

fn big_and_quick(c: &mut PeerConfig) {
    big_window(c);
    quick_retry(c);
}

#[test]
fn a_fetch_moves_from_relay_to_direct_and_back_and_arrives_whole() {
    let seed = 50;
    // A slow relay (1 MiB/s per peer), so the fetch is still under way when
    // the direct path opens.
    let mut net = Net::with_registry(seed, &["alice", "bob"], big_and_quick, |r| {
        r.relay.peer_rate = 1024 * 1024;
    });
    let (a, b) = (net.host("alice"), net.host("bob"));
    net.world.partition(a, b);
    let data = bytes(seed, 8 * 1024 * 1024);
    share(&mut net, "alice", "m.bin", &data);
    get(&mut net, "bob", "alice", "m.bin");
    net.wait_for(
        "bob",
        30 * S,
        |e| matches!(e, PeerEvent::TransferProgress { done, .. } if *done > 0),
    );
    assert!(net.peer("bob").is_relayed_to(&name("alice")), "seed {seed}");
    // `/transfers` says how the bytes travel.
    let listed = transfers(&mut net, "bob");
    assert_eq!(listed.len(), 1, "seed {seed}: {listed:?}");
    assert_eq!(listed[0].via, Via::Relay, "seed {seed}");
    // The sender is told why the relay is slow (the cap), once.
    let capped = net.wait_for("alice", 10 * S, |e| {
        matches!(e, PeerEvent::Notice { message } if message.contains("relay to bob is slowed down"))
    });
    let PeerEvent::Notice { message } = capped else {
        unreachable!()
    };
    assert!(
        message.contains("1.0 MiB/s per peer"),
        "seed {seed}: {message}"
    );
    net.world.heal(a, b);
    let moved = net.run_until(30 * S, |net| {
        net.peer("bob").is_connected_to(&name("alice"))
            && !net.peer("bob").is_relayed_to(&name("alice"))
    });
    assert!(
        moved,
        "seed {seed}: the fetch never moved to a direct connection"
    );
    // And back: the direct path goes away again mid-transfer.
    net.world.partition(a, b);
    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "m.bin");
    check_received(&net, "bob", "m.bin", &data, &path, md5);
    let alice_paths = paths(&net, "alice", "bob");
    assert!(
        alice_paths
            .windows(3)
            .any(|w| w == [Via::Relay, Via::Direct, Via::Relay]),
        "seed {seed}: {alice_paths:?}"
    );
    no_violations(&net);
}

/// A registry that alters, drops, duplicates or reorders relayed pieces can
/// stall a conversation (the peers' channel fails, the stream is closed and
/// opened again) but never make a peer show altered, repeated or
/// out-of-order messages; what was not acknowledged is sent again.
#[test]
fn a_misbehaving_relay_can_stall_but_never_corrupt_a_conversation() {
    let faults = [
        RelayFault::Alter { every: 9 },
        RelayFault::Drop { every: 9 },
        RelayFault::Duplicate { every: 9 },
        RelayFault::Reorder { every: 9 },
    ];
    for (i, fault) in faults.into_iter().enumerate() {
        let seed = 60 + i as u64;
        let mut net = cut_apart(seed, |_| {});
        net.open_chat("alice", "bob");
        let r = net.registry;
        net.world
            .with(r, |reg: &mut Registry, _| reg.set_relay_fault(fault));
        let n = 40;
        for i in 0..n {
            net.msg("alice", "bob", &format!("f a{i}"));
            net.msg("bob", "alice", &format!("f b{i}"));
            net.run_for(Duration::from_millis(50));
        }
        net.run_until(120 * S, |net| {
            net.peer("alice").waiting_for(&name("bob")) == 0
                && net.peer("bob").waiting_for(&name("alice")) == 0
        });
        let want = |p: &str| (0..n).map(|i| format!("f {p}{i}")).collect::<Vec<_>>();
        let got_b = net.received("bob", "alice", &Net::to_user("bob"));
        let got_a = net.received("alice", "bob", &Net::to_user("alice"));
        // Never altered, repeated or reordered: what arrived is the start
        // of what was sent (all of it, once the retries got through).
        assert_eq!(
            got_b[..],
            want("a")[..got_b.len()],
            "seed {seed}: {fault:?}"
        );
        assert_eq!(
            got_a[..],
            want("b")[..got_a.len()],
            "seed {seed}: {fault:?}"
        );
        assert_eq!(got_b.len(), n, "seed {seed}: {fault:?}: stalled for good");
        assert_eq!(got_a.len(), n, "seed {seed}: {fault:?}: stalled for good");
        // The fault was noticed by the peers' own channel, not by luck.
        let noticed = ["alice", "bob"].iter().any(|p| {
            net.events(p).into_iter().any(|e| {
                matches!(&e, PeerEvent::Notice { message } if message.contains("closed the connection") || message.contains("securely"))
            })
        });
        assert!(noticed, "seed {seed}: {fault:?}: nothing noticed the fault");
    }
}

#[test]
fn a_relayed_fetch_resumes_after_a_dropped_registry_connection_and_a_sender_restart() {
    let seed = 70;
    let mut net = Net::with_registry(seed, &["alice", "bob"], big_window, |r| {
        r.relay.peer_rate = 4 * 1024 * 1024;
    });
    let (a, b) = (net.host("alice"), net.host("bob"));
    net.world.partition(a, b);
    let data = bytes(seed, 12 * 1024 * 1024);
    share(&mut net, "alice", "r.bin", &data);
    get(&mut net, "bob", "alice", "r.bin");
    net.wait_for(
        "bob",
        30 * S,
        |e| matches!(e, PeerEvent::TransferProgress { done, .. } if *done > 0),
    );
    // The sender loses its registry connection (and the relay with it)...
    let r = net.registry;
    net.world.cut(a, r);
    net.run_for(2 * S);
    // ... and later crashes and comes back.
    net.world.crash(a);
    net.run_for(S);
    net.world.restart(a);
    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "r.bin");
    check_received(&net, "bob", "r.bin", &data, &path, md5);
    // Relayed before the cut and again after the restart (still apart).
    let opened = registry_events(&net)
        .into_iter()
        .filter(|e| matches!(e, RegistryEvent::RelayOpened { .. }))
        .count();
    assert!(opened >= 2, "seed {seed}: {opened} relayed stream(s)");
    no_violations(&net);
}
