//! Two downloads of one name at one receiver: an accepted offer and a
//! `/get`, or two offers. Each download writes its own `.part`: a `/get` of
//! a name already coming in is refused, and an offer accepted while its
//! name is coming in is written under `name (n).ext`, also across a
//! restart of the receiver. (Before, both shared one `.part`: one's discard
//! or rename corrupted the other's file although its MD5 had verified.)

mod peer_support;
mod peer_transfer_support;

use confab_engine::CommandError;
use confab_engine::peer::{Direction, PeerCommand, PeerEvent};
use confab_engine::wire::FileName;
use peer_transfer_support::*;

/// Six chunks and a bit: long enough to still be under way when the
/// second download of the name starts.
const LEN: usize = 6 * CHUNK as usize + 11;

fn accept_offer_of(net: &mut Net, who: &str, file: &str) {
    let offer = net.wait_for(
        who,
        10 * S,
        |e| matches!(e, PeerEvent::FileOffer { name, .. } if name == file),
    );
    let PeerEvent::FileOffer { id, .. } = offer else {
        unreachable!()
    };
    net.ok(who, PeerCommand::Accept(Some(id)));
}

/// Waits for `who` to have received two files named `file`; their
/// (path, MD5), by path.
fn two_done(net: &mut Net, who: &str, file: &str) -> Vec<(String, confab_engine::wire::Md5)> {
    let done = |net: &Net| -> Vec<_> {
        net.events(who)
            .into_iter()
            .filter_map(|e| match e {
                PeerEvent::TransferDone {
                    direction: Direction::Receive,
                    name,
                    path,
                    md5,
                    ..
                } if name == file => Some((path, md5)),
                _ => None,
            })
            .collect()
    };
    assert!(
        net.run_until(600 * S, |net| done(net).len() >= 2),
        "seed {}: {who} reported {:?}",
        net.seed,
        net.events(who)
    );
    let mut all = done(net);
    all.sort();
    all
}

fn has_notice(net: &Net, who: &str, text: &str) -> bool {
    net.events(who)
        .iter()
        .any(|e| matches!(e, PeerEvent::Notice { message } if message.contains(text)))
}

#[test]
fn an_offer_of_a_name_being_fetched_is_saved_under_a_free_name() {
    let mut net = net(31, &["alice", "bob", "carol"]);
    let fetched = bytes(1, LEN);
    let offered = bytes(2, LEN + 5);
    share(&mut net, "alice", "x.bin", &fetched);
    local(&mut net, "carol", "x.bin", &offered);

    get(&mut net, "bob", "alice", "x.bin");
    send(&mut net, "carol", "bob", "x.bin");
    accept_offer_of(&mut net, "bob", "x.bin");
    assert!(
        has_notice(&net, "bob", "saving this one as x (1).bin"),
        "seed 31: {:?}",
        net.events("bob")
    );

    let done = two_done(&mut net, "bob", "x.bin");
    check_received(&net, "bob", "x (1).bin", &offered, &done[0].0, done[0].1);
    check_received(&net, "bob", "x.bin", &fetched, &done[1].0, done[1].1);
    net.run_for(S);
    assert_eq!(net.peer("bob").transfer_count(), 0, "seed 31");
}

#[test]
fn a_get_of_a_name_an_accepted_offer_is_writing_is_refused() {
    let mut net = net(32, &["alice", "bob", "carol"]);
    let offered = bytes(3, LEN);
    share(&mut net, "alice", "y.bin", &bytes(4, 10));
    local(&mut net, "carol", "y.bin", &offered);
    send(&mut net, "carol", "bob", "y.bin");
    accept_offer_of(&mut net, "bob", "y.bin");

    let get = PeerCommand::Get {
        from: name("alice"),
        file: FileName::new("y.bin").unwrap(),
    };
    let err = net.cmd("bob", get.clone()).unwrap_err();
    assert!(
        matches!(err, CommandError::AlreadyDownloading { .. }),
        "seed 32: {err}"
    );

    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "y.bin");
    check_received(&net, "bob", "y.bin", &offered, &path, md5);
    // Once it is in place, the name is free to download again (the driver
    // picks a free final name).
    net.clear("bob");
    net.ok("bob", get);
    let (path, _) = wait_done(&mut net, "bob", Direction::Receive, "y.bin");
    assert_eq!(path, "downloads/y (1).bin", "seed 32");
}

#[test]
fn two_offers_of_one_name_keep_their_parts_apart_across_a_restart() {
    let mut net = net(33, &["alice", "bob"]);
    let first = bytes(5, LEN);
    let second = bytes(6, 2 * LEN);
    local(&mut net, "alice", "one/z.bin", &first);
    local(&mut net, "alice", "two/z.bin", &second);
    send(&mut net, "alice", "bob", "one/z.bin");
    accept_offer_of(&mut net, "bob", "z.bin");
    net.clear("bob");
    send(&mut net, "alice", "bob", "two/z.bin");
    accept_offer_of(&mut net, "bob", "z.bin");
    assert!(has_notice(&net, "bob", "saving this one as z (1).bin"));

    // bob goes down once both are writing, and comes back: each resumes
    // into its own `.part`.
    run_until_count(&mut net, "bob", "WriteChunk", 3);
    let bob = net.host("bob");
    net.world.crash(bob);
    net.run_for(S);
    net.world.restart(bob);

    let done = two_done(&mut net, "bob", "z.bin");
    check_received(&net, "bob", "z (1).bin", &second, &done[0].0, done[0].1);
    check_received(&net, "bob", "z.bin", &first, &done[1].0, done[1].1);
}
