//! Registry scale (issue 8, item 3): as many peers as the open-file limit
//! allows, logged in and heartbeating against ONE `confab registry` process.
//!
//! `cargo bench -p confab --bench registry [-- --peers N --window SECS
//! --lookups N --default-logins N --batch N]`
//!
//! - The registry is the release `confab registry` binary, started with
//!   `--password-cost fast` (a benchmark-only flag) so that thousands of
//!   log-ins do not take minutes of argon2; the log-in rate at the *default*
//!   cost is measured separately, against a second registry, at the end.
//! - The load generator is one mio event loop in this process speaking the
//!   registry protocol with `confab_engine::wire` inside the encrypted
//!   channel a real peer runs (`registry/link.rs`): handshake, hello,
//!   register, log in, then a heartbeat every 10 s per peer. It ramps up in batches, keeps at
//!   most `max_password_jobs` (16) password checks in flight (more would be
//!   refused as `Busy`), and binds each socket to one of 127.0.0.2..127.0.0.N
//!   before connecting, so no source address runs out of ephemeral ports.
//! - Memory per peer: `VmRSS` of the registry before the ramp and after it,
//!   divided by the peers. CPU at steady state: the registry's utime+stime
//!   over a window of pure heartbeating. Look-up latency: a separate
//!   connection doing back-to-back `Lookup`s of random online peers while
//!   the others heartbeat, against the same look-ups on the idle registry.
//!
//! It measures and prints (a table and one JSON line); it asserts nothing
//! about time.

use std::io;
use std::time::{Duration, Instant};

use confab_engine::wire::Name;

/// Password checks the registry allows at once (`RegistryConfig::max_password_jobs`).
const AUTH_SLOTS: usize = 16;
/// How often each peer heartbeats (a third of the registry's 30 s timeout).
const HEARTBEAT: Duration = Duration::from_secs(10);
/// Peers per source address.
const PER_SOURCE: usize = 1000;
/// Connections opened but not yet accepted (greeted) by the registry, at most.
const MAX_UNACCEPTED: usize = 128;
/// File descriptors kept free in each process (stdio, epoll, the store, the
/// look-up connection, the listener...).
const FD_RESERVE: u64 = 200;

#[path = "registry/link.rs"]
mod link;
#[path = "registry/prober.rs"]
mod prober;
#[path = "registry/process.rs"]
mod process;
#[path = "registry/swarm.rs"]
mod swarm;

use prober::{Prober, lat_summary};
use process::RegistryProc;
use swarm::{State, Step, Swarm};

// ---------------------------------------------------------------- settings

struct Settings {
    peers: Option<usize>,
    window: Duration,
    lookups: usize,
    default_logins: usize,
    batch: usize,
}

impl Settings {
    fn parse() -> Self {
        let mut s = Settings {
            peers: None,
            window: Duration::from_secs(30),
            lookups: 2000,
            default_logins: 200,
            batch: 500,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut i = 0;
        while i < args.len() {
            let value = || -> u64 {
                args.get(i + 1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("{} needs a number", args[i]))
            };
            match args[i].as_str() {
                "--peers" => s.peers = Some(value() as usize),
                "--window" => s.window = Duration::from_secs(value()),
                "--lookups" => s.lookups = value() as usize,
                "--default-logins" => s.default_logins = value() as usize,
                "--batch" => s.batch = value().max(1) as usize,
                // `cargo bench` passes `--bench`; anything else is ignored too.
                _ => {
                    i += 1;
                    continue;
                }
            }
            i += 2;
        }
        s
    }
}

// ---------------------------------------------------------------- the machine

/// Raises the soft open-file limit to the hard one; returns it.
fn raise_nofile() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            panic!("getrlimit: {}", io::Error::last_os_error());
        }
        r.rlim_cur = r.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
            panic!("setrlimit: {}", io::Error::last_os_error());
        }
    }
    r.rlim_cur
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}, {mem_gib:.0} GiB RAM")
}

/// A tiny deterministic generator for picking look-up targets.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

// ---------------------------------------------------------------- main

