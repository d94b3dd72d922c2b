//! Drives real processes for the benchmarks: a registry, `confab peer --json`
//! peers and the reference tools (sshd, nc).
//!
//! The harness itself ([`Proc`], [`Net`]) is `cli/tests/support/proc.rs`,
//! shared with the end-to-end tests; this module sets the benchmarks'
//! [`OPTIONS`] (a patience for 1 GiB transfers, a short standard error tail,
//! confab's own default log level) and adds how a benchmark starts a peer (under
//! an optional profiler), the reference tools, and the figures' arithmetic.
//! Latencies use the [`Line::at`] stamp the reader thread puts on each line, so
//! they do not include how late the benchmark got round to looking.
//!
//! Every child is killed (SIGKILL) and reaped when its [`Proc`] or [`Guard`]
//! is dropped, also while a panic unwinds, so a failed run leaves nothing
//! behind.

#![allow(dead_code)]

#[path = "../../tests/support/proc.rs"]
mod proc;

#[path = "../../tests/support/netns.rs"]
pub mod netns;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use self::proc::*;

/// How long one wait may last before the benchmark gives up (a hang, not a
/// slow run: a 1 GiB transfer on a loaded machine stays far below it).
pub const PATIENCE: Duration = Duration::from_secs(600);

/// The benchmarks' choices for the shared harness.
pub const OPTIONS: Options = Options {
    patience: PATIENCE,
    stderr_lines: 40,
    default_log: None,
};

/// A child process that is killed and reaped when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
pub fn wait_listening(port: u16, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// True when `program` is found on the PATH (or is an existing path).
pub fn have(program: &str) -> bool {
    find(program).is_some()
}

/// `program` on the PATH, also looking in the sbin folders (sshd).
pub fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .map(PathBuf::from)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Makes sure `program` exists: when missing and we are root, tries
/// `apt-get install -y PACKAGES` once (quietly). Says what it did.
pub fn ensure(program: &str, packages: &[&str]) -> Option<PathBuf> {
    if let Some(p) = find(program) {
        return Some(p);
    }
    // SAFETY: geteuid has no preconditions and touches no memory.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || !have("apt-get") {
        println!("  {program}: not installed (install {packages:?} to measure it)");
        return None;
    }
    println!("  {program}: not installed; trying apt-get install -y {packages:?}");
    let ok = Command::new("apt-get")
        .args(["install", "-y", "-q"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let found = find(program);
    if !ok || found.is_none() {
        println!("  {program}: apt-get install {packages:?} failed");
    }
    found
}

impl Net {
    /// Starts `confab peer --json` for `name` and waits for `ready`. With
    /// `CONFAB_BENCH_PEER_WRAPPER` set (for profiling only, e.g.
    /// `valgrind --tool=callgrind`), peers run under that command, and the
    /// memory and timing figures are the wrapper's, not confab's.
    pub fn peer(&self, name: &str) -> Proc {
        self.peer_with(name, &[])
    }

    /// [`Self::peer`] with `extra` arguments after the usual ones.
    pub fn peer_with(&self, name: &str, extra: &[&str]) -> Proc {
        let mut args = peer_args(name, Some(self.addr), &self.home(name), &self.share(name));
        args.extend(extra.iter().map(|s| s.to_string()));
        let password = format!("bench-pw-{name}");
        let wrapper = std::env::var("CONFAB_BENCH_PEER_WRAPPER").unwrap_or_default();
        // A profiler writes its results when the peer exits: let it quit.
        let grace = Duration::from_secs(if wrapper.is_empty() { 2 } else { 120 });
        let mut words: Vec<&str> = wrapper.split_whitespace().collect();
        let program = if words.is_empty() {
            CONFAB
        } else {
            let first = words.remove(0);
            words.push(CONFAB);
            first
        };
        words.extend(args.iter().map(String::as_str));
        let mut p = Proc::spawn(
            name,
            Path::new(program),
            &words,
            &[("CONFAB_PASSWORD", &password)],
        );
        p.grace = grace;
        p.event("ready", &[("name", Value::from(name))]);
        p
    }
}

/// Parses a size like `1G`, `256M`, `64k`, `1000` (binary multiples).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let unit = s[i..].to_ascii_lowercase();
            let m = match unit.trim_end_matches("ib").trim_end_matches('b') {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                _ => return None,
            };
            (&s[..i], m)
        }
        None => (s, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

/// The value of `--flag VALUE` or `--flag=VALUE` among the arguments.
pub fn arg_value(args: &[String], flag: &str) -> Option<String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == flag {
            return it.next().cloned();
        }
        if let Some(v) = a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            return Some(v.to_owned());
        }
    }
    None
}

/// Percentile `p` (0..=100) of sorted samples, nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The one-minute load average.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// `ratio` printed as `1.23x`, or `-` when a side is missing.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "-".into(),
    }
}
