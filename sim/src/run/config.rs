//! How a run is shaped (`--peers`, `--duration`, `--faults`, ...), and the
//! protocol timings the simulated roles use.

use std::time::Duration;

use crate::faults::FaultLevel;

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// How many peers (`Peer` engines).
    pub peers: usize,
    /// How many scripted registry clients, extra load on the registry whose
    /// listings the sessions checker verifies.
    pub clients: usize,
    /// Simulated time of the faulty phase.
    pub duration: Duration,
    /// Simulated time of the final heal phase, after which liveness is checked.
    pub heal: Duration,
    /// How faulty.
    pub faults: FaultLevel,
    /// turmoil's tick: how far simulated time moves per step.
    pub tick: Duration,
    /// Keep every trace line (for `--trace`).
    pub keep_trace: bool,
    /// Offer files under their shared names, and the same file to the same
    /// peer again, so downloads of one name meet (an offer and a `/get`, two
    /// offers): on by default; off gives every offer a name of its own.
    pub same_names: bool,
    /// Whether the run has an attacker: `None` as the fault plan draws it,
    /// `Some(true)` always (striking every few seconds unless the plan drew
    /// a rate), `Some(false)` never (`--attacker on|off`).
    pub attacker: Option<bool>,
    /// Whether the registry mangles relayed data for windows of time
    /// (`FaultKind::RelayMangle`): `None` as the fault plan draws it,
    /// `Some(on)` forced (`--relay-fault on|off`).
    pub relay_fault: Option<bool>,
    /// Whether the workload places video calls (on by default; off replays
    /// a seed found before it did, `--no-calls`).
    pub calls: bool,
    /// A LAN run (`--lan`, issue 20; see `crate::lan`): no registry for
    /// the whole run, peers on broadcast segments joined by a few peers,
    /// found by discovery and exchange only.
    pub lan: bool,
    /// A hybrid run (`--hybrid`, issue 20 item 5; see `crate::hybrid`):
    /// the ordinary world with its registry, plus the LAN's segments and
    /// discovery on every peer, and registry outages of several seconds
    /// while the workload runs. Not with `lan`.
    pub hybrid: bool,
    /// A bug to plant in the registry and every peer (tests only): each
    /// role's configuration carries it, and the role that hosts it acts on it.
    #[cfg(feature = "planted-bugs")]
    pub plant: Option<confab_engine::registry::PlantedBug>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            peers: 10,
            clients: 2,
            duration: Duration::from_secs(60),
            heal: Duration::from_secs(30),
            faults: FaultLevel::default(),
            tick: Duration::from_millis(5),
            keep_trace: false,
            same_names: true,
            attacker: None,
            relay_fault: None,
            calls: true,
            lan: false,
            hybrid: false,
            #[cfg(feature = "planted-bugs")]
            plant: None,
        }
    }
}

impl SimConfig {
    /// The command line that replays `seed` with this shape.
    pub fn replay_command(&self, seed: u64) -> String {
        let mut cmd = format!(
            "cargo run --release -p confab-sim -- --seed {seed} --peers {} --duration {} --faults {}",
            self.peers,
            self.duration.as_secs_f64(),
            self.faults
        );
        if self.clients != SimConfig::default().clients {
            cmd += &format!(" --clients {}", self.clients);
        }
        if !self.same_names {
            cmd += " --distinct-names";
        }
        if self.heal != SimConfig::default().heal {
            cmd += &format!(" --heal {}", self.heal.as_secs_f64());
        }
        if self.tick != SimConfig::default().tick {
            cmd += &format!(" --tick-ms {}", self.tick.as_millis());
        }
        match self.attacker {
            Some(true) => cmd += " --attacker on",
            Some(false) => cmd += " --attacker off",
            None => {}
        }
        match self.relay_fault {
            Some(true) => cmd += " --relay-fault on",
            Some(false) => cmd += " --relay-fault off",
            None => {}
        }
        if !self.calls {
            cmd += " --no-calls";
        }
        if self.lan {
            cmd += " --lan";
        }
        if self.hybrid {
            cmd += " --hybrid";
        }
        cmd
    }
}

/// How long a stalled handshake may stay open: the longest handshake
/// deadline of any role, and a second for the network and the tick.
pub fn stall_deadline() -> Duration {
    timing::HANDSHAKE_TIMEOUT.max(timing::HELLO_TIMEOUT) + Duration::from_secs(1)
}

/// Protocol timings of the simulated roles: short, so a minute of simulated
/// time holds many timeouts.
pub mod timing {
    use std::time::Duration;

    /// The registry's heartbeat timeout.
    pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(6);
    /// The registry's hello timeout.
    pub const HELLO_TIMEOUT: Duration = Duration::from_secs(3);
    /// Clients heartbeat at a third of the timeout.
    pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);
    /// A request unanswered this long kills a client's link.
    pub const REPLY_TIMEOUT: Duration = Duration::from_secs(3);
    /// First reconnection wait.
    pub const RECONNECT_MIN: Duration = Duration::from_millis(250);
    /// Longest reconnection wait.
    pub const RECONNECT_MAX: Duration = Duration::from_secs(4);
    /// The registry's port.
    pub const REGISTRY_PORT: u16 = 7000;
    /// The port peers listen on (and clients announce).
    pub const PEER_PORT: u16 = 7001;
    /// How long a chat request or group invitation waits for an answer:
    /// well under the heal phase, so every question is settled before the
    /// liveness checks.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(8);
    /// How long a new peer connection may take to prove who it is.
    pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);
    /// How often a peer resends what is unacknowledged on an open connection.
    pub const RETRANSMIT_INTERVAL: Duration = Duration::from_secs(1);
    /// A peer's registry requests unanswered this long drop its registry
    /// connection (two heartbeat intervals, as the engine's default).
    pub const PEER_REPLY_TIMEOUT: Duration = Duration::from_secs(4);
    /// A silent peer connection is pinged after this long...
    pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(2);
    /// ...and closed after this long (three intervals, as the default).
    pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(6);
    /// Wall-clock time at the start of a run (turmoil's epoch), in ms.
    pub const UNIX_MS_AT_START: u64 = 1_700_000_000_000;
    /// Mean time between the attacker's strikes when `--attacker on`
    /// forces it and the plan drew no rate.
    pub const ATTACK_INTERVAL: Duration = Duration::from_secs(3);
    /// Mean time between relay fault windows when `--relay-fault on`
    /// forces them and the plan drew no rate.
    pub const RELAY_FAULT_INTERVAL: Duration = Duration::from_secs(6);
}
