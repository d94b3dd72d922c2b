//! The peer engine driven by an arbitrary operation script: connections
//! accepted and dialed, raw bytes and well-formed generated messages (peer
//! and transfer messages included) split anywhere, the registry's and the
//! remotes' answers played by the driver, commands, file work answered
//! (correctly, short, corrupted or failed) in any order, time passing, closes,
//! crash and restart. See `confab_fuzz::driver` for the checks every engine
//! gets and `confab_fuzz::peer` for the peer's own.
#![no_main]

use confab_engine::Peer;
use confab_fuzz::{driver, ops};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: confab_fuzz::alloc_guard::init_from_args(),
    |data: &[u8]| {
        driver::run::<Peer>(&ops::parse(data));
    }
);
