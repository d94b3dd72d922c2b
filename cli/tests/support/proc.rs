//! The process harness shared by the end-to-end tests and the benchmarks:
//! [`Proc`] is one running child (`confab`, or any program) whose standard
//! output a thread reads line by line, and [`Net`] a registry on a free
//! loopback port with every folder of a run in one temporary directory.
//!
//! Included by `tests/support/mod.rs` and, through `#[path]`, by
//! `benches/support/mod.rs` (a bench cannot import a test module). The
//! including module supplies what differs: `super::OPTIONS` ([`Options`]:
//! how long a wait may last, how much standard error to keep, the default log
//! level) and its own way of starting a peer on a [`Net`].
//!
//! Nothing here sleeps: every wait is for a line or an exit, with a deadline
//! that only turns a hang into a failure. Each output line is parsed as JSON
//! when it is an object (a `--json` peer's events), else kept as a JSON
//! string, and stamped with the [`Instant`] the reader thread got it, so a
//! benchmark's latency does not include how late it looked. Every child is
//! killed (SIGKILL) and reaped when its [`Proc`] is dropped, also while a panic
//! unwinds, and a panicking test prints each process's recent output.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::OPTIONS;

/// The `confab` binary under test (debug for tests, release for benches).
pub const CONFAB: &str = env!("CARGO_BIN_EXE_confab");

/// What the including harness chooses.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How long one wait may last before failing instead of hanging. Never a
    /// timing assertion: the machine may be loaded.
    pub patience: Duration,
    /// Lines of standard error kept for reports (the most recent).
    pub stderr_lines: usize,
    /// `RUST_LOG` for a `confab` child when the caller's environment has none.
    pub default_log: Option<&'static str>,
}

/// One line of a child's standard output: parsed JSON when it is an object,
/// else the text as a JSON string; `at` is when the reader thread got it.
#[derive(Debug, Clone)]
pub struct Line {
    pub at: Instant,
    pub v: Value,
}

/// True when `value` has everything `pattern` has: objects match when each
/// of the pattern's keys matches (extra keys are allowed), arrays element by
/// element, anything else by equality.
pub fn matches(value: &Value, pattern: &Value) -> bool {
    match (value, pattern) {
        (Value::Object(v), Value::Object(p)) => p
            .iter()
            .all(|(k, pv)| v.get(k).is_some_and(|vv| matches(vv, pv))),
        (Value::Array(v), Value::Array(p)) => {
            v.len() == p.len() && v.iter().zip(p).all(|(a, b)| matches(a, b))
        }
        _ => value == pattern,
    }
}

/// One running child with piped standard input and output.
pub struct Proc {
    /// Its name in failure messages.
    pub name: String,
    pid: u32,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    /// Lines read but not yet taken by a wait.
    pending: VecDeque<Line>,
    /// Every line read, in order.
    pub log: Vec<Value>,
    stdout_closed: bool,
    stderr: Arc<Mutex<VecDeque<String>>>,
    stderr_done: Receiver<()>,
    exited: Receiver<ExitStatus>,
    status: Option<ExitStatus>,
    /// How long a drop waits for it to leave on its own after its standard
    /// input is closed (end of input: a peer quits), before SIGKILL.
    pub grace: Duration,
}

impl Proc {
    /// Starts `confab ARGS` with extra environment variables; standard input
    /// is a pipe the caller writes commands to.
    pub fn start(name: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut env = env.to_vec();
        if let Some(level) = OPTIONS.default_log
            && std::env::var_os("RUST_LOG").is_none()
        {
            env.insert(0, ("RUST_LOG", level));
        }
        Self::spawn(name, Path::new(CONFAB), args, &env)
    }

