//! A network with no registry (issue 20), end to end in the engine: peers
//! find each other by their signed LAN announcements, chat, move a file
//! and answer `/who` from what they heard; a name claimed by a second key
//! is shown apart and never merged. The registry host is crashed before
//! anything runs, and no peer is configured to dial it.

mod peer_support;
mod peer_transfer_support;

use std::time::Duration;

use confab_engine::peer::{DiscoveryConfig, FoundBy, PeerCommand, PeerConfig, PeerEvent};
use peer_support::{Net, lan_config, name};
use peer_transfer_support::*;

fn lan(c: &mut PeerConfig) {
    c.transfer.chunk_size = CHUNK;
    c.transfer.window = WINDOW;
    lan_config(c);
}

/// Peers with discovery on and no registry (the registry host is down).
fn lan_net(seed: u64, names: &[&str]) -> Net {
    Net::lan(seed, names, lan)
}

/// `who`'s answer to `/who`: the names it found, and how.
fn who(net: &mut Net, who: &str) -> Vec<(String, FoundBy, String)> {
    net.clear(who);
    net.ok(who, PeerCommand::Who);
    match net.wait_for(who, S, |e| matches!(e, PeerEvent::Found { .. })) {
        PeerEvent::Found { peers } => peers
            .into_iter()
            .map(|p| (p.name.to_string(), p.by, p.fingerprint))
            .collect(),
        _ => unreachable!(),
    }
}

#[test]
fn three_peers_without_a_registry_find_each_other_chat_and_move_a_file() {
    for seed in 1..=5u64 {
        let mut net = lan_net(seed, &["alice", "bob", "carol"]);
        // Each said who it is at start; the later ones heard the earlier
        // ones through their query's answers.
        let all = net.run_until(Duration::from_secs(5), |net| {
            ["alice", "bob", "carol"].iter().all(|n| {
                net.events(n)
                    .iter()
                    .filter(|e| matches!(e, PeerEvent::Presence { online: true, .. }))
                    .count()
                    == 2
            })
        });
        assert!(all, "seed {seed}: not everyone found everyone");
        let seen = who(&mut net, "alice");
        let names: Vec<&str> = seen.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, vec!["bob", "carol"], "seed {seed}");
        assert!(seen.iter().all(|(_, by, _)| *by == FoundBy::Lan));
        let bob_key = net.peer("bob").public_key().fingerprint().to_string();
        assert_eq!(seen[0].2, bob_key, "seed {seed}: /who shows the key");

        net.open_chat("alice", "bob");
        net.msg("alice", "bob", "hello over the lan");
        net.msg("bob", "alice", "hi alice");
        let bob = Net::to_user("bob");
        let alice = Net::to_user("alice");
        net.wait_for(
            "alice",
            5 * S,
            |e| matches!(e, PeerEvent::Delivered { to, seq: 1 } if *to == bob),
        );
        net.wait_for("alice", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
        assert_eq!(
            net.received("bob", "alice", &bob),
            vec!["hello over the lan"]
        );
        assert_eq!(net.received("alice", "bob", &alice), vec!["hi alice"]);

        let data = bytes(seed, 5 * CHUNK as usize + 7);
        local(&mut net, "carol", "home/report.pdf", &data);
        send(&mut net, "carol", "alice", "home/report.pdf");
        let id = offer_id(&mut net, "alice");
        net.ok("alice", PeerCommand::Accept(Some(id)));
        let (path, md5) = wait_done(
            &mut net,
            "alice",
            confab_engine::peer::Direction::Receive,
            "report.pdf",
        );
        check_received(&net, "alice", "report.pdf", &data, &path, md5);
        assert!(
            !net.events("alice").iter().any(|e| matches!(e,
                PeerEvent::Error { message } if message.contains("registry"))),
            "seed {seed}: nothing asked the registry"
        );
    }
}

