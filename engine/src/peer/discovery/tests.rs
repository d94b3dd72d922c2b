//! Unit tests of [`Discovery`]: what is believed and what is refused.
#![cfg(test)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::api::Output;
use crate::peer::event::FoundBy;
use crate::wire::discovery::Passed;

const T0: u64 = 1_700_000_000_000;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn config() -> DiscoveryConfig {
    DiscoveryConfig::default()
}

fn addr(i: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, i], 7000))
}

/// Another peer's keys, to sign its announcements.
fn other(seed: u64) -> Io {
    Io::new(Instant::now(), seed)
}

#[test]
fn a_signed_announcement_is_kept_and_a_copy_or_an_older_one_is_a_replay() {
    let now = Instant::now();
    let mut me = Io::new(now, 1);
    let bob = other(2);
    let mut d = Discovery::new(config(), PlantedBugs::NONE, Instant::now());
    let ann = Discovery::own(&bob, &name("bob"), 7000, 9, T0);
    let got = d.learn(&me, ann.clone(), addr(2), FoundBy::Lan, T0, None);
    assert_eq!(
        got,
        Learned::New {
            name: name("bob"),
            contested: false
        }
    );
    assert_eq!(
        d.learn(&me, ann.clone(), addr(9), FoundBy::Lan, T0 + 5, None),
        Learned::Refused(Refused::Replayed)
    );
    assert_eq!(
        d.address_of(&name("bob"), None),
        Some((addr(2), bob.keys.public()))
    );
    let newer = Discovery::own(&bob, &name("bob"), 7001, 9, T0 + 1000);
    assert_eq!(
        d.learn(&me, newer, addr(3), FoundBy::Lan, T0 + 1000, None),
        Learned::Refreshed
    );
    let older = Discovery::own(&bob, &name("bob"), 7000, 9, T0 + 500);
    assert_eq!(
        d.learn(&me, older, addr(2), FoundBy::Lan, T0 + 1000, None),
        Learned::Refused(Refused::Replayed)
    );
    assert_eq!(d.address_of(&name("bob"), None).unwrap().0, addr(3));
    // Our own is never taken.
    let mine = Discovery::own(&me, &name("me"), 7000, 0, T0);
    assert_eq!(
        d.learn(&me, mine, addr(1), FoundBy::Lan, T0, None),
        Learned::Refused(Refused::Ours)
    );
    me.out.clear();
}

#[test]
fn forged_unsigned_rebound_or_stale_announcements_are_refused() {
    let now = Instant::now();
    let me = Io::new(now, 1);
    let bob = other(2);
    let eve = other(3);
    let mut d = Discovery::new(config(), PlantedBugs::NONE, Instant::now());
    let good = Discovery::own(&bob, &name("bob"), 7000, 0, T0);

    // Another name under bob's signature.
    let mut forged = good.clone();
    forged.body.name = name("alice");
    assert_eq!(
        d.learn(&me, forged, addr(3), FoundBy::Lan, T0, None),
        Learned::Refused(Refused::BadSignature)
    );
    // Unsigned (a zero signature).
    let mut unsigned = good.clone();
    unsigned.signature = crate::wire::identity::Signature([0; 64]);
    assert_eq!(
        d.learn(&me, unsigned, addr(3), FoundBy::Lan, T0, None),
        Learned::Refused(Refused::BadSignature)
    );
    // Eve signs an announcement of bob's Noise key with her identity.
    let mut body = good.body.clone();
    body.identity = eve.keys.identity().public();
    let rebound = claim::sign_announcement(eve.keys.identity(), body);
    assert_eq!(
        d.learn(&me, rebound, addr(3), FoundBy::Lan, T0, None),
        Learned::Refused(Refused::BadBinding)
    );
    // Too old, or from the future.
    let expiry = config().expiry.as_millis() as u64;
    let late = T0 + expiry + CLOCK_SKEW * 1000 + 1;
    assert_eq!(
        d.learn(&me, good.clone(), addr(2), FoundBy::Lan, late, None),
        Learned::Refused(Refused::OutOfTime)
    );
    let early = T0 - CLOCK_SKEW * 1000 - 1;
    assert_eq!(
        d.learn(&me, good.clone(), addr(2), FoundBy::Lan, early, None),
        Learned::Refused(Refused::OutOfTime)
    );
    assert!(d.found(now, None).is_empty(), "nothing believed");
    assert!(matches!(
        d.learn(&me, good, addr(2), FoundBy::Lan, T0, None),
        Learned::New { .. }
    ));
}

