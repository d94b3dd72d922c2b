//! A peer known only through others (peer exchange, another LAN segment)
//! that is down for a few seconds is reached again as soon as it is back:
//! the redials while it was down must not use up the minute's budget of
//! strangers (`MAX_STRANGER_DIALS_PER_MINUTE`), which is counted in
//! strangers, not in attempts.
//!
//! Found by `confab-sim --lan` (seed 7001, 10 peers, 60 s + 40 s heal): a
//! friend on another segment quit and came back 4 s later; its entry never
//! expired, so nothing new was learned, and every redial while it was down
//! had counted as a new stranger: the budget ran out, and the two messages
//! queued for it were still waiting when the run ended, 50 s later.

mod peer_support;

use std::net::SocketAddr;
use std::time::Duration;

use confab_engine::peer::{Backoff, DiscoveryConfig, PeerCommand, PeerConfig, PeerEvent};
use peer_support::{Net, name};

const S: Duration = Duration::from_secs(1);

fn lan(c: &mut PeerConfig) {
    c.discovery = Some(DiscoveryConfig::default());
    c.without_registry = true;
    // Quick redials, as a LAN user's peer would make many in a minute.
    c.link.reconnect = Backoff {
        min: Duration::from_millis(100),
        max: Duration::from_millis(400),
    };
}

#[test]
fn a_friend_known_only_through_others_gets_its_queued_messages_once_back() {
    for seed in 1..=3u64 {
        let mut net = Net::bare(seed, lan);
        net.world.crash(net.registry);
        // Segment 0: ann and bob; segment 1: cat, joined to bob.
        for n in ["ann", "bob"] {
            let next = confab_engine::testing::HostId(net.world.hosts().count());
            net.world.set_segment(next, 0);
            net.add_peer(n);
        }
        let bob: SocketAddr = net.world.addr(net.host("bob"));
        let next = confab_engine::testing::HostId(net.world.hosts().count());
        net.world.set_segment(next, 1);
        net.add_peer_with("cat", "cat", move |c| c.join = vec![bob]);
        let found = net.run_until(60 * S, |net| {
            net.events("ann").iter().any(
                |e| matches!(e, PeerEvent::Presence { name, online: true } if name.as_str() == "cat"),
            )
        });
        assert!(found, "seed {seed}: ann never heard of cat through bob");

        // cat goes down; ann writes to it as a friend, queued, and keeps
        // redialing it (a stranger: heard of through bob only).
        let cat = net.host("cat");
        net.world.crash(cat);
        net.ok("ann", PeerCommand::FriendAdd(name("cat")));
        net.msg("ann", "cat", "while you were away");
        net.run_for(8 * S);
        net.world.restart(cat);
        // Back well within the entry's expiry: nothing new is learned, the
        // redials must get through. (A message to a friend with no chat
        // asks for one: cat accepts it.)
        let asked = net.run_until(10 * S, |net| {
            net.events("cat")
                .iter()
                .any(|e| matches!(e, PeerEvent::ChatRequest { .. }))
        });
        assert!(
            asked,
            "seed {seed}: cat was back for 10 s and ann never reached it: {:#?}",
            net.events("ann")
        );
        let id = net.chat_request("cat", "ann");
        net.ok("cat", PeerCommand::Accept(Some(id)));
        let shown = net.run_until(10 * S, |net| {
            net.received("cat", "ann", &Net::to_user("cat")) == ["while you were away"]
        });
        assert!(shown, "seed {seed}: cat never showed ann's queued message");
    }
}
