//! confab-sim: many confab engines under turmoil, with faults, checkers, and
//! replay by seed.
//!
//! A run ([`run::run`]) builds a turmoil simulation whose hosts each run one
//! engine through the [`driver`] (the registry, the peers, a few scripted
//! registry [`client`]s as extra load on the registry, and in some seeds an
//! [`attacker`]), drives them with a [`workload`] and [`faults`] drawn from
//! the seed, then heals the
//! network and lets it settle. [`checkers`] judge it throughout (safety) and
//! at the end (liveness). Every [`observe::Observation`] goes into the
//! [`trace`], whose hash proves a replay is the same run. A [`lan`] run
//! (`--lan`) has no registry: peers on broadcast segments find each other
//! and run the same workload, in the same world and loop.
//!
//! Determinism: the same seed gives the same run byte for byte. All
//! randomness comes from the seed ([`draw`]); turmoil seeds each host's tokio
//! runtime (this needs `--cfg tokio_unstable`, set in the workspace's
//! `.cargo/config.toml`); selects are `biased`; no unordered map is iterated.

pub mod attacker;
pub mod checkers;
pub mod client;
pub mod clock;
pub mod draw;
pub mod driver;
pub mod faults;
pub mod files;
pub mod hybrid;
pub mod lan;
pub mod observe;
pub mod peerview;
pub mod run;
pub mod secure_link;
pub mod store;
pub mod trace;
pub mod workload;

pub use run::batch::run_many;
pub use run::{Outcome, SimConfig, run};

/// Whether this build seeds tokio from turmoil (built with `--cfg
/// tokio_unstable`); without it runs are not reproducible.
pub fn deterministic() -> bool {
    cfg!(tokio_unstable)
}