#[cfg(feature = "planted-bugs")]
#[test]
fn the_planted_bug_believes_an_unsigned_announcement() {
    let me = Io::new(Instant::now(), 1);
    let bob = other(2);
    let planted = PlantedBugs::from(PlantedBug::AcceptUnsignedAnnouncement);
    let mut d = Discovery::new(config(), planted, Instant::now());
    let mut ann = Discovery::own(&bob, &name("bob"), 7000, 0, T0);
    ann.signature = crate::wire::identity::Signature([0; 64]);
    assert!(matches!(
        d.learn(&me, ann, addr(2), FoundBy::Lan, T0, None),
        Learned::New { .. }
    ));
}

#[test]
fn two_keys_claiming_one_name_are_kept_apart_and_the_pin_or_the_first_wins() {
    let now = Instant::now();
    let mut me = Io::new(now, 1);
    let bob = other(2);
    let fake = other(3);
    let mut d = Discovery::new(config(), PlantedBugs::NONE, Instant::now());
    let a = Discovery::own(&bob, &name("bob"), 7000, 0, T0);
    assert!(matches!(
        d.learn(&me, a, addr(2), FoundBy::Lan, T0, None),
        Learned::New {
            contested: false,
            ..
        }
    ));
    me.now = now + Duration::from_secs(1);
    let b = Discovery::own(&fake, &name("bob"), 7000, 0, T0);
    assert!(matches!(
        d.learn(&me, b, addr(3), FoundBy::Exchange, T0, None),
        Learned::New {
            contested: true,
            ..
        }
    ));
    let found = d.found(me.now, Some("bo"));
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|f| f.contested));
    assert_ne!(found[0].fingerprint, found[1].fingerprint);
    assert_eq!(
        d.address_of(&name("bob"), None).unwrap().1,
        bob.keys.public()
    );
    assert_eq!(
        d.address_of(&name("bob"), Some(fake.keys.public()))
            .unwrap()
            .1,
        fake.keys.public()
    );
    assert_eq!(d.address_of(&name("bob"), Some(PublicKey([9; 32]))), None);
}

#[test]
fn queries_are_answered_entries_expire_and_the_timer_is_jittered() {
    let now = Instant::now();
    let mut me = Io::new(now, 1);
    let bob = other(2);
    let mut d = Discovery::new(config(), PlantedBugs::NONE, Instant::now());
    let own = Discovery::own(&me, &name("me"), 7000, 0, T0);
    d.start(&mut me, own, Vec::new());
    let sent: Vec<LanDatagram> = me
        .out
        .drain(..)
        .filter_map(|o| match o {
            Output::SendDatagram { to, bytes } if to == config().group => {
                LanDatagram::parse(&bytes).ok()
            }
            _ => None,
        })
        .collect();
    assert!(
        matches!(&sent[..], [LanDatagram::Query, LanDatagram::Announce(_)]),
        "{sent:?}"
    );
    let due = me.timers.get(&Timer::Announce).expect("announce timer");
    let interval = config().interval;
    assert!(due >= now + interval * 3 / 4 && due <= now + interval * 5 / 4);

    // A query is answered to the asker, up to the limit each second.
    let q = LanDatagram::Query.to_bytes();
    let limit = crate::limits::MAX_QUERY_ANSWERS_PER_SECOND as usize;
    // Past the limit within a second of our last announcement, the next
    // one comes forward to the end of that second.
    for _ in 0..limit + 1 {
        d.on_datagram(&mut me, addr(2), &q, T0, |io| {
            Discovery::own(io, &name("me"), 7000, 0, T0)
        })
        .unwrap();
    }
    assert_eq!(me.out.len(), limit);
    assert_eq!(
        me.timers.get(&Timer::Announce),
        Some(now + Duration::from_secs(1))
    );
    me.out.clear();
    me.now = now + Duration::from_millis(1500);
    for _ in 0..limit + 5 {
        d.on_datagram(&mut me, addr(2), &q, T0, |io| {
            Discovery::own(io, &name("me"), 7000, 0, T0)
        })
        .unwrap();
    }
    // Past the limit, one announcement to the group answers them all.
    assert_eq!(me.out.len(), limit + 1);
    assert!(matches!(me.out.front(), Some(Output::SendDatagram { to, .. }) if *to == addr(2)));
    assert!(
        matches!(me.out.back(), Some(Output::SendDatagram { to, .. }) if *to == config().group)
    );
    me.out.clear();
    me.now = now + Duration::from_millis(2600);
    d.on_datagram(&mut me, addr(2), &q, T0, |io| {
        Discovery::own(io, &name("me"), 7000, 0, T0)
    })
    .unwrap();
    assert_eq!(me.out.len(), 1);
    me.out.clear();

    let ann = LanDatagram::Announce(Discovery::own(&bob, &name("bob"), 7100, 0, T0)).to_bytes();
    let from = SocketAddr::from(([10, 0, 0, 2], 5555));
    let got = d
        .on_datagram(&mut me, from, &ann, T0, |io| {
            Discovery::own(io, &name("me"), 7000, 0, T0)
        })
        .unwrap();
    assert!(matches!(got, Learned::New { .. }));
    // The address is the source's IP and the announced port.
    assert_eq!(
        d.address_of(&name("bob"), None).unwrap().0,
        SocketAddr::from(([10, 0, 0, 2], 7100))
    );
    assert!(
        d.on_datagram(&mut me, from, b"\xd1junk", T0, |_| unreachable!())
            .is_err()
    );
    let later = me.now + config().expiry;
    assert_eq!(d.expire(later), vec![name("bob")]);
    assert!(!d.knows(&name("bob")));
}

