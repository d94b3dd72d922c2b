//! One simulated run from a seed: build the hosts, run the faulty phase with
//! the workload and the fault injector, heal, settle, check liveness. A LAN
//! run (`--lan`) is the same loop over a world configured by `crate::lan`,
//! a hybrid run (`--hybrid`) over one configured by both (`crate::hybrid`).
//!
//! Everything random is drawn from the seed, in a fixed order: turmoil's seed
//! (which seeds each host's tokio runtime under `--cfg tokio_unstable`), the
//! network's latency range, the workload, the fault plan and injector, each
//! host's engine seeds. The run loop acts only between turmoil steps, reads
//! engines only there, and records everything in the journal, whose lines
//! make the trace hash.

pub mod batch;
pub mod config;
pub mod keys;
mod report;
pub mod stats;
pub mod world;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

pub use self::config::SimConfig;
pub use self::report::Outcome;
use self::stats::Stats;
use self::world::World;
use crate::checkers::stalls::Stalls;
use crate::checkers::transfers::Transfers;
use crate::checkers::{Checkers, Violation};
use crate::trace::Trace;

/// Runs `seed` shaped by `config`. A panic anywhere (engine, driver,
/// simulator) is caught and reported as the run's failure.
pub fn run(seed: u64, config: &SimConfig) -> Outcome {
    let wall = Instant::now();
    let mut trace = Trace::new(config.keep_trace);
    let mut stats = Stats::default();
    let mut describe = String::new();
    let mut sim_time = Duration::ZERO;
    let result = catch_unwind(AssertUnwindSafe(|| {
        run_inner(
            seed,
            config,
            &mut trace,
            &mut stats,
            &mut describe,
            &mut sim_time,
        )
    }));
    let failure = match result {
        Ok(r) => r.err(),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            Some(Violation {
                checker: "panic",
                at: sim_time,
                what: msg,
            })
        }
    };
    Outcome {
        seed,
        config: config.clone(),
        describe,
        stats,
        sim_time,
        wall: wall.elapsed(),
        trace_hash: trace.hash(),
        trace_lines: trace.len(),
        tail: trace.tail().map(str::to_owned).collect(),
        full_trace: trace.full().map(<[String]>::to_vec),
        failure,
    }
}

fn run_inner(
    seed: u64,
    config: &SimConfig,
    trace: &mut Trace,
    stats: &mut Stats,
    describe: &mut String,
    sim_time: &mut Duration,
) -> Result<(), Violation> {
    let mut world = World::build(seed, config);
    *describe = world.describe();
    trace.line(format!("seed {seed} {describe}"));
    let mut checkers = Checkers::for_run(
        config.peers,
        world.sources.clone(),
        world.attacker_name(),
        !config.lan,
    );
    for c in world.lan.iter().flat_map(|lan| lan.checkers()) {
        checkers.push(c);
    }
    checkers.push(Box::new(Transfers::new(world.sources.clone())));
    checkers.push(Box::new(Stalls::new(
        config.peers,
        self::config::stall_deadline(),
    )));
    let heal_at = config.duration;
    let end = config.duration + config.heal;
    let mut healed = false;
    loop {
        let now = world.sim.elapsed();
        *sim_time = now;
        if now >= end {
            break;
        }
        if !healed && now >= heal_at {
            healed = true;
            world.heal(now);
            trace.line(format!("{:>12} heal", now.as_micros()));
        }
        world.act(now, healed);
        if let Err(e) = world.sim.step() {
            return Err(Violation {
                checker: "host",
                at: world.sim.elapsed(),
                what: format!("a host's software failed: {e}"),
            });
        }
        let observed = world.journal.drain();
        for obs in &observed {
            world.observe(obs);
        }
        let view = world.view();
        for obs in &observed {
            trace.record(obs);
            stats.count(obs);
            checkers.observe(obs, &view)?;
        }
        checkers.after_step(&view)?;
    }
    stats.faults = world.injector.counts().clone();
    stats.relay_mangled = world.injector.relay_mangled();
    let view = world.view();
    checkers.at_end(&view)
}
