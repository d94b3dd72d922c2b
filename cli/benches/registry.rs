//! Registry scale (issue 8, item 3): as many peers as the open-file limit
//! allows, logged in and heartbeating against ONE `confab registry` process.
//!
//! `cargo bench -p confab --bench registry [-- --peers N --window SECS
//! --lookups N --default-logins N --batch N]`
//!
//! - The registry is the release `confab registry` binary, started with
//!   `--password-cost fast` (a benchmark-only flag) so that thousands of
//!   log-ins do not take minutes of argon2; the log-in rate at the *default*
//!   cost is measured separately, against a second registry, at the end.
//! - The load generator is one mio event loop in this process speaking the
//!   registry protocol with `confab_engine::wire`: hello, register, log in,
//!   then a heartbeat every 10 s per peer. It ramps up in batches, keeps at
//!   most `max_password_jobs` (16) password checks in flight (more would be
//!   refused as `Busy`), and binds each socket to one of 127.0.0.2..127.0.0.N
//!   before connecting, so no source address runs out of ephemeral ports.
//! - Memory per peer: `VmRSS` of the registry before the ramp and after it,
//!   divided by the peers. CPU at steady state: the registry's utime+stime
//!   over a window of pure heartbeating. Look-up latency: a separate
//!   connection doing back-to-back `Lookup`s of random online peers while
//!   the others heartbeat, against the same look-ups on the idle registry.
//!
//! It measures and prints (a table and one JSON line); it asserts nothing
//! about time.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream as StdTcpStream};
use std::os::fd::FromRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use confab_engine::bounded::Text;
use confab_engine::wire::registry::{Password, Reply, ReplyBody, Request, RequestBody};
use confab_engine::wire::{
    Deframer, ErrorCode, Hello, Message, Name, PROTOCOL_VERSION, Role, encode,
};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// Password checks the registry allows at once (`RegistryConfig::max_password_jobs`).
const AUTH_SLOTS: usize = 16;
/// How often each peer heartbeats (a third of the registry's 30 s timeout).
const HEARTBEAT: Duration = Duration::from_secs(10);
/// Peers per source address.
const PER_SOURCE: usize = 1000;
/// Connections opened but not yet accepted (greeted) by the registry, at most.
const MAX_UNACCEPTED: usize = 128;
/// File descriptors kept free in each process (stdio, epoll, the store, the
/// look-up connection, the listener...).
const FD_RESERVE: u64 = 200;

// ---------------------------------------------------------------- settings

struct Settings {
    peers: Option<usize>,
    window: Duration,
    lookups: usize,
    default_logins: usize,
    batch: usize,
}

