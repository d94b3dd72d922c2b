//! Shared pieces of confab's fuzz targets.
//!
//! - [`alloc_guard`]: a global allocator that turns any single allocation past
//!   a limit into a crash, so "allocates past the frame limit" is a finding even
//!   without a sanitizer (libFuzzer's own `-malloc_limit_mb` needs one).
//! - [`generate`]: `arbitrary` generator types that always build a *valid*
//!   [`Message`](confab_engine::wire::Message), so the engine targets reach past
//!   the decoder; and [`samples`]: one fixed message of every kind, for the
//!   seed corpus and the dictionary.
//! - [`check`]: invariants every decoded message and every frame must satisfy.
//! - [`datagram`]: call datagrams, hostile and authenticated, through the
//!   parser, the replay window and the jitter buffer.
//! - [`handshake`]: two encrypted channels and an attacker between them.
//! - [`ops`] and [`driver`]: an engine-agnostic operation script and the driver
//!   that plays it against any [`Engine`](confab_engine::Engine), checking the
//!   driver-visible invariants (the file contract included), playing the
//!   far end of every connection through an encrypted channel of its own
//!   ([`remote`]); [`registry`] and [`peer`] plug the two roles into it.

pub mod alloc_guard;
pub mod check;
pub mod datagram;
pub mod driver;
pub mod generate;
pub mod handshake;
pub mod lan;
pub mod ops;
pub mod peer;
pub mod registry;
pub mod remote;
pub mod samples;

/// Every allocation made by a target goes through the guard.
#[global_allocator]
static GLOBAL: alloc_guard::GuardAlloc = alloc_guard::GuardAlloc;
