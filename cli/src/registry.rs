//! `confab registry`, and the registry a peer hosts when none answers.
//!
//! Both open the store in the data folder, hand its accounts and its keys
//! (`registry.key`, see [`crate::keys`]) to a [`Registry`] engine and run
//! it on a [`Driver`]. Both say the fingerprint of the registry's signing
//! key wherever they say how to join, so that a peer pins it from its first
//! contact (`--registry-key`). The stand-alone registry
//! prints what happens (who registered, who is online) on standard output; an
//! embedded one only logs, so that a peer's `--json` output stays pure.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Instant;

use confab_engine::password::PasswordCost;
use confab_engine::registry::{AnnounceConfig, OfflineReason, RelayConfig, RelayStatus};
use confab_engine::secure::SecureConfig;
use confab_engine::wire::identity::Fingerprint;
use confab_engine::{CommandError, Registry, RegistryCommand, RegistryConfig, RegistryEvent};
use confab_mio::{
    Driver, DriverConfig, DriverHandle, Flow, Sink, Store, listen, random_seed, route_ip,
};

use crate::args::{OnOff, RegistryArgs};
use crate::fail::Fail;

/// Builds a registry driver listening on `addr` with its records and keys
/// in `data`, giving new accounts the password cost `cost`.
pub fn prepare(
    addr: SocketAddr,
    data: &Path,
    cost: PasswordCost,
    relay: RelayConfig,
    announce: Option<SocketAddr>,
) -> Result<Driver<Registry>, Fail> {
    let store = Store::open(data)?;
    let records = store.load()?;
    let keys = crate::keys::registry_keys(data)?;
    let listener = listen(addr)?;
    let bound = listener.local_addr()?;
    let announce = announce.map(|group| AnnounceConfig {
        group,
        ..AnnounceConfig::new(bound.port())
    });
    let config = RegistryConfig {
        password_cost: cost,
        secure: SecureConfig {
            static_key: Some(keys.static_key),
            signing_key: Some(keys.signing),
            registry_pin: None,
            entropy: Some(crate::keys::os_random()?),
        },
        unix_ms_at_start: crate::clock::unix_ms(),
        relay,
        announce,
        ..RegistryConfig::default()
    };
    let engine = Registry::new(config, records, Instant::now(), random_seed());
    Ok(Driver::new(
        engine,
        Some(listener),
        Some(store),
        DriverConfig::default(),
    )?)
}

/// Opens what announcing on the LAN needs: a UDP socket on the listener's
/// own address (announcements leave from its port, so a query's answer
/// does too) and the discovery group (where queries arrive; without it,
/// only a warning). `Err` says why it cannot announce; the registry then
/// goes on unannounced, as with `--announce off`.
fn open_announcing(driver: &mut Driver<Registry>, groups: &[SocketAddr]) -> Result<(), String> {
    let bound = driver
        .local_addr()
        .ok_or_else(|| "it has no listener".to_owned())?;
    driver
        .bind_udp(bound)
        .map_err(|e| format!("cannot open UDP port {}: {e}", bound.port()))?;
    for &group in groups {
        if let Err(e) = driver.join_group(group) {
            // Announcing still works; answering a starting peer at once does not.
            tracing::warn!(
                "cannot join the discovery group {group}: {e}; queries go unanswered there, \
                 peers hear this registry at its next announcement (~30 s)"
            );
        }
    }
    Ok(())
}

/// The address other machines should give as `--registry` to reach `bound`.
pub fn join_address(bound: SocketAddr) -> String {
    if !bound.ip().is_unspecified() {
        return bound.to_string();
    }
    // Asking the route toward a documentation address sends nothing.
    let probe = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 9);
    match route_ip(probe) {
        Some(ip) => SocketAddr::new(ip, bound.port()).to_string(),
        None => format!("THIS-MACHINE'S-ADDRESS:{}", bound.port()),
    }
}

/// The command line others give to join the registry at `bound` with the
/// key `key`.
pub fn join_command(bound: SocketAddr, key: Fingerprint) -> String {
    format!(
        "confab peer --name NAME --registry {} --registry-key {key}",
        join_address(bound)
    )
}