impl Settings {
    fn parse() -> Self {
        let mut s = Settings {
            peers: None,
            window: Duration::from_secs(30),
            lookups: 2000,
            default_logins: 200,
            batch: 500,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut i = 0;
        while i < args.len() {
            let value = || -> u64 {
                args.get(i + 1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("{} needs a number", args[i]))
            };
            match args[i].as_str() {
                "--peers" => s.peers = Some(value() as usize),
                "--window" => s.window = Duration::from_secs(value()),
                "--lookups" => s.lookups = value() as usize,
                "--default-logins" => s.default_logins = value() as usize,
                "--batch" => s.batch = value().max(1) as usize,
                // `cargo bench` passes `--bench`; anything else is ignored too.
                _ => {
                    i += 1;
                    continue;
                }
            }
            i += 2;
        }
        s
    }
}

// ---------------------------------------------------------------- the registry process

/// A `confab registry` child process, killed when dropped (also on panic).
struct RegistryProc {
    child: Child,
    addr: SocketAddr,
    _data: tempfile::TempDir,
    _stdout: JoinHandle<()>,
}

impl RegistryProc {
    fn start(cost: &str) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_confab"))
            .args([
                "registry",
                "--listen",
                "127.0.0.1:0",
                "--password-cost",
                cost,
            ])
            .arg("--data")
            .arg(data.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start confab registry");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        // Reads the address, then drains what the registry prints (one line
        // per log-in) so that it never blocks on a full pipe.
        let reader = std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(addr) = line.strip_prefix("confab registry listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.trim().parse::<SocketAddr>().expect("address"));
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the registry did not say where it listens");
        RegistryProc {
            child,
            addr,
            _data: data,
            _stdout: reader,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("registry status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmRSS")
    }

    /// utime + stime, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).expect("registry stat");
        let after = &stat[stat.rfind(')').expect("comm") + 2..];
        let f: Vec<&str> = after.split_whitespace().collect();
        // Fields 14 and 15 of proc(5); `after` starts at field 3.
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    }
}

impl Drop for RegistryProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- the load generator

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Register,
    Login,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Connecting,
    /// Connected, waiting for a password slot.
    Queued,
    /// A register or log-in request is out.
    Auth {
        id: u32,
    },
    /// Every step done.
    Done,
    Dead,
}

struct Client {
    stream: TcpStream,
    deframer: Deframer,
    state: State,
    /// The registry's hello arrived: it accepted the connection.
    greeted: bool,
    step: usize,
    name: Name,
    out: Vec<u8>,
    next_id: u32,
    logged_in: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    connected: usize,
    logged_in: usize,
    registered: usize,
    busy: usize,
    dead: usize,
    hb_sent: u64,
    hb_ok: u64,
}

/// Many registry clients on one mio loop.
struct Swarm {
    poll: Poll,
    events: Events,
    registry: SocketAddr,
    steps: &'static [Step],
    clients: Vec<Client>,
    to_open: VecDeque<Name>,
    unaccepted: usize,
    in_flight: usize,
    queued: VecDeque<usize>,
    retry: VecDeque<(Instant, usize)>,
    heartbeats: VecDeque<(Instant, usize)>,
    stats: Stats,
    buf: Vec<u8>,
    first_auth: Option<Instant>,
    last_login: Option<Instant>,
    complaints: usize,
}

fn password() -> Password {
    Password(Text::new("benchmark-password").unwrap())
}

fn peer_name(i: usize) -> Name {
    Name::new(&format!("p{i:05}")).unwrap()
}

/// A non-blocking socket bound to `src`:0 and connecting to `dst`.
fn connect_from(src: Ipv4Addr, dst: SocketAddr) -> io::Result<TcpStream> {
    fn sockaddr(ip: Ipv4Addr, port: u16) -> libc::sockaddr_in {
        libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(ip).to_be(),
            },
            sin_zero: [0; 8],
        }
    }
    let SocketAddr::V4(dst) = dst else {
        return Err(io::Error::other("IPv4 only"));
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: plain socket(2); the fd is owned by `stream` right away.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh socket nobody else owns.
    let stream = unsafe { StdTcpStream::from_raw_fd(fd) };
    let src = sockaddr(src, 0);
    // SAFETY: `src` is a valid sockaddr_in of `len` bytes.
    if unsafe { libc::bind(fd, (&raw const src).cast(), len) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let dst = sockaddr(*dst.ip(), dst.port());
    // SAFETY: `dst` is a valid sockaddr_in of `len` bytes.
    if unsafe { libc::connect(fd, (&raw const dst).cast(), len) } != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
    }
    stream.set_nodelay(true)?;
    Ok(TcpStream::from_std(stream))
}

fn request(id: u32, body: RequestBody) -> Vec<u8> {
    encode(&Message::Request(Request { id, body }))
}

impl Swarm {
    fn new(registry: SocketAddr, steps: &'static [Step]) -> Self {
        Swarm {
            poll: Poll::new().expect("poll"),
            events: Events::with_capacity(4096),
            registry,
            steps,
            clients: Vec::new(),
            to_open: VecDeque::new(),
            unaccepted: 0,
            in_flight: 0,
            queued: VecDeque::new(),
            retry: VecDeque::new(),
            heartbeats: VecDeque::new(),
            stats: Stats::default(),
            buf: vec![0; 64 * 1024],
            first_auth: None,
            last_login: None,
            complaints: 0,
        }
    }

