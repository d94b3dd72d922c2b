//! [`DriverHandle`]: how other threads (standard input, signal handlers, a
//! second driver) talk to a running [`crate::Driver`] without blocking it.
//!
//! Commands travel through a bounded channel, so a fast producer (a script
//! piping thousands of lines) is slowed to the loop's pace instead of filling
//! memory; a stop request is a flag, so a signal handler never waits. Both wake
//! the loop through its `mio::Waker`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

use mio::Waker;

/// Commands that may wait in the channel before the loop takes them.
pub const COMMAND_QUEUE: usize = 256;

/// The driver has ended and takes no more commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverGone;

impl std::fmt::Display for DriverGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the event loop has ended")
    }
}

impl std::error::Error for DriverGone {}

/// A cloneable, thread-safe handle to a driver.
#[derive(Debug)]
pub struct DriverHandle<C> {
    pub(crate) commands: SyncSender<C>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) waker: Arc<Waker>,
}

impl<C> Clone for DriverHandle<C> {
    fn clone(&self) -> Self {
        Self {
            commands: self.commands.clone(),
            stop: self.stop.clone(),
            waker: self.waker.clone(),
        }
    }
}

impl<C> DriverHandle<C> {
    /// Hands a command to the engine; waits while the channel is full.
    pub fn command(&self, cmd: C) -> Result<(), DriverGone> {
        self.commands.send(cmd).map_err(|_| DriverGone)?;
        self.waker.wake().map_err(|_| DriverGone)
    }

    /// Asks the driver to wind down: the engine gets its stop command
    /// ([`crate::Stoppable`]), then the loop ends once connections are closed
    /// and flushed, or the linger time has passed. Never blocks.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
    }
}