    /// Starts `program ARGS` with extra environment variables.
    pub fn spawn(name: &str, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
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
        let (done, stderr_done) = mpsc::channel();
        std::thread::spawn(move || {
            keep_tail(stderr_pipe, &sink, OPTIONS.stderr_lines);
            let _ = done.send(());
        });
        let (tx, exited) = mpsc::channel();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(status);
            }
        });
        Self {
            name: name.to_owned(),
            pid,
            stdin,
            lines,
            pending: VecDeque::new(),
            log: Vec::new(),
            stdout_closed: false,
            stderr,
            stderr_done,
            exited,
            status: None,
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
        if let Err(e) = writeln!(stdin, "{line}").and_then(|()| stdin.flush()) {
            panic!("{}: cannot write {line:?}: {e}{}", self.name, self.report());
        }
        at
    }

    /// Closes its standard input (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Reads one line, waiting at most `timeout`; `None` on a timeout or
    /// once standard output has ended.
    fn read(&mut self, timeout: Duration) -> Option<Line> {
        if self.stdout_closed {
            return None;
        }
        match self.lines.recv_timeout(timeout) {
            Ok(l) => {
                self.log.push(l.v.clone());
                Some(l)
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.stdout_closed = true;
                None
            }
            Err(RecvTimeoutError::Timeout) => None,
        }
    }

    /// The next line, kept or still to come, waiting at most `timeout`.
    /// Fails when standard output ends.
    pub fn next(&mut self, timeout: Duration) -> Option<Line> {
        if let Some(l) = self.pending.pop_front() {
            return Some(l);
        }
        let l = self.read(timeout);
        if self.stdout_closed {
            panic!("{}: output ended{}", self.name, self.report());
        }
        l
    }

    /// Takes the first line, read or still to come, that `accept` accepts;
    /// lines it passes over stay for later waits. Fails after the patience
    /// without one, or when standard output ends without one.
    pub fn wait_line(&mut self, what: &str, accept: impl Fn(&Value) -> bool) -> Line {
        if let Some(i) = self.pending.iter().position(|l| accept(&l.v)) {
            return self.pending.remove(i).unwrap();
        }
        let deadline = Instant::now() + OPTIONS.patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read(left) {
                Some(l) if accept(&l.v) => return l,
                Some(l) => self.pending.push_back(l),
                None if self.stdout_closed => panic!(
                    "{}: output ended without {what}{}",
                    self.name,
                    self.report()
                ),
                None => panic!(
                    "{}: no {what} within {:?}{}",
                    self.name,
                    OPTIONS.patience,
                    self.report()
                ),
            }
        }
    }

    /// [`Self::wait_line`], for its value.
    pub fn wait_for(&mut self, what: &str, accept: impl Fn(&Value) -> bool) -> Value {
        self.wait_line(what, accept).v
    }

    /// [`Self::wait_for`] an event that [`matches`] `pattern`.
    pub fn expect(&mut self, pattern: Value) -> Value {
        let what = pattern.to_string();
        self.wait_for(&what, |v| matches(v, &pattern))
    }

    /// Waits for a JSON event named `event` whose fields include `fields`.
    pub fn event(&mut self, event: &str, fields: &[(&str, Value)]) -> Line {
        self.wait_line(&format!("{event} {fields:?}"), |v| {
            v["event"] == event && fields.iter().all(|(k, f)| &v[*k] == f)
        })
    }

    /// A plain (not JSON) output line containing `needle`.
    pub fn expect_line(&mut self, needle: &str) -> String {
        let v = self.wait_for(&format!("a line with {needle:?}"), |v| {
            v.as_str().is_some_and(|s| s.contains(needle))
        });
        v.as_str().unwrap().to_owned()
    }

    /// Everything the process printed until its standard output closed
    /// (which it does when it exits).
    pub fn drain(&mut self) {
        while !self.stdout_closed {
            match self.read(OPTIONS.patience) {
                Some(l) => self.pending.push_back(l),
                None if self.stdout_closed => {}
                None => panic!("{}: output did not end{}", self.name, self.report()),
            }
        }
    }

    /// Forgets the lines read so far that nobody asked for.
    pub fn clear(&mut self) {
        self.pending.clear();
        while self.read(Duration::ZERO).is_some() {}
    }

    /// The lines read so far that match `pattern`.
    pub fn seen(&self, pattern: &Value) -> Vec<&Value> {
        self.log.iter().filter(|v| matches(v, pattern)).collect()
    }

    /// Sends a signal.
    pub fn signal(&self, signal: i32) {
        assert!(self.status.is_none(), "{} has already exited", self.name);
        // SAFETY: kill(2) on our own child's pid has no memory effects; the
        // child is not reaped before `status` is set, so the pid is still ours.
        let rc = unsafe { libc::kill(self.pid as libc::pid_t, signal) };
        assert_eq!(rc, 0, "kill {} failed", self.name);
    }

    /// Kills it (SIGKILL) and waits until it is gone.
    pub fn kill(&mut self) -> ExitStatus {
        self.signal(libc::SIGKILL);
        self.wait_exit()
    }

    /// Waits for it to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        match self.exited.recv_timeout(OPTIONS.patience) {
            Ok(s) => {
                self.status = Some(s);
                s
            }
            Err(_) => panic!("{}: did not exit in time{}", self.name, self.report()),
        }
    }

    /// Its standard error so far (the most recent lines kept).
    pub fn stderr(&self) -> String {
        let tail = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        tail.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Its standard error once it has exited (the pipe is read to its end).
    pub fn stderr_after_exit(&mut self) -> String {
        self.wait_exit();
        self.drain();
        // The pipe closed with the process; the thread copying it ends.
        let _ = self.stderr_done.recv_timeout(OPTIONS.patience);
        self.stderr()
    }

    /// `VmHWM` (peak resident memory) in KiB, from /proc.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid, "VmHWM:")
    }

    /// Recent output and standard error, for a failure message.
    pub fn report(&self) -> String {
        let recent: Vec<String> = self
            .log
            .iter()
            .rev()
            .take(40)
            .rev()
            .map(Value::to_string)
            .collect();
        format!(
            "\n--- {} stdout (last {} lines) ---\n{}\n--- {} stderr ---\n{}\n---",
            self.name,
            recent.len(),
            recent.join("\n"),
            self.name,
            self.stderr()
        )
    }
}

