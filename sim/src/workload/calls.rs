//! Video calls in the random workload (issue 21): a few calls per run, each
//! placed by a running peer to another running peer at a time drawn from a
//! stream of its own (so the rest of a seed's workload is the same with
//! calls as without). The callee answers on the peer mix's `Answer` turns,
//! like a chat request (accepted, declined, or left to expire; declined
//! while settling). While a call is up, each side sends a frame every
//! [`FRAME_GAP`] (numbered, its bytes derived from sender, receiver and
//! number by [`frame`], which is what the calls checker compares with) and
//! hangs up after a drawn time; while settling, every call is hung up, so
//! nothing is under way at the end. The run's datagram faults (loss,
//! duplication, delay that reorders) are drawn here too, from none to
//! heavy, and the world sets them on every peer.

use std::collections::BTreeMap;
use std::time::Duration;

use confab_engine::peer::PeerCommand;
use confab_engine::wire::Name;

use super::action::Action;
use crate::draw::{self, Rng};
use crate::driver::DatagramFaults;
use crate::peerview::PeerViews;

/// Frames of a call come this far apart (10 a second: enough datagrams to
/// meet every fault, few enough to keep a run quick).
pub const FRAME_GAP: Duration = Duration::from_millis(100);

/// Frame `n` of the call from `from` to `to`: the number (big-endian), then
/// 500 to 2,999 bytes derived from all three (a frame of more than one
/// datagram every other time).
pub fn frame(from: &Name, to: &Name, n: u32) -> Vec<u8> {
    let salt = from
        .as_str()
        .bytes()
        .chain([b'>'])
        .chain(to.as_str().bytes())
        .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
    let len = 500 + (n.wrapping_mul(977) ^ salt) as usize % 2500;
    let mut v = n.to_be_bytes().to_vec();
    v.extend((0..len as u32).map(|i| (i ^ n).wrapping_add(salt).wrapping_mul(2_654_435_761) as u8));
    v
}

/// One side of a call that is up.
#[derive(Debug, Clone)]
struct Side {
    sent: u32,
    next_frame: Duration,
    hang_up_at: Duration,
    /// Hung up; kept until the call's end is seen, so it is not taken for
    /// a new call meanwhile.
    hung: bool,
}

/// See the module documentation.
#[derive(Debug)]
pub struct CallMix {
    rng: Rng,
    /// What every peer's datagrams go through this run.
    pub faults: DatagramFaults,
    calls_left: u64,
    mean_gap: Duration,
    next_call: Duration,
    /// The sides up, by (peer, with whom).
    up: BTreeMap<(usize, Name), Side>,
}

impl CallMix {
    /// A mix drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let calls_left = draw::between(&mut rng, 1, 4);
        let mean_gap = draw::log_uniform(&mut rng, Duration::from_secs(5), Duration::from_secs(30));
        let next_call = draw::exponential(&mut rng, mean_gap);
        // From none to heavy: a third of the runs have a clean path.
        let faults = if draw::chance(&mut rng, 1.0 / 3.0) {
            DatagramFaults::default()
        } else {
            DatagramFaults {
                loss_pct: draw::between(&mut rng, 0, 25),
                dup_pct: draw::between(&mut rng, 0, 10),
                max_delay: Duration::from_millis(draw::between(&mut rng, 0, 40)),
            }
        };
        Self {
            rng,
            faults,
            calls_left,
            mean_gap,
            next_call,
            up: BTreeMap::new(),
        }
    }

    /// No calls this run.
    pub fn off(&mut self) {
        self.calls_left = 0;
        self.faults = DatagramFaults::default();
    }

    /// The mix, for the report.
    pub fn describe(&self) -> String {
        if self.calls_left == 0 {
            return "no calls".into();
        }
        let f = &self.faults;
        format!(
            "calls {} every ~{:.1} s, datagrams lost {} % duplicated {} % delayed <= {} ms",
            self.calls_left,
            self.mean_gap.as_secs_f64(),
            f.loss_pct,
            f.dup_pct,
            f.max_delay.as_millis()
        )
    }

    /// What is due by `now`: a new call, frames, hang-ups.
    pub fn due(
        &mut self,
        now: Duration,
        names: &[Name],
        views: &PeerViews,
        settling: bool,
        out: &mut Vec<Action>,
    ) {
        let running: Vec<usize> = (0..views.len()).filter(|&i| views.get(i).running).collect();
        if !settling && self.calls_left > 0 && now >= self.next_call {
            self.next_call = now + draw::exponential(&mut self.rng, self.mean_gap);
            if running.len() >= 2 {
                self.calls_left -= 1;
                let a = running[self.rng.below(running.len() as u64) as usize];
                let others: Vec<usize> = running.iter().copied().filter(|&b| b != a).collect();
                let b = others[self.rng.below(others.len() as u64) as usize];
                out.push(Action::Peer {
                    peer: a,
                    cmd: PeerCommand::Call(names[b].clone()),
                });
            }
        }
        // Forget the sides no longer up; take on the new ones.
        self.up
            .retain(|(peer, with), _| views.get(*peer).calls.contains(with));
        for &peer in &running {
            for with in &views.get(peer).calls {
                if !self.up.contains_key(&(peer, with.clone())) {
                    let hang_up_at =
                        now + Duration::from_millis(draw::between(&mut self.rng, 2_000, 20_000));
                    let side = Side {
                        sent: 0,
                        next_frame: now,
                        hang_up_at,
                        hung: false,
                    };
                    self.up.insert((peer, with.clone()), side);
                }
            }
        }
        for ((peer, with), side) in &mut self.up {
            if side.hung {
                continue;
            }
            if settling || now >= side.hang_up_at {
                out.push(Action::Peer {
                    peer: *peer,
                    cmd: PeerCommand::Hangup(Some(with.clone())),
                });
                side.hung = true;
                continue;
            }
            while side.next_frame <= now {
                out.push(Action::Frame {
                    peer: *peer,
                    with: with.clone(),
                    jpeg: frame(&names[*peer], with, side.sent),
                });
                side.sent += 1;
                side.next_frame += FRAME_GAP;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_differ_by_sender_receiver_and_number() {
        let (a, b) = (
            Name::new("peer-001").unwrap(),
            Name::new("peer-002").unwrap(),
        );
        let f = frame(&a, &b, 7);
        assert_eq!(f[..4], 7u32.to_be_bytes());
        assert!((504..3004).contains(&f.len()));
        assert_eq!(f, frame(&a, &b, 7));
        assert_ne!(f, frame(&b, &a, 7));
        assert_ne!(f[4..], frame(&a, &b, 8)[4..]);
    }
}
