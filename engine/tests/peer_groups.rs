//! Groups and friends end to end: a group of four with a member leaving and
//! another joining; a friend offline then online receiving queued messages
//! across the sender's restart; profiles shown by /whois.

mod peer_support;

use std::time::Duration;

use confab_engine::peer::{PeerCommand, PeerEvent, ProfileChange, Target};
use peer_support::{Net, group, name};

const S: Duration = Duration::from_secs(1);

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

fn settle(net: &mut Net, names: &[&str]) {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let ok = net.run_until(60 * S, |net| {
        names
            .iter()
            .all(|a| names.iter().all(|b| net.peer(a).waiting_for(&name(b)) == 0))
    });
    assert!(ok, "seed {}: group items still waiting", net.seed);
}

#[test]
fn group_of_four_with_a_leave_and_a_join() {
    let seed = 100;
    let mut net = Net::new(seed, &["ann", "ben", "cat", "dan", "eve"]);
    net.ok("ann", PeerCommand::GroupCreate(group("#team")));
    for who in ["ben", "cat", "dan"] {
        invite_and_join(&mut net, "ann", "#team", who);
    }
    settle(&mut net, &["ann", "ben", "cat", "dan"]);
    let want: Vec<_> = ["ann", "ben", "cat", "dan"]
        .iter()
        .map(|n| name(n))
        .collect();
    for p in ["ann", "ben", "cat", "dan"] {
        assert_eq!(
            net.peer(p).group_members(&group("#team")),
            want,
            "seed {seed}: {p}"
        );
    }
    // ben and cat learned of dan from ann.
    assert!(
        net.events("ben")
            .iter()
            .any(|e| matches!(e, PeerEvent::MemberJoined { name, .. } if name.as_str() == "dan"))
    );

    let team = Target::Group(group("#team"));
    for i in 0..5 {
        net.msg("ben", "#team", &format!("b{i}"));
        net.msg("dan", "#team", &format!("d{i}"));
    }
    let (ben, cat) = (net.host("ben"), net.host("cat"));
    net.run_for(Duration::from_millis(1));
    net.world.cut(ben, cat);
    settle(&mut net, &["ann", "ben", "cat", "dan"]);
    let bs: Vec<String> = (0..5).map(|i| format!("b{i}")).collect();
    let ds: Vec<String> = (0..5).map(|i| format!("d{i}")).collect();
    for p in ["ann", "cat", "dan"] {
        assert_eq!(net.received(p, "ben", &team), bs, "seed {seed}: {p}");
    }
    for p in ["ann", "ben", "cat"] {
        assert_eq!(net.received(p, "dan", &team), ds, "seed {seed}: {p}");
    }
    assert!(
        net.events("ben")
            .iter()
            .any(|e| matches!(e, PeerEvent::Delivered { to, seq: 5 } if *to == team))
    );

    // cat leaves; eve joins through dan.
    net.ok("cat", PeerCommand::Leave(group("#team")));
    for p in ["ann", "ben", "dan"] {
        net.wait_for(
            p,
            10 * S,
            |e| matches!(e, PeerEvent::MemberLeft { name, .. } if name.as_str() == "cat"),
        );
    }
    invite_and_join(&mut net, "dan", "#team", "eve");
    for p in ["ann", "ben"] {
        net.wait_for(
            p,
            10 * S,
            |e| matches!(e, PeerEvent::MemberJoined { name, .. } if name.as_str() == "eve"),
        );
    }
    settle(&mut net, &["ann", "ben", "dan", "eve"]);
    net.msg("eve", "#team", "hello all");
    net.msg("ann", "#team", "welcome eve");
    settle(&mut net, &["ann", "ben", "dan", "eve"]);
    for p in ["ann", "ben", "dan"] {
        assert_eq!(
            net.received(p, "eve", &team),
            vec!["hello all"],
            "seed {seed}: {p}"
        );
    }
    assert_eq!(
        net.received("eve", "ann", &team),
        vec!["welcome eve"],
        "seed {seed}"
    );
    assert!(
        net.received("cat", "ann", &team).is_empty(),
        "cat left before ann wrote"
    );
    assert!(net.received("cat", "eve", &team).is_empty());
    // Leaving twice, or writing to a group one is not in, is the caller's mistake.
    assert!(net.cmd("cat", PeerCommand::Leave(group("#team"))).is_err());
    assert!(
        net.cmd(
            "cat",
            PeerCommand::Message {
                to: team,
                text: "x".into()
            }
        )
        .is_err()
    );
}

