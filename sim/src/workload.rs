//! The workload: what the simulated users do, drawn from the seed.
//!
//! Each actor (a peer, or a scripted registry client as extra load on the
//! registry) acts at random times, a Poisson process with a per-seed rate,
//! choosing from a mix of actions whose weights are drawn per seed too
//! (swarm testing: some seeds never quit, others chat in bursts all the
//! time). [`Action`] is what comes out; the run loop hands it to the actor's
//! driver (or restarts the peer).
//!
//! Peers choose from their [`PeerViews`], which the run loop keeps up to
//! date with every observation ([`Workload::observe`]). Transfers
//! ([`transfers`]) and video calls ([`calls`]) come from streams of their
//! own.

mod action;
pub mod calls;
pub mod peer;
pub mod registry_client;
pub mod transfers;

use std::time::Duration;

use confab_engine::wire::Name;

use crate::draw::{self, Rng};
use crate::files::Sources;
use crate::observe::{HostIx, Observation};
use crate::peerview::PeerViews;

pub use self::action::Action;
pub use self::calls::CallMix;
pub use self::peer::PeerMix;
pub use self::registry_client::ClientMix;
pub use self::transfers::TransferMix;

/// Calls are drawn from a stream of their own, so the rest of a seed's
/// workload is drawn the same with them as without.
const CALLS_STREAM: u64 = 0x6361_6c6c_7300_0003;

/// What a scripted client's generator may know of it when choosing.
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
    client_mix: ClientMix,
    peer_mix: PeerMix,
    mean_think: Duration,
    /// Next turn of each actor: peers first, then clients.
    next_at: Vec<Duration>,
    peer_names: Vec<Name>,
    client_names: Vec<String>,
    views: PeerViews,
    counter: u64,
    transfers: Option<TransferMix>,
    calls: CallMix,
}

impl Workload {
    /// A workload for peers named `peer_names` (hosts `first_peer..`) and
    /// clients named `client_names`, drawn from `seed`.
    pub fn new(
        seed: u64,
        first_peer: HostIx,
        peer_names: Vec<Name>,
        client_names: Vec<String>,
    ) -> Self {
        let mut rng = Rng::new(seed);
        let client_mix = ClientMix::draw(&mut rng);
        let peer_mix = PeerMix::draw(&mut rng);
        let mean_think =
            draw::log_uniform(&mut rng, Duration::from_millis(300), Duration::from_secs(8));
        let next_at = (0..peer_names.len() + client_names.len())
            .map(|_| draw::exponential(&mut rng, mean_think))
            .collect();
        Self {
            rng,
            client_mix,
            peer_mix,
            mean_think,
            next_at,
            views: PeerViews::new(first_peer, peer_names.len()),
            peer_names,
            client_names,
            counter: 0,
            transfers: None,
            calls: CallMix::new(seed ^ CALLS_STREAM),
        }
    }

    /// Adds transfers of `sources`, drawn from `seed` (see
    /// [`TransferMix::new`] for `repeat_offers`).
    pub fn add_transfers(&mut self, seed: u64, sources: &Sources, repeat_offers: bool) {
        let n = self.peer_names.len();
        self.transfers = Some(TransferMix::new(seed, sources, n, repeat_offers));
    }

    /// The mix this seed drew, for the report.
    pub fn describe(&self) -> String {
        let transfers = self
            .transfers
            .as_ref()
            .map_or_else(|| "no transfers".into(), TransferMix::describe);
        format!(
            "think {:.2} s; peers {}; {transfers}; {}; clients {}",
            self.mean_think.as_secs_f64(),
            self.peer_mix.describe(),
            self.calls.describe(),
            self.client_mix.describe()
        )
    }

    /// Keeps the peers' views up to date.
    pub fn observe(&mut self, obs: &Observation) {
        self.views.observe(obs);
    }

    /// Places no calls this run (nor any datagram faults).
    pub fn without_calls(&mut self) {
        self.calls.off();
    }

    /// What the peers' call datagrams go through this run.
    pub fn datagram_faults(&self) -> crate::driver::DatagramFaults {
        self.calls.faults
    }

    /// The peers' views.
    pub fn views(&self) -> &PeerViews {
        &self.views
    }

    /// The actions due by `now`. `peers_up` says which peers' hosts are up,
    /// `clients` the state of each client. In the `settling` phase nobody
    /// goes online or offline and peers only answer questions, so the
    /// liveness checks have a fixed target.
    pub fn due(
        &mut self,
        now: Duration,
        peers_up: &[bool],
        clients: &[ActorState],
        settling: bool,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        let peers = peers_up.len();
        for actor in 0..self.next_at.len() {
            while self.next_at[actor] <= now {
                self.next_at[actor] += draw::exponential(&mut self.rng, self.mean_think);
                if let Some(&up) = peers_up.get(actor) {
                    if !up {
                        continue;
                    }
                    self.peer_mix.choose(
                        &mut self.rng,
                        &self.peer_names,
                        actor,
                        self.views.get(actor),
                        settling,
                        &mut self.counter,
                        &mut actions,
                    );
                    continue;
                }
                let client = actor - peers;
                let ActorState::Up { wants_online } = clients[client] else {
                    continue;
                };
                if let Some(cmd) = self.client_mix.choose(
                    &mut self.rng,
                    &self.client_names,
                    client,
                    wants_online,
                    settling,
                ) {
                    actions.push(Action::Client { client, cmd });
                }
            }
        }
        if let Some(t) = &mut self.transfers {
            t.due(now, &self.peer_names, &self.views, settling, &mut actions);
        }
        self.calls
            .due(now, &self.peer_names, &self.views, settling, &mut actions);
        actions
    }
}
