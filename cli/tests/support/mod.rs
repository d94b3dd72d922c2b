//! Support for end-to-end tests of the real `confab` binary on 127.0.0.1.
//!
//! [`Proc`] is one running `confab` process: a thread reads its standard
//! output line by line (a `--json` peer's lines parsed into
//! [`serde_json::Value`], other lines kept as JSON strings), another collects
//! its standard error, and a third waits for its exit. Tests never sleep: they
//! wait for an event matching a pattern, with a generous deadline ([`PATIENCE`])
//! that only turns a hang into a failure; nothing asserts on timing. Every
//! child is killed (SIGKILL) when its [`Proc`] is dropped, and a test that
//! panics prints each process's recent output and its standard error.
//!
//! [`Net`] is a registry on a free loopback port with its data in a temporary
//! folder, plus the folders of the peers started on it.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long one wait may last before the test fails instead of hanging. The
/// machine running the tests may be loaded: this is never a timing assertion.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The binary under test.
pub const CONFAB: &str = env!("CARGO_BIN_EXE_confab");

/// The password each test peer uses unless told otherwise.
pub fn password_of(name: &str) -> String {
    format!("pw-of-{name}")
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

/// One running `confab` process.
pub struct Proc {
    /// Its name in failure messages.
    pub name: String,
    pid: u32,
    stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
    /// Lines read but not yet taken by a wait.
    pending: VecDeque<Value>,
    /// Every line read, in order.
    pub log: Vec<Value>,
    stdout_closed: bool,
    stderr: Arc<Mutex<Vec<String>>>,
    stderr_done: Receiver<()>,
    exited: Receiver<ExitStatus>,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Starts `confab ARGS` with extra environment variables; standard input
    /// is a pipe the test writes commands to.
    pub fn start(name: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(CONFAB);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("CONFAB_PASSWORD")
            .env_remove("CONFAB_DEFAULT_REGISTRY");
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start confab");
        let pid = child.id();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let stderr_pipe = child.stderr.take().unwrap();

        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let value = serde_json::from_str::<Value>(&line)
                    .ok()
                    .filter(Value::is_object)
                    .unwrap_or(Value::String(line));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let (done, stderr_done) = mpsc::channel();
        std::thread::spawn(move || {
            collect(stderr_pipe, &sink);
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
        }
    }

    /// Writes one command line to its standard input.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("standard input still open");
        if let Err(e) = writeln!(stdin, "{line}").and_then(|()| stdin.flush()) {
            panic!("{}: cannot write {line:?}: {e}{}", self.name, self.report());
        }
    }

    /// Closes its standard input (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Takes the first line, read or still to come, that `accept` accepts;
    /// lines it passes over stay for later waits. Fails after [`PATIENCE`]
    /// without one, or when standard output ends without one.
    pub fn wait_for(&mut self, what: &str, accept: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&accept) {
            return self.pending.remove(i).unwrap();
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.stdout_closed {
                panic!(
                    "{}: output ended without {what}{}",
                    self.name,
                    self.report()
                );
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    self.log.push(v.clone());
                    if accept(&v) {
                        return v;
                    }
                    self.pending.push_back(v);
                }
                Err(RecvTimeoutError::Disconnected) => self.stdout_closed = true,
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{}: no {what} within {PATIENCE:?}{}",
                    self.name,
                    self.report()
                ),
            }
        }
    }

    /// [`Self::wait_for`] an event that [`matches`] `pattern`.
    pub fn expect(&mut self, pattern: Value) -> Value {
        let what = pattern.to_string();
        self.wait_for(&what, |v| matches(v, &pattern))
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
            match self.lines.recv_timeout(PATIENCE) {
                Ok(v) => {
                    self.log.push(v.clone());
                    self.pending.push_back(v);
                }
                Err(RecvTimeoutError::Disconnected) => self.stdout_closed = true,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{}: output did not end{}", self.name, self.report())
                }
            }
        }
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
        match self.exited.recv_timeout(PATIENCE) {
            Ok(s) => {
                self.status = Some(s);
                s
            }
            Err(_) => panic!("{}: did not exit in time{}", self.name, self.report()),
        }
    }

    /// Its standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .join("\n")
    }

    /// Its standard error once it has exited (the pipe is read to its end).
    pub fn stderr_after_exit(&mut self) -> String {
        self.wait_exit();
        self.drain();
        // The pipe closed with the process; the thread copying it ends.
        let _ = self.stderr_done.recv_timeout(PATIENCE);
        self.stderr()
    }

    /// Recent output and all of standard error, for a failure message.
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

fn collect(stream: impl Read, into: &Arc<Mutex<Vec<String>>>) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        into.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.report());
        }
        self.stdin = None;
        if self.status.is_none() && self.exited.try_recv().is_err() {
            // SAFETY: as in `signal`; not reaped yet, so the pid is ours.
            unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) };
            let _ = self.exited.recv_timeout(PATIENCE);
        }
    }
}

/// A free port on 127.0.0.1 (bound, then released for the process to take).
pub fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// A registry process with its data folder, and the peers' folders.
pub struct Net {
    /// Holds every folder of the test; removed at the end.
    pub dir: tempfile::TempDir,
    /// The registry, while it runs.
    pub registry: Option<Proc>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Net {
    /// Starts a registry on a free loopback port.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut net = Self {
            dir,
            registry: None,
            addr: "127.0.0.1:0".parse().unwrap(),
        };
        net.start_registry();
        net
    }

    /// Starts the registry at `self.addr` (port 0 the first time, the same
    /// port again after a restart), with the same data folder.
    pub fn start_registry(&mut self) {
        let data = self.dir.path().join("registry");
        let listen = self.addr.to_string();
        let mut r = Proc::start(
            "registry",
            &[
                "registry",
                "--listen",
                &listen,
                "--data",
                data.to_str().unwrap(),
            ],
            &[],
        );
        let line = r.expect_line("listening on ");
        self.addr = line
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
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

impl Default for Net {
    fn default() -> Self {
        Self::new()
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
    std::fs::create_dir_all(share).unwrap();
    let data = home.join("data");
    let downloads = home.join("downloads");
    let registry = registry.map(|a| a.to_string());
    let mut args = vec![
        "peer",
        "--name",
        name,
        "--listen",
        "127.0.0.1:0",
        "--share",
        share.to_str().unwrap(),
        "--downloads",
        downloads.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--json",
    ];
    if let Some(r) = &registry {
        args.extend(["--registry", r]);
    }
    let mut all_env = vec![("CONFAB_PASSWORD", password)];
    all_env.extend_from_slice(env);
    Proc::start(name, &args, &all_env)
}

/// Opens a consented chat: `from` asks, `to` accepts, both see it open.
pub fn open_chat(from: &mut Proc, to: &mut Proc) {
    let (a, b) = (from.name.clone(), to.name.clone());
    from.send(&format!("/chat {b}"));
    let req = to.expect(json!({"event": "chat_request", "from": a}));
    to.send(&format!("/accept {}", req["id"]));
    to.expect(json!({"event": "chat_opened", "with": a}));
    from.expect(json!({"event": "chat_opened", "with": b}));
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