#[test]
fn a_join_address_is_asked_and_kept_linked_and_what_links_tell_is_relayed() {
    let now = Instant::now();
    let mut me = Io::new(now, 1);
    let carol = other(2);
    let dave = other(3);
    let mut d = Discovery::new(config(), PlantedBugs::NONE, now);
    let own = Discovery::own(&me, &name("me"), 7000, 0, T0);
    d.start(&mut me, own, vec![addr(2)]);
    assert!(me.out.iter().any(|o| matches!(o,
        Output::SendDatagram { to, bytes } if *to == addr(2)
            && LanDatagram::parse(bytes) == Ok(LanDatagram::Query))));
    me.out.clear();
    // carol answers from the join address: kept linked for exchange.
    let ann = LanDatagram::Announce(Discovery::own(&carol, &name("carol"), 7000, 0, T0));
    d.on_datagram(&mut me, addr(2), &ann.to_bytes(), T0, |_| unreachable!())
        .unwrap();
    assert!(d.wants(&name("carol")));
    assert!(!d.wants(&name("dave")));
    // carol tells us of dave over the link: passed on to our segment.
    let passed = Passed {
        ann: Discovery::own(&dave, &name("dave"), 7000, 0, T0),
        addr: addr(3),
        age_s: 4,
    };
    let got = d.learn_passed(&me, passed.clone(), T0, true);
    assert!(matches!(got, Learned::New { .. }));
    assert_eq!(d.found(now, Some("dave"))[0].by, FoundBy::Exchange);
    let own = Discovery::own(&me, &name("me"), 7000, 0, T0 + 1);
    d.on_timer(&mut me, own);
    let relayed: Vec<Passed> = me
        .out
        .drain(..)
        .filter_map(|o| match o {
            Output::SendDatagram { bytes, .. } => match LanDatagram::parse(&bytes) {
                Ok(LanDatagram::Relay(p)) => Some(p),
                _ => None,
            },
            _ => None,
        })
        .collect();
    // dave, and carol too: our segment hears of the joined peer from us.
    assert_eq!(relayed.len(), 2);
    assert!(relayed.iter().any(|p| p.ann == passed.ann));
    assert!(relayed.iter().any(|p| p.ann.body.name.as_str() == "carol"));
    // Exchange lists lead with our own and leave out the one asked.
    let mine = Passed {
        ann: Discovery::own(&me, &name("me"), 7000, 0, T0),
        addr: addr(1),
        age_s: 0,
    };
    let list = d.exchange(now, mine.clone(), &carol.keys.public());
    assert_eq!(list[0], mine);
    assert!(list.iter().all(|p| p.ann.body.key != carol.keys.public()));
    assert_eq!(list.len(), 2);
}