    /// Adds `n` more clients, named from `first`; they connect as the
    /// registry accepts (see [`Self::open_more`]).
    fn add(&mut self, n: usize, first: usize) {
        self.to_open.extend((first..first + n).map(peer_name));
    }

    /// Opens connections while fewer than [`MAX_UNACCEPTED`] wait for the
    /// registry's hello, so the listen backlog never overflows.
    fn open_more(&mut self) {
        while self.unaccepted < MAX_UNACCEPTED {
            let Some(name) = self.to_open.pop_front() else {
                return;
            };
            let i = self.clients.len();
            let group = i / PER_SOURCE;
            let src = Ipv4Addr::new(127, 0, (group / 250) as u8, 2 + (group % 250) as u8);
            let mut stream = connect_from(src, self.registry)
                .unwrap_or_else(|e| panic!("connect #{i} from {src}: {e}"));
            self.poll
                .registry()
                .register(
                    &mut stream,
                    Token(i),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .expect("register with mio");
            self.unaccepted += 1;
            self.clients.push(Client {
                stream,
                deframer: Deframer::new(),
                state: State::Connecting,
                greeted: false,
                step: 0,
                name,
                out: Vec::new(),
                next_id: 1,
                logged_in: false,
            });
        }
    }

    /// Every client has finished its steps, or died.
    fn settled(&self) -> bool {
        self.to_open.is_empty()
            && self
                .clients
                .iter()
                .all(|c| matches!(c.state, State::Done | State::Dead))
    }

    fn alive_logged_in(&self) -> usize {
        self.clients
            .iter()
            .filter(|c| c.logged_in && c.state != State::Dead)
            .count()
    }

    fn send(&mut self, i: usize, bytes: &[u8]) {
        let c = &mut self.clients[i];
        c.out.extend_from_slice(bytes);
        Self::flush(c);
    }

    fn flush(c: &mut Client) {
        while !c.out.is_empty() {
            match c.stream.write(&c.out) {
                Ok(n) => {
                    c.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    c.out.clear();
                    return;
                }
            }
        }
    }

    fn kill(&mut self, i: usize, why: &str) {
        let c = &mut self.clients[i];
        if c.state == State::Dead {
            return;
        }
        if matches!(c.state, State::Auth { .. }) {
            self.in_flight -= 1;
        }
        c.state = State::Dead;
        if !c.greeted {
            c.greeted = true;
            self.unaccepted -= 1;
        }
        self.stats.dead += 1;
        if self.complaints < 5 {
            self.complaints += 1;
            eprintln!("  client {} died: {why}", c.name);
        }
    }

    fn start_step(&mut self, i: usize, now: Instant) {
        let c = &mut self.clients[i];
        let id = c.next_id;
        c.next_id += 1;
        let body = match self.steps[c.step] {
            Step::Register => RequestBody::Register {
                name: c.name.clone(),
                password: password(),
            },
            Step::Login => RequestBody::Login {
                name: c.name.clone(),
                password: password(),
                // Where this peer would listen; nobody dials it here.
                listen: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 9)),
                stamp: Default::default(),
            },
        };
        c.state = State::Auth { id };
        self.first_auth.get_or_insert(now);
        self.send(i, &request(id, body));
    }

    fn on_message(&mut self, i: usize, msg: Message, now: Instant) {
        match msg {
            Message::Reply(Reply { id, result }) => {
                let State::Auth { id: want } = self.clients[i].state else {
                    // A heartbeat's answer.
                    if result.is_ok() {
                        self.stats.hb_ok += 1;
                    }
                    return;
                };
                if id != want {
                    if result.is_ok() {
                        self.stats.hb_ok += 1;
                    }
                    return;
                }
                match result {
                    Ok(ReplyBody::Done) => {
                        let c = &mut self.clients[i];
                        match self.steps[c.step] {
                            Step::Register => self.stats.registered += 1,
                            Step::Login => {
                                c.logged_in = true;
                                self.stats.logged_in += 1;
                                self.last_login = Some(now);
                                self.heartbeats.push_back((now + HEARTBEAT, i));
                            }
                        }
                        c.step += 1;
                        if c.step < self.steps.len() {
                            self.start_step(i, now);
                        } else {
                            c.state = State::Done;
                            self.in_flight -= 1;
                        }
                    }
                    Err(r) if r.code == ErrorCode::Busy => {
                        self.stats.busy += 1;
                        self.clients[i].state = State::Queued;
                        self.in_flight -= 1;
                        self.retry.push_back((now + Duration::from_millis(20), i));
                    }
                    Err(r) => self.kill(i, &format!("refused: {:?} {}", r.code, r.message)),
                    Ok(other) => self.kill(i, &format!("odd answer {other:?}")),
                }
            }
            Message::Goodbye(g) => self.kill(i, &format!("goodbye: {:?} {}", g.code, g.reason)),
            Message::Hello(_) if !self.clients[i].greeted => {
                self.clients[i].greeted = true;
                self.unaccepted -= 1;
            }
            // Presence pushes: nothing to do.
            _ => {}
        }
    }

    fn on_event(&mut self, i: usize, readable: bool, writable: bool, now: Instant) {
        if self.clients[i].state == State::Dead {
            return;
        }
        if self.clients[i].state == State::Connecting {
            if !writable {
                return;
            }
            let c = &mut self.clients[i];
            match c.stream.take_error() {
                Ok(None) => {}
                Ok(Some(e)) | Err(e) => return self.kill(i, &format!("connect: {e}")),
            }
            match c.stream.peer_addr() {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => return self.kill(i, &format!("connect: {e}")),
            }
            self.stats.connected += 1;
            c.state = State::Queued;
            let hello = encode(&Message::Hello(Hello {
                version: PROTOCOL_VERSION,
                role: Role::Peer,
                name: None,
            }));
            self.send(i, &hello);
            self.queued.push_back(i);
        }
        if writable {
            Self::flush(&mut self.clients[i]);
        }
        if !readable {
            return;
        }
        loop {
            let c = &mut self.clients[i];
            match c.stream.read(&mut self.buf) {
                Ok(0) => return self.kill(i, "closed by the registry"),
                Ok(n) => c.deframer.push(&self.buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.kill(i, &format!("read: {e}")),
            }
        }
        loop {
            match self.clients[i].deframer.next_message() {
                Ok(Some(m)) => self.on_message(i, m, now),
                Ok(None) => break,
                Err(e) => return self.kill(i, &format!("bad frame: {e}")),
            }
        }
    }

    /// Starts queued password steps while slots are free; sends heartbeats due.
    fn pump(&mut self, now: Instant) {
        self.open_more();
        while let Some(&(t, i)) = self.retry.front() {
            if t > now {
                break;
            }
            self.retry.pop_front();
            self.queued.push_back(i);
        }
        while self.in_flight < AUTH_SLOTS {
            let Some(i) = self.queued.pop_front() else {
                break;
            };
            if self.clients[i].state != State::Queued {
                continue;
            }
            self.in_flight += 1;
            self.start_step(i, now);
        }
        while let Some(&(t, i)) = self.heartbeats.front() {
            if t > now {
                break;
            }
            self.heartbeats.pop_front();
            if self.clients[i].state == State::Dead {
                continue;
            }
            let c = &mut self.clients[i];
            let id = c.next_id;
            c.next_id += 1;
            self.stats.hb_sent += 1;
            self.send(i, &request(id, RequestBody::Heartbeat));
            self.heartbeats.push_back(((t + HEARTBEAT).max(now), i));
        }
    }

    /// One turn of the loop, waiting at most `max`.
    fn turn(&mut self, max: Duration) {
        let now = Instant::now();
        let mut timeout = max;
        for t in [self.heartbeats.front(), self.retry.front()]
            .into_iter()
            .flatten()
            .map(|(t, _)| *t)
        {
            timeout = timeout.min(t.saturating_duration_since(now));
        }
        if let Err(e) = self.poll.poll(&mut self.events, Some(timeout))
            && e.kind() != io::ErrorKind::Interrupted
        {
            panic!("poll: {e}");
        }
        let now = Instant::now();
        let ready: Vec<(usize, bool, bool)> = self
            .events
            .iter()
            .map(|e| {
                (
                    e.token().0,
                    e.is_readable() || e.is_read_closed() || e.is_error(),
                    e.is_writable() || e.is_error(),
                )
            })
            .collect();
        for (i, r, w) in ready {
            self.on_event(i, r, w, now);
        }
        self.pump(now);
    }

    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if done(self) {
                return true;
            }
            self.turn(Duration::from_millis(50));
        }
        done(self)
    }

    fn run_for(&mut self, d: Duration) {
        self.run_until(d, |_| false);
    }
}

