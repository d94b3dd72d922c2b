//! Faults drawn from the seed, with their rates drawn per seed too (swarm
//! testing: a seed that never partitions explores other interleavings than
//! one that partitions all the time).
//!
//! turmoil's TCP does not retransmit: a dropped segment stalls its stream for
//! good. So message loss is not a knob here (turmoil's `fail_rate` stays 0);
//! it is modelled as the connection faults of [`FaultKind`], which the engines must
//! survive by timing out and reconnecting.

mod injector;
mod plan;
mod relay_mangle;

pub use self::injector::Injector;
pub use self::plan::{FaultKind, FaultLevel, FaultPlan};
pub use self::relay_mangle::RelayMangled;