/// A message cat never acknowledged because cat left the group first is
/// delivered to everyone still in it: its sender is told so.
#[test]
fn a_message_waiting_only_for_a_member_who_leaves_is_reported_delivered() {
    let seed = 103;
    let mut net = Net::new(seed, &["ann", "ben", "cat"]);
    net.ok("ann", PeerCommand::GroupCreate(group("#g")));
    for who in ["ben", "cat"] {
        invite_and_join(&mut net, "ann", "#g", who);
    }
    settle(&mut net, &["ann", "ben", "cat"]);
    let (a, c) = (net.host("ann"), net.host("cat"));
    net.world.partition(a, c);
    net.clear("ann");
    net.msg("ann", "#g", "while cat is away");
    // ben has it; cat cannot get it, and leaves meanwhile.
    net.run_until(10 * S, |net| net.peer("ann").waiting_for(&name("ben")) == 0);
    assert_eq!(net.peer("ann").waiting_for(&name("cat")), 1, "seed {seed}");
    net.ok("cat", PeerCommand::Leave(group("#g")));
    net.world.heal(a, c);
    let to = Target::Group(group("#g"));
    let delivered = net.wait_for(
        "ann",
        60 * S,
        |e| matches!(e, PeerEvent::Delivered { to: t, .. } if *t == to),
    );
    assert!(
        matches!(delivered, PeerEvent::Delivered { seq: 1, .. }),
        "seed {seed}: {delivered:?}"
    );
    assert!(
        net.events("ann")
            .iter()
            .any(|e| matches!(e, PeerEvent::MemberLeft { name, .. } if name.as_str() == "cat")),
        "seed {seed}"
    );
}

/// ann lets dan in while ben lets eve in, at the same moment: each
/// newcomer's welcome lists the group as its inviter knew it, without the
/// other newcomer. Everyone still ends up with all five members, and the
/// newcomers can talk to each other.
#[test]
fn two_newcomers_let_in_at_once_learn_of_each_other() {
    let seed = 104;
    let all = ["ann", "ben", "cat", "dan", "eve"];
    let mut net = Net::new(seed, &all);
    net.ok("ann", PeerCommand::GroupCreate(group("#g")));
    for who in ["ben", "cat"] {
        invite_and_join(&mut net, "ann", "#g", who);
    }
    settle(&mut net, &["ann", "ben", "cat"]);
    for (inviter, who) in [("ann", "dan"), ("ben", "eve")] {
        net.ok(
            inviter,
            PeerCommand::Invite {
                group: group("#g"),
                name: name(who),
            },
        );
    }
    for who in ["dan", "eve"] {
        let e = net.wait_for(who, 10 * S, |e| matches!(e, PeerEvent::GroupInvite { .. }));
        let PeerEvent::GroupInvite { id, .. } = e else {
            unreachable!()
        };
        net.ok(who, PeerCommand::Accept(Some(id)));
    }
    let want: Vec<_> = all.iter().map(|n| name(n)).collect();
    let agreed = net.run_until(60 * S, |net| {
        all.iter()
            .all(|p| net.peer(p).group_members(&group("#g")) == want)
    });
    let views: Vec<_> = all
        .iter()
        .map(|p| (p, net.peer(p).group_members(&group("#g"))))
        .collect();
    assert!(agreed, "seed {seed}: members as each sees them: {views:?}");
    net.msg("dan", "#g", "hello eve");
    settle(&mut net, &all);
    let team = Target::Group(group("#g"));
    assert_eq!(
        net.received("eve", "dan", &team),
        vec!["hello eve"],
        "seed {seed}"
    );
}

