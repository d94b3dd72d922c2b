//! The workload: what the simulated users do, drawn from the seed.
//!
//! Each actor (today a scripted registry client; tomorrow a peer) acts at
//! random times, a Poisson process with a per-seed rate, choosing from a mix of
//! actions whose weights are drawn per seed too (swarm testing: some seeds
//! never log out, others log out all the time). [`Action`] is what comes out;
//! the run loop hands it to the actor's driver.
//!
//! Adding peers: give [`Action`] a `Peer { peer, cmd: PeerCommand }` variant
//! and add a generator beside [`registry_client`] (say `peer.rs`) with its own
//! mix: chat requests and answers (consent), bursts of messages, groups
//! created, joined and left, friends added while offline (queued messages),
//! fetches and offers of edge-case sizes (0, 1, chunk-1, chunk, chunk+1,
//! several windows), cancels. [`Workload::due`] then draws from both.

pub mod registry_client;

use std::time::Duration;

use crate::client::ClientCommand;
use crate::draw::{self, Rng};

pub use self::registry_client::ClientMix;

/// One thing an actor is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A scripted registry client's command.
    Client { client: usize, cmd: ClientCommand },
}

/// What an actor's generator may know of it when choosing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorState {
    /// The host is down (crashed).
    Down,
    /// Up, wanting to be online or not.
    Up { wants_online: bool },
}

/// See the module documentation.
#[derive(Debug)]
pub struct Workload {
    rng: Rng,
    mix: ClientMix,
    mean_think: Duration,
    next_at: Vec<Duration>,
    names: Vec<String>,
}

impl Workload {
    /// A workload for `clients` actors named `names`, drawn from `seed`.
    pub fn new(seed: u64, names: Vec<String>) -> Self {
        let mut rng = Rng::new(seed);
        let mix = ClientMix::draw(&mut rng);
        let mean_think =
            draw::log_uniform(&mut rng, Duration::from_millis(300), Duration::from_secs(8));
        let next_at = names
            .iter()
            .map(|_| draw::exponential(&mut rng, mean_think))
            .collect();
        Self {
            rng,
            mix,
            mean_think,
            next_at,
            names,
        }
    }

    /// The mix this seed drew, for the report.
    pub fn describe(&self) -> String {
        format!(
            "think {:.2} s, {}",
            self.mean_think.as_secs_f64(),
            self.mix.describe()
        )
    }

    /// The actions due by `now`, given each actor's state. In the `settling`
    /// phase nobody goes online or offline, so the liveness checks have a
    /// fixed target.
    pub fn due(&mut self, now: Duration, states: &[ActorState], settling: bool) -> Vec<Action> {
        let mut actions = Vec::new();
        for (client, state) in states.iter().enumerate() {
            while self.next_at[client] <= now {
                self.next_at[client] += draw::exponential(&mut self.rng, self.mean_think);
                let ActorState::Up { wants_online } = *state else {
                    continue;
                };
                if let Some(cmd) =
                    self.mix
                        .choose(&mut self.rng, &self.names, client, wants_online, settling)
                {
                    actions.push(Action::Client { client, cmd });
                }
            }
        }
        actions
    }
}
