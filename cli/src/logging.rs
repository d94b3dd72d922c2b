//! Logs: tracing to standard error, quiet (warnings and errors) unless
//! `RUST_LOG` asks for more, e.g. `RUST_LOG=debug` or `RUST_LOG=confab_mio=trace`.
//! Standard output is kept for what the program says to its user. While the
//! full-screen interface owns the terminal, a log line on standard error
//! would tear it: [`divert`] sends them to a file instead.

use std::io::Write;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Where logs go once diverted; standard error until then.
static DIVERTED: Mutex<Option<std::fs::File>> = Mutex::new(None);

/// Installs the subscriber. Call once, first thing.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Logs)
        .with_target(false)
        .init();
}

/// From now on, logs are appended to `file` instead of standard error.
pub fn divert(file: std::fs::File) {
    *DIVERTED.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
}

/// Standard error, or the diverted file.
struct Logs;

/// One log record's writer.
struct Log;

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Log;
    fn make_writer(&'a self) -> Log {
        Log
    }
}

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match DIVERTED.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            Some(file) => file.write(buf),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match DIVERTED.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            Some(file) => file.flush(),
            None => std::io::stderr().flush(),
        }
    }
}
