//! PLANTED BUG (feature `planted-bugs`): `SkipChunk`, a defect the
//! simulator's transfer checkers must catch. Off unless a test switches it
//! on with [`set_skip_chunk`].
//!
//! When on, a [`super::SendTransfer`] skips the read of the second chunk of
//! whatever it streams from the start, advances its offset anyway, and sends
//! that chunk's buffer, never filled (zeros), as if it had been read.
//!
//! The switch is per thread, not per engine: the peer role that builds send
//! transfers (`peer::transfers`) has no hook to hand it down, and the
//! simulator runs every engine of one run on one thread (a run sets it at
//! its start, so runs sharing a thread do not leak it into each other).

use std::cell::Cell;

thread_local! {
    static SKIP_CHUNK: Cell<bool> = const { Cell::new(false) };
}

/// Switches `SkipChunk` on or off for every send transfer on this thread.
pub fn set_skip_chunk(on: bool) {
    SKIP_CHUNK.with(|c| c.set(on));
}

/// Whether the chunk at `offset` is the one `SkipChunk` skips.
pub(crate) fn skips(offset: u64, chunk: u64) -> bool {
    offset == chunk && SKIP_CHUNK.with(Cell::get)
}
