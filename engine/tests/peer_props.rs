//! Property: whatever the sequence of messages, dropped connections and
//! crashes, every message is delivered exactly once and in order per sender,
//! and every message reported `Delivered` was shown to its receiver.

mod peer_support;

use std::time::Duration;

use confab_engine::peer::{PeerEvent, Target};
use peer_support::{Net, name};
use proptest::prelude::*;

const PEERS: [&str; 3] = ["ann", "ben", "cat"];

#[derive(Debug, Clone)]
enum Op {
    Send {
        from: usize,
        to: usize,
        burst: usize,
    },
    Cut(usize, usize),
    Run(u64),
    Restart(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..3usize, 0..3usize, 1..4usize).prop_map(|(from, to, burst)| Op::Send { from, to, burst }),
        2 => (0..3usize, 0..3usize).prop_map(|(a, b)| Op::Cut(a, b)),
        2 => (0..30u64).prop_map(Op::Run),
        1 => (0..3usize).prop_map(Op::Restart),
    ]
}

fn run(seed: u64, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut net = Net::new(seed, &PEERS);
    net.open_chat("ann", "ben");
    net.open_chat("ben", "cat");
    net.open_chat("cat", "ann");
    let mut sent: Vec<Vec<Vec<String>>> = vec![vec![Vec::new(); 3]; 3];
    let mut n = 0;
    for op in ops {
        match *op {
            Op::Send { from, to, burst } if from != to => {
                if !net.world.is_up(net.host(PEERS[from])) {
                    continue;
                }
                for _ in 0..burst {
                    let text = format!("{}>{}#{n}", PEERS[from], PEERS[to]);
                    n += 1;
                    net.msg(PEERS[from], PEERS[to], &text);
                    sent[from][to].push(text);
                }
            }
            Op::Send { .. } => {}
            Op::Cut(a, b) => {
                let (a, b) = (net.host(PEERS[a]), net.host(PEERS[b]));
                net.world.cut(a, b);
            }
            Op::Run(ms) => net.run_for(Duration::from_millis(ms)),
            Op::Restart(p) => {
                let h = net.host(PEERS[p]);
                net.world.crash(h);
                net.run_for(Duration::from_millis(50));
                net.world.restart(h);
            }
        }
    }
    let settled = net.run_until(Duration::from_secs(120), |net| {
        PEERS
            .iter()
            .all(|a| PEERS.iter().all(|b| net.peer(a).waiting_for(&name(b)) == 0))
    });
    prop_assert!(
        settled,
        "seed {seed}: messages still waiting after two minutes"
    );
    for (i, a) in PEERS.iter().enumerate() {
        for (j, b) in PEERS.iter().enumerate() {
            if i == j {
                continue;
            }
            let got = net.received(b, a, &Target::User(name(b)));
            prop_assert_eq!(&got, &sent[i][j], "seed {}: {} -> {}", seed, a, b);
            let delivered = net
                .events(a)
                .iter()
                .filter(|e| matches!(e, PeerEvent::Delivered { to, .. } if *to == Target::User(name(b))))
                .count();
            prop_assert!(
                delivered <= got.len(),
                "seed {seed}: more acks than deliveries"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn exactly_once_in_order_under_drops_and_crashes(seed in 0u64..1_000_000, ops in prop::collection::vec(op(), 1..40)) {
        run(seed, &ops)?;
    }
}
