//! LAN discovery datagrams (issue 20): the parser and a peer's discovery
//! on arbitrary bytes (see `confab_fuzz::lan`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: confab_fuzz::alloc_guard::init_from_args(),
    |data: &[u8]| confab_fuzz::lan::run(data)
);
