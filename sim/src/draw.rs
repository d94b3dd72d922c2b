//! Drawing from the seed: the run loop's helpers over the engine's seeded
//! [`Rng`] (ChaCha8), so the simulator has no other source of randomness.

use std::time::Duration;

pub use confab_engine::rng::Rng;

/// A number in `[0, 1)`.
pub fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// True with probability `p`.
pub fn chance(rng: &mut Rng, p: f64) -> bool {
    unit(rng) < p
}

/// A number in `lo..=hi`.
pub fn between(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
    lo + rng.below(hi - lo + 1)
}

/// A duration between `lo` and `hi`, uniform in its logarithm (short ones as
/// likely as long ones, per order of magnitude).
pub fn log_uniform(rng: &mut Rng, lo: Duration, hi: Duration) -> Duration {
    let (lo, hi) = (lo.as_secs_f64().max(1e-6), hi.as_secs_f64().max(1e-6));
    let x = lo * (hi / lo).powf(unit(rng));
    Duration::from_micros((x * 1e6) as u64)
}

/// An exponentially distributed wait with this mean (a Poisson process).
pub fn exponential(rng: &mut Rng, mean: Duration) -> Duration {
    let u = 1.0 - unit(rng); // (0, 1]
    Duration::from_micros((-u.ln() * mean.as_secs_f64() * 1e6) as u64)
}

/// One of `items`, by `weights` (all zero: the first).
pub fn weighted<T: Copy>(rng: &mut Rng, items: &[(T, u32)]) -> T {
    let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
    if total == 0 {
        return items[0].0;
    }
    let mut x = rng.below(total);
    for (item, w) in items {
        if x < u64::from(*w) {
            return *item;
        }
        x -= u64::from(*w);
    }
    items[items.len() - 1].0
}