/// What the registry says at start about its relay.
fn relay_line(relay: RelayConfig) -> String {
    if !relay.on {
        return "relay off: peers that cannot connect directly cannot talk".into();
    }
    let rate = |r: u64| {
        if r == 0 {
            "no cap".to_owned()
        } else {
            format!("{:.1} MiB/s", r as f64 / (1024.0 * 1024.0))
        }
    };
    format!(
        "relay on: per peer {}, in total {}",
        rate(relay.peer_rate),
        rate(relay.total_rate)
    )
}

/// The fingerprint of the key a registry's peers pin.
pub fn fingerprint(driver: &Driver<Registry>) -> Fingerprint {
    driver.engine().signing_key().fingerprint()
}

/// `confab registry`: runs until SIGINT or SIGTERM.
pub fn run(args: RegistryArgs) -> Result<(), Fail> {
    let relay = args.relay_config();
    let data = args.data.unwrap_or_else(crate::paths::registry_data);
    let cost = args.password_cost.cost();
    let groups = (args.announce == OnOff::On && !args.discovery_group.is_empty())
        .then_some(args.discovery_group);
    // The engine announces to the first group; the driver carries it to
    // every group joined.
    let first = groups.as_ref().map(|g| g[0]);
    let mut driver = prepare(args.listen, &data, cost, relay, first)?;
    let announced = groups.map(|groups| {
        open_announcing(&mut driver, &groups).map(|()| {
            let names: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
            names.join(", ")
        })
    });
    let bound = driver.local_addr().unwrap_or(args.listen);
    let key = fingerprint(&driver);
    // Before saying it listens: from then on, a SIGTERM is a clean stop.
    let handle = driver.handle();
    crate::signals::stop_on_signals(move || handle.stop(), || {})?;
    println!("confab registry listening on {bound}");
    println!(
        "registry key fingerprint {key} (kept in {}; peers trust this registry by it)",
        data.join(crate::keys::REGISTRY_KEY_FILE).display()
    );
    if cost != PasswordCost::DEFAULT {
        println!(
            "WARNING: new accounts get a weak password hash ({} KiB, {} pass); \
             for benchmarks and tests only",
            cost.memory_kib, cost.iterations
        );
    }
    println!("accounts are kept in {}", data.display());
    println!("{}", relay_line(relay));
    println!("peers join with: {}", join_command(bound, key));
    match announced {
        Some(Ok(groups)) => println!(
            "announced on the LAN (groups {groups}): peers there join with: \
             confab peer --name NAME --registry lan --registry-key {key}"
        ),
        Some(Err(why)) => println!(
            "WARNING: not announced on the LAN: {why}; peers need --registry ADDR \
             (or pick another --listen port, or --announce off)"
        ),
        None => println!("not announced on the LAN (--announce off)"),
    }
    println!("type `status` (and Enter) for the relay's counts");
    read_operator(driver.handle());
    driver.run(&mut RegistrySink { print: true })?;
    println!("registry stopped");
    Ok(())
}