// ---------------------------------------------------------------- the look-up prober

/// A blocking client for back-to-back look-ups.
struct Prober {
    stream: StdTcpStream,
    deframer: Deframer,
    buf: Vec<u8>,
    next_id: u32,
    /// Look-ups not answered with a peer.
    failed: usize,
}

impl Prober {
    fn connect(addr: SocketAddr) -> Self {
        let stream = StdTcpStream::connect(addr).expect("prober connect");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut p = Prober {
            stream,
            deframer: Deframer::new(),
            buf: vec![0; 64 * 1024],
            next_id: 1,
            failed: 0,
        };
        p.stream
            .write_all(&encode(&Message::Hello(Hello {
                version: PROTOCOL_VERSION,
                role: Role::Peer,
                name: None,
            })))
            .unwrap();
        p
    }

    /// Sends one request and waits for its reply.
    fn ask(&mut self, body: RequestBody) -> Reply {
        let id = self.next_id;
        self.next_id += 1;
        self.stream.write_all(&request(id, body)).expect("write");
        loop {
            while let Some(m) = self.deframer.next_message().expect("frames") {
                match m {
                    Message::Reply(r) if r.id == id => return r,
                    Message::Goodbye(g) => panic!("prober told goodbye: {g:?}"),
                    _ => {}
                }
            }
            let n = self.stream.read(&mut self.buf).expect("prober read");
            assert!(n > 0, "the registry closed the prober");
            self.deframer.push(&self.buf[..n]);
        }
    }

