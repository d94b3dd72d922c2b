//! `wire::decode` on arbitrary frame bodies.
//!
//! Whatever decodes must respect every limit, and must survive the round trip:
//! encoding it gives a frame within the frame limit that decodes to an equal
//! message, and encoding is a fixed point after one step (decode(encode(m))
//! encodes to the same bytes), so there is one canonical form per message.
//! Whatever does not decode must fail with an error, never a panic.
#![no_main]

use confab_engine::limits::MAX_FRAME_LEN;
use confab_engine::wire::{decode, encode};
use confab_fuzz::check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: confab_fuzz::alloc_guard::init_from_args(),
    |body: &[u8]| {
        // The deframer never hands decode more than a frame's worth.
        if body.len() > MAX_FRAME_LEN {
            return;
        }
        let Ok(msg) = decode(body) else {
            return;
        };
        check::limits(&msg);
        let frame = check::round_trip(&msg);
        let again = decode(&frame[4..]).expect("checked by round_trip");
        assert_eq!(encode(&again), frame, "encoding is not canonical");
    }
);