fn main() {
    let settings = Settings::parse();
    let limit = raise_nofile();
    let peers = settings
        .peers
        .unwrap_or(limit.saturating_sub(FD_RESERVE) as usize);
    // SAFETY: sysconf has no memory effects.
    let ticks_per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    println!("registry scale: {}", machine());
    println!(
        "open-file limit {limit} (soft raised to hard): {peers} peers; load average {}",
        loadavg()
    );

    // ---- phase 1: the scale run, cheap password hashing.
    let reg = RegistryProc::start("fast");
    println!(
        "registry pid {} on {} (--password-cost fast)",
        reg.pid(),
        reg.addr
    );

    // Reference: look-ups on the idle registry.
    let mut prober = Prober::connect(reg.addr);
    prober.log_in(true);
    let probe = Name::new("probe").unwrap();
    let idle = lat_summary(prober.lookups(settings.lookups, |_| probe.clone()));
    drop(prober);
    std::thread::sleep(Duration::from_millis(200));
    let rss0 = reg.rss_kib();

    let mut swarm = Swarm::new(reg.addr, &[Step::Register, Step::Login]);
    let ramp = Instant::now();
    let mut added = 0;
    while added < peers {
        let n = settings.batch.min(peers - added);
        swarm.add(n, added);
        added += n;
        let ok = swarm.run_until(Duration::from_secs(300), Swarm::settled);
        assert!(ok, "batch up to {added} did not settle");
        if added % 5000 < settings.batch || added == peers {
            println!(
                "  {:>6} online after {:>5.1} s; registry RSS {} KiB; {} busy retries, {} dead",
                swarm.stats.logged_in,
                ramp.elapsed().as_secs_f64(),
                reg.rss_kib(),
                swarm.stats.busy,
                swarm.stats.dead
            );
        }
    }
    let ramp_s = ramp.elapsed().as_secs_f64();
    let scale_login_rate = swarm.stats.logged_in as f64
        / swarm
            .last_login
            .zip(swarm.first_auth)
            .map_or(f64::NAN, |(l, f)| (l - f).as_secs_f64());
    // Let every peer heartbeat once before measuring.
    swarm.run_for(HEARTBEAT + Duration::from_secs(1));
    let online = swarm.alive_logged_in();
    let rss1 = reg.rss_kib();
    let kib_per_peer = (rss1 as f64 - rss0 as f64) / online.max(1) as f64;

    // Steady state: heartbeats only.
    let load_before = loadavg();
    let (c0, hb0, t0) = (reg.cpu_ticks(), swarm.stats.hb_ok, Instant::now());
    swarm.run_for(settings.window);
    let (c1, hb1, window_s) = (
        reg.cpu_ticks(),
        swarm.stats.hb_ok,
        t0.elapsed().as_secs_f64(),
    );
    let cpu_pct = (c1 - c0) as f64 / ticks_per_s / window_s * 100.0;
    let hb_per_s = (hb1 - hb0) as f64 / window_s;
    let load_window = loadavg();

    // Look-ups under load, from another thread while the swarm heartbeats.
    let addr = reg.addr;
    let n_lookups = settings.lookups;
    let names: Vec<Name> = swarm
        .clients
        .iter()
        .filter(|c| c.logged_in && c.state != State::Dead)
        .map(|c| c.name.clone())
        .collect();
    let prober = std::thread::spawn(move || {
        let mut p = Prober::connect(addr);
        p.log_in(false);
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let lat = p.lookups(n_lookups, |_| {
            names[(xorshift(&mut rng) % names.len() as u64) as usize].clone()
        });
        (lat, p.failed)
    });
    swarm.run_until(Duration::from_secs(600), |_| prober.is_finished());
    let (lat, lookup_failures) = prober.join().expect("prober");
    let loaded = lat_summary(lat);
    let still_online = swarm.alive_logged_in();
    let stats = swarm.stats;
    drop(swarm);
    drop(reg);

    // ---- phase 2: the log-in rate at the default cost.
    let reg = RegistryProc::start("default");
    let n = settings.default_logins;
    let mut s = Swarm::new(reg.addr, &[Step::Register]);
    s.add(n, 0);
    let t = Instant::now();
    assert!(s.run_until(Duration::from_secs(600), Swarm::settled));
    let register_rate = s.stats.registered as f64 / t.elapsed().as_secs_f64();
    drop(s);
    let mut s = Swarm::new(reg.addr, &[Step::Login]);
    s.add(n, 0);
    let t = Instant::now();
    assert!(s.run_until(Duration::from_secs(600), Swarm::settled));
    let login_s = t.elapsed().as_secs_f64();
    let default_logins = s.stats.logged_in;
    let login_rate = default_logins as f64 / login_s;
    drop(s);
    drop(reg);

    // ---- report.
    println!();
    println!("| figure | value | target | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| peers online (heartbeating every 10 s) | {online} (still {still_online} after look-ups; {} dead) | 15000 | {:.2} |",
        stats.dead,
        online as f64 / 15000.0
    );
    println!(
        "| registry memory per peer | {kib_per_peer:.2} KiB ({rss0} -> {rss1} KiB RSS) | < 4 KiB | {:.2} |",
        kib_per_peer / 4.0
    );
    println!(
        "| registry CPU, steady state | {cpu_pct:.2} % of one core ({hb_per_s:.0} heartbeats/s, {:.0} s window) | - | - |",
        window_s
    );
    println!(
        "| look-up p50 / p99 / max under load ({} look-ups, {lookup_failures} failed) | {:.0} / {:.0} / {:.0} us | p99 < 1000 us | {:.2} |",
        settings.lookups,
        loaded.0,
        loaded.1,
        loaded.2,
        loaded.1 / 1000.0
    );
    println!(
        "| look-up p50 / p99 / max, idle registry (reference) | {:.0} / {:.0} / {:.0} us | - | loaded/idle p99 {:.2} |",
        idle.0,
        idle.1,
        idle.2,
        loaded.1 / idle.1
    );
    println!(
        "| ramp-up, cheap hash (register + log in) | {ramp_s:.1} s, {scale_login_rate:.0} log-ins/s | - | - |"
    );
    println!(
        "| log-ins per second, default cost | {login_rate:.1}/s ({default_logins} log-ins, <= {AUTH_SLOTS} in flight; registrations {register_rate:.1}/s) | - | - |"
    );
    println!(
        "load average: {load_before} before the CPU window, {load_window} after; now {}",
        loadavg()
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "registry",
            "peers": online,
            "kib_per_peer": (kib_per_peer * 100.0).round() / 100.0,
            "cpu_pct": (cpu_pct * 100.0).round() / 100.0,
            "lookup_p50_us": loaded.0.round(),
            "lookup_p99_us": loaded.1.round(),
            "idle_lookup_p99_us": idle.1.round(),
            "login_per_s_default_cost": (login_rate * 10.0).round() / 10.0,
        })
    );
}
