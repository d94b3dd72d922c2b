//! The simulated world of one run: the turmoil simulation, its hosts (host 0
//! the registry, then one per peer), the workload and the fault injector.
//!
//! Adding peers: build `HostState<Peer>` hosts here beside (or instead of)
//! the scripted clients, each with a `PeerConfig` pointing at the registry
//! and at its own listen port, and list peer-to-peer pairs in `pairs` so the
//! injector partitions them too.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use confab_engine::bounded::Text;
use confab_engine::password::PasswordCost;
use confab_engine::wire::Name;
use confab_engine::wire::registry::Password;
use confab_engine::{Registry, RegistryConfig};

use super::config::{SimConfig, timing};
use crate::checkers::View;
use crate::client::{ClientConfig, RegistryClient};
use crate::draw::{self, Rng};
use crate::driver::{self, DriverCommand, HostControl, HostState};
use crate::faults::{FaultPlan, Injector};
use crate::observe::{HostIx, Journal, Observed};
use crate::workload::{Action, ActorState, Workload};

/// See the module documentation.
pub struct World {
    pub sim: turmoil::Sim<'static>,
    pub journal: Rc<Journal>,
    pub registry: Rc<HostState<Registry>>,
    pub clients: Vec<Rc<HostState<RegistryClient>>>,
    pub workload: Workload,
    pub injector: Injector,
    plan: FaultPlan,
    max_latency: Duration,
    tick: Duration,
}

impl World {
    /// Builds the world of `seed`.
    pub fn build(seed: u64, config: &SimConfig) -> Self {
        let mut rng = Rng::new(seed);
        let turmoil_seed = rng.next_u64();
        let min_latency = Duration::from_millis(1);
        let max_latency = draw::log_uniform(
            &mut rng,
            Duration::from_millis(2),
            Duration::from_millis(60),
        );
        let max_latency = Duration::from_millis(max_latency.as_millis().max(2) as u64);
        let mut sim = turmoil::Builder::new()
            .rng_seed(turmoil_seed)
            .tick_duration(config.tick)
            .simulation_duration(config.duration + config.heal + Duration::from_secs(3600))
            .min_message_latency(min_latency)
            .max_message_latency(max_latency)
            .fail_rate(0.0)
            .repair_rate(0.0)
            .enable_random_order()
            .epoch(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
            .build();
        let journal = Rc::new(Journal::default());

        let registry_config = RegistryConfig {
            heartbeat_timeout: timing::HEARTBEAT_TIMEOUT,
            hello_timeout: timing::HELLO_TIMEOUT,
            password_cost: PasswordCost::TESTING,
            ..RegistryConfig::default()
        };
        #[cfg(feature = "planted-bugs")]
        let plant = config.plant;
        let registry = HostState::new(
            0,
            "registry".into(),
            Some(timing::REGISTRY_PORT),
            rng.next_u64(),
            journal.clone(),
            Rc::new(move |records, now, seed| {
                #[allow(unused_mut)]
                let mut r = Registry::new(registry_config.clone(), records, now, seed);
                #[cfg(feature = "planted-bugs")]
                if let Some(bug) = plant {
                    r.plant_bug(bug);
                }
                r
            }),
        );
        let r = registry.clone();
        sim.host("registry", move || driver::run(r.clone()));
        let registry_addr = SocketAddr::new(sim.lookup("registry"), timing::REGISTRY_PORT);

        let names: Vec<String> = (1..=config.peers).map(|i| format!("peer-{i:03}")).collect();
        let mut clients = Vec::new();
        for (i, name) in names.iter().enumerate() {
            // turmoil assigns addresses on first lookup, in order: deterministic.
            let listen = SocketAddr::new(sim.lookup(name.as_str()), timing::PEER_PORT);
            let client_config = ClientConfig {
                name: Name::new(name).expect("peer-NNN is a valid name"),
                password: Password(Text::truncate(&format!("pw-{name}"))),
                registry: registry_addr,
                listen,
                heartbeat_interval: timing::HEARTBEAT_INTERVAL,
                reply_timeout: timing::REPLY_TIMEOUT,
                reconnect_min: timing::RECONNECT_MIN,
                reconnect_max: timing::RECONNECT_MAX,
            };
            let host = HostState::new(
                i + 1,
                name.clone(),
                None,
                rng.next_u64(),
                journal.clone(),
                Rc::new(move |_records, now, seed| {
                    RegistryClient::new(client_config.clone(), now, seed)
                }),
            );
            let h = host.clone();
            sim.host(name.as_str(), move || driver::run(h.clone()));
            clients.push(host);
        }

        let workload = Workload::new(rng.next_u64(), names);
        let plan = FaultPlan::draw(config.faults, &mut rng, config.peers);
        let mut hosts: Vec<Rc<dyn HostControl>> = vec![registry.clone()];
        hosts.extend(clients.iter().map(|c| c.clone() as Rc<dyn HostControl>));
        let pairs = (1..=config.peers).map(|i| (0, i)).collect();
        let injector = Injector::new(
            plan.clone(),
            rng.next_u64(),
            hosts,
            pairs,
            (min_latency, max_latency),
            journal.clone(),
        );
        Self {
            sim,
            journal,
            registry,
            clients,
            workload,
            injector,
            plan,
            max_latency,
            tick: config.tick,
        }
    }

    /// The seed's draws in one line, for the report and the trace.
    pub fn describe(&self) -> String {
        format!(
            "latency 1-{} ms; faults: {}; workload: {}",
            self.max_latency.as_millis(),
            self.plan.describe(),
            self.workload.describe()
        )
    }

    /// Injects and undoes faults, and hands out the workload's actions.
    pub fn act(&mut self, now: Duration, settling: bool) {
        self.injector.tick(&mut self.sim, now);
        let states: Vec<ActorState> = self
            .clients
            .iter()
            .map(|c| match c.engine().as_ref() {
                None => ActorState::Down,
                Some(e) => ActorState::Up {
                    wants_online: e.wants_online(),
                },
            })
            .collect();
        for action in self.workload.due(now, &states, settling) {
            match action {
                Action::Client { client, cmd } => {
                    let host: HostIx = client + 1;
                    self.journal.push_at(
                        now,
                        host,
                        Observed::Command {
                            what: format!("{cmd:?}"),
                        },
                    );
                    self.clients[client].command(DriverCommand::Engine(cmd));
                }
            }
        }
    }

    /// Stops the faults and undoes them all.
    pub fn heal(&mut self, now: Duration) {
        self.injector.heal(&mut self.sim, now);
    }

    /// What the checkers may look at.
    pub fn view(&self) -> View<'_> {
        View {
            now: self.sim.elapsed(),
            registry: &self.registry,
            clients: &self.clients,
            heartbeat_timeout: timing::HEARTBEAT_TIMEOUT,
            slack: self.tick + Duration::from_millis(2),
        }
    }
}
