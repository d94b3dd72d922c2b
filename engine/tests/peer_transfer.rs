//! File transfer through the `Peer` engine end to end: `/get` and `/send`
//! (accepted and declined) of awkward sizes, folders, the shared `/accept`
//! queue, refusals of names that are not shared, `/cancel` from each side,
//! and the transfer limits. Every peer uses 1 KiB chunks and a window of 4.

mod peer_support;
mod peer_transfer_support;

use confab_engine::CommandError;
use confab_engine::error::SelfAction;
use confab_engine::limits::MAX_TRANSFERS_PER_PEER;
use confab_engine::peer::{Direction, PeerCommand, PeerEvent};
use confab_engine::testing::{MemFile, Planted};
use confab_engine::wire::FileName;
use peer_transfer_support::*;

const SIZES: [usize; 6] = [
    0,
    1,
    CHUNK as usize - 1,
    CHUNK as usize,
    CHUNK as usize + 1,
    5 * CHUNK as usize + 7,
];

#[test]
fn get_files_of_every_awkward_size() {
    let mut net = net(11, &["alice", "bob"]);
    for (i, &len) in SIZES.iter().enumerate() {
        let file = format!("f{i}.bin");
        let data = bytes(100 + i as u64, len);
        share(&mut net, "alice", &file, &data);
        let writes = count(&net, "bob", "WriteChunk");
        get(&mut net, "bob", "alice", &file);
        let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, &file);
        check_received(&net, "bob", &file, &data, &path, md5);
        let (_, sent) = wait_done(&mut net, "alice", Direction::Send, &file);
        assert_eq!(sent, md5, "seed 11: {file}");
        assert_eq!(
            count(&net, "bob", "WriteChunk") - writes,
            chunks(len),
            "seed 11: {file}: each chunk written once"
        );
    }
    // Finished transfers are dropped on both sides.
    net.run_for(S);
    assert_eq!(net.peer("bob").transfer_count(), 0, "seed 11");
    assert_eq!(net.peer("alice").transfer_count(), 0, "seed 11");
    assert!(transfers(&mut net, "bob").is_empty());
}

#[test]
fn send_accepted_and_declined() {
    let mut net = net(12, &["alice", "bob"]);
    for (i, &len) in SIZES.iter().enumerate() {
        let file = format!("s{i}.dat");
        let data = bytes(200 + i as u64, len);
        local(&mut net, "alice", &format!("home/{file}"), &data);
        send(&mut net, "alice", "bob", &format!("home/{file}"));
        let offer = net.wait_for(
            "bob",
            10 * S,
            |e| matches!(e, PeerEvent::FileOffer { name, .. } if *name == file),
        );
        let PeerEvent::FileOffer { id, from, size, .. } = offer else {
            unreachable!()
        };
        assert_eq!((from.as_str(), size), ("alice", len as u64), "seed 12");
        net.ok("bob", PeerCommand::Accept(Some(id)));
        let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, &file);
        check_received(&net, "bob", &file, &data, &path, md5);
        let (_, sent) = wait_done(&mut net, "alice", Direction::Send, &file);
        assert_eq!(sent, md5, "seed 12");
    }

    // Declined: both sides end, nothing is written.
    net.clear("bob");
    net.clear("alice");
    local(&mut net, "alice", "home/no.txt", b"unwanted");
    send(&mut net, "alice", "bob", "home/no.txt");
    offer_id(&mut net, "bob");
    net.ok("bob", PeerCommand::Decline(None));
    let why = wait_failed(&mut net, "alice");
    assert!(why.contains("declined"), "seed 12: {why}");
    assert!(wait_failed(&mut net, "bob").contains("declined"));
    assert!(download(&net, "bob", "no.txt").is_none());
    assert!(download(&net, "bob", "no.txt.part").is_none());
    net.run_for(S);
    assert_eq!(net.peer("alice").transfer_count(), 0, "seed 12");
    assert_eq!(net.peer("bob").transfer_count(), 0, "seed 12");
}

#[test]
fn an_unanswered_offer_expires_on_both_sides() {
    let mut net = net(13, &["alice", "bob"]);
    local(&mut net, "alice", "x.bin", &bytes(1, 3000));
    send(&mut net, "alice", "bob", "x.bin");
    offer_id(&mut net, "bob");
    assert!(wait_failed(&mut net, "alice").contains("30 s"));
    assert!(wait_failed(&mut net, "bob").contains("30 s"));
    // The question went with the offer.
    let err = net.cmd("bob", PeerCommand::Accept(None)).unwrap_err();
    assert_eq!(err, CommandError::NothingWaiting);
}

