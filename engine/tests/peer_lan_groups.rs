//! Groups and calls with no registry (issue 20, part 3: "every chat, group
//! and file feature" works without one): three peers that found each other
//! by their LAN announcements make a group, invite, write to it (each
//! message shown once, in order, by every other member) and one leaves;
//! a call placed by name rings, is accepted, carries media datagrams and
//! hangs up. The registry host is crashed before anything runs and no
//! peer is configured to dial it, so everything goes by discovery.

mod peer_support;

use std::time::Duration;

use confab_engine::Engine;
use confab_engine::peer::{Peer, PeerCommand, PeerEvent, Target};
use peer_support::{Net, group, lan_config, name};

const S: Duration = Duration::from_secs(1);

/// Peers with discovery on and no registry (its host is down), once each
/// has heard of every other.
fn lan_net(seed: u64, names: &[&str]) -> Net {
    let mut net = Net::lan(seed, names, lan_config);
    let all = net.until_all_heard(names, 10 * S);
    assert!(all, "seed {seed}: not everyone found everyone");
    for n in names {
        assert!(
            !net.peer(n).is_logged_in(),
            "seed {seed}: {n} found a registry"
        );
    }
    net
}

fn invite_and_join(net: &mut Net, inviter: &str, g: &str, who: &str) {
    net.ok(
        inviter,
        PeerCommand::Invite {
            group: group(g),
            name: name(who),
        },
    );
    let gg = group(g);
    let e = net.wait_for(
        who,
        10 * S,
        |e| matches!(e, PeerEvent::GroupInvite { group, .. } if *group == gg),
    );
    let PeerEvent::GroupInvite { id, from, .. } = e else {
        unreachable!()
    };
    assert_eq!(from.as_str(), inviter);
    net.ok(who, PeerCommand::Accept(Some(id)));
    net.wait_for(
        who,
        10 * S,
        |e| matches!(e, PeerEvent::GroupJoined { group, .. } if *group == gg),
    );
}

/// Runs until nothing of `names` waits for another.
fn settle(net: &mut Net, names: &[&str]) {
    let ok = net.run_until(60 * S, |net| {
        names
            .iter()
            .all(|a| names.iter().all(|b| net.peer(a).waiting_for(&name(b)) == 0))
    });
    assert!(ok, "seed {}: group items still waiting", net.seed);
}

#[test]
fn three_peers_without_a_registry_make_a_group_talk_in_it_and_one_leaves() {
    for seed in 1..=3u64 {
        let members = ["ann", "ben", "cat"];
        let mut net = lan_net(seed, &members);
        net.ok("ann", PeerCommand::GroupCreate(group("#lan")));
        invite_and_join(&mut net, "ann", "#lan", "ben");
        invite_and_join(&mut net, "ann", "#lan", "cat");
        settle(&mut net, &members);
        let want: Vec<_> = members.iter().map(|n| name(n)).collect();
        for p in members {
            assert_eq!(
                net.peer(p).group_members(&group("#lan")),
                want,
                "seed {seed}: {p} (cat learned of ben from ann)"
            );
        }

        let team = Target::Group(group("#lan"));
        for i in 0..5 {
            for p in members {
                net.msg(p, "#lan", &format!("{p}{i}"));
            }
        }
        settle(&mut net, &members);
        for from in members {
            let sent: Vec<String> = (0..5).map(|i| format!("{from}{i}")).collect();
            for to in members.iter().filter(|m| **m != from) {
                // Equal lists: each once, in order, and nothing else.
                assert_eq!(
                    net.received(to, from, &team),
                    sent,
                    "seed {seed}: {to} from {from}"
                );
            }
            assert!(
                net.received(from, from, &team).is_empty(),
                "seed {seed}: {from} was shown its own messages"
            );
            assert!(
                net.events(from)
                    .iter()
                    .any(|e| matches!(e, PeerEvent::Delivered { to, seq: 5 } if *to == team)),
                "seed {seed}: {from} never heard its last message was delivered"
            );
        }

        // cat leaves: the others see it go and no longer write to it.
        net.ok("cat", PeerCommand::Leave(group("#lan")));
        for p in ["ann", "ben"] {
            net.wait_for(
                p,
                10 * S,
                |e| matches!(e, PeerEvent::MemberLeft { name, .. } if name.as_str() == "cat"),
            );
        }
        net.msg("ben", "#lan", "after cat");
        settle(&mut net, &["ann", "ben"]);
        assert_eq!(
            net.received("ann", "ben", &team).last().map(String::as_str),
            Some("after cat"),
            "seed {seed}"
        );
        assert!(
            !net.received("cat", "ben", &team)
                .contains(&"after cat".to_owned()),
            "seed {seed}: cat left before ben wrote"
        );
        assert_eq!(
            net.peer("ann").group_members(&group("#lan")),
            vec![name("ann"), name("ben")],
            "seed {seed}"
        );
    }
}

