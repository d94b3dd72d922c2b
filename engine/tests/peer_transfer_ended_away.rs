//! A transfer that ends while its peer is out of reach still tells it: the
//! peer dials for it once it can, instead of holding the ended transfer
//! (and a slot of the per-peer limit) until an idle timeout of minutes.

mod peer_support;
mod peer_transfer_support;

use confab_engine::peer::PeerEvent;
use peer_transfer_support::*;

/// The sender of an offer crashes (an unanswered offer is not saved, so it
/// forgets it) and comes back. The receiver, whose offer question wanted no
/// connection, sees the offer expire while no connection is open: it must
/// dial the sender to tell it, and then let the transfer go.
#[test]
fn an_offer_that_expires_after_its_sender_crashed_is_let_go() {
    let mut net = net(41, &["alice", "bob"]);
    local(&mut net, "alice", "x.bin", &bytes(1, 3000));
    send(&mut net, "alice", "bob", "x.bin");
    offer_id(&mut net, "bob");
    let alice = net.host("alice");
    net.world.crash(alice);
    net.run_for(2 * S);
    net.world.restart(alice);
    let why = wait_failed(&mut net, "bob");
    assert!(why.contains("expired"), "seed 41: {why}");
    let settled = net.run_until(60 * S, |net| {
        net.peer("alice").transfer_count() == 0 && net.peer("bob").transfer_count() == 0
    });
    assert!(
        settled,
        "seed 41: a minute after the offer expired alice holds {} and bob {} ended transfer(s)",
        net.peer("alice").transfer_count(),
        net.peer("bob").transfer_count()
    );
    assert!(
        !net.events("bob")
            .iter()
            .any(|e| matches!(e, PeerEvent::TransferDone { .. })),
        "seed 41"
    );
}
