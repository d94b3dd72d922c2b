//! File transfer sub-machines, for the peer role to embed.
//!
//! A [`SendTransfer`] and a [`ReceiveTransfer`] each move one file, or one
//! folder of files, between two peers. They speak
//! [`crate::wire::TransferMessage`]s over whatever connection
//! their owner gives them, ask their owner for file I/O with the file outputs
//! of [`crate::Output`] (see "Files" in [`crate::api`]), and report
//! [`TransferEvent`]s. Like quinn-proto's connections inside its endpoint they
//! never do I/O and never read a clock:
//!
//! | in | out |
//! |---|---|
//! | `handle_message(now, msg)` — a message with this transfer's key | `poll_message()` — messages for the current connection |
//! | `handle_input(now, input)` — a file answer naming this [`crate::TransferId`] | `poll_output()` — file outputs, `Persist`/`Forget`, `Event(TransferEvent)` |
//! | `handle_connected(now)` / `handle_disconnected(now)` | `poll_timeout()` |
//! | `handle_timeout(now)`, `cancel(now)`, and for a receiver `accept`/`decline` | `is_over()`, `status()` |
//!
//! **How the peer embeds them.** It keeps one map from (remote name,
//! [`TransferKey`]) to its local `TransferId`, and one from `TransferId` to
//! the sub-machine. A `Message::Transfer` from a peer goes to the sub-machine
//! of (that peer, `msg.key()`); if none exists and
//! [`TransferMessage::starts_transfer`](crate::wire::TransferMessage::starts_transfer),
//! it makes one ([`SendTransfer::fetch`] for `Get`, [`ReceiveTransfer::offered`]
//! for `Offer`); otherwise it answers `Cancel { key, "unknown transfer" }`. A
//! `Get` or `Offer` for an existing key goes to the existing sub-machine (a
//! fetch resumes by asking again). File inputs go by their `transfer` field.
//! When a connection to the peer is up it calls `handle_connected` on each of
//! that peer's transfers, and `handle_disconnected` when it drops; a receiver
//! that is not over wants a connection (the peer should reconnect to its
//! sender, with its usual backoff). After a restart it rebuilds each
//! [`TransferRecord`] it is given with `restore`. Once `is_over()`, the
//! sub-machine has said everything (drain it first) and can be dropped.
//!
//! **Fairness.** A sub-machine only hands out `Chunk` messages while fewer
//! than `window` chunks are unacknowledged, so draining `poll_message` never
//! yields more than one window of data ahead of anything else. The peer
//! should, after each input, drain every transfer's messages and its chat
//! messages onto the connection in the order produced: a chat message then
//! waits behind at most one window per transfer sharing that connection
//! (with the defaults, 16 × 64 KiB = 1 MiB: about 10 ms at 1 Gb/s).
//!
//! **Window and chunk defaults** ([`crate::limits::DEFAULT_WINDOW`] = 16,
//! [`crate::limits::DEFAULT_CHUNK_LEN`] = 64 KiB) were chosen by running the
//! transfer pair over a 1 Gb/s link at one-way latencies of 0.05 to 10 ms
//! (`tests/all/transfer_window.rs` prints the table; steady-state MB/s):
//!
//! ```text
//! chunk window chat-wait  0.05ms 0.25ms  1ms  2.5ms  5ms  10ms
//!  64K     4     2.1 ms    124.9  124.9  99.9  46.6 24.7  12.7
//!  64K     8     4.2 ms    124.9  124.9 124.9  93.2 49.3  25.4
//!  64K    16     8.4 ms    124.9  124.9 124.9 124.9 98.7  50.8
//!  64K    32    16.8 ms    124.9  124.9 124.9 124.9 124.9 101.7
//! 256K    16    33.6 ms    125.0  125.0 125.0 125.0 125.0 125.0
//! ```
//!
//! Throughput is bounded by window × chunk / RTT, and a chat message waits
//! behind at most one window at link rate. 16 × 64 KiB is the smallest window
//! that fills the link up to 5 ms RTT (any wired LAN, most Wi-Fi) while a
//! transfer holds at most 1 MiB in flight and delays chat by at most 8.4 ms;
//! larger chunks buy nothing on a LAN and lengthen that wait.