#[test]
fn strangers_heard_of_through_others_are_dialed_at_a_bounded_rate() {
    let now = Instant::now();
    let me = Io::new(now, 1);
    let mut d = Discovery::new(config(), PlantedBugs::NONE, now);
    let lan = other(2);
    let ann = Discovery::own(&lan, &name("lan"), 7000, 0, T0);
    d.learn(&me, ann, addr(2), FoundBy::Lan, T0, None);
    let limit = crate::limits::MAX_STRANGER_DIALS_PER_MINUTE as u8;
    let stranger = |i: u8| PublicKey([i; 32]);
    for i in 0..limit {
        assert!(d.may_dial(now, &stranger(10 + i)));
    }
    let over = stranger(10 + limit);
    assert!(!d.may_dial(now, &over), "over the limit");
    assert!(
        d.may_dial(now, &lan.keys.public()),
        "heard on the LAN: always"
    );
    // Redials of a stranger already counted are not new strangers (a peer
    // down for a while is redialed with backoff, and must not use up the
    // minute for everyone known only through others).
    for _ in 0..3 * limit {
        assert!(d.may_dial(now, &stranger(10)), "a redial");
    }
    assert!(!d.may_dial(now, &over), "still over the limit");
    assert!(
        d.may_dial(now + Duration::from_secs(60), &over),
        "a minute later"
    );
}

#[test]
fn an_announcement_heard_over_ipv6_link_local_keeps_its_scope_id() {
    let now = Instant::now();
    let mut me = Io::new(now, 1);
    let bob = other(2);
    let mut d = Discovery::new(config(), PlantedBugs::NONE, now);
    let ann = LanDatagram::Announce(Discovery::own(&bob, &name("bob"), 7100, 0, T0)).to_bytes();
    // Heard on interface 3 from bob's link-local address.
    let ip: std::net::Ipv6Addr = "fe80::a8c1:abff:fe12:3456".parse().unwrap();
    let from = SocketAddr::V6(std::net::SocketAddrV6::new(ip, 5555, 0, 3));
    d.on_datagram(&mut me, from, &ann, T0, |io| {
        Discovery::own(io, &name("me"), 7000, 0, T0)
    })
    .unwrap();
    let (at, _) = d.address_of(&name("bob"), None).unwrap();
    let SocketAddr::V6(at) = at else {
        panic!("{at} is not IPv6")
    };
    assert_eq!((*at.ip(), at.port(), at.scope_id()), (ip, 7100, 3));
}

/// What `d` passes on at its next tick.
fn relayed_at_tick(d: &mut Discovery, me: &mut Io) -> Vec<Passed> {
    let own = Discovery::own(me, &name("me"), 7000, 0, T0 + 1);
    d.on_timer(me, own);
    me.out
        .drain(..)
        .filter_map(|o| match o {
            Output::SendDatagram { bytes, .. } => match LanDatagram::parse(&bytes) {
                Ok(LanDatagram::Relay(p)) => Some(p),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn a_bridge_passes_on_what_it_heard_by_multicast_but_never_what_was_relayed() {
    let now = Instant::now();
    let alice = other(2);
    let dave = other(3);
    for bridge in [false, true] {
        let mut me = Io::new(now, 1);
        let mut d = Discovery::new(config(), PlantedBugs::NONE, now).bridging(bridge);
        // alice heard by multicast; dave heard only as another's relay.
        let heard = LanDatagram::Announce(Discovery::own(&alice, &name("alice"), 7000, 0, T0));
        d.on_datagram(&mut me, addr(2), &heard.to_bytes(), T0, |_| unreachable!())
            .unwrap();
        let relay = LanDatagram::Relay(Passed {
            ann: Discovery::own(&dave, &name("dave"), 7000, 0, T0),
            addr: addr(3),
            age_s: 1,
        });
        d.on_datagram(&mut me, addr(9), &relay.to_bytes(), T0, |_| unreachable!())
            .unwrap();
        assert!(d.knows(&name("dave")));
        let names: Vec<String> = relayed_at_tick(&mut d, &mut me)
            .iter()
            .map(|p| p.ann.body.name.as_str().to_owned())
            .collect();
        if bridge {
            assert_eq!(names, ["alice"], "a bridge passes on alice, not dave");
        } else {
            assert!(names.is_empty(), "one segment: nothing passed on {names:?}");
        }
        // Not heard again for two intervals: no longer passed on.
        me.now = now + config().interval * 2;
        assert!(relayed_at_tick(&mut d, &mut me).is_empty());
    }
}
