//! Many seeds at once: each run is confined to one thread (turmoil and its
//! tokio runtimes are thread-local), so seeds spread over `jobs` threads
//! without changing any run. Outcomes are reported as they finish.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::{Outcome, SimConfig, run};

/// Runs every seed of `seeds` on `jobs` threads, calling `each` on the
/// calling thread as runs finish; returns the outcomes in seed order.
pub fn run_many(
    seeds: &[u64],
    config: &SimConfig,
    jobs: usize,
    mut each: impl FnMut(&Outcome),
) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    let mut outcomes = std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, seeds.len().max(1)) {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&seed) = seeds.get(i) else { return };
                    if tx.send(run(seed, config)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut outcomes = Vec::with_capacity(seeds.len());
        for outcome in rx {
            each(&outcome);
            outcomes.push(outcome);
        }
        outcomes
    });
    outcomes.sort_by_key(|o| o.seed);
    outcomes
}
