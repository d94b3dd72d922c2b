//! Names without a registry, beyond the first claim (issue 20): `/whois
//! NAME` asks the peer itself for its profile and checks it against the
//! digest it announced; a reinstalled peer (same name, new key) is refused
//! until `/trust NAME FINGERPRINT` accepts its key; `/forget NAME` lets the
//! next key be trusted on first use; a fingerprint heard nowhere is an
//! error; pins are kept across a restart. The registry host is crashed
//! before anything runs, and no peer is configured to dial it.

mod peer_support;

use std::time::Duration;

use confab_engine::peer::{
    DigestCheck, FoundBy, PeerCommand, PeerEvent, PeerRecord, ProfileChange, WhoisFrom,
};
use confab_engine::record::Record;
use confab_engine::wire::identity::Fingerprint;
use peer_support::{Net, lan_config, name};

const S: Duration = Duration::from_secs(1);

/// Peers with discovery on and no registry (the registry host is down),
/// run until each has heard of all the others.
fn lan_net(seed: u64, names: &[&str]) -> Net {
    let mut net = Net::lan(seed, names, lan_config);
    let all = net.until_all_heard(names, 10 * S);
    assert!(all, "seed {seed}: not everyone heard of everyone");
    net
}

fn fingerprint(net: &Net, who: &str) -> Fingerprint {
    net.peer(who).public_key().fingerprint()
}

/// `who`'s next `/whois NAME` answer from the peer itself.
fn whois(net: &mut Net, who: &str, of: &str) -> PeerEvent {
    net.clear(who);
    net.ok(who, PeerCommand::Whois(name(of)));
    net.wait_for(who, 5 * S, |e| matches!(e, PeerEvent::Whois { .. }))
}

fn set_nick(net: &mut Net, who: &str, nick: &str) {
    let change = ProfileChange::Nick(nick.into());
    net.ok(who, PeerCommand::SetProfile(change));
}

/// `who`'s last error, if any.
fn last_error(net: &Net, who: &str) -> Option<String> {
    net.events(who).into_iter().rev().find_map(|e| match e {
        PeerEvent::Error { message } => Some(message),
        _ => None,
    })
}

/// `who`'s `key_pinned` events, as (name, old, new).
fn pinned(net: &Net, who: &str) -> Vec<(String, Option<String>, Option<String>)> {
    net.events(who)
        .into_iter()
        .filter_map(|e| match e {
            PeerEvent::KeyPinned { name, old, new } => Some((name.to_string(), old, new)),
            _ => None,
        })
        .collect()
}

/// `from` and `to` (whose label may differ from the name `to_name` it
/// claims) get a chat open and a message through each way.
fn chat_works(net: &mut Net, from: &str, to: &str, to_name: &str) {
    let from_name = net.peer(from).name().clone();
    let open = net.run_until(60 * S, |net| {
        net.events(from)
            .iter()
            .any(|e| matches!(e, PeerEvent::ChatOpened { with, .. } if with.as_str() == to_name))
            || net
                .events(to)
                .iter()
                .any(|e| matches!(e, PeerEvent::ChatRequest { from: f, .. } if *f == from_name))
    });
    assert!(open, "seed {}: {from} never reached {to}", net.seed);
    let asked = net.events(to).into_iter().find_map(|e| match e {
        PeerEvent::ChatRequest { id, from: f } if f == from_name => Some(id),
        _ => None,
    });
    if let Some(id) = asked {
        net.ok(to, PeerCommand::Accept(Some(id)));
    }
    net.wait_for(
        from,
        10 * S,
        |e| matches!(e, PeerEvent::ChatOpened { with, .. } if with.as_str() == to_name),
    );
    net.msg(from, to_name, "it is me, reinstalled");
    let me = Net::to_user(to_name);
    net.wait_for(to, 10 * S, |e| {
        matches!(e, PeerEvent::Message { to: t, text, from: f }
            if *t == me && text == "it is me, reinstalled" && *f == from_name)
    });
    net.msg(to, from_name.as_str(), "welcome back");
    let back = Net::to_user(from_name.as_str());
    net.wait_for(from, 10 * S, |e| {
        matches!(e, PeerEvent::Message { to: t, text, .. } if *t == back && text == "welcome back")
    });
}