/// Reads what the operator types on standard input, on a thread of its
/// own: `status` asks for the relay's counts ([`RegistryCommand::RelayStatus`]);
/// anything else gets a hint. Ends at the end of input (a registry run
/// with no terminal goes on without it) or when the driver is gone.
fn read_operator(handle: DriverHandle<RegistryCommand>) {
    let spawned = std::thread::Builder::new()
        .name("confab-registry-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { return };
                let asked = match line.trim() {
                    "" => continue,
                    "status" => handle.command(RegistryCommand::RelayStatus),
                    other => {
                        let other = crate::safe::terminal_line(other);
                        println!("unknown command {other:?}: type `status`");
                        continue;
                    }
                };
                if asked.is_err() {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot read the operator's commands: {e}");
    }
}

/// The relay's counts as the operator reads them (`status`, and every
/// minute while streams are open).
pub fn relay_status_lines(s: &RelayStatus) -> String {
    let mut out = format!(
        "relay: {} stream(s) open, {} held back by a cap, {} opened since start, {} bytes relayed",
        s.streams.len(),
        s.capped,
        s.opened,
        s.bytes
    );
    for (stream, a, b, bytes) in &s.streams {
        out.push_str(&format!("\n  relay {stream}: {a} <-> {b}, {bytes} bytes"));
    }
    out
}

/// A registry running on its own thread inside a peer's process.
#[derive(Debug)]
pub struct Embedded {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The fingerprint of its signing key (what its peers pin).
    pub key: Fingerprint,
    handle: DriverHandle<RegistryCommand>,
    thread: JoinHandle<()>,
}

impl Embedded {
    /// Starts a registry on `addr` with its records in `data`.
    pub fn start(addr: SocketAddr, data: PathBuf) -> Result<Self, Fail> {
        // Hosted for peers with discovery off: not announced.
        let driver = prepare(
            addr,
            &data,
            PasswordCost::DEFAULT,
            RelayConfig::default(),
            None,
        )?;
        let addr = driver.local_addr().unwrap_or(addr);
        let key = fingerprint(&driver);
        let handle = driver.handle();
        let thread = std::thread::Builder::new()
            .name("confab-registry".into())
            .spawn(move || {
                if let Err(e) = driver.run(&mut RegistrySink { print: false }) {
                    tracing::error!("the embedded registry stopped: {e}");
                }
            })?;
        Ok(Self {
            addr,
            key,
            handle,
            thread,
        })
    }

    /// Says goodbye to its peers and waits for it to end.
    pub fn stop(self) {
        self.handle.stop();
        let _ = self.thread.join();
    }
}

/// Prints (or only logs) what a registry reports.
#[derive(Debug)]
pub struct RegistrySink {
    /// Print events on standard output, not just log them.
    pub print: bool,
}

impl RegistrySink {
    fn say(&self, line: String) {
        let line = crate::safe::terminal_line(&line);
        if self.print {
            println!("{line}");
        } else {
            tracing::info!("registry: {line}");
        }
    }
}

impl Sink<RegistryEvent> for RegistrySink {
    fn event(&mut self, event: RegistryEvent) -> Flow {
        match event {
            RegistryEvent::Registered { name } => self.say(format!("{name} registered")),
            RegistryEvent::Online { name, addr, .. } => {
                self.say(format!("{name} is online at {addr}"))
            }
            RegistryEvent::Offline { name, reason } => {
                let why = match reason {
                    OfflineReason::LoggedOut => "logged out",
                    OfflineReason::Disconnected => "disconnected",
                    OfflineReason::TimedOut => "no heartbeat",
                    OfflineReason::Replaced => "logged in elsewhere",
                    OfflineReason::Violation => "broke the protocol",
                    OfflineReason::Shutdown => "registry shutting down",
                };
                self.say(format!("{name} went offline ({why})"));
            }
            RegistryEvent::Refused { conn, code } => {
                tracing::info!(%conn, %code, "refused a log-in or registration");
            }
            RegistryEvent::Violation {
                conn,
                remote,
                reason,
            } => {
                tracing::warn!(%conn, %remote, "closed a connection that broke the protocol: {reason}");
            }
            RegistryEvent::RelayOpened {
                stream,
                from,
                to,
                open,
            } => self.say(format!(
                "relay {stream}: {from} -> {to} opened ({open} relayed stream(s) open)"
            )),
            RegistryEvent::RelayClosed {
                stream,
                from,
                to,
                bytes,
                open,
            } => self.say(format!(
                "relay {stream}: {from} -> {to} closed after {bytes} bytes ({open} relayed stream(s) open)"
            )),
            RegistryEvent::RelayStatus(status) => {
                for line in relay_status_lines(&status).lines() {
                    self.say(line.to_owned());
                }
            }
        }
        Flow::Continue
    }

    fn refused(&mut self, error: CommandError) {
        tracing::warn!("registry refused a command: {error}");
    }
}
