//! Stopping on Ctrl-C: what both roles (`registry`, `peer`) do with SIGINT
//! and SIGTERM. Touches only the process's signal handling.

use crate::fail::Fail;

/// Calls `stop` on the first SIGINT or SIGTERM; a second one ends the process
/// at once (status 130), for when a clean stop takes too long, after
/// `before_exit` (the full-screen interface gives the terminal back there).
pub fn stop_on_signals(stop: impl Fn() + Send + 'static, before_exit: fn()) -> Result<(), Fail> {
    let mut seen = false;
    confab_mio::on_stop_signal(move |signal| {
        if seen {
            before_exit();
            eprintln!("confab: second signal {signal}; leaving now");
            std::process::exit(130);
        }
        seen = true;
        stop();
    })
    .map_err(|e| Fail(format!("cannot watch for Ctrl-C: {e}")))
}