#[test]
fn a_late_peer_is_found_and_a_silent_one_ages_out() {
    let mut net = lan_net(7, &["alice", "bob"]);
    net.run_for(2 * S);
    net.add_peer("dave");
    net.run_for(2 * S);
    let names: Vec<String> = who(&mut net, "alice").into_iter().map(|w| w.0).collect();
    assert_eq!(names, vec!["bob", "dave"]);
    // Announcements keep everyone listed well past the expiry...
    net.run_for(DiscoveryConfig::default().expiry * 2);
    assert_eq!(who(&mut net, "bob").len(), 2);
    // ...and a peer that stopped is dropped after it.
    let dave = net.host("dave");
    net.world.crash(dave);
    net.run_for(DiscoveryConfig::default().expiry + DiscoveryConfig::default().interval * 2);
    let gone = name("dave");
    assert!(net.events("alice").iter().any(|e| matches!(e,
        PeerEvent::Presence { name, online: false } if *name == gone)));
    let names: Vec<String> = who(&mut net, "alice").into_iter().map(|w| w.0).collect();
    assert_eq!(names, vec!["bob"]);
}

#[test]
fn a_second_key_claiming_a_known_name_is_shown_apart_and_never_merged() {
    let mut net = lan_net(9, &["alice", "bob"]);
    net.open_chat("alice", "bob");
    net.msg("bob", "alice", "the real bob");
    net.wait_for("alice", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
    // Another host claims "bob" with its own key.
    net.add_peer_as("impostor", "bob");
    net.run_for(3 * S);
    assert!(net.events("alice").iter().any(|e| matches!(e,
        PeerEvent::Notice { message } if message.contains("warning: the name bob"))));
    let seen = who(&mut net, "alice");
    let bobs: Vec<_> = seen.iter().filter(|(n, _, _)| n == "bob").collect();
    assert_eq!(bobs.len(), 2, "both shown: {seen:?}");
    assert_ne!(bobs[0].2, bobs[1].2);
    // Messages still go to (and only come from) the key alice knows.
    net.msg("alice", "bob", "still you?");
    let bob = Net::to_user("bob");
    net.wait_for("bob", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
    assert_eq!(net.received("bob", "alice", &bob), vec!["still you?"]);
    assert!(net.received("impostor", "alice", &bob).is_empty());
    // The impostor calling alice as "bob" is refused, with both keys named.
    net.ok("impostor", PeerCommand::Chat(name("alice")));
    let real = net.peer("bob").public_key().fingerprint().to_string();
    let fake = net.peer("impostor").public_key().fingerprint().to_string();
    let warned = net.wait_for("alice", 10 * S, |e| {
        matches!(e, PeerEvent::Notice { message } if message.contains("refused a connection claiming to be bob"))
    });
    let PeerEvent::Notice { message } = warned else {
        unreachable!()
    };
    assert!(
        message.contains(&real) && message.contains(&fake),
        "{message}"
    );
    net.run_for(5 * S);
    assert!(
        !net.events("alice")
            .iter()
            .any(|e| matches!(e, PeerEvent::ChatRequest { .. })),
        "nothing from the impostor reached alice"
    );
}

#[test]
fn a_peer_on_another_segment_joins_through_one_peer_and_everyone_learns_of_everyone() {
    for seed in 20..=24u64 {
        let mut net = lan_net(seed, &["alice", "bob", "carol"]);
        net.run_for(2 * S);
        let carol = net.world.addr(net.host("carol"));
        // dave's multicast reaches nobody: only carol's address is given.
        let next = confab_engine::testing::HostId(net.world.hosts().count());
        net.world.set_segment(next, 1);
        net.add_peer_with("dave", "dave", |c| c.join = vec![carol]);
        let all = net.run_until(Duration::from_secs(60), |net| {
            ["alice", "bob", "carol", "dave"].iter().all(|n| {
                net.events(n)
                    .iter()
                    .filter(|e| matches!(e, PeerEvent::Presence { online: true, .. }))
                    .count()
                    == 3
            })
        });
        assert!(all, "seed {seed}: not everyone learned of everyone");
        let seen = who(&mut net, "dave");
        let by: Vec<(&str, FoundBy)> = seen.iter().map(|(n, b, _)| (n.as_str(), *b)).collect();
        assert_eq!(
            by,
            vec![
                ("alice", FoundBy::Exchange),
                ("bob", FoundBy::Exchange),
                ("carol", FoundBy::Lan)
            ],
            "seed {seed}"
        );
        let seen = who(&mut net, "alice");
        assert!(
            seen.iter()
                .any(|(n, b, _)| n == "dave" && *b == FoundBy::Exchange),
            "seed {seed}: {seen:?}"
        );
        // What was passed on is good enough to dial: dave chats with bob.
        net.open_chat("dave", "bob");
        net.msg("dave", "bob", "hello from the other segment");
        net.wait_for("bob", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
        let bob = Net::to_user("bob");
        assert_eq!(
            net.received("bob", "dave", &bob),
            vec!["hello from the other segment"]
        );
    }
}

fn lan_and_registry(c: &mut PeerConfig) {
    c.discovery = Some(DiscoveryConfig::default());
}

#[test]
fn when_the_registry_goes_look_ups_fall_back_to_discovery_and_come_back_with_it() {
    let mut net = Net::with(31, &["alice", "bob", "carol"], lan_and_registry);
    net.open_chat("alice", "bob");
    net.ok("alice", PeerCommand::Who);
    net.wait_for("alice", S, |e| matches!(e, PeerEvent::Users { .. }));

    let registry = net.registry;
    net.world.crash(registry);
    net.wait_for("alice", 30 * S, |e| {
        matches!(e, PeerEvent::RegistryLost { .. })
    });
    // The chat goes on over its direct link...
    net.msg("bob", "alice", "still here");
    net.wait_for("alice", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
    let alice = Net::to_user("alice");
    assert_eq!(net.received("alice", "bob", &alice), vec!["still here"]);
    // ...look-ups answer from what was heard on the LAN, at once...
    let names: Vec<String> = who(&mut net, "alice").into_iter().map(|w| w.0).collect();
    assert_eq!(names, vec!["bob", "carol"]);
    // ...and a new conversation is dialed by announcement.
    net.open_chat("carol", "alice");
    net.msg("carol", "alice", "no registry needed");
    net.wait_for("alice", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
    assert_eq!(
        net.received("alice", "carol", &alice),
        vec!["no registry needed"]
    );

    net.world.restart(registry);
    net.wait_for("alice", 60 * S, |e| matches!(e, PeerEvent::RegistryBack));
    net.clear("alice");
    net.ok("alice", PeerCommand::Who);
    net.wait_for("alice", S, |e| matches!(e, PeerEvent::Users { .. }));
    // Nothing was lost or repeated across both switches.
    let bob = Net::to_user("bob");
    net.msg("alice", "bob", "and back");
    net.wait_for("bob", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
    assert_eq!(net.received("bob", "alice", &bob), vec!["and back"]);
}

#[test]
fn files_without_a_registry_asks_the_peer_itself() {
    let mut net = lan_net(41, &["alice", "bob"]);
    net.run_for(2 * S);
    share(&mut net, "bob", "song.ogg", &bytes(41, 3000));
    net.ok(
        "bob",
        PeerCommand::Publish(vec![confab_engine::wire::registry::SharedFile {
            name: confab_engine::wire::FileName::new("song.ogg").unwrap(),
            size: 3000,
            md5: confab_engine::wire::Md5::of(&bytes(41, 3000)),
            kind: Default::default(),
        }]),
    );
    net.ok("alice", PeerCommand::Files(Some(name("bob"))));
    let got = net.wait_for("alice", 5 * S, |e| matches!(e, PeerEvent::Files { .. }));
    let PeerEvent::Files { files } = got else {
        unreachable!()
    };
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].owner, name("bob"));
    assert_eq!(files[0].file.name.as_str(), "song.ogg");
    // And the file comes with /get, as with a registry.
    get(&mut net, "alice", "bob", "song.ogg");
    let (path, md5) = wait_done(
        &mut net,
        "alice",
        confab_engine::peer::Direction::Receive,
        "song.ogg",
    );
    check_received(&net, "alice", "song.ogg", &bytes(41, 3000), &path, md5);
    // Nobody by that name: said at once.
    net.ok("alice", PeerCommand::Files(Some(name("zed"))));
    net.wait_for(
        "alice",
        S,
        |e| matches!(e, PeerEvent::Error { message } if message.contains("zed")),
    );
}
