//! The encrypted channel (`confab_engine::secure::Channel`) on its own: an
//! initiator and a responder (a peer and its registry, or two peers, one of
//! them perhaps forged) and an attacker between them who injects raw bytes,
//! flips bits, drops, reorders, duplicates and truncates what they send, or
//! replays a recorded earlier session. See `confab_fuzz::handshake` for the
//! script and the invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: confab_fuzz::alloc_guard::init_from_args(),
    |data: &[u8]| {
        confab_fuzz::handshake::run(data);
    }
);