/// alice and bob chat; bob's host dies and "bob" comes back on another
/// host with a new key (a reinstall), heard by alice. Returns the first
/// bob's fingerprint too.
fn reinstalled(seed: u64) -> (Net, Fingerprint) {
    let mut net = lan_net(seed, &["alice", "bob", "carol"]);
    net.open_chat("alice", "bob");
    net.msg("bob", "alice", "the first bob");
    net.wait_for("alice", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
    let old = fingerprint(&net, "bob");
    let bob = net.host("bob");
    net.world.crash(bob);
    net.add_peer_as("bob2", "bob");
    net.run_for(3 * S);
    (net, old)
}

#[test]
fn whois_without_a_registry_returns_the_profile_from_the_peer_itself() {
    for seed in 1..=3u64 {
        let mut net = lan_net(seed, &["alice", "bob"]);
        set_nick(&mut net, "bob", "Bobby");
        let bio = ProfileChange::Bio("builds boats".into());
        net.ok("bob", PeerCommand::SetProfile(bio));
        net.run_for(2 * S);
        let got = whois(&mut net, "alice", "bob");
        let PeerEvent::Whois { info, files, from } = got else {
            unreachable!()
        };
        assert_eq!(info.name, name("bob"));
        assert_eq!(info.profile.nick.as_str(), "Bobby", "seed {seed}");
        assert_eq!(info.profile.bio.as_str(), "builds boats");
        assert_eq!(info.key, Some(net.peer("bob").public_key()));
        assert_eq!(info.addr, Some(net.world.addr(net.host("bob"))));
        assert!(files.is_empty(), "/files NAME lists them");
        assert_eq!(
            from,
            WhoisFrom::Peer {
                by: Some(FoundBy::Lan),
                digest: DigestCheck::Matches
            },
            "seed {seed}"
        );
        // What was heard of the name came first, at once.
        assert!(
            net.events("alice")
                .iter()
                .any(|e| matches!(e, PeerEvent::Found { peers } if peers.len() == 1))
        );
        // Ourselves: what others are told, with our files.
        let got = whois(&mut net, "bob", "bob");
        let PeerEvent::Whois { info, .. } = got else {
            unreachable!()
        };
        assert_eq!(info.profile.nick.as_str(), "Bobby");
        assert_eq!(info.key, Some(net.peer("bob").public_key()));
        // Nobody by that name: said at once.
        net.ok("alice", PeerCommand::Whois(name("zed")));
        let e = last_error(&net, "alice").expect("an error");
        assert!(e.contains("nobody called zed"), "{e}");
    }
}

/// `cmd` asked of bob, who crashed, ends in an error naming `what`, and
/// no answer event (`answered`) ever comes.
fn unanswered(seed: u64, cmd: PeerCommand, what: &str, answered: fn(&PeerEvent) -> bool) {
    let mut net = lan_net(seed, &["alice", "bob"]);
    let bob = net.host("bob");
    net.world.crash(bob);
    net.clear("alice");
    net.ok("alice", cmd);
    let e = net.wait_for("alice", 20 * S, |e| matches!(e, PeerEvent::Error { .. }));
    let PeerEvent::Error { message } = e else {
        unreachable!()
    };
    assert!(
        message.contains(&format!("bob did not answer {what}")),
        "{message}"
    );
    assert!(!net.events("alice").iter().any(answered));
}

#[test]
fn whois_of_a_peer_that_does_not_answer_ends_with_an_error() {
    unanswered(5, PeerCommand::Whois(name("bob")), "/whois", |e| {
        matches!(e, PeerEvent::Whois { .. })
    });
}

#[test]
fn files_of_a_peer_that_does_not_answer_ends_with_an_error() {
    unanswered(6, PeerCommand::Files(Some(name("bob"))), "/files", |e| {
        matches!(e, PeerEvent::Files { .. })
    });
}

#[test]
fn a_profile_that_differs_from_the_announced_digest_is_reported() {
    let mut net = lan_net(11, &["alice", "bob"]);
    net.open_chat("alice", "bob");
    net.run_for(2 * S);
    // Two changes in one instant: the first is announced at once; the
    // second's announcement is signed in the same millisecond, so it is
    // taken for a replay, and the multicast one waits for the announce
    // rate limit. Until it goes, alice holds the first digest.
    set_nick(&mut net, "bob", "first");
    set_nick(&mut net, "bob", "second");
    let got = whois(&mut net, "alice", "bob");
    let PeerEvent::Whois { info, from, .. } = got else {
        unreachable!()
    };
    assert_eq!(info.profile.nick.as_str(), "second");
    assert!(
        matches!(
            from,
            WhoisFrom::Peer {
                digest: DigestCheck::Differs,
                ..
            }
        ),
        "{from:?}"
    );
    // The deferred announcement comes within the rate limit, and the
    // digest is current again.
    net.run_for(2 * S);
    let got = whois(&mut net, "alice", "bob");
    let PeerEvent::Whois { info, from, .. } = got else {
        unreachable!()
    };
    assert_eq!(info.profile.nick.as_str(), "second");
    assert!(
        matches!(
            from,
            WhoisFrom::Peer {
                digest: DigestCheck::Matches,
                ..
            }
        ),
        "{from:?}"
    );
}

#[test]
fn a_reinstalled_peer_is_refused_then_accepted_after_trust_and_its_chat_works() {
    for seed in 21..=23u64 {
        let (mut net, old) = reinstalled(seed);
        let new = fingerprint(&net, "bob2");
        assert!(
            net.events("alice").iter().any(|e| matches!(e,
                PeerEvent::Notice { message } if message.contains("warning: the name bob")
                    && message.contains("/trust bob FINGERPRINT"))),
            "seed {seed}: the warning names the commands"
        );
        // The new key calling alice as "bob" is refused.
        net.ok("bob2", PeerCommand::Chat(name("alice")));
        net.wait_for("alice", 10 * S, |e| {
            matches!(e, PeerEvent::Notice { message }
                if message.contains("refused a connection claiming to be bob")
                    && message.contains(&format!("/trust bob {new}")))
        });
        assert!(
            !net.events("alice").iter().any(|e| matches!(
                e,
                PeerEvent::ChatRequest { .. } | PeerEvent::Message { .. }
            ) && !matches!(e, PeerEvent::Message { text, .. } if text == "the first bob")),
            "seed {seed}: nothing from the new key reached alice"
        );
        // Accepted by hand: both keys said.
        net.ok(
            "alice",
            PeerCommand::Trust {
                name: name("bob"),
                fingerprint: new,
            },
        );
        assert_eq!(
            pinned(&net, "alice"),
            vec![(
                "bob".to_string(),
                Some(old.to_string()),
                Some(new.to_string())
            )],
            "seed {seed}"
        );
        chat_works(&mut net, "bob2", "alice", "alice");
        // And /whois now asks the new key.
        let got = whois(&mut net, "alice", "bob");
        let PeerEvent::Whois { info, .. } = got else {
            unreachable!()
        };
        assert_eq!(info.key, Some(net.peer("bob2").public_key()));
    }
}

#[test]
fn forget_lets_the_next_key_be_trusted_on_first_use() {
    let (mut net, old) = reinstalled(31);
    let new = fingerprint(&net, "bob2");
    net.ok("alice", PeerCommand::Forget(name("bob")));
    assert_eq!(
        pinned(&net, "alice"),
        vec![("bob".to_string(), Some(old.to_string()), None)]
    );
    net.ok("bob2", PeerCommand::Chat(name("alice")));
    chat_works(&mut net, "bob2", "alice", "alice");
    assert!(
        !net.events("alice").iter().any(|e| matches!(e,
            PeerEvent::Notice { message } if message.contains("refused a connection"))),
        "nothing refused after /forget"
    );
    // The new key is the one pinned now: a second /forget says so.
    net.ok("alice", PeerCommand::Forget(name("bob")));
    let last = pinned(&net, "alice").pop().unwrap();
    assert_eq!(last, ("bob".to_string(), Some(new.to_string()), None));
    // Nothing pinned: said so, nothing else.
    net.ok("alice", PeerCommand::Forget(name("bob")));
    let last = pinned(&net, "alice").pop().unwrap();
    assert_eq!(last, ("bob".to_string(), None, None));
}

#[test]
fn a_fingerprint_heard_nowhere_or_claiming_another_name_is_an_error() {
    let (mut net, old) = reinstalled(41);
    let nobody: Fingerprint = "00112233445566778899aabbccddeeff".parse().unwrap();
    net.ok(
        "alice",
        PeerCommand::Trust {
            name: name("bob"),
            fingerprint: nobody,
        },
    );
    let e = last_error(&net, "alice").expect("an error");
    assert!(
        e.contains("no key with the fingerprint") && e.contains(&nobody.to_string()),
        "{e}"
    );
    let carol = fingerprint(&net, "carol");
    net.ok(
        "alice",
        PeerCommand::Trust {
            name: name("bob"),
            fingerprint: carol,
        },
    );
    let e = last_error(&net, "alice").expect("an error");
    assert!(e.contains("claims the name carol, not bob"), "{e}");
    assert!(pinned(&net, "alice").is_empty(), "nothing was pinned");
    // The pin is unchanged: the new key is still refused.
    net.ok("bob2", PeerCommand::Chat(name("alice")));
    net.wait_for("alice", 10 * S, |e| {
        matches!(e, PeerEvent::Notice { message }
            if message.contains("refused a connection claiming to be bob")
                && message.contains(&old.to_string()))
    });
}

#[test]
fn pins_moved_by_hand_survive_a_restart() {
    let (mut net, _) = reinstalled(51);
    let new = fingerprint(&net, "bob2");
    net.ok(
        "alice",
        PeerCommand::Trust {
            name: name("bob"),
            fingerprint: new,
        },
    );
    net.run_for(S);
    let key_of = |net: &Net| {
        net.world
            .records(net.host("alice"))
            .values()
            .find_map(|r| match r {
                Record::Peer(PeerRecord::PeerKey { name: n, key }) if n.as_str() == "bob" => {
                    Some(key.fingerprint())
                }
                _ => None,
            })
    };
    assert_eq!(key_of(&net), Some(new), "kept");
    let alice = net.host("alice");
    net.world.restart(alice);
    net.run_for(3 * S);
    // After the restart the new key is still the one trusted: its chat is
    // not refused...
    net.ok("bob2", PeerCommand::Chat(name("alice")));
    chat_works(&mut net, "bob2", "alice", "alice");
    // ...and the first bob, back with its old key (and its chat with
    // alice, which it dials), is.
    let bob2 = net.host("bob2");
    net.world.crash(bob2);
    net.run_for(S);
    let bob = net.host("bob");
    net.world.restart(bob);
    net.wait_for("alice", 30 * S, |e| {
        matches!(e, PeerEvent::Notice { message }
            if message.contains("refused a connection claiming to be bob")
                && message.contains(&format!("the key you know for bob is {new}")))
    });
    assert_eq!(key_of(&net), Some(new));
    // /forget deletes the record too (at once: the first bob, dialing
    // again, would be trusted on first use a moment later).
    net.ok("alice", PeerCommand::Forget(name("bob")));
    assert_eq!(key_of(&net), None, "forgotten");
}