    /// Registers (if asked) and logs in as `probe`.
    fn log_in(&mut self, register: bool) {
        let name = Name::new("probe").unwrap();
        if register {
            let r = self.ask(RequestBody::Register {
                name: name.clone(),
                password: password(),
            });
            assert!(r.result.is_ok(), "probe register: {:?}", r.result);
        }
        let r = self.ask(RequestBody::Login {
            name,
            password: password(),
            listen: "127.0.0.1:9".parse().unwrap(),
            stamp: Default::default(),
        });
        assert!(r.result.is_ok(), "probe log-in: {:?}", r.result);
    }

    /// `n` back-to-back look-ups of the names `pick` gives; the latencies.
    fn lookups(&mut self, n: usize, mut pick: impl FnMut(usize) -> Name) -> Vec<Duration> {
        let mut lat = Vec::with_capacity(n);
        for k in 0..n {
            let name = pick(k);
            let t = Instant::now();
            let r = self.ask(RequestBody::Lookup { name });
            lat.push(t.elapsed());
            if !matches!(r.result, Ok(ReplyBody::Peer(_))) {
                self.failed += 1;
            }
        }
        lat
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[k].as_secs_f64() * 1e6
}

fn lat_summary(mut lat: Vec<Duration>) -> (f64, f64, f64) {
    lat.sort();
    (
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
    )
}

// ---------------------------------------------------------------- the machine

/// Raises the soft open-file limit to the hard one; returns it.
fn raise_nofile() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            panic!("getrlimit: {}", io::Error::last_os_error());
        }
        r.rlim_cur = r.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
            panic!("setrlimit: {}", io::Error::last_os_error());
        }
    }
    r.rlim_cur
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}, {mem_gib:.0} GiB RAM")
}

