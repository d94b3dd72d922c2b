//! Stopping a transfer without losing what arrived: `/pause` from either
//! side keeps the receiver's `.part`, and `/resume` or `/get` continues
//! from it; a late `/cancel` keeps the `.part` until a second `/cancel`;
//! an interrupted transfer says so on both sides, and a resumed one says
//! from where.

mod peer_support;
mod peer_transfer_support;

use confab_engine::CommandError;
use confab_engine::api::TransferId;
use confab_engine::peer::{Direction, PeerCommand, PeerEvent};
use peer_transfer_support::*;

/// Waits for `who`'s `TransferPaused`; its reason.
fn wait_paused(net: &mut Net, who: &str) -> String {
    match net.wait_for(who, 600 * S, |e| {
        matches!(
            e,
            PeerEvent::TransferPaused { .. }
                | PeerEvent::TransferFailed { .. }
                | PeerEvent::TransferDone { .. }
        )
    }) {
        PeerEvent::TransferPaused { reason, .. } => reason,
        other => panic!("seed {}: {who} reported {other:?}", net.seed),
    }
}

fn part_len(net: &Net, who: &str, file: &str) -> Option<usize> {
    download(net, who, &format!("{file}.part")).map(|b| b.len())
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

/// Starts a `/get` of a 64-chunk file and lets 10 chunks land; bob's id.
fn get_under_way(net: &mut Net, data: &[u8]) -> TransferId {
    share(net, "alice", "big.bin", data);
    get(net, "bob", "alice", "big.bin");
    run_until_count(net, "bob", "WriteChunk", 10);
    transfer_id(net, "bob", Direction::Receive, "big.bin")
}

#[test]
fn pause_by_the_receiver_keeps_the_part_and_resume_continues() {
    let mut net = net(41, &["alice", "bob"]);
    let data = bytes(41, 64 * CHUNK as usize);
    let id = get_under_way(&mut net, &data);
    net.ok("bob", PeerCommand::Pause(id));
    let here = wait_paused(&mut net, "bob");
    assert!(
        here.contains("big.bin.part") && here.contains(&format!("/resume {id}")),
        "{here}"
    );
    let there = wait_paused(&mut net, "alice");
    assert!(there.contains("paused by bob"), "{there}");
    net.run_for(10 * S);
    assert_eq!(net.peer("alice").transfer_count(), 0);
    assert_eq!(net.peer("bob").transfer_count(), 0);
    let have = part_len(&net, "bob", "big.bin").expect("the .part is kept");
    assert!(have >= 10 * CHUNK as usize && have < data.len(), "{have}");
    let reads = count(&net, "alice", "ReadChunk");

    net.ok("bob", PeerCommand::Resume(id));
    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "big.bin");
    check_received(&net, "bob", "big.bin", &data, &path, md5);
    let fetched = count(&net, "alice", "ReadChunk") - reads;
    assert_eq!(fetched, chunks(data.len() - have), "only the rest is sent");
    let said = notices(&net, "bob");
    assert!(said.iter().any(|n| n.contains("resuming from")), "{said:?}");
    // Resumed under the same id, now finished.
    net.run_for(S);
    let err = net.cmd("bob", PeerCommand::Resume(id)).unwrap_err();
    assert_eq!(err, CommandError::NoSuchTransfer(id));
}

#[test]
fn pause_by_the_sender_keeps_the_part_and_get_continues() {
    let mut net = net(42, &["alice", "bob"]);
    let data = bytes(42, 64 * CHUNK as usize);
    get_under_way(&mut net, &data);
    let id = transfer_id(&mut net, "alice", Direction::Send, "big.bin");
    net.ok("alice", PeerCommand::Pause(id));
    let here = wait_paused(&mut net, "alice");
    assert!(here.contains("bob keeps what arrived"), "{here}");
    let there = wait_paused(&mut net, "bob");
    assert!(there.starts_with("paused by alice"), "{there}");
    net.run_for(10 * S);
    let have = part_len(&net, "bob", "big.bin").expect("the .part is kept");
    assert!(have > 0);
    get(&mut net, "bob", "alice", "big.bin");
    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "big.bin");
    check_received(&net, "bob", "big.bin", &data, &path, md5);
    assert!(
        count(&net, "bob", "ReadChunk") > 0,
        "the kept prefix is re-read"
    );
}

