//! A registry announced on the LAN (issue 20), end to end in the engine:
//! the registry announces itself on the discovery group; peers started
//! with `--registry lan` (`PeerConfig::registry_lan`) log in to it with no
//! address configured (their `registry` points nowhere), chat through the
//! registry's look-ups, and follow it when it comes back elsewhere. An
//! unsigned or forged announcement, and a key other than the pinned one,
//! are never used.

mod peer_support;

use std::net::SocketAddr;
use std::time::Duration;

use confab_engine::api::Input;
use confab_engine::peer::{DiscoveryConfig, LanRegistryConfig, PeerCommand, PeerConfig, PeerEvent};
use confab_engine::registry::{AnnounceConfig, RegistryConfig};
use confab_engine::rng::Rng;
use confab_engine::secure::{SigningSecret, StaticSecret, registry_claim};
use confab_engine::wire::ErrorCode;
use confab_engine::wire::discovery::{LanDatagram, RegistryAnnouncement};
use confab_engine::wire::identity::Signature;
use confab_engine::{Engine, Peer};
use peer_support::{Net, UNIX_MS_AT_START, registry_signing_key};

const S: Duration = Duration::from_secs(1);

/// Where the peers' configuration says the registry is: nobody. Only an
/// announcement can lead them to it.
const NOWHERE: &str = "10.99.0.1:9";

fn lan_registry(c: &mut PeerConfig) {
    c.registry = NOWHERE.parse().unwrap();
    c.discovery = Some(DiscoveryConfig::default());
    c.registry_lan = Some(LanRegistryConfig::default());
}

/// The registry's Noise key, fixed so a second registry host can be the
/// same registry moved elsewhere.
fn registry_static_key() -> StaticSecret {
    StaticSecret::from_bytes([9; 32])
}

fn announcing(c: &mut RegistryConfig) {
    // The World's hosts all listen on port 7000.
    c.announce = Some(AnnounceConfig::new(7000));
    c.secure.static_key = Some(registry_static_key());
}

/// A registry announcing itself, and `names` with `--registry lan`.
fn net(seed: u64, names: &[&str]) -> Net {
    let mut net = Net::bare_with_registry(seed, lan_registry, announcing);
    for n in names {
        net.add_peer(n);
    }
    net
}

fn logged_in(net: &Net, who: &str) -> bool {
    net.peer(who).is_logged_in()
}

fn heard_used(net: &Net, who: &str) -> Vec<(SocketAddr, bool)> {
    net.events(who)
        .into_iter()
        .filter_map(|e| match e {
            PeerEvent::RegistryHeard { registry, used, .. } => Some((registry, used)),
            _ => None,
        })
        .collect()
}

fn notices(net: &Net, who: &str) -> Vec<String> {
    net.events(who)
        .into_iter()
        .filter_map(|e| match e {
            PeerEvent::Notice { message } => Some(message),
            _ => None,
        })
        .collect()
}

#[test]
fn peers_find_the_announced_registry_log_in_and_chat_through_its_look_ups() {
    for seed in 1..=4u64 {
        let mut net = net(seed, &["alice", "bob"]);
        let registry = net.world.addr(net.registry);
        // Ready at once (discovery works before any registry is heard).
        for who in ["alice", "bob"] {
            assert!(
                matches!(net.events(who).first(), Some(PeerEvent::Ready { .. })),
                "seed {seed}: {who} not ready at start: {:?}",
                net.events(who)
            );
        }
        let up = net.run_until(5 * S, |net| {
            logged_in(net, "alice") && logged_in(net, "bob")
        });
        assert!(up, "seed {seed}: not both logged in");
        for who in ["alice", "bob"] {
            assert_eq!(heard_used(&net, who), vec![(registry, true)], "seed {seed}");
            let fp = registry_signing_key().public().fingerprint().to_string();
            assert!(
                net.events(who).iter().any(|e| matches!(e,
                    PeerEvent::RegistryKey { registry: r, fingerprint } if *r == registry && *fp == *fingerprint)),
                "seed {seed}: {who} trusted the key on first use and reported it"
            );
            assert!(
                net.events(who)
                    .iter()
                    .any(|e| matches!(e, PeerEvent::RegistryBack)),
                "seed {seed}: the log-in is said"
            );
        }
        // `/who` is the registry's answer now (not what was heard).
        net.clear("alice");
        net.ok("alice", PeerCommand::Who);
        let users = match net.wait_for("alice", 5 * S, |e| {
            matches!(e, PeerEvent::Users { .. } | PeerEvent::Found { .. })
        }) {
            PeerEvent::Users { users } => users,
            other => panic!("seed {seed}: /who answered from discovery: {other:?}"),
        };
        let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, vec!["alice", "bob"], "seed {seed}");

        net.open_chat("alice", "bob");
        net.msg("alice", "bob", "found you through the registry");
        let bob = Net::to_user("bob");
        net.wait_for(
            "alice",
            5 * S,
            |e| matches!(e, PeerEvent::Delivered { to, seq: 1 } if *to == bob),
        );
        assert_eq!(
            net.received("bob", "alice", &bob),
            vec!["found you through the registry"],
            "seed {seed}"
        );
    }
}