mod config;
pub mod folder;
pub mod index;
pub mod offer;
mod outbox;
pub mod progress;
pub mod receive;
mod rehash;
pub mod send;
pub mod status;
mod window;

use std::time::Instant;

use crate::api::{Output, TransferId};
pub use crate::record::transfer::{HashCheckpoint, KeptRecord, Origin, SavedSide, TransferRecord};
use crate::wire::Name;
use crate::wire::transfer::{TransferKey, TransferMessage};
pub use status::{Direction, TransferStatus};

pub use config::TransferConfig;
pub use outbox::TransferEvent;
pub use receive::ReceiveTransfer;
pub use send::SendTransfer;

/// The calls both sides share, so an owner (the peer, a test pump) can
/// drive either through one interface. Each forwards to the inherent method
/// of the same name.
pub trait TransferMachine {
    /// Its local id.
    fn id(&self) -> TransferId;
    /// Its key on the wire.
    fn key(&self) -> TransferKey;
    /// The other peer.
    fn peer(&self) -> &Name;
    /// A message with this transfer's key from the other peer.
    fn handle_message(&mut self, now: Instant, msg: TransferMessage);
    /// A file answer naming this transfer.
    fn handle_input(&mut self, now: Instant, input: crate::api::Input<'_>);
    /// A connection to the other peer is up.
    fn handle_connected(&mut self, now: Instant);
    /// The connection to the other peer is gone.
    fn handle_disconnected(&mut self, now: Instant);
    /// Runs timers due at `now`.
    fn handle_timeout(&mut self, now: Instant);
    /// The user cancels.
    fn cancel(&mut self, now: Instant);
    /// The next file output, record or event.
    fn poll_output(&mut self) -> Option<Output<TransferEvent>>;
    /// The next message for the other peer.
    fn poll_message(&mut self) -> Option<TransferMessage>;
    /// When `handle_timeout` should next be called.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Whether it has ended.
    fn is_over(&self) -> bool;
    /// Whether it needs a connection to the other peer (the owner should
    /// keep reconnecting, with backoff, while this holds).
    fn wants_connection(&self) -> bool;
    /// What `/transfers` shows.
    fn status(&self) -> TransferStatus;
}

macro_rules! forward_machine {
    ($t:ty) => {
        impl TransferMachine for $t {
            fn id(&self) -> TransferId {
                <$t>::id(self)
            }
            fn key(&self) -> TransferKey {
                <$t>::key(self)
            }
            fn peer(&self) -> &Name {
                <$t>::peer(self)
            }
            fn handle_message(&mut self, now: Instant, msg: TransferMessage) {
                <$t>::handle_message(self, now, msg)
            }
            fn handle_input(&mut self, now: Instant, input: crate::api::Input<'_>) {
                <$t>::handle_input(self, now, input)
            }
            fn handle_connected(&mut self, now: Instant) {
                <$t>::handle_connected(self, now)
            }
            fn handle_disconnected(&mut self, now: Instant) {
                <$t>::handle_disconnected(self, now)
            }
            fn handle_timeout(&mut self, now: Instant) {
                <$t>::handle_timeout(self, now)
            }
            fn cancel(&mut self, now: Instant) {
                <$t>::cancel(self, now)
            }
            fn poll_output(&mut self) -> Option<Output<TransferEvent>> {
                <$t>::poll_output(self)
            }
            fn poll_message(&mut self) -> Option<TransferMessage> {
                <$t>::poll_message(self)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$t>::poll_timeout(self)
            }
            fn is_over(&self) -> bool {
                <$t>::is_over(self)
            }
            fn wants_connection(&self) -> bool {
                <$t>::wants_connection(self)
            }
            fn status(&self) -> TransferStatus {
                <$t>::status(self)
            }
        }
    };
}

forward_machine!(SendTransfer);
forward_machine!(ReceiveTransfer);
