//! Logs: tracing to standard error, quiet (warnings and errors) unless
//! `RUST_LOG` asks for more, e.g. `RUST_LOG=debug` or `RUST_LOG=confab_mio=trace`.
//! Standard output is kept for what the program says to its user.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber. Call once, first thing.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
