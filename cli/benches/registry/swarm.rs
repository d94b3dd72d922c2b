//! The load generator: many registry clients on one mio loop, ramping up in
//! batches, logging in under the registry's password-job limit and
//! heartbeating. Speaks the protocol with `confab_engine::wire`, inside each
//! client's encrypted channel (`super::link`); touches only its own sockets.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream as StdTcpStream};
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};

use confab_engine::bounded::Text;
use confab_engine::secure::Channel;
use confab_engine::wire::registry::{Password, Reply, ReplyBody, Request, RequestBody};
use confab_engine::wire::{
    Deframer, ErrorCode, Hello, Message, Name, PROTOCOL_VERSION, Role, encode,
};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::link;
use super::{AUTH_SLOTS, HEARTBEAT, MAX_UNACCEPTED, PER_SOURCE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Register,
    Login,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
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

pub struct Client {
    pub stream: TcpStream,
    pub channel: Channel,
    pub deframer: Deframer,
    pub state: State,
    /// The registry's hello arrived: it accepted the connection.
    pub greeted: bool,
    pub step: usize,
    pub name: Name,
    pub out: Vec<u8>,
    pub next_id: u32,
    pub logged_in: bool,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub connected: usize,
    pub logged_in: usize,
    pub registered: usize,
    pub busy: usize,
    pub dead: usize,
    pub hb_sent: u64,
    pub hb_ok: u64,
}

/// Many registry clients on one mio loop.
pub struct Swarm {
    pub poll: Poll,
    pub events: Events,
    pub registry: SocketAddr,
    pub steps: &'static [Step],
    pub clients: Vec<Client>,
    pub to_open: VecDeque<Name>,
    pub unaccepted: usize,
    pub in_flight: usize,
    pub queued: VecDeque<usize>,
    pub retry: VecDeque<(Instant, usize)>,
    pub heartbeats: VecDeque<(Instant, usize)>,
    pub stats: Stats,
    pub buf: Vec<u8>,
    pub first_auth: Option<Instant>,
    pub last_login: Option<Instant>,
    pub complaints: usize,
}

pub fn password() -> Password {
    Password(Text::new("benchmark-password").unwrap())
}

pub fn peer_name(i: usize) -> Name {
    Name::new(&format!("p{i:05}")).unwrap()
}

/// A non-blocking socket bound to `src`:0 and connecting to `dst`.
pub fn connect_from(src: Ipv4Addr, dst: SocketAddr) -> io::Result<TcpStream> {
    pub fn sockaddr(ip: Ipv4Addr, port: u16) -> libc::sockaddr_in {
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

pub fn request(id: u32, body: RequestBody) -> Vec<u8> {
    encode(&Message::Request(Request { id, body }))
}

impl Swarm {
    pub fn new(registry: SocketAddr, steps: &'static [Step]) -> Self {
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
    pub fn add(&mut self, n: usize, first: usize) {
        self.to_open.extend((first..first + n).map(peer_name));
    }

    /// Opens connections while fewer than [`MAX_UNACCEPTED`] wait for the
    /// registry's hello, so the listen backlog never overflows.
    pub fn open_more(&mut self) {
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
                channel: link::channel(i as u64),
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
    pub fn settled(&self) -> bool {
        self.to_open.is_empty()
            && self
                .clients
                .iter()
                .all(|c| matches!(c.state, State::Done | State::Dead))
    }

    pub fn alive_logged_in(&self) -> usize {
        self.clients
            .iter()
            .filter(|c| c.logged_in && c.state != State::Dead)
            .count()
    }

    /// Sends stream bytes (whole frames) through client `i`'s channel,
    /// which holds them until its handshake has ended.
    pub fn send(&mut self, i: usize, bytes: &[u8]) {
        let c = &mut self.clients[i];
        if let Err(e) = c.channel.seal(bytes, Instant::now(), &mut c.out) {
            return self.kill(i, &format!("channel: {e}"));
        }
        Self::flush(c);
    }

    pub fn flush(c: &mut Client) {
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

    pub fn kill(&mut self, i: usize, why: &str) {
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

    pub fn start_step(&mut self, i: usize, now: Instant) {
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

    pub fn on_message(&mut self, i: usize, msg: Message, now: Instant) {
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
                    // A log-in is answered with a certificate.
                    Ok(ReplyBody::Done | ReplyBody::Certified(_)) => {
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

    pub fn on_event(&mut self, i: usize, readable: bool, writable: bool, now: Instant) {
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
            c.channel.start(&mut c.out);
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
        let unix = link::unix_secs();
        loop {
            let c = &mut self.clients[i];
            match c.stream.read(&mut self.buf) {
                Ok(0) => return self.kill(i, "closed by the registry"),
                Ok(n) => match c.channel.receive(&self.buf[..n], now, unix) {
                    Ok(got) => {
                        c.out.extend_from_slice(&got.send);
                        Self::flush(c);
                        c.deframer.push(&got.plain);
                    }
                    Err(e) => return self.kill(i, &format!("channel: {e}")),
                },
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
    pub fn pump(&mut self, now: Instant) {
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
    pub fn turn(&mut self, max: Duration) {
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

    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if done(self) {
                return true;
            }
            self.turn(Duration::from_millis(50));
        }
        done(self)
    }

    pub fn run_for(&mut self, d: Duration) {
        self.run_until(d, |_| false);
    }
}
