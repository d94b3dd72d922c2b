//! Video calls in the simulator (issue 21): two peers of a run with no
//! link faults call each other while every datagram either way goes
//! through heavy faults (loss, duplication, delay that reorders), and a
//! chat goes on beside. Checked: no frame is shown out of order; every
//! frame shown is exactly one the sender sent (nothing corrupted or
//! forged); the chat is not stalled; the receiver's last stats count the
//! frames it showed; the call ends cleanly with a reason on hang-up.

use std::rc::Rc;
use std::time::Duration;

use confab_engine::peer::{PeerCommand, PeerEvent, Target};
use confab_engine::wire::Name;
use confab_engine::{Peer, PeerEvent as Ev};
use confab_sim::SimConfig;
use confab_sim::driver::{DatagramFaults, DriverCommand, HostState, Stamp};
use confab_sim::faults::FaultLevel;
use confab_sim::observe::{Observed, SimEvent};
use confab_sim::run::world::World;

/// What frame `n` of `from` holds: its number, then bytes derived from both.
fn frame(from: &str, n: u32, len: usize) -> Vec<u8> {
    let mut v = n.to_be_bytes().to_vec();
    let salt = from.bytes().fold(0u8, |a, b| a.wrapping_add(b));
    v.extend((0..len).map(|i| (i as u32 ^ n).wrapping_add(u32::from(salt)) as u8));
    v
}

struct Run {
    world: World,
    events: Vec<Vec<PeerEvent>>,
}

impl Run {
    fn step(&mut self) {
        self.world.sim.step().expect("hosts run");
        for obs in self.world.journal.drain() {
            if let Observed::Event(SimEvent::Peer(e)) = obs.what {
                let ix = self
                    .world
                    .peers
                    .iter()
                    .position(|p| p.ix == obs.host)
                    .expect("a peer");
                self.events[ix].push(e);
            }
        }
    }

    fn until(&mut self, max: Duration, done: impl Fn(&Run) -> bool) {
        let end = self.world.sim.elapsed() + max;
        while !done(self) {
            assert!(self.world.sim.elapsed() < end, "timed out");
            self.step();
        }
    }

    fn has(&self, ix: usize, pred: impl Fn(&PeerEvent) -> bool) -> bool {
        self.events[ix].iter().any(pred)
    }

    fn cmd(&self, ix: usize, cmd: PeerCommand) {
        self.world.peers[ix].command(DriverCommand::Engine(cmd));
    }
}

fn name_of(p: &Rc<HostState<Peer>>) -> Name {
    p.engine().as_ref().expect("up").name().clone()
}