#[test]
fn pause_of_no_transfer_is_an_error() {
    let mut net = net(43, &["alice", "bob"]);
    let id = TransferId(99);
    let err = net.cmd("bob", PeerCommand::Pause(id)).unwrap_err();
    assert_eq!(err, CommandError::NoSuchTransfer(id));
    let err = net.cmd("bob", PeerCommand::Resume(id)).unwrap_err();
    assert_eq!(err, CommandError::NoSuchTransfer(id));
}

fn big_chunks(c: &mut confab_engine::peer::PeerConfig) {
    c.transfer.chunk_size = 64 * 1024;
    c.transfer.window = 4;
}

#[test]
fn a_late_cancel_keeps_the_part_until_a_second_cancel() {
    let mut net = Net::with(44, &["alice", "bob"], big_chunks);
    let data = bytes(44, 3 * 1024 * 1024);
    share(&mut net, "alice", "big.bin", &data);
    get(&mut net, "bob", "alice", "big.bin");
    run_until_count(&mut net, "bob", "WriteChunk", 20);
    let id = transfer_id(&mut net, "bob", Direction::Receive, "big.bin");
    net.ok("bob", PeerCommand::Cancel(id));
    let why = wait_failed(&mut net, "bob");
    assert!(
        why.contains("kept")
            && why.contains("big.bin.part")
            && why.contains(&format!("/cancel {id} again")),
        "{why}"
    );
    let there = wait_failed(&mut net, "alice");
    assert!(there.contains("bob cancelled"), "{there}");
    net.run_for(10 * S);
    assert!(part_len(&net, "bob", "big.bin").unwrap() >= 1024 * 1024);
    net.ok("bob", PeerCommand::Cancel(id));
    net.run_for(S);
    assert!(net.world.files(net.host("bob")).download_names().is_empty());
    let err = net.cmd("bob", PeerCommand::Cancel(id)).unwrap_err();
    assert_eq!(err, CommandError::NoSuchTransfer(id));
}

#[test]
fn an_interrupted_transfer_says_so_on_both_sides_and_where_it_resumes() {
    let mut net = net(45, &["alice", "bob"]);
    let data = bytes(45, 64 * CHUNK as usize);
    get_under_way(&mut net, &data);
    let (a, b) = (net.host("alice"), net.host("bob"));
    net.world.cut(a, b);
    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "big.bin");
    check_received(&net, "bob", "big.bin", &data, &path, md5);
    wait_done(&mut net, "alice", Direction::Send, "big.bin");
    for who in ["alice", "bob"] {
        let said = notices(&net, who);
        assert!(
            said.iter()
                .any(|n| n.contains("interrupted: connection lost")),
            "{who}: {said:?}"
        );
        assert!(
            said.iter().any(|n| n.contains("resuming from")),
            "{who}: {said:?}"
        );
    }
}

#[test]
fn a_paused_download_survives_a_restart_of_the_receiver() {
    let mut net = net(46, &["alice", "bob"]);
    let data = bytes(46, 64 * CHUNK as usize);
    let id = get_under_way(&mut net, &data);
    net.ok("bob", PeerCommand::Pause(id));
    wait_paused(&mut net, "bob");
    wait_paused(&mut net, "alice");
    net.run_for(10 * S);
    let have = part_len(&net, "bob", "big.bin").expect("the .part is kept");

    let b = net.host("bob");
    net.world.crash(b);
    net.run_for(2 * S);
    net.world.restart(b);
    net.run_for(10 * S);
    // Listed, as paused, with what it holds; not resumed by itself.
    let listed = transfers(&mut net, "bob");
    let t = listed
        .iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("/transfers after the restart: {listed:?}"));
    assert!(t.state.contains(&format!("/resume {id}")), "{t:?}");
    // `done` is what was known written when it paused (writes still in
    // flight then may have landed in the `.part` since).
    assert!(t.done > 0 && t.done <= have as u64, "{t:?}");
    assert_eq!(t.total, data.len() as u64);
    assert_eq!(net.peer("bob").transfer_count(), 0, "not resumed by itself");
    let reads = count(&net, "alice", "ReadChunk");

    net.ok("bob", PeerCommand::Resume(id));
    let (path, md5) = wait_done(&mut net, "bob", Direction::Receive, "big.bin");
    check_received(&net, "bob", "big.bin", &data, &path, md5);
    let fetched = count(&net, "alice", "ReadChunk") - reads;
    assert_eq!(fetched, chunks(data.len() - have), "only the rest is sent");
    // Over, and forgotten: a second restart lists nothing.
    net.run_for(S);
    net.world.crash(b);
    net.world.restart(b);
    net.run_for(10 * S);
    assert!(transfers(&mut net, "bob").is_empty());
}

