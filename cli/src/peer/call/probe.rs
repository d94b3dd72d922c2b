//! `--call-probe FILE` (hidden; for the call benchmark only): one line per
//! test-pattern frame, `sent N US` when the sending thread captured frame
//! `N` and `shown N US` when the receiving side finished decoding a frame
//! whose pattern carries `N`, with `US` the wall clock in microseconds.
//! Both peers of a benchmark run on one machine, so the wall clock is the
//! one clock their lines share; a call of seconds does not see it slewed
//! enough to matter. Lines are written as they happen (the benchmark reads
//! the file once the call has ended), from the sending and the decoding
//! threads, never from the driver's loop.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// The probe file, shared by a peer's call threads.
#[derive(Debug, Clone)]
pub struct Probe(Arc<Mutex<File>>);

impl Probe {
    /// Opens `path` for appending (creating it).
    pub fn open(path: &Path) -> io::Result<Self> {
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self(Arc::new(Mutex::new(f))))
    }

    /// The wall clock now, in microseconds since the Unix epoch.
    pub fn now_us() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64)
    }

    /// Writes `what N US` (one `write`, so lines of two threads never mix).
    pub fn mark(&self, what: &str, n: u32, us: u64) {
        let line = format!("{what} {n} {us}\n");
        let mut f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let _ = f.write_all(line.as_bytes());
    }
}
