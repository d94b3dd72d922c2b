//! Support for end-to-end tests of the real `confab` binary on 127.0.0.1.
//!
//! The harness itself ([`Proc`], [`Net`]) is in `proc.rs`, shared with the
//! benchmarks; this module sets the tests' [`OPTIONS`] (a generous patience
//! that only turns a hang into a failure, all of standard error kept, `info`
//! logs) and adds how a test starts a peer, quits one, and makes file content.

#![allow(dead_code)]

pub mod netns;
mod proc;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

pub use self::proc::*;

/// How long one wait may last before the test fails instead of hanging. The
/// machine running the tests may be loaded: this is never a timing assertion.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The tests' choices for the shared harness.
pub const OPTIONS: Options = Options {
    patience: PATIENCE,
    stderr_lines: usize::MAX,
    default_log: Some("info"),
};

/// The password each test peer uses unless told otherwise.
pub fn password_of(name: &str) -> String {
    format!("pw-of-{name}")
}

impl Net {
    /// Starts peer `name` with its usual password and waits until it is ready.
    pub fn peer(&self, name: &str) -> Proc {
        let mut p = self.start_peer(name, &password_of(name));
        p.expect(json!({"event": "ready", "name": name}));
        p
    }

    /// Starts peer `name` with `password` on this registry, without waiting.
    pub fn start_peer(&self, name: &str, password: &str) -> Proc {
        self.start_peer_in(name, password, name)
    }

    /// Like [`Self::start_peer`], with the folders of `home` (a second
    /// process under the same name needs its own data folder).
    pub fn start_peer_in(&self, name: &str, password: &str, home: &str) -> Proc {
        peer_process(
            name,
            password,
            Some(self.addr),
            &self.home(home),
            &self.share(home),
            &[],
        )
    }
}

/// Starts `confab peer --json` for `name` with its folders below `home`
/// (`data/`, `downloads/`) and `share`; `registry` `None` leaves the flag out.
pub fn peer_process(
    name: &str,
    password: &str,
    registry: Option<SocketAddr>,
    home: &Path,
    share: &Path,
    env: &[(&str, &str)],
) -> Proc {
    let args = peer_args(name, registry, home, share);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut all_env = vec![("CONFAB_PASSWORD", password)];
    all_env.extend_from_slice(env);
    Proc::start(name, &args, &all_env)
}

/// `/quit`, then the `stopped` event and a successful exit.
pub fn quit(p: &mut Proc) {
    p.send("/quit");
    p.expect(json!({"event": "stopped", "code": "Normal"}));
    let status = p.wait_exit();
    assert!(status.success(), "{}: exit status {status}", p.name);
}

/// `len` pseudo-random bytes from `seed` (xorshift64*), the same every run.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}