/// A tiny deterministic generator for picking look-up targets.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

// ---------------------------------------------------------------- main

fn main() {
    let settings = Settings::parse();
    let limit = raise_nofile();
    let peers = settings
        .peers
        .unwrap_or(limit.saturating_sub(FD_RESERVE) as usize);
    // SAFETY: sysconf has no memory effects.
    let ticks_per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    println!("registry scale: {}", machine());
    println!(
        "open-file limit {limit} (soft raised to hard): {peers} peers; load average {}",
        loadavg()
    );

    // ---- phase 1: the scale run, cheap password hashing.
    let reg = RegistryProc::start("fast");
    println!(
        "registry pid {} on {} (--password-cost fast)",
        reg.pid(),
        reg.addr
    );

    // Reference: look-ups on the idle registry.
    let mut prober = Prober::connect(reg.addr);
    prober.log_in(true);
    let probe = Name::new("probe").unwrap();
    let idle = lat_summary(prober.lookups(settings.lookups, |_| probe.clone()));
    drop(prober);
    std::thread::sleep(Duration::from_millis(200));
    let rss0 = reg.rss_kib();

    let mut swarm = Swarm::new(reg.addr, &[Step::Register, Step::Login]);
    let ramp = Instant::now();
    let mut added = 0;
    while added < peers {
        let n = settings.batch.min(peers - added);
        swarm.add(n, added);
        added += n;
        let ok = swarm.run_until(Duration::from_secs(300), Swarm::settled);
        assert!(ok, "batch up to {added} did not settle");
        if added % 5000 < settings.batch || added == peers {
            println!(
                "  {:>6} online after {:>5.1} s; registry RSS {} KiB; {} busy retries, {} dead",
                swarm.stats.logged_in,
                ramp.elapsed().as_secs_f64(),
                reg.rss_kib(),
                swarm.stats.busy,
                swarm.stats.dead
            );
        }
    }
    let ramp_s = ramp.elapsed().as_secs_f64();
    let scale_login_rate = swarm.stats.logged_in as f64
        / swarm
            .last_login
            .zip(swarm.first_auth)
            .map_or(f64::NAN, |(l, f)| (l - f).as_secs_f64());
    // Let every peer heartbeat once before measuring.
    swarm.run_for(HEARTBEAT + Duration::from_secs(1));
    let online = swarm.alive_logged_in();
    let rss1 = reg.rss_kib();
    let kib_per_peer = (rss1 as f64 - rss0 as f64) / online.max(1) as f64;

    // Steady state: heartbeats only.
    let load_before = loadavg();
    let (c0, hb0, t0) = (reg.cpu_ticks(), swarm.stats.hb_ok, Instant::now());
    swarm.run_for(settings.window);
    let (c1, hb1, window_s) = (
        reg.cpu_ticks(),
        swarm.stats.hb_ok,
        t0.elapsed().as_secs_f64(),
    );
    let cpu_pct = (c1 - c0) as f64 / ticks_per_s / window_s * 100.0;
    let hb_per_s = (hb1 - hb0) as f64 / window_s;
    let load_window = loadavg();

    // Look-ups under load, from another thread while the swarm heartbeats.
    let addr = reg.addr;
    let n_lookups = settings.lookups;
    let names: Vec<Name> = swarm
        .clients
        .iter()
        .filter(|c| c.logged_in && c.state != State::Dead)
        .map(|c| c.name.clone())
        .collect();
    let prober = std::thread::spawn(move || {
        let mut p = Prober::connect(addr);
        p.log_in(false);
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let lat = p.lookups(n_lookups, |_| {
            names[(xorshift(&mut rng) % names.len() as u64) as usize].clone()
        });
        (lat, p.failed)
    });
    swarm.run_until(Duration::from_secs(600), |_| prober.is_finished());
    let (lat, lookup_failures) = prober.join().expect("prober");
    let loaded = lat_summary(lat);
    let still_online = swarm.alive_logged_in();
    let stats = swarm.stats;
    drop(swarm);
    drop(reg);

    // ---- phase 2: the log-in rate at the default cost.
    let reg = RegistryProc::start("default");
    let n = settings.default_logins;
    let mut s = Swarm::new(reg.addr, &[Step::Register]);
    s.add(n, 0);
    let t = Instant::now();
    assert!(s.run_until(Duration::from_secs(600), Swarm::settled));
    let register_rate = s.stats.registered as f64 / t.elapsed().as_secs_f64();
    drop(s);
    let mut s = Swarm::new(reg.addr, &[Step::Login]);
    s.add(n, 0);
    let t = Instant::now();
    assert!(s.run_until(Duration::from_secs(600), Swarm::settled));
    let login_s = t.elapsed().as_secs_f64();
    let default_logins = s.stats.logged_in;
    let login_rate = default_logins as f64 / login_s;
    drop(s);
    drop(reg);

    // ---- report.
    println!();
    println!("| figure | value | target | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| peers online (heartbeating every 10 s) | {online} (still {still_online} after look-ups; {} dead) | 15000 | {:.2} |",
        stats.dead,
        online as f64 / 15000.0
    );
    println!(
        "| registry memory per peer | {kib_per_peer:.2} KiB ({rss0} -> {rss1} KiB RSS) | < 4 KiB | {:.2} |",
        kib_per_peer / 4.0
    );
    println!(
        "| registry CPU, steady state | {cpu_pct:.2} % of one core ({hb_per_s:.0} heartbeats/s, {:.0} s window) | - | - |",
        window_s
    );
    println!(
        "| look-up p50 / p99 / max under load ({} look-ups, {lookup_failures} failed) | {:.0} / {:.0} / {:.0} us | p99 < 1000 us | {:.2} |",
        settings.lookups,
        loaded.0,
        loaded.1,
        loaded.2,
        loaded.1 / 1000.0
    );
    println!(
        "| look-up p50 / p99 / max, idle registry (reference) | {:.0} / {:.0} / {:.0} us | - | loaded/idle p99 {:.2} |",
        idle.0,
        idle.1,
        idle.2,
        loaded.1 / idle.1
    );
    println!(
        "| ramp-up, cheap hash (register + log in) | {ramp_s:.1} s, {scale_login_rate:.0} log-ins/s | - | - |"
    );
    println!(
        "| log-ins per second, default cost | {login_rate:.1}/s ({default_logins} log-ins, <= {AUTH_SLOTS} in flight; registrations {register_rate:.1}/s) | - | - |"
    );
    println!(
        "load average: {load_before} before the CPU window, {load_window} after; now {}",
        loadavg()
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "registry",
            "peers": online,
            "kib_per_peer": (kib_per_peer * 100.0).round() / 100.0,
            "cpu_pct": (cpu_pct * 100.0).round() / 100.0,
            "lookup_p50_us": loaded.0.round(),
            "lookup_p99_us": loaded.1.round(),
            "idle_lookup_p99_us": idle.1.round(),
            "login_per_s_default_cost": (login_rate * 10.0).round() / 10.0,
        })
    );
}