/// Copies `stream` line by line into `into`, keeping the last `keep` lines.
fn keep_tail(stream: impl Read, into: &Arc<Mutex<VecDeque<String>>>, keep: usize) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        let mut t = into.lock().unwrap_or_else(|p| p.into_inner());
        if t.len() == keep {
            t.pop_front();
        }
        t.push_back(line);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.report());
        }
        self.stdin = None;
        if self.status.is_none() && self.exited.recv_timeout(self.grace).is_err() {
            // SAFETY: as in `signal`; not reaped yet, so the pid is ours.
            unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) };
            let _ = self.exited.recv_timeout(OPTIONS.patience);
        }
    }
}

/// A field of `/proc/PID/status` given in kB.
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A free port on 127.0.0.1 (bound, then released for a child to take).
pub fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// A registry process with its data folder, and the peers' folders.
pub struct Net {
    /// Holds every folder of the run; removed at the end.
    pub dir: tempfile::TempDir,
    /// The registry, while it runs.
    pub registry: Option<Proc>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The fingerprint of its key, as it printed it (what peers pin).
    pub key: String,
}

impl Net {
    /// Starts a registry on a free loopback port.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temp folder");
        let mut net = Self {
            dir,
            registry: None,
            addr: "127.0.0.1:0".parse().unwrap(),
            key: String::new(),
        };
        net.start_registry();
        net
    }

    /// Starts the registry at `self.addr` (port 0 the first time, the same
    /// port again after a restart), with the same data folder.
    pub fn start_registry(&mut self) {
        let data = self.dir.path().join("registry");
        let (mut r, addr) = start_registry(&self.addr.to_string(), &data);
        self.addr = addr;
        self.key = registry_key_of(&mut r);
        self.registry = Some(r);
    }

    /// A peer's folder (`share/`, `downloads/`, `data/` below it).
    pub fn home(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A peer's shared folder, created if needed.
    pub fn share(&self, name: &str) -> PathBuf {
        let dir = self.home(name).join("share");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A peer's downloads folder.
    pub fn downloads(&self, name: &str) -> PathBuf {
        self.home(name).join("downloads")
    }
}

impl Default for Net {
    fn default() -> Self {
        Self::new()
    }
}

/// Starts `confab registry` listening on `listen` with its data in `data`,
/// and waits until it says where it listens.
pub fn start_registry(listen: &str, data: &Path) -> (Proc, SocketAddr) {
    let mut r = Proc::start(
        "registry",
        &[
            "registry",
            "--listen",
            listen,
            "--data",
            data.to_str().unwrap(),
        ],
        &[],
    );
    let line = r.expect_line("listening on ");
    let addr = line
        .rsplit(' ')
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    (r, addr)
}

/// The key fingerprint a `confab registry` printed at its start (the line is
/// taken: ask once per process).
pub fn registry_key_of(r: &mut Proc) -> String {
    let line = r.expect_line("registry key fingerprint ");
    line.split_whitespace()
        .nth(3)
        .filter(|k| k.len() == 32)
        .unwrap_or_else(|| panic!("no fingerprint in {line:?}"))
        .to_owned()
}

/// The arguments of `confab peer --json` for `name` with its folders below
/// `home` (`data/`, `downloads/`) and `share`; `registry` `None` leaves the
/// flag out. LAN discovery is off: these tests run side by side on one
/// machine, where every peer would hear every other test's announcements
/// (`lan_e2e` runs discovery in network namespaces of its own). Owned
/// strings, for the caller to borrow.
pub fn peer_args(
    name: &str,
    registry: Option<SocketAddr>,
    home: &Path,
    share: &Path,
) -> Vec<String> {
    std::fs::create_dir_all(share).unwrap();
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let mut args: Vec<String> = [
        "peer",
        "--name",
        name,
        "--listen",
        "127.0.0.1:0",
        "--share",
        &path(share),
        "--downloads",
        &path(&home.join("downloads")),
        "--data",
        &path(&home.join("data")),
        "--json",
        "--discovery",
        "off",
    ]
    .map(str::to_owned)
    .to_vec();
    if let Some(r) = registry {
        args.extend(["--registry".to_owned(), r.to_string()]);
    }
    args
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