/// dan leaves before hearing that ben let cat in, so dan's `Left` never
/// goes to cat. When cat next writes to the group, dan answers that it is
/// not in it, and cat lets it go.
#[test]
fn a_member_who_left_before_hearing_of_a_newcomer_is_dropped_by_it() {
    let seed = 105;
    let mut net = Net::new(seed, &["ann", "ben", "cat", "dan"]);
    net.ok("ann", PeerCommand::GroupCreate(group("#g")));
    for who in ["ben", "dan"] {
        invite_and_join(&mut net, "ann", "#g", who);
    }
    settle(&mut net, &["ann", "ben", "dan"]);
    let (b, d) = (net.host("ben"), net.host("dan"));
    net.world.partition(b, d);
    invite_and_join(&mut net, "ben", "#g", "cat");
    net.ok("dan", PeerCommand::Leave(group("#g")));
    net.run_for(5 * S);
    net.world.heal(b, d);
    net.msg("cat", "#g", "anyone?");
    let want: Vec<_> = ["ann", "ben", "cat"].iter().map(|n| name(n)).collect();
    let agreed = net.run_until(60 * S, |net| {
        ["ann", "ben", "cat"]
            .iter()
            .all(|p| net.peer(p).group_members(&group("#g")) == want)
    });
    assert!(
        agreed,
        "seed {seed}: cat sees {:?}",
        net.peer("cat").group_members(&group("#g"))
    );
    settle(&mut net, &["ann", "ben", "cat", "dan"]);
    assert!(
        net.received("dan", "cat", &Target::Group(group("#g")))
            .is_empty()
    );
}

#[test]
fn declined_invitation_changes_nothing() {
    let mut net = Net::new(101, &["ann", "ben"]);
    net.ok("ann", PeerCommand::GroupCreate(group("#g")));
    assert!(
        net.cmd("ann", PeerCommand::GroupCreate(group("#g")))
            .is_err()
    );
    net.ok(
        "ann",
        PeerCommand::Invite {
            group: group("#g"),
            name: name("ben"),
        },
    );
    net.wait_for("ben", 5 * S, |e| matches!(e, PeerEvent::GroupInvite { .. }));
    net.ok("ben", PeerCommand::Decline(None));
    net.wait_for(
        "ann",
        5 * S,
        |e| matches!(e, PeerEvent::Notice { message } if message.contains("declined")),
    );
    assert_eq!(
        net.peer("ann").group_members(&group("#g")),
        vec![name("ann")]
    );
    assert!(net.peer("ben").group_members(&group("#g")).is_empty());
}

#[test]
fn friend_offline_then_online_gets_queued_messages_across_sender_restart() {
    let seed = 110;
    let mut net = Net::new(seed, &["ann", "ben", "cat"]);
    // ben has ann as a friend too, so her queued messages open the chat at once.
    net.ok("ann", PeerCommand::FriendAdd(name("ben")));
    net.ok("ben", PeerCommand::FriendAdd(name("ann")));
    let ben = net.host("ben");
    let ann = net.host("ann");
    net.run_for(S);
    net.world.crash(ben);
    net.wait_for(
        "ann",
        60 * S,
        |e| matches!(e, PeerEvent::Presence { name, online: false } if name.as_str() == "ben"),
    );
    for i in 0..3 {
        net.msg("ann", "ben", &format!("q{i}"));
    }
    assert!(net.events("ann").iter().any(|e| matches!(
        e,
        PeerEvent::Sent {
            queued: true,
            seq: 1,
            ..
        }
    )));
    net.clear("ann");
    net.ok("ann", PeerCommand::Friends);
    let f = net.wait_for("ann", S, |e| matches!(e, PeerEvent::Friends { .. }));
    let PeerEvent::Friends { friends } = f else {
        unreachable!()
    };
    assert_eq!(
        (friends[0].online, friends[0].queued),
        (false, 3),
        "seed {seed}"
    );

    // ann restarts while ben is away; her queue survives.
    net.world.crash(ann);
    net.run_for(S);
    net.world.restart(ann);
    net.msg("ann", "ben", "q3");
    net.run_for(5 * S);
    net.world.restart(ben);
    let to_ben = Target::User(name("ben"));
    let ok = net.run_until(60 * S, |net| net.received("ben", "ann", &to_ben).len() >= 4);
    assert!(
        ok,
        "seed {seed}: ben got {:?}",
        net.received("ben", "ann", &to_ben)
    );
    let ok = net.run_until(30 * S, |net| net.peer("ann").waiting_for(&name("ben")) == 0);
    assert!(ok, "seed {seed}: still waiting");
    assert_eq!(
        net.received("ben", "ann", &to_ben),
        vec!["q0", "q1", "q2", "q3"],
        "seed {seed}"
    );
    assert!(net.peer("ann").chat_is_open(&name("ben")));
}

