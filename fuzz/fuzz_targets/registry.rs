//! The registry engine driven by an arbitrary operation script: connections
//! accepted and closed, raw bytes and well-formed generated messages arriving
//! split anywhere, password jobs answered (or failed) in any order, time
//! passing, shutdown and crash-restart. See `confab_fuzz::driver` for the
//! checks every engine gets and `confab_fuzz::registry` for the registry's own.
#![no_main]

use confab_engine::Registry;
use confab_fuzz::{driver, ops};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: confab_fuzz::alloc_guard::init_from_args(),
    |data: &[u8]| {
        driver::run::<Registry>(&ops::parse(data));
    }
);
