//! The engine's integration tests of the registry, the transfer machines and
//! the wire format, in one binary: a change to the engine links this one
//! executable instead of a dozen. Each module is a former test file,
//! unchanged but for where it finds the shared support; filter by its name,
//! as in `cargo test -p confab-engine --test all transfer_window -- --nocapture`.
//!
//! Still binaries of their own: `wire_alloc` (it installs a counting global
//! allocator that other tests would disturb) and the `peer_*` tests (each
//! declares its own copy of `peer_support`).

#[path = "../common/mod.rs"]
mod common;
#[path = "../peer_support/mod.rs"]
mod peer_support;
#[path = "../peer_transfer_support/mod.rs"]
mod peer_transfer_support;

mod registry_props;
mod registry_scenarios;
mod sans_io;
mod transfer_big;
mod transfer_faults;
mod transfer_fetch;
mod transfer_finish;
mod transfer_give_up;
mod transfer_hostile;
mod transfer_props;
mod transfer_window;
mod wire_props;