#[test]
fn queued_messages_to_a_friend_who_is_not_mutual_need_consent() {
    let mut net = Net::new(111, &["ann", "ben"]);
    net.ok("ann", PeerCommand::FriendAdd(name("ben")));
    net.msg("ann", "ben", "are you there?");
    let id = net.chat_request("ben", "ann");
    assert!(
        net.received("ben", "ann", &Target::User(name("ben")))
            .is_empty()
    );
    net.ok("ben", PeerCommand::Accept(Some(id)));
    net.wait_for("ben", 5 * S, |e| matches!(e, PeerEvent::Message { .. }));
    assert_eq!(
        net.received("ben", "ann", &Target::User(name("ben"))),
        vec!["are you there?"]
    );
    net.ok("ann", PeerCommand::FriendRemove(name("ben")));
    assert!(
        net.cmd("ann", PeerCommand::FriendRemove(name("ben")))
            .is_err()
    );
}

#[test]
fn profiles_are_published_and_shown_by_whois() {
    let mut net = Net::new(112, &["ann", "ben"]);
    net.ok(
        "ann",
        PeerCommand::SetProfile(ProfileChange::Nick("Annie".into())),
    );
    net.ok(
        "ann",
        PeerCommand::SetProfile(ProfileChange::Bio("hello".into())),
    );
    assert!(
        net.cmd(
            "ann",
            PeerCommand::SetProfile(ProfileChange::Avatar(vec![0; 64 * 1024 + 1]))
        )
        .is_err()
    );
    net.run_for(S);
    net.ok("ben", PeerCommand::Whois(name("ann")));
    let e = net.wait_for("ben", 5 * S, |e| matches!(e, PeerEvent::Whois { .. }));
    let PeerEvent::Whois { info, .. } = e else {
        unreachable!()
    };
    assert_eq!(
        (info.profile.nick.as_str(), info.profile.bio.as_str()),
        ("Annie", "hello")
    );
    assert!(info.addr.is_some());
}

#[test]
fn a_flood_of_invitations_from_one_peer_is_capped() {
    use confab_engine::limits::MAX_PENDING_INVITES_PER_PEER;
    let mut net = Net::new(41, &["ann", "ben"]);
    let extra = 3;
    for i in 0..MAX_PENDING_INVITES_PER_PEER + extra {
        let g = group(&format!("#g{i}"));
        net.ok("ben", PeerCommand::GroupCreate(g.clone()));
        net.ok(
            "ben",
            PeerCommand::Invite {
                group: g,
                name: name("ann"),
            },
        );
    }
    net.run_for(Duration::from_secs(5));
    let invites = net
        .events("ann")
        .iter()
        .filter(|e| matches!(e, PeerEvent::GroupInvite { .. }))
        .count();
    assert_eq!(
        invites, MAX_PENDING_INVITES_PER_PEER,
        "only the cap reaches the user"
    );
    assert_eq!(
        net.peer("ann").pending_questions(),
        MAX_PENDING_INVITES_PER_PEER
    );
}
