//! A global allocator that crashes on any single allocation over a limit.
//!
//! libFuzzer's `-malloc_limit_mb` only works through sanitizer malloc hooks, so
//! with `cargo fuzz run -s none` (the only mode on a stable toolchain) it is
//! silently ignored. This allocator enforces the same flag itself: at start-up
//! [`init_from_args`] reads `-malloc_limit_mb=N` from the command line, and an
//! allocation or reallocation of more than N MiB prints its size and aborts,
//! which libFuzzer reports as a crash and saves as an artifact.
//!
//! Without the flag the limit is [`DEFAULT_LIMIT`]: a small multiple of the
//! frame limit. Nothing in confab needs one buffer larger than a frame (the
//! deframer reserves at most one frame; encoding builds one frame), so an
//! allocation past that is a hostile length prefix getting through.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use confab_engine::limits::MAX_FRAME_LEN;

/// Largest single allocation allowed when no `-malloc_limit_mb` is given: four
/// frames' worth (about 4.25 MiB), leaving room for a `Vec` doubling past one
/// frame but not for anything proportional to a length a peer claims.
pub const DEFAULT_LIMIT: usize = 4 * MAX_FRAME_LEN;

static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_LIMIT);

/// The allocator; see the module documentation.
pub struct GuardAlloc;

/// Sets the limit from `-malloc_limit_mb=N` (N > 0) on the command line, as
/// libFuzzer spells it. Call once from the target's `init`.
pub fn init_from_args() {
    let flag = std::env::args()
        .filter_map(|a| a.strip_prefix("-malloc_limit_mb=").map(str::to_owned))
        .filter_map(|v| v.parse::<usize>().ok())
        .next_back();
    if let Some(mb) = flag.filter(|&mb| mb > 0) {
        LIMIT.store(mb << 20, Ordering::Relaxed);
    }
}

/// The limit in force, in bytes.
pub fn limit() -> usize {
    LIMIT.load(Ordering::Relaxed)
}

#[inline]
fn check(size: usize) {
    // Once a check has failed, reporting it (formatting, symbolising the
    // backtrace) may allocate a lot; that is not a finding of its own.
    if size > LIMIT.load(Ordering::Relaxed) && !std::thread::panicking() {
        over_limit(size);
    }
}

#[cold]
fn over_limit(size: usize) -> ! {
    // Inside the allocator: format without allocating, then abort (unwinding
    // out of an allocator is not allowed). libFuzzer catches SIGABRT.
    let mut buf = [0u8; 256];
    let mut w = &mut buf[..];
    let _ = writeln!(
        w,
        "==confab-fuzz== out-of-memory: one allocation of {size} bytes, over the \
         limit of {} bytes (-malloc_limit_mb)",
        LIMIT.load(Ordering::Relaxed)
    );
    let used = 256 - w.len();
    let _ = std::io::stderr().write_all(&buf[..used]);
    std::process::abort();
}

// SAFETY: every method forwards to `System` unchanged after a size check that
// either returns or aborts; no memory is touched.
unsafe impl GlobalAlloc for GuardAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
