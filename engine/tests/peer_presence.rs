//! Presence across the registry's own absence (issue 15, point 3): a peer is
//! reported offline only when the registry says that peer's own session
//! ended, never because the registry stopped or this peer lost it; once the
//! registry is back, presence converges to the truth.

mod peer_support;

use std::time::Duration;

use confab_engine::Engine;
use confab_engine::peer::{PeerCommand, PeerEvent};
use confab_engine::registry::{Registry, RegistryCommand};
use peer_support::{Net, name};

const S: Duration = Duration::from_secs(1);

/// The names `who` was told went offline.
fn told_offline(net: &Net, who: &str) -> Vec<String> {
    net.events(who)
        .into_iter()
        .filter_map(|e| match e {
            PeerEvent::Presence {
                name,
                online: false,
            } => Some(name.to_string()),
            _ => None,
        })
        .collect()
}

/// Whether `who`'s `/friends` shows `friend` online.
fn shows_online(net: &mut Net, who: &str, friend: &str) -> bool {
    net.clear(who);
    net.ok(who, PeerCommand::Friends);
    net.events(who)
        .into_iter()
        .find_map(|e| match e {
            PeerEvent::Friends { friends } => friends
                .into_iter()
                .find(|f| f.name.as_str() == friend)
                .map(|f| f.online),
            _ => None,
        })
        .expect("/friends lists the friend")
}

fn all_back(net: &Net, names: &[&str]) -> bool {
    names.iter().all(|n| {
        net.events(n)
            .iter()
            .any(|e| matches!(e, PeerEvent::RegistryBack))
    })
}

/// The registry's host quits: the registry says goodbye to everyone. No
/// peer may be told that another went offline, neither then, nor while
/// the registry is away, nor once it is back.
#[test]
fn a_registry_shutting_down_reports_nobody_offline() {
    let names = ["alice", "bob", "carol"];
    let mut net = Net::new(1501, &names);
    net.run_for(S);
    for n in names {
        net.clear(n);
    }
    let registry = net.registry;
    net.world.with(registry, |r: &mut Registry, now| {
        r.handle_command(now, RegistryCommand::Shutdown).unwrap()
    });
    net.run_for(S / 10);
    net.world.crash(registry);
    net.run_for(20 * S);
    for n in names {
        assert!(
            net.events(n)
                .iter()
                .any(|e| matches!(e, PeerEvent::RegistryLost { .. })),
            "seed 1501: {n} never lost the registry"
        );
        assert_eq!(
            told_offline(&net, n),
            Vec::<String>::new(),
            "seed 1501: {n}"
        );
    }
    net.world.restart(registry);
    let ok = net.run_until(60 * S, |net| all_back(net, &names));
    assert!(ok, "seed 1501: not everyone came back");
    net.run_for(60 * S);
    for n in names {
        assert_eq!(
            told_offline(&net, n),
            Vec::<String>::new(),
            "seed 1501: {n}"
        );
    }
}

/// The registry crashes; while it is away carol quits for good. Once the
/// registry is back, alice and bob are told carol went offline (and shown
/// so), and never that the other did.
#[test]
fn after_the_registry_returns_only_who_really_left_is_offline() {
    let names = ["alice", "bob", "carol"];
    let mut net = Net::new(1502, &names);
    // Everyone has taken the roster.
    net.run_for(S);
    for n in ["alice", "bob"] {
        for f in names {
            if f != n {
                net.ok(n, PeerCommand::FriendAdd(name(f)));
            }
        }
        net.clear(n);
    }
    let registry = net.registry;
    net.world.crash(registry);
    net.run_for(2 * S);
    let carol = net.host("carol");
    net.world.crash(carol);
    net.run_for(5 * S);
    net.world.restart(registry);
    let ok = net.run_until(60 * S, |net| all_back(net, &["alice", "bob"]));
    assert!(ok, "seed 1502: alice and bob never came back");
    let ok = net.run_until(90 * S, |net| {
        ["alice", "bob"]
            .iter()
            .all(|n| told_offline(net, n).contains(&"carol".to_string()))
    });
    assert!(
        ok,
        "seed 1502: nobody was told carol left: {:#?}",
        net.events("alice")
    );
    for (n, other) in [("alice", "bob"), ("bob", "alice")] {
        assert_eq!(told_offline(&net, n), vec!["carol"], "seed 1502: {n}");
        assert!(!shows_online(&mut net, n, "carol"), "seed 1502: {n}");
        assert!(shows_online(&mut net, n, other), "seed 1502: {n}");
    }
}
