//! A deterministic, in-memory world for testing engines against each other
//! (feature `testing`; never in production builds). Drives engines only
//! through their public API.
//!
//! [`World`] holds several hosts, each running one engine behind the [`Node`]
//! interface, and plays the driver for all of them: it carries bytes between
//! connections with latency (split at random byte boundaries, in order per
//! direction), runs password work, keeps each host's persisted records, and
//! advances a virtual clock straight to the next delivery or deadline, so a
//! minute of protocol time costs microseconds. Faults are explicit calls:
//! [`World::cut`] drops the connections between two hosts, [`World::partition`]
//! keeps them apart, [`World::crash`] and [`World::restart`] take a host down
//! and bring it back from its records. [`World::crash_silently`] and
//! [`World::cut_quietly`] are the same faults with the news lost: the other
//! side keeps a half-open connection, as after a crash whose FIN never
//! arrived.
//!
//! Everything random is drawn from the world's seed, so a failing test replays
//! exactly. [`ScriptClient`] is a node the test drives by hand, message by
//! message: the way to speak to an engine as a well-behaved or hostile remote.
//! [`Pair`] is the small harness of the transfer sub-machines alone: one
//! sender and one receiver joined by a link, without the peer role.
//! [`AnnouncementForger`] is the LAN tests' forger of announcements, shared
//! by the engine's swarm test and the simulator's attacker.

pub mod files;
mod forge;
mod node;
pub mod pair;
mod script;
mod wall;
mod world;

pub use files::{FileAnswer, MemFile, MemFiles, Planted, random_bytes};
pub use forge::AnnouncementForger;
pub use node::{AnyEvent, Node};
pub use pair::{Pair, PairConfig};
pub use script::{ScriptClient, ScriptCommand, ScriptEvent, ScriptIdentity};
pub use wall::wall_ms_since;
pub use world::{HostId, World, WorldConfig};