fn call_under_faults(seed: u64, faults: DatagramFaults) {
    let config = SimConfig {
        peers: 2,
        clients: 0,
        faults: FaultLevel::None,
        attacker: Some(false),
        ..SimConfig::default()
    };
    let world = World::build(seed, &config);
    let mut run = Run {
        world,
        events: vec![vec![], vec![]],
    };
    run.until(Duration::from_secs(20), |r| {
        (0..2).all(|i| r.has(i, |e| matches!(e, Ev::Ready { .. })))
    });
    for p in &run.world.peers {
        p.set_datagram_faults(faults);
    }
    let (a, b) = (name_of(&run.world.peers[0]), name_of(&run.world.peers[1]));
    run.cmd(0, PeerCommand::Chat(b.clone()));
    run.until(Duration::from_secs(20), |r| {
        r.has(1, |e| matches!(e, Ev::ChatRequest { .. }))
    });
    run.cmd(1, PeerCommand::Accept(None));
    run.cmd(0, PeerCommand::Call(b.clone()));
    run.until(Duration::from_secs(20), |r| {
        r.has(1, |e| matches!(e, Ev::CallRequest { .. }))
    });
    run.cmd(1, PeerCommand::Accept(None));
    run.until(Duration::from_secs(20), |r| {
        (0..2).all(|i| r.has(i, |e| matches!(e, Ev::CallStarted { .. })))
    });

    // 10 s of video both ways at 25 frames a second, a message each second.
    let start = run.world.sim.elapsed();
    let mut sent = 0u32;
    let mut said = 0;
    while run.world.sim.elapsed() < start + Duration::from_secs(10) {
        let due = (run.world.sim.elapsed() - start).as_millis() as u32 / 40;
        while sent <= due {
            for (ix, from, to) in [(0, &a, &b), (1, &b, &a)] {
                let (jpeg, to) = (frame(from.as_str(), sent, 3000), to.clone());
                run.world.peers[ix].command(DriverCommand::Stamped(Stamp(Box::new(move |now| {
                    PeerCommand::CallFrame {
                        with: to,
                        jpeg,
                        captured: now,
                    }
                }))));
            }
            sent += 1;
        }
        let secs = (run.world.sim.elapsed() - start).as_secs();
        if secs >= said {
            said += 1;
            run.cmd(
                0,
                PeerCommand::Message {
                    to: Target::User(b.clone()),
                    text: format!("during the call {secs}"),
                },
            );
        }
        run.step();
    }
    // The chat is not stalled: every message arrives.
    run.until(Duration::from_secs(10), |r| {
        r.events[1]
            .iter()
            .filter(|e| matches!(e, Ev::Message { .. }))
            .count() as u64
            == said
    });
    run.cmd(0, PeerCommand::Hangup(None));
    run.until(Duration::from_secs(10), |r| {
        (0..2).all(|i| r.has(i, |e| matches!(e, Ev::CallEnded { .. })))
    });

    for (ix, from) in [(1, &a), (0, &b)] {
        let shown: Vec<(u32, Vec<u8>)> = run.events[ix]
            .iter()
            .filter_map(|e| match e {
                Ev::CallFrame { frame, jpeg, .. } => Some((*frame, jpeg.clone())),
                _ => None,
            })
            .collect();
        let mut last = None;
        for (f, jpeg) in &shown {
            let n = u32::from_be_bytes(jpeg[..4].try_into().unwrap());
            assert_eq!(
                *jpeg,
                frame(from.as_str(), n, 3000),
                "seed {seed}: frame {f} corrupted"
            );
            assert!(
                last.is_none_or(|(lf, ln)| *f > lf && n > ln),
                "seed {seed}: out of order"
            );
            last = Some((*f, n));
        }
        assert!(!shown.is_empty(), "seed {seed}: nothing shown");
        if faults == DatagramFaults::default() {
            assert!(
                shown.len() as u32 * 100 >= sent * 95,
                "seed {seed}: {} of {sent}",
                shown.len()
            );
        }
        // The last stats before the end count what was shown up to them.
        let mut count = 0u64;
        let mut checked = false;
        for e in &run.events[ix] {
            match e {
                Ev::CallFrame { .. } => count += 1,
                Ev::CallStats { stats, .. } => {
                    assert_eq!(stats.frames, count, "seed {seed}: stats disagree");
                    checked = true;
                }
                Ev::CallEnded {
                    reason,
                    frames_received,
                    ..
                } => {
                    assert_eq!(*frames_received, count, "seed {seed}");
                    assert!(!reason.is_empty());
                }
                _ => {}
            }
        }
        assert!(checked, "seed {seed}: no stats");
        println!(
            "seed {seed}: {} of {sent} frames shown at {ix} under {faults:?}",
            shown.len()
        );
    }
}

#[test]
fn calls_survive_heavy_datagram_faults() {
    for seed in [1, 2, 3] {
        call_under_faults(
            seed,
            DatagramFaults {
                loss_pct: 20,
                dup_pct: 10,
                max_delay: Duration::from_millis(30),
            },
        );
    }
}

#[test]
fn a_clean_path_shows_nearly_everything() {
    call_under_faults(4, DatagramFaults::default());
}