#[test]
fn a_kept_part_deleted_by_a_second_cancel_stays_gone_after_a_restart() {
    let mut net = net(47, &["alice", "bob"]);
    let data = bytes(47, 64 * CHUNK as usize);
    let id = get_under_way(&mut net, &data);
    net.ok("bob", PeerCommand::Pause(id));
    wait_paused(&mut net, "bob");
    net.run_for(10 * S);
    net.ok("bob", PeerCommand::Cancel(id));
    net.run_for(S);
    assert_eq!(part_len(&net, "bob", "big.bin"), None);
    let b = net.host("bob");
    net.world.crash(b);
    net.world.restart(b);
    net.run_for(10 * S);
    assert!(transfers(&mut net, "bob").is_empty());
    let err = net.cmd("bob", PeerCommand::Resume(id)).unwrap_err();
    assert_eq!(err, CommandError::NoSuchTransfer(id));
}

/// One transfer, one id: both sides show the same, whatever else each
/// side did before (carol's download makes alice's count differ from bob's).
#[test]
fn both_sides_show_the_same_id() {
    let mut net = net(48, &["alice", "bob", "carol"]);
    let data = bytes(48, 8 * CHUNK as usize);
    share(&mut net, "alice", "first.bin", &data);
    get(&mut net, "carol", "alice", "first.bin");
    wait_done(&mut net, "carol", Direction::Receive, "first.bin");

    let id = get_under_way(&mut net, &bytes(49, 64 * CHUNK as usize));
    assert_eq!(
        transfer_id(&mut net, "alice", Direction::Send, "big.bin"),
        id
    );
    // Pause keeps it; resume goes on as a new transfer, one id on both
    // sides again (an id is never handed out twice in a run).
    net.ok("alice", PeerCommand::Pause(id));
    wait_paused(&mut net, "bob");
    net.run_for(5 * S);
    net.ok("bob", PeerCommand::Resume(id));
    let asking = format!("{id}: asking alice for big.bin again as ");
    let new = notices(&net, "bob")
        .iter()
        .find_map(|n| {
            n.strip_prefix(&asking)
                .map(|r| r.split(',').next().unwrap().to_owned())
        })
        .expect("bob names the new id");
    assert_ne!(new, id.to_string());
    let serving = format!("{new}: bob is downloading big.bin");
    assert!(
        net.run_until(60 * S, |net| notices(net, "alice").contains(&serving)),
        "{:?}",
        notices(&net, "alice")
    );

    // An offer too: the sender's id is the one the offer names.
    local(&mut net, "bob", "gift.bin", &data);
    send(&mut net, "bob", "alice", "gift.bin");
    let offered = net.wait_for("alice", 10 * S, |e| {
        matches!(e, PeerEvent::FileOffer { .. })
    });
    let PeerEvent::FileOffer { transfer, .. } = offered else {
        unreachable!()
    };
    assert_eq!(
        transfer_id(&mut net, "bob", Direction::Send, "gift.bin"),
        transfer
    );
    assert_eq!(
        transfer_id(&mut net, "alice", Direction::Receive, "gift.bin"),
        transfer
    );
}