#[test]
fn a_folder_is_offered_and_received_as_one_transfer() {
    let mut net = net(14, &["alice", "bob"]);
    let a = bytes(1, 3000);
    let b = bytes(2, 1024);
    local(&mut net, "alice", "docs/a.txt", &a);
    local(&mut net, "alice", "docs/sub/b.bin", &b);
    local(&mut net, "alice", "docs/sub/empty", b"");
    send(&mut net, "alice", "bob", "docs");
    let offer = net.wait_for("bob", 10 * S, |e| matches!(e, PeerEvent::FileOffer { .. }));
    let PeerEvent::FileOffer { name, size, .. } = offer else {
        unreachable!()
    };
    assert_eq!((name.as_str(), size), ("docs", 4024), "seed 14");
    net.ok("bob", PeerCommand::Accept(None));
    let (path, _) = wait_done(&mut net, "bob", Direction::Receive, "docs");
    assert_eq!(path, "downloads/docs", "seed 14: the folder's own path");
    assert_eq!(download(&net, "bob", "docs/a.txt"), Some(a));
    assert_eq!(download(&net, "bob", "docs/sub/b.bin"), Some(b));
    assert_eq!(download(&net, "bob", "docs/sub/empty"), Some(Vec::new()));
    wait_done(&mut net, "alice", Direction::Send, "docs");
}

/// `/accept` without an id takes the oldest question of any kind.
#[test]
fn accept_without_id_takes_the_oldest_of_chat_requests_and_offers() {
    let mut net = net(15, &["alice", "bob", "carol"]);
    net.ok("carol", PeerCommand::Chat(name("bob")));
    net.chat_request("bob", "carol");
    local(&mut net, "alice", "f.txt", b"hello");
    send(&mut net, "alice", "bob", "f.txt");
    offer_id(&mut net, "bob");
    net.ok("bob", PeerCommand::Accept(None));
    assert!(net.peer("bob").chat_is_open(&name("carol")), "seed 15");
    net.ok("bob", PeerCommand::Accept(None));
    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "f.txt");
    check_received(&net, "bob", "f.txt", b"hello", &path, md5);
}

#[test]
fn get_of_what_is_not_a_shared_file_is_refused() {
    let mut net = net(16, &["alice", "bob"]);
    get(&mut net, "bob", "alice", "nothere.txt");
    let why = wait_failed(&mut net, "bob");
    assert!(
        why.contains("no shared file named nothere.txt"),
        "seed 16: {why}"
    );

    net.clear("bob");
    net.world
        .files_mut(net.host("alice"))
        .plant_shared("link", Planted::Symlink("/etc/passwd".into()));
    get(&mut net, "bob", "alice", "link");
    let why = wait_failed(&mut net, "bob");
    assert!(why.contains("symbolic link"), "seed 16: {why}");

    net.clear("bob");
    net.world
        .files_mut(net.host("alice"))
        .plant_shared("dir", Planted::Folder);
    get(&mut net, "bob", "alice", "dir");
    assert!(wait_failed(&mut net, "bob").contains("not a regular file"));
    net.clear("bob");
    assert!(net.world.files(net.host("bob")).download_names().is_empty());

    // Traversal never even makes a command: a file name is one plain name.
    for bad in ["../x", "a/b", "..", "/etc/passwd", "a\\b", ""] {
        assert!(
            FileName::new(bad).is_err(),
            "{bad:?} accepted as a file name"
        );
    }
    // Nobody to get from.
    let err = net
        .cmd(
            "bob",
            PeerCommand::Get {
                from: name("bob"),
                file: FileName::new("x").unwrap(),
            },
        )
        .unwrap_err();
    assert_eq!(err, CommandError::Yourself(SelfAction::DownloadFrom));
    get(&mut net, "bob", "nobody", "x");
    let why = wait_failed(&mut net, "bob");
    assert!(why.contains("nobody"), "seed 16: {why}");
    net.run_for(S);
    assert_eq!(net.peer("bob").transfer_count(), 0, "seed 16");
}

