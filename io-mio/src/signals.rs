//! SIGINT and SIGTERM, turned into calls on an ordinary thread, where the
//! caller can stop its drivers ([`crate::DriverHandle::stop`]).

use std::io;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Calls `on_signal` with the signal number each time SIGINT or SIGTERM
/// arrives, from a thread of its own, for the rest of the process.
pub fn on_stop_signal(mut on_signal: impl FnMut(i32) + Send + 'static) -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("confab-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                on_signal(signal);
            }
        })?;
    Ok(())
}