/// A frame `n` of `len` bytes whose every byte says which frame it is.
fn jpeg(n: u32, len: usize) -> Vec<u8> {
    let mut v = n.to_be_bytes().to_vec();
    v.extend((0..len).map(|i| (n as usize + i) as u8));
    v
}

#[test]
fn a_call_by_name_without_a_registry_rings_is_accepted_carries_media_and_hangs_up() {
    for seed in 1..=3u64 {
        let mut net = lan_net(seed, &["alice", "bob", "carol"]);
        net.ok("alice", PeerCommand::Call(name("bob")));
        let ring = net.wait_for("bob", 5 * S, |e| matches!(e, PeerEvent::CallRequest { .. }));
        let PeerEvent::CallRequest { from, .. } = ring else {
            unreachable!()
        };
        assert_eq!(from.as_str(), "alice", "seed {seed}");
        net.ok("bob", PeerCommand::Accept(None));
        for (x, y) in [("alice", "bob"), ("bob", "alice")] {
            net.wait_for(
                x,
                5 * S,
                |e| matches!(e, PeerEvent::CallStarted { with } if with.as_str() == y),
            );
        }

        let host = net.host("alice");
        for n in 0..30u32 {
            let data = jpeg(n, 3000);
            net.world
                .with(host, |p: &mut Peer, now| {
                    p.handle_command(
                        now,
                        PeerCommand::CallFrame {
                            with: name("bob"),
                            jpeg: data,
                            captured: now,
                        },
                    )
                })
                .expect("a frame for a call that is up");
            net.run_for(Duration::from_millis(33));
        }
        net.run_for(S);
        let shown: Vec<(u32, Vec<u8>)> = net
            .events("bob")
            .into_iter()
            .filter_map(|e| match e {
                PeerEvent::CallFrame {
                    with, frame, jpeg, ..
                } if with.as_str() == "alice" => Some((frame, jpeg)),
                _ => None,
            })
            .collect();
        assert_eq!(shown.len(), 30, "seed {seed}: every frame, no loss");
        for (i, (n, bytes)) in shown.iter().enumerate() {
            assert_eq!(*n as usize, i, "seed {seed}: in order");
            assert_eq!(*bytes, jpeg(*n, 3000), "seed {seed}: frame {n} intact");
        }
        assert!(
            !net.events("carol").iter().any(|e| matches!(
                e,
                PeerEvent::CallRequest { .. } | PeerEvent::CallFrame { .. }
            )),
            "seed {seed}: carol was never called"
        );

        net.ok("alice", PeerCommand::Hangup(None));
        let end = net.wait_for("bob", 5 * S, |e| matches!(e, PeerEvent::CallEnded { .. }));
        let PeerEvent::CallEnded {
            reason,
            frames_received,
            ..
        } = end
        else {
            unreachable!()
        };
        assert!(reason.contains("hung up"), "seed {seed}: {reason}");
        assert_eq!(frames_received, 30, "seed {seed}");
        assert!(
            net.events("alice")
                .iter()
                .any(|e| matches!(e, PeerEvent::CallEnded { .. })),
            "seed {seed}"
        );
    }
}