/// A `/get` of a file whose `.part` is already there resumes from it: the
/// prefix is re-read (hashed), never fetched again.
#[test]
fn get_resumes_a_partly_downloaded_file() {
    let mut net = net(17, &["alice", "bob"]);
    let data = bytes(7, 20 * CHUNK as usize + 5);
    share(&mut net, "alice", "big.bin", &data);
    let have = 12 * CHUNK as usize;
    let bob = net.host("bob");
    net.world
        .files_mut(bob)
        .put_download("big.bin.part", MemFile::from_bytes(&data[..have]));
    get(&mut net, "bob", "alice", "big.bin");
    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "big.bin");
    check_received(&net, "bob", "big.bin", &data, &path, md5);
    assert_eq!(
        count(&net, "bob", "WriteChunk"),
        chunks(data.len()) - 12,
        "seed 17"
    );
    assert_eq!(
        count(&net, "bob", "ReadChunk"),
        12,
        "seed 17: the prefix re-read"
    );
    assert_eq!(count(&net, "alice", "ReadChunk"), chunks(data.len()) - 12);
    // A second /get of the same file while it runs is refused.
    share(&mut net, "alice", "again.bin", &data);
    get(&mut net, "bob", "alice", "again.bin");
    let err = net
        .cmd(
            "bob",
            PeerCommand::Get {
                from: name("alice"),
                file: FileName::new("again.bin").unwrap(),
            },
        )
        .unwrap_err();
    assert!(
        matches!(err, CommandError::AlreadyDownloading { ref file, .. } if file.as_str() == "again.bin"),
        "{err}"
    );
}

fn cancel_mid_transfer(seed: u64, canceller: &str) {
    let mut net = net(seed, &["alice", "bob"]);
    let data = bytes(seed, 64 * CHUNK as usize);
    share(&mut net, "alice", "big.bin", &data);
    get(&mut net, "bob", "alice", "big.bin");
    run_until_count(&mut net, "bob", "WriteChunk", 10);
    let dir = if canceller == "bob" {
        Direction::Receive
    } else {
        Direction::Send
    };
    let id = transfer_id(&mut net, canceller, dir, "big.bin");
    net.ok(canceller, PeerCommand::Cancel(id));
    let other = if canceller == "bob" { "alice" } else { "bob" };
    assert!(wait_failed(&mut net, canceller).contains("cancelled"));
    let why = wait_failed(&mut net, other);
    assert!(
        why.contains(&format!("{canceller} cancelled")),
        "seed {seed}: {why}"
    );
    net.run_for(S);
    let writes = count(&net, "bob", "WriteChunk");
    net.run_for(10 * S);
    assert_eq!(
        count(&net, "bob", "WriteChunk"),
        writes,
        "seed {seed}: it stopped"
    );
    assert!(writes < chunks(data.len()), "seed {seed}");
    assert!(
        net.world.files(net.host("bob")).download_names().is_empty(),
        "seed {seed}: the .part is discarded"
    );
    assert_eq!(net.peer("alice").transfer_count(), 0, "seed {seed}");
    assert_eq!(net.peer("bob").transfer_count(), 0, "seed {seed}");
    let err = net.cmd(canceller, PeerCommand::Cancel(id)).unwrap_err();
    assert_eq!(err, CommandError::NoSuchTransfer(id));
}

#[test]
fn cancel_by_the_receiver_stops_both_and_discards_the_part() {
    cancel_mid_transfer(18, "bob");
}

#[test]
fn cancel_by_the_sender_stops_both_and_discards_the_part() {
    cancel_mid_transfer(19, "alice");
}

/// Too many transfers with one peer: a command says so; a remote's `Get`
/// or `Offer` beyond the limit is answered with a `Cancel` giving the reason.
#[test]
fn transfers_beyond_the_limit_are_refused_on_both_sides() {
    let mut net = net(20, &["alice", "bob"]);
    let big = bytes(3, 40 * CHUNK as usize);
    for i in 0..MAX_TRANSFERS_PER_PEER {
        share(&mut net, "alice", &format!("g{i}"), &big);
        local(&mut net, "alice", &format!("o{i}"), b"offer");
    }
    // Apart, alice offers half the limit and bob asks for all of it.
    let (a, b) = (net.host("alice"), net.host("bob"));
    net.world.partition(a, b);
    let half = MAX_TRANSFERS_PER_PEER / 2;
    for i in 0..half {
        send(&mut net, "alice", "bob", &format!("o{i}"));
    }
    for i in 0..MAX_TRANSFERS_PER_PEER {
        get(&mut net, "bob", "alice", &format!("g{i}"));
    }
    let err = net
        .cmd(
            "bob",
            PeerCommand::Get {
                from: name("alice"),
                file: FileName::new("g0").unwrap(),
            },
        )
        .unwrap_err();
    assert_eq!(err, CommandError::TooManyTransfersWith(name("alice")));
    assert!(
        err.to_string()
            .contains(&format!("{MAX_TRANSFERS_PER_PEER} transfers with alice")),
        "{err}"
    );
    net.world.heal(a, b);
    // Each side takes what fits and refuses the rest.
    let done = net.run_until(120 * S, |net| {
        let fails = |who: &str| {
            net.events(who)
                .iter()
                .filter(|e| matches!(e, PeerEvent::TransferFailed { .. }))
                .count()
        };
        fails("alice") >= half && fails("bob") >= half
    });
    assert!(done, "seed 20: {:#?}", net.events("bob"));
    let busy = net
        .events("bob")
        .into_iter()
        .filter(|e| {
            matches!(e, PeerEvent::TransferFailed { reason, .. } if reason.contains("alice is busy"))
        })
        .count();
    assert_eq!(busy, half, "seed 20: bob's gets refused by alice");
    assert!(net.events("alice").iter().any(|e| {
        matches!(e, PeerEvent::TransferFailed { reason, .. } if reason.contains("bob is busy"))
    }));
    assert!(
        !net.events("bob")
            .iter()
            .any(|e| matches!(e, PeerEvent::FileOffer { .. })),
        "seed 20: refused offers never reach the user"
    );
    // The downloads that fit complete.
    let ok = net.run_until(600 * S, |net| {
        net.events("bob")
            .iter()
            .filter(|e| matches!(e, PeerEvent::TransferDone { .. }))
            .count()
            == half
    });
    assert!(ok, "seed 20");
}