/// A registry announcement for these keys, signed at the world's start.
fn signed(signing: &SigningSecret, noise: &StaticSecret, port: u16) -> RegistryAnnouncement {
    registry_claim::sign(signing, noise, port, UNIX_MS_AT_START)
}

fn hand(net: &mut Net, who: &str, from: SocketAddr, ann: RegistryAnnouncement) {
    let bytes = LanDatagram::Registry(ann).to_bytes();
    let host = net.host(who);
    net.world.with(host, |p: &mut Peer, now| {
        p.handle_input(
            now,
            Input::Datagram {
                from,
                bytes: &bytes,
            },
        )
    });
}

#[test]
fn unsigned_forged_and_altered_registry_announcements_are_never_used() {
    let mut net = Net::bare_with_registry(3, lan_registry, |_| {});
    net.world.crash(net.registry);
    net.add_peer("alice");
    net.run_for(S);
    let mut rng = Rng::new(11);
    let signing = SigningSecret::generate(&mut rng);
    let noise = StaticSecret::generate(&mut rng);
    let from: SocketAddr = "10.0.0.200:40000".parse().unwrap();
    let good = signed(&signing, &noise, 7300);

    let mut unsigned = good.clone();
    unsigned.signature = Signature([0; 64]);
    let mut altered = good.clone();
    altered.body.port = 7301;
    let mut forged = good.clone();
    let attacker = SigningSecret::generate(&mut rng);
    forged.signature = attacker.sign(b"anything at all");
    let mut rebound = signed(&signing, &noise, 7300);
    rebound.body.key = StaticSecret::generate(&mut rng).public();
    for bad in [unsigned, altered, forged, rebound] {
        hand(&mut net, "alice", from, bad);
    }
    net.run_for(S);
    assert_eq!(heard_used(&net, "alice"), vec![], "nothing believed");
    assert!(!logged_in(&net, "alice"));

    // The same announcement, signed as it should be, is used: the checks
    // above refused what was wrong with each, not everything.
    hand(&mut net, "alice", from, good.clone());
    assert_eq!(
        heard_used(&net, "alice"),
        vec![("10.0.0.200:7300".parse().unwrap(), true)]
    );
    // Replayed, it changes nothing.
    hand(&mut net, "alice", from, good);
    assert_eq!(heard_used(&net, "alice").len(), 1);
}

#[test]
fn a_registry_whose_key_is_not_the_pinned_one_is_refused() {
    let other = SigningSecret::from_bytes([8; 32]).public().fingerprint();
    let real = registry_signing_key().public().fingerprint();

    // `--registry-key` names another registry: this one is not used.
    let mut net = Net::bare_with_registry(5, lan_registry, announcing);
    net.add_peer_with("alice", "alice", |c| c.secure.registry_pin = Some(other));
    net.run_for(5 * S);
    assert!(!logged_in(&net, "alice"));
    assert_eq!(heard_used(&net, "alice"), vec![]);
    assert!(
        notices(&net, "alice")
            .iter()
            .any(|n| n.contains(&format!("not --registry-key {other}"))),
        "{:?}",
        notices(&net, "alice")
    );

    // `known_registries` pins its address to another key: the words of a
    // changed key at `--registry ADDR`, and not used.
    let mut net = Net::bare_with_registry(6, lan_registry, announcing);
    let at = net.world.addr(net.registry);
    net.add_peer_with("alice", "alice", |c| {
        c.registry_lan = Some(LanRegistryConfig {
            known: vec![(at, other)],
        })
    });
    net.run_for(5 * S);
    assert!(!logged_in(&net, "alice"));
    let want = format!("the registry's key is {real}, not the key {other} this peer trusts");
    assert!(
        notices(&net, "alice").iter().any(|n| n.starts_with(&want)),
        "{:?}",
        notices(&net, "alice")
    );

    // The pinned key itself is used (by flag, then by the file).
    let mut net = Net::bare_with_registry(7, lan_registry, announcing);
    net.add_peer_with("alice", "alice", |c| c.secure.registry_pin = Some(real));
    net.add_peer_with("bob", "bob", |c| {
        c.registry_lan = Some(LanRegistryConfig {
            known: vec![(at, real)],
        })
    });
    assert!(net.run_until(5 * S, |n| logged_in(n, "alice") && logged_in(n, "bob")));
    for who in ["alice", "bob"] {
        assert!(
            !net.events(who)
                .iter()
                .any(|e| matches!(e, PeerEvent::RegistryKey { .. })),
            "{who}: a pinned key is not a first contact"
        );
    }

    // Once one registry is used, another key announced later is refused.
    let mut rng = Rng::new(12);
    let intruder = SigningSecret::generate(&mut rng);
    let from: SocketAddr = "10.0.0.200:40000".parse().unwrap();
    let ann = signed(&intruder, &StaticSecret::generate(&mut rng), 7000);
    hand(&mut net, "alice", from, ann);
    let want = format!(
        "the registry's key is {}, not the key {real} this peer trusts",
        intruder.public().fingerprint()
    );
    assert!(notices(&net, "alice").iter().any(|n| n.starts_with(&want)));
    assert_eq!(heard_used(&net, "alice").len(), 1, "still the first");
    assert!(logged_in(&net, "alice"));
}

