//! `confab-sim`: runs confab engines under turmoil with faults, from seeds.
//!
//! `--seed S` runs one seed and prints its report, ending with `trace <hash>`;
//! `--seeds N` runs N seeds from `--seed-base` (default: derived from the
//! clock, and printed). A failure prints the seed, what broke, and the exact
//! command that replays it, and the exit status is 1.

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use confab_sim::faults::FaultLevel;
use confab_sim::{SimConfig, run, run_many};

#[derive(Parser, Debug)]
#[command(
    name = "confab-sim",
    about = "Runs confab engines under turmoil with network faults, deterministically from a seed."
)]
struct Args {
    /// Run this one seed and print its full report.
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run this many seeds.
    #[arg(long)]
    seeds: Option<u64>,
    /// The first seed of `--seeds` (default: from the clock, printed).
    #[arg(long)]
    seed_base: Option<u64>,
    /// How many peers.
    #[arg(long, default_value_t = 10)]
    peers: usize,
    /// How many scripted registry clients, as extra load on the registry.
    #[arg(long, default_value_t = 2)]
    clients: usize,
    /// Seconds of simulated time with faults.
    #[arg(long, default_value_t = 60.0)]
    duration: f64,
    /// Seconds of simulated time to heal and settle before liveness checks
    /// (default 30; 40 with `--lan`, longer than the LAN liveness bound, so
    /// peers the heal starts again are judged too).
    #[arg(long)]
    heal: Option<f64>,
    /// none, light, heavy, swarm, or the probability each kind of fault is on.
    #[arg(long, default_value = "swarm")]
    faults: FaultLevel,
    /// turmoil's tick, in milliseconds: how far simulated time moves per step
    /// (messages are delivered at tick boundaries; timers fire exactly).
    #[arg(long, default_value_t = 5)]
    tick_ms: u64,
    /// Threads for `--seeds` (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Accepted so old replay commands still work; does nothing: every
    /// loss fails a run (there are no tolerated known bugs any more).
    #[arg(long = "strict", hide = true)]
    _strict: bool,
    /// Print every trace line (with `--seed`).
    #[arg(long)]
    trace: bool,
    /// Offer files under other names than they are shared under, each to
    /// each peer at most once, so no two downloads of one name ever meet
    /// (the default offers them under their shared names, again and again).
    #[arg(long)]
    distinct_names: bool,
    /// Accepted so old replay commands still work; does nothing: same
    /// names are the default now that the engine keeps such downloads
    /// apart.
    #[arg(long = "same-names", hide = true)]
    _same_names: bool,
    /// `on`: every run has an attacker host (replays, garbage, stalled
    /// handshakes, false names); `off`: none. Default: drawn per seed with
    /// the other faults.
    #[arg(long, value_parser = on_off)]
    attacker: Option<bool>,
    /// `on`: the registry mangles relayed data every few seconds, for a
    /// while each time; `off`: never. Default: drawn per seed with the
    /// other faults.
    #[arg(long, value_parser = on_off)]
    relay_fault: Option<bool>,
    /// Place no video calls (the workload places a few per run by default;
    /// for replaying seeds found before it did).
    #[arg(long)]
    no_calls: bool,
    /// A LAN run (issue 20): no registry the whole run; peers on broadcast
    /// segments joined by a few peers find each other by discovery and
    /// exchange and run the same workload (chats, groups, files, calls);
    /// an attacker forges and replays announcements.
    #[arg(long)]
    lan: bool,
    /// A hybrid run (issue 20, item 5): the ordinary world (registry,
    /// scripted clients, every fault and checker) plus the LAN's segments
    /// and discovery on every peer; the registry goes away for 3 to 12 s
    /// at a time while chats, groups and transfers run (the first outage
    /// a crash between 5 s and half the faulty phase; later ones a crash,
    /// silent or not, or a partition away from every host), so look-ups
    /// and dials move to what was heard on the LAN and back, and peers log
    /// in again on their own. Judged by every checker, plus `lan-safety`
    /// and `lan-fallback` (a `/who` with no registry session is answered
    /// from the LAN at once).
    #[arg(long, conflicts_with = "lan")]
    hybrid: bool,
}

fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{s:?}: use on or off")),
    }
}

/// `println!` that ends the program quietly when stdout is gone (the
/// report piped to `head`, say), as a shell tool would on `SIGPIPE`,
/// instead of panicking mid-report.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(141);
        }
    }};
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !confab_sim::deterministic() {
        eprintln!(
            "warning: built without --cfg tokio_unstable; runs will not replay exactly \
             (build from the workspace, whose .cargo/config.toml sets it)"
        );
    }
    let config = SimConfig {
        peers: args.peers,
        clients: args.clients,
        duration: Duration::from_secs_f64(args.duration),
        heal: Duration::from_secs_f64(args.heal.unwrap_or(if args.lan { 40.0 } else { 30.0 })),
        faults: args.faults,
        tick: Duration::from_millis(args.tick_ms.max(1)),
        keep_trace: args.trace && args.seed.is_some(),
        same_names: !args.distinct_names,
        attacker: args.attacker,
        relay_fault: args.relay_fault,
        calls: !args.no_calls,
        lan: args.lan,
        hybrid: args.hybrid,
        ..SimConfig::default()
    };
    match (args.seed, args.seeds) {
        (Some(seed), _) => one(seed, &config),
        (None, n) => many(n.unwrap_or(1), args.seed_base, args.jobs, &config),
    }
}

fn one(seed: u64, config: &SimConfig) -> ExitCode {
    let outcome = run(seed, config);
    if let Some(lines) = &outcome.full_trace {
        for line in lines {
            out!("{line}");
        }
    }
    out!("{outcome}");
    if outcome.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn many(n: u64, base: Option<u64>, jobs: Option<usize>, config: &SimConfig) -> ExitCode {
    let base = base.unwrap_or_else(|| {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        (t.as_secs() % 1_000_000) * 1000
    });
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    out!(
        "confab-sim: {n} seeds from --seed-base {base} on {jobs} threads, {} peers, \
         {} s + {} s heal, faults {}",
        config.peers,
        config.duration.as_secs_f64(),
        config.heal.as_secs_f64(),
        config.faults
    );
    let wall = Instant::now();
    let seeds: Vec<u64> = (base..base.saturating_add(n)).collect();
    let outcomes = run_many(&seeds, config, jobs, |outcome| {
        out!("{}", outcome.line());
        if let Some(report) = outcome.failure_report() {
            print!("{report}");
        }
    });
    let wall = wall.elapsed().as_secs_f64();
    let sim_time: f64 = outcomes.iter().map(|o| o.sim_time.as_secs_f64()).sum();
    let failed: Vec<u64> = outcomes
        .iter()
        .filter(|o| !o.ok())
        .map(|o| o.seed)
        .collect();
    out!(
        "{n} seeds, {} failed, {:.1} s wall: {:.2} seeds per second, {:.1} sim-s per wall-s",
        failed.len(),
        wall,
        n as f64 / wall.max(1e-9),
        sim_time / wall.max(1e-9)
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        out!("failed seeds: {failed:?}");
        for seed in &failed {
            out!("replay: {}", config.replay_command(*seed));
        }
        ExitCode::FAILURE
    }
}
