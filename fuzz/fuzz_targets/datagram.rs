//! Call datagrams: the parser, the opener and the jitter buffer on
//! arbitrary bytes (see `confab_fuzz::datagram`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: confab_fuzz::alloc_guard::init_from_args(),
    |data: &[u8]| confab_fuzz::datagram::run(data)
);
