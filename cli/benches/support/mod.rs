//! Drives real processes for the benchmarks: a registry, `confab peer --json`
//! peers and the reference tools (sshd, nc). A minimal copy of the approach of
//! `cli/tests/support` (benchmarks cannot import test modules), with one
//! difference that matters for measuring: a thread reads each child's standard
//! output and stamps every line with the [`Instant`] it was read, so a
//! latency is the time from writing a command to reading the line that
//! answers it, not including how late the benchmark got round to looking.
//!
//! Every child is killed (SIGKILL) and reaped when its [`Proc`] or [`Guard`]
//! is dropped, also while a panic unwinds, so a failed run leaves nothing
//! behind.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one wait may last before the benchmark gives up (a hang, not a
/// slow run: a 1 GiB transfer on a loaded machine stays far below it).
pub const PATIENCE: Duration = Duration::from_secs(600);

/// The release `confab` binary that `cargo bench` built.
pub const CONFAB: &str = env!("CARGO_BIN_EXE_confab");

/// One line of a child's standard output: parsed JSON when it is an object,
/// else the text as a JSON string; `at` is when the reader thread got it.
#[derive(Debug, Clone)]
pub struct Line {
    pub at: Instant,
    pub v: Value,
}

/// One running child with piped standard input and output.
pub struct Proc {
    pub name: String,
    pid: u32,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    pending: VecDeque<Line>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    child: Option<Child>,
    /// How long a drop waits for it to leave on its own after its standard
    /// input is closed (end of input: a peer quits), before SIGKILL.
    pub grace: Duration,
}

impl Proc {
    /// Starts `program ARGS` with extra environment variables.
    pub fn start(name: &str, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("CONFAB_PASSWORD")
            .env_remove("CONFAB_DEFAULT_REGISTRY");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let pid = child.id();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let stderr_pipe = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let at = Instant::now();
                let v = serde_json::from_str::<Value>(&line)
                    .ok()
                    .filter(Value::is_object)
                    .unwrap_or(Value::String(line));
                if tx.send(Line { at, v }).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || keep_tail(stderr_pipe, &sink));
        Self {
            name: name.to_owned(),
            pid,
            stdin,
            lines,
            pending: VecDeque::new(),
            stderr,
            child: Some(child),
            grace: Duration::ZERO,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Writes one line to its standard input; returns the time just before
    /// the write (the start of whatever it asks for).
    pub fn send(&mut self, line: &str) -> Instant {
        let stdin = self.stdin.as_mut().expect("standard input still open");
        let at = Instant::now();
        if let Err(e) = stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush())
        {
            panic!("{}: cannot write {line:?}: {e}{}", self.name, self.report());
        }
        at
    }

    /// Closes its standard input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next line, kept or still to come, waiting at most `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Option<Line> {
        if let Some(l) = self.pending.pop_front() {
            return Some(l);
        }
        match self.lines.recv_timeout(timeout) {
            Ok(l) => Some(l),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                panic!("{}: output ended{}", self.name, self.report())
            }
        }
    }

    /// Takes the first line that `accept` accepts; others stay for later.
    pub fn wait_for(&mut self, what: &str, accept: impl Fn(&Value) -> bool) -> Line {
        if let Some(i) = self.pending.iter().position(|l| accept(&l.v)) {
            return self.pending.remove(i).unwrap();
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if accept(&l.v) => return l,
                Ok(l) => self.pending.push_back(l),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "{}: output ended without {what}{}",
                        self.name,
                        self.report()
                    )
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{}: no {what} in {PATIENCE:?}{}", self.name, self.report())
                }
            }
        }
    }

    /// Waits for a JSON event named `event` whose fields include `fields`.
    pub fn event(&mut self, event: &str, fields: &[(&str, Value)]) -> Line {
        self.wait_for(&format!("{event} {fields:?}"), |v| {
            v["event"] == event && fields.iter().all(|(k, f)| &v[*k] == f)
        })
    }

    /// A plain output line containing `needle`.
    pub fn text_line(&mut self, needle: &str) -> String {
        let l = self.wait_for(&format!("a line with {needle:?}"), |v| {
            v.as_str().is_some_and(|s| s.contains(needle))
        });
        l.v.as_str().unwrap().to_owned()
    }

    /// Forgets the lines read so far that nobody asked for.
    pub fn clear(&mut self) {
        self.pending.clear();
        while self.lines.try_recv().is_ok() {}
    }

    /// `VmHWM` (peak resident memory) in KiB, from /proc.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid, "VmHWM:")
    }

    /// The last lines of its standard error, for a failure message.
    pub fn report(&self) -> String {
        let tail = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        let tail: Vec<&str> = tail.iter().map(String::as_str).collect();
        format!(
            "\n--- {} stderr (tail) ---\n{}\n---",
            self.name,
            tail.join("\n")
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stdin = None;
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + self.grace;
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn keep_tail(stream: impl Read, into: &Arc<Mutex<VecDeque<String>>>) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        let mut t = into.lock().unwrap_or_else(|p| p.into_inner());
        if t.len() == 40 {
            t.pop_front();
        }
        t.push_back(line);
    }
}

/// A field of `/proc/PID/status` given in kB.
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A child process that is killed and reaped when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port on 127.0.0.1 (bound, then released for a child to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
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

/// A registry process on a free loopback port with every folder of the run
/// in one temporary directory.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub registry: Proc,
    pub addr: SocketAddr,
}

impl Net {
    /// Starts a registry on 127.0.0.1 with its data in a new temp folder.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temp folder");
        let data = dir.path().join("registry");
        let mut registry = Proc::start(
            "registry",
            Path::new(CONFAB),
            &[
                "registry",
                "--listen",
                "127.0.0.1:0",
                "--data",
                data.to_str().unwrap(),
            ],
            &[],
        );
        let line = registry.text_line("listening on ");
        let addr = line
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Self {
            dir,
            registry,
            addr,
        }
    }

    /// A peer's folder.
    pub fn home(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A peer's shared folder, created if needed.
    pub fn share(&self, name: &str) -> PathBuf {
        let d = self.home(name).join("share");
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A peer's downloads folder.
    pub fn downloads(&self, name: &str) -> PathBuf {
        self.home(name).join("downloads")
    }

    /// Starts `confab peer --json` for `name` and waits for `ready`. With
    /// `CONFAB_BENCH_PEER_WRAPPER` set (for profiling only, e.g.
    /// `valgrind --tool=callgrind`), peers run under that command, and the
    /// memory and timing figures are the wrapper's, not confab's.
    pub fn peer(&self, name: &str) -> Proc {
        let home = self.home(name);
        let share = self.share(name);
        let data = home.join("data");
        let downloads = self.downloads(name);
        let registry = self.addr.to_string();
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
        words.extend([
            "peer",
            "--name",
            name,
            "--listen",
            "127.0.0.1:0",
            "--registry",
            &registry,
            "--share",
            share.to_str().unwrap(),
            "--downloads",
            downloads.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--json",
        ]);
        let mut p = Proc::start(
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

/// Opens a consented chat: `from` asks, `to` accepts, both see it open.
pub fn open_chat(from: &mut Proc, to: &mut Proc) {
    let (a, b) = (from.name.clone(), to.name.clone());
    from.send(&format!("/chat {b}"));
    let req = to.event("chat_request", &[("from", Value::from(a.as_str()))]);
    to.send(&format!("/accept {}", req.v["id"]));
    to.event("chat_opened", &[("with", Value::from(a.as_str()))]);
    from.event("chat_opened", &[("with", Value::from(b.as_str()))]);
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