/// Many transfers at once, both ways, between three peers, alongside chat.
#[test]
fn many_transfers_both_ways_between_three_peers() {
    let seed = 21;
    let mut net = net(seed, &["alice", "bob", "carol"]);
    net.open_chat("alice", "bob");
    let mut expected = Vec::new();
    for (i, owner) in ["alice", "bob", "carol"].into_iter().enumerate() {
        let data = bytes(seed + i as u64, 30 * CHUNK as usize + i);
        share(&mut net, owner, &format!("{owner}.bin"), &data);
        local(&mut net, owner, &format!("out/{owner}.txt"), &data[..777]);
        expected.push((owner, data));
    }
    for (who, from) in [
        ("alice", "bob"),
        ("bob", "alice"),
        ("carol", "alice"),
        ("carol", "bob"),
    ] {
        get(&mut net, who, from, &format!("{from}.bin"));
    }
    send(&mut net, "bob", "carol", "out/bob.txt");
    send(&mut net, "carol", "alice", "out/carol.txt");
    net.msg("alice", "bob", "files are coming");
    for who in ["carol", "alice"] {
        offer_id(&mut net, who);
        net.ok(who, PeerCommand::Accept(None));
    }
    let data = |owner: &str| {
        expected
            .iter()
            .find(|(o, _)| *o == owner)
            .unwrap()
            .1
            .clone()
    };
    for (who, from) in [
        ("alice", "bob"),
        ("bob", "alice"),
        ("carol", "alice"),
        ("carol", "bob"),
    ] {
        let file = format!("{from}.bin");
        let (path, md5) = wait_done(&mut net, who, Direction::Receive, &file);
        check_received(&net, who, &file, &data(from), &path, md5);
    }
    for (who, from) in [("carol", "bob"), ("alice", "carol")] {
        let file = format!("{from}.txt");
        let (path, md5) = wait_done(&mut net, who, Direction::Receive, &file);
        check_received(&net, who, &file, &data(from)[..777], &path, md5);
    }
    assert_eq!(
        net.received("bob", "alice", &peer_support::Net::to_user("bob")),
        vec!["files are coming"],
        "seed {seed}"
    );
    net.run_for(S);
    for who in ["alice", "bob", "carol"] {
        assert_eq!(net.peer(who).transfer_count(), 0, "seed {seed}: {who}");
    }
}

/// A `/send` of nothing fails at once, and bob never hears of it.
#[test]
fn send_of_a_missing_path_fails_at_once() {
    let seed = 22;
    let mut net = net(seed, &["alice", "bob"]);
    send(&mut net, "alice", "bob", "no/such/file");
    let why = wait_failed(&mut net, "alice");
    assert!(
        why.contains("no file or folder at no/such/file"),
        "seed {seed}: {why}"
    );
    assert_eq!(net.peer("alice").transfer_count(), 0, "seed {seed}");
    net.run_for(10 * S);
    assert!(
        !net.peer("alice").is_connected_to(&name("bob")),
        "seed {seed}"
    );
    assert!(
        net.events("bob").is_empty()
            || !net.events("bob").iter().any(|e| matches!(
                e,
                PeerEvent::FileOffer { .. } | PeerEvent::TransferFailed { .. }
            ))
    );
    let err = net
        .cmd(
            "alice",
            PeerCommand::SendFile {
                to: name("bob"),
                path: " ".into(),
            },
        )
        .unwrap_err();
    assert_eq!(err, CommandError::NothingToSend);
}
