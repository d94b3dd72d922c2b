//! When a sender stops waiting for its receiver (`transfer::send::give_up`):
//! a sender whose receiver forgot the transfer, and whose news of that was
//! lost with a connection, ends once a new connection brings no word of it;
//! a receiver that is slow but alive is never cut off.

use std::time::{Duration, Instant};

use crate::peer_transfer_support::*;
use confab_engine::peer::{Direction, PeerCommand, PeerEvent};
use confab_engine::testing::{MemFile, MemFiles};
use confab_engine::testing::{Pair, PairConfig};
use confab_engine::transfer::{TransferConfig, TransferEvent};

/// Whether `who` reported the end (done or failed) of transfer `id`.
fn ended(net: &Net, who: &str, id: confab_engine::TransferId) -> bool {
    net.events(who).iter().any(|e| {
        matches!(e,
            PeerEvent::TransferDone { id: i, .. } | PeerEvent::TransferFailed { id: i, .. }
                if *i == id)
    })
}

/// Simulator seed 262041155: a fetch sender outlived its receiver's
/// transfer. There, the receiver's "no such transfer" answer went out on a
/// connection the sender had just replaced (a crossed dial); here its
/// `/cancel` goes out on a connection the sender has already seen close.
/// Either way the only news of the end is lost, and the sender then sits on
/// a newer connection, waiting for a `Want` nobody will send. It used to
/// wait forever (the disconnected fetch's idle deadline is cleared by the
/// new connection); it now gives up once the receiver says nothing of the
/// transfer within `resume_timeout` of the connection opening.
#[test]
fn a_fetch_sender_whose_receiver_forgot_it_gives_up_on_the_next_connection() {
    let mut net = net(311, &["alice", "bob"]);
    let data = bytes(311, 64 * CHUNK as usize);
    share(&mut net, "bob", "big.bin", &data);
    get(&mut net, "alice", "bob", "big.bin");
    run_until_count(&mut net, "alice", "WriteChunk", 8);
    let sending = transfer_id(&mut net, "bob", Direction::Send, "big.bin");
    let receiving = transfer_id(&mut net, "alice", Direction::Receive, "big.bin");

    // bob sees the connection close; alice's end stays open, and what she
    // sends on it is lost: her Cancel among it.
    let (alice, bob) = (net.host("alice"), net.host("bob"));
    net.world.cut_quietly(bob, alice);
    net.ok("alice", PeerCommand::Cancel(receiving));
    assert_eq!(net.peer("alice").transfer_count(), 0, "seed 311");
    net.run_for(S);
    assert!(
        !ended(&net, "bob", sending),
        "seed 311: the Cancel got through"
    );

    // A connection for another reason (bob asks alice for a chat).
    net.ok("bob", PeerCommand::Chat(name("alice")));
    let up = net.run_until(10 * S, |net| {
        net.peer("bob").is_connected_to(&name("alice"))
    });
    assert!(up, "seed 311: bob never reconnected to alice");
    let opened = net.world.now();

    // alice says nothing of the transfer on it: bob gives up after the
    // resume timeout (twice the 30 s keepalive timeout), not never.
    let gone = net.run_until(300 * S, |net| net.peer("bob").transfer_count() == 0);
    assert!(
        gone,
        "seed 311: bob still holds the fetch sender {sending} long after reconnecting"
    );
    assert!(
        net.world.now() - opened >= 60 * S,
        "seed 311: gave up early"
    );
    let reason = wait_failed(&mut net, "bob");
    assert!(
        reason.contains("no longer has this transfer"),
        "seed 311: {reason}"
    );
    assert!(
        net.peer("bob").is_connected_to(&name("alice")),
        "seed 311: the connection itself stays up"
    );
}

/// The other side of the same clock: a receiver that spoke on the new
/// connection (`Get`) and then spends longer than `resume_timeout`
/// re-hashing its `.part` before its `Want` is waited for, and the transfer
/// completes.
#[test]
fn a_receiver_slow_to_want_after_asking_is_not_cut_off() {
    let chunk = 1000;
    let t = TransferConfig {
        chunk_size: chunk,
        window: 2,
        resume_timeout: Duration::from_secs(1),
        checkpoint_every: u64::MAX,
        ..TransferConfig::default()
    };
    let config = PairConfig {
        sender: t.clone(),
        receiver: t,
        io_latency: Duration::from_millis(100),
        ..PairConfig::default()
    };
    let data = bytes(312, 60 * chunk as usize);
    let mut s = MemFiles::new();
    s.put_shared("f.bin", MemFile::from_bytes(&data));
    let mut p = Pair::fetch(Instant::now(), 312, config, s, MemFiles::new(), "f.bin");
    let written = |p: &Pair| p.receiver.files.counts.get("WriteChunk").copied();
    while written(&p).unwrap_or(0) < 40 {
        assert!(p.step(), "seed 312: stalled before the restart");
    }

    // The restarted receiver re-reads ~40 chunks, two at a time, 100 ms
    // each: about 2 s before it wants anything.
    p.restart_receiver();
    let before = written(&p);
    let quiet_until = p.now + Duration::from_millis(1500);
    while p.now < quiet_until {
        assert!(p.step(), "seed 312: stalled while re-hashing");
    }
    assert_eq!(
        written(&p),
        before,
        "seed 312: the receiver wanted again sooner than the test needs"
    );
    assert!(
        p.sender.outcome().is_none(),
        "seed 312: the sender gave up on a live receiver: {:?}",
        p.sender.outcome()
    );

    assert!(p.run(Duration::from_secs(60), 1_000_000), "seed 312");
    assert!(
        matches!(p.receiver.outcome(), Some(TransferEvent::Done { .. })),
        "seed 312: receiver {:?}",
        p.receiver.outcome()
    );
    assert!(
        matches!(p.sender.outcome(), Some(TransferEvent::Done { .. })),
        "seed 312: sender {:?}",
        p.sender.outcome()
    );
}