#[test]
fn the_registry_comes_back_at_another_address_and_the_peers_follow() {
    let mut net = net(9, &["alice", "bob"]);
    assert!(net.run_until(5 * S, |n| logged_in(n, "alice") && logged_in(n, "bob")));
    let first = net.world.addr(net.registry);
    net.world.crash(net.registry);
    net.wait_for("alice", 60 * S, |e| {
        matches!(e, PeerEvent::RegistryLost { .. })
    });
    net.clear("alice");
    net.clear("bob");
    // Let the peers' reconnects to the old address fail for a while.
    net.run_for(20 * S);
    assert!(!logged_in(&net, "alice"));

    // The same registry (same keys), started on another host.
    let mut config = RegistryConfig {
        password_cost: confab_engine::password::PasswordCost::TESTING,
        unix_ms_at_start: UNIX_MS_AT_START,
        ..RegistryConfig::default()
    };
    config.secure.signing_key = Some(registry_signing_key());
    announcing(&mut config);
    let moved = net.world.add_registry("registry-moved", config);
    let second = net.world.addr(moved);
    assert_ne!(first, second);
    assert!(
        net.run_until(10 * S, |n| logged_in(n, "alice") && logged_in(n, "bob")),
        "the peers did not log in again at {second}"
    );
    for who in ["alice", "bob"] {
        assert!(
            notices(&net, who)
                .iter()
                .any(|n| n.contains(&format!("now announced at {second}"))),
            "{who}: {:?}",
            notices(&net, who)
        );
        assert!(
            net.events(who)
                .iter()
                .any(|e| matches!(e, PeerEvent::RegistryBack))
        );
    }
    net.ok("alice", PeerCommand::Who);
    let users = match net.wait_for("alice", 5 * S, |e| {
        matches!(e, PeerEvent::Users { .. } | PeerEvent::Found { .. })
    }) {
        PeerEvent::Users { users } => users,
        other => panic!("/who answered from discovery: {other:?}"),
    };
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, vec!["alice", "bob"]);
}

#[test]
fn a_registry_that_does_not_prove_the_key_it_was_announced_with_is_refused() {
    // The registry at its address does not announce; someone else replays
    // there an announcement of another key (validly signed by that key).
    let mut net = Net::bare_with_registry(13, lan_registry, |_| {});
    let at = net.world.addr(net.registry);
    net.add_peer("alice");
    net.run_for(S);
    let mut rng = Rng::new(14);
    let other = SigningSecret::generate(&mut rng);
    let ann = signed(&other, &StaticSecret::generate(&mut rng), at.port());
    hand(&mut net, "alice", SocketAddr::new(at.ip(), 40000), ann);
    let want = format!(
        "the registry's key is {}, not the key {} this peer trusts",
        registry_signing_key().public().fingerprint(),
        other.public().fingerprint()
    );
    let stopped = net.wait_for("alice", 5 * S, |e| matches!(e, PeerEvent::Stopped { .. }));
    assert!(
        matches!(&stopped, PeerEvent::Stopped { code: ErrorCode::UntrustedKey, reason } if *reason == want),
        "{stopped:?}"
    );
    assert!(!logged_in(&net, "alice"));
    assert!(
        !net.events("alice")
            .iter()
            .any(|e| matches!(e, PeerEvent::RegistryKey { .. })),
        "nothing trusted"
    );
}
