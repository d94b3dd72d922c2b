//! Engine throughput with no I/O (issue 8, item 4):
//! `cargo bench -p confab-engine --bench engine`.
//!
//! - `chat/send_deliver_ack`: two `Peer` engines with an open chat, wired in
//!   memory (each `Output::Send` of one is the other's `Input::Received`);
//!   A sends a batch of messages to B and the pair is pumped until B reported
//!   every `Message` and A every `Delivered`. Everything a message costs on
//!   one core: encode, deframe, decode, stream bookkeeping, history, the
//!   records to persist, the event, the acknowledgement and its handling.
//!   Target: at least 1,000,000 messages per second.
//! - `wire/decode_chat_data`: `wire::decode` of one chat `Data` frame body.
//! - `wire/deframe_chat_data`: `Deframer::push` + `next_message` of one frame.
//! - `registry/heartbeat`: a registry handling one heartbeat of a logged-in
//!   session, reply included, through its encrypted channel (the peer's
//!   sealing of the heartbeat included).
//!
//! After the criterion runs it prints one JSON line with the figures.

use std::collections::{HashMap, VecDeque};
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use confab_engine::bounded::Text;
use confab_engine::password::PasswordCost;
use confab_engine::peer::{PeerCommand, PeerConfig, PeerEvent, RequestId, Target};
use confab_engine::registry::RegistryConfig;
use confab_engine::secure::{Channel, Expect, Local, Side, StaticSecret};
use confab_engine::wire::identity::HandshakePayload;
use confab_engine::wire::peer::{Conv, Payload, PeerMessage};
use confab_engine::wire::registry::{Password, Request, RequestBody};
use confab_engine::wire::{Deframer, Hello, Message, Name, PROTOCOL_VERSION, Role, decode, encode};
use confab_engine::{ConnId, Engine, Input, Output, Peer, Registry};
use criterion::{Criterion, Throughput, criterion_group};

/// Messages per measured batch.
const BATCH: u64 = 1000;

// ---------------------------------------------------------------- an in-memory network

enum Node {
    Registry(Box<Registry>),
    Peer(Box<Peer>),
}

/// What a node asked for that the network carries out.
enum Out {
    Connect { conn: ConnId, addr: SocketAddr },
    Send { conn: ConnId, bytes: Vec<u8> },
    Close { conn: ConnId },
    Password(Box<dyn FnOnce() -> Input<'static>>),
    Event(PeerEvent),
    Nothing,
}

fn out_of<E>(o: Output<E>, event: impl FnOnce(E) -> Option<PeerEvent>) -> Out {
    match o {
        Output::Connect { conn, addr } => Out::Connect { conn, addr },
        Output::Send { conn, bytes } => Out::Send { conn, bytes },
        Output::Close { conn } => Out::Close { conn },
        Output::DerivePassword { job, work } => {
            Out::Password(Box::new(move || Input::PasswordDerived {
                job,
                result: work.run(),
            }))
        }
        Output::Event(e) => event(e).map_or(Out::Nothing, Out::Event),
        // Records are dropped: there is no store here.
        _ => Out::Nothing,
    }
}

impl Node {
    fn accept(&mut self, now: Instant, remote: SocketAddr) -> ConnId {
        match self {
            Node::Registry(r) => r.accept(now, remote),
            Node::Peer(p) => p.accept(now, remote),
        }
    }

    fn input(&mut self, now: Instant, input: Input<'_>) {
        match self {
            Node::Registry(r) => r.handle_input(now, input),
            Node::Peer(p) => p.handle_input(now, input),
        }
    }

    fn poll(&mut self) -> Option<Out> {
        match self {
            Node::Registry(r) => r.poll_output().map(|o| out_of(o, |_| None)),
            Node::Peer(p) => p.poll_output().map(|o| out_of(o, Some)),
        }
    }
}

enum Delivery {
    Connected(ConnId),
    Received(ConnId, Vec<u8>),
    Closed(ConnId),
    Password(Box<dyn FnOnce() -> Input<'static>>),
}

/// Nodes joined by perfect, instant byte pipes. Addresses: the registry is
/// 10.0.0.1:7300, peers 10.0.0.2:7000, 10.0.0.3:7000, ...
struct Net {
    now: Instant,
    nodes: Vec<Node>,
    addrs: Vec<SocketAddr>,
    links: HashMap<(usize, ConnId), (usize, ConnId)>,
    queue: VecDeque<(usize, Delivery)>,
    /// Events of each node, as counted by the caller.
    events: Vec<Vec<PeerEvent>>,
    /// Keep events (setup), or only count `Message`/`Delivered` (measuring).
    keep_events: bool,
    messages: u64,
    delivered: u64,
}

fn addr_of(i: usize) -> SocketAddr {
    if i == 0 {
        "10.0.0.1:7300".parse().unwrap()
    } else {
        SocketAddr::from(([10, 0, 0, 1 + i as u8], 7000))
    }
}

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

impl Net {
    fn new(peers: &[&str]) -> Self {
        let now = Instant::now();
        let registry = Registry::new(
            RegistryConfig {
                password_cost: PasswordCost::TESTING,
                // The peers' clock: certificates it issues must be valid for them.
                unix_ms_at_start: 1_700_000_000_000,
                ..RegistryConfig::default()
            },
            Vec::new(),
            now,
            1,
        );
        let mut net = Net {
            now,
            nodes: vec![Node::Registry(Box::new(registry))],
            addrs: vec![addr_of(0)],
            links: HashMap::new(),
            queue: VecDeque::new(),
            events: vec![Vec::new()],
            keep_events: true,
            messages: 0,
            delivered: 0,
        };
        for (k, p) in peers.iter().enumerate() {
            let i = k + 1;
            let mut config = PeerConfig::new(
                name(p),
                Password(Text::new(format!("pw-{p}")).unwrap()),
                addr_of(0),
                addr_of(i),
            );
            config.unix_ms_at_start = 1_700_000_000_000;
            net.nodes.push(Node::Peer(Box::new(Peer::new(
                config,
                Vec::new(),
                now,
                i as u64,
            ))));
            net.addrs.push(addr_of(i));
            net.events.push(Vec::new());
        }
        net.pump();
        net
    }

    fn peer(&mut self, i: usize) -> &mut Peer {
        match &mut self.nodes[i] {
            Node::Peer(p) => p,
            Node::Registry(_) => panic!("node {i} is the registry"),
        }
    }

    fn command(&mut self, i: usize, cmd: PeerCommand) {
        let now = self.now;
        self.peer(i)
            .handle_command(now, cmd)
            .expect("command accepted");
    }

    /// Drains every node and delivers everything until nothing moves.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..self.nodes.len() {
                while let Some(o) = self.nodes[i].poll() {
                    moved = true;
                    self.route(i, o);
                }
            }
            while let Some((i, d)) = self.queue.pop_front() {
                moved = true;
                let now = self.now;
                let node = &mut self.nodes[i];
                match d {
                    Delivery::Connected(conn) => node.input(now, Input::Connected { conn }),
                    Delivery::Received(conn, bytes) => node.input(
                        now,
                        Input::Received {
                            conn,
                            bytes: &bytes,
                        },
                    ),
                    Delivery::Closed(conn) => node.input(now, Input::Closed { conn }),
                    Delivery::Password(f) => node.input(now, f()),
                }
                while let Some(o) = self.nodes[i].poll() {
                    self.route(i, o);
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn route(&mut self, from: usize, o: Out) {
        match o {
            Out::Connect { conn, addr } => {
                let Some(to) = self.addrs.iter().position(|a| *a == addr) else {
                    self.queue.push_back((from, Delivery::Closed(conn)));
                    return;
                };
                let remote = SocketAddr::new(self.addrs[from].ip(), 40000);
                let accepted = self.nodes[to].accept(self.now, remote);
                self.links.insert((from, conn), (to, accepted));
                self.links.insert((to, accepted), (from, conn));
                self.queue.push_back((from, Delivery::Connected(conn)));
            }
            Out::Send { conn, bytes } => {
                if let Some(&(to, c)) = self.links.get(&(from, conn)) {
                    self.queue.push_back((to, Delivery::Received(c, bytes)));
                }
            }
            Out::Close { conn } => {
                if let Some((to, c)) = self.links.remove(&(from, conn)) {
                    self.links.remove(&(to, c));
                    self.queue.push_back((to, Delivery::Closed(c)));
                }
            }
            Out::Password(f) => self.queue.push_back((from, Delivery::Password(f))),
            Out::Event(e) => {
                match e {
                    PeerEvent::Message { .. } => self.messages += 1,
                    PeerEvent::Delivered { .. } => self.delivered += 1,
                    _ => {}
                }
                if self.keep_events {
                    self.events[from].push(e);
                }
            }
            Out::Nothing => {}
        }
    }
}

/// A registry and alice and bob, logged in, with a chat open between them.
fn chat_pair() -> Net {
    let mut net = Net::new(&["alice", "bob"]);
    for i in [1, 2] {
        assert!(
            net.events[i]
                .iter()
                .any(|e| matches!(e, PeerEvent::Ready { .. })),
            "peer {i} did not log in: {:?}",
            net.events[i]
        );
    }
    net.command(1, PeerCommand::Chat(name("bob")));
    net.pump();
    let id: RequestId = net.events[2]
        .iter()
        .find_map(|e| match e {
            PeerEvent::ChatRequest { id, .. } => Some(*id),
            _ => None,
        })
        .expect("bob got the chat request");
    net.command(2, PeerCommand::Accept(Some(id)));
    net.pump();
    assert!(
        net.events[1]
            .iter()
            .any(|e| matches!(e, PeerEvent::ChatOpened { .. })),
        "the chat did not open: {:?}",
        net.events[1]
    );
    net.keep_events = false;
    net
}

/// Sends `n` messages alice → bob and pumps until all are delivered and acked.
fn send_batch(net: &mut Net, n: u64) {
    let (m0, d0) = (net.messages, net.delivered);
    let to = Target::User(name("bob"));
    for k in 0..n {
        net.command(
            1,
            PeerCommand::Message {
                to: to.clone(),
                text: format!("message number {k}, about forty bytes"),
            },
        );
        net.pump();
    }
    assert_eq!(net.messages - m0, n, "bob shows every message once");
    assert_eq!(net.delivered - d0, n, "alice sees every message delivered");
}

// ---------------------------------------------------------------- benches

fn chat_frame() -> Vec<u8> {
    encode(&Message::Peer(PeerMessage::Data {
        conv: Conv::Direct,
        seq: 123_456,
        low: 123_400,
        payload: Payload::Text(Text::new("message number 123456, about forty bytes").unwrap()),
    }))
}

/// A registry with one logged-in session on the returned connection, and
/// the peer's end of that connection's encrypted channel.
fn registry_with_session() -> (Registry, Instant, ConnId, Channel) {
    let now = Instant::now();
    let mut r = Registry::new(
        RegistryConfig {
            password_cost: PasswordCost::TESTING,
            ..RegistryConfig::default()
        },
        Vec::new(),
        now,
        1,
    );
    let conn = r.accept(now, "10.0.0.2:40000".parse().unwrap());
    let local = Local {
        role: Role::Peer,
        secret: StaticSecret::from_bytes([3; 32]),
        payload: HandshakePayload::Peer { certificate: None },
    };
    let mut ch = Channel::new(
        Side::Initiator,
        &local,
        Expect::Registry { pin: None },
        [4; 32],
    );
    // The handshake: our first bytes, then back and forth until it is done.
    let mut to_registry = Vec::new();
    ch.start(&mut to_registry);
    while !to_registry.is_empty() {
        let bytes = std::mem::take(&mut to_registry);
        r.handle_input(
            now,
            Input::Received {
                conn,
                bytes: &bytes,
            },
        );
        while let Some(o) = r.poll_output() {
            if let Output::Send { bytes, .. } = o {
                to_registry.extend(ch.receive(&bytes, now, 0).unwrap().send);
            }
        }
    }
    assert!(ch.is_secure(), "handshake done");
    let hello = encode(&Message::Hello(Hello {
        version: PROTOCOL_VERSION,
        role: Role::Peer,
        name: None,
    }));
    let sealed = seal(&mut ch, &hello, now);
    r.handle_input(
        now,
        Input::Received {
            conn,
            bytes: &sealed,
        },
    );
    let pw = || Password(Text::new("pw").unwrap());
    let bodies = [
        RequestBody::Register {
            name: name("alice"),
            password: pw(),
        },
        RequestBody::Login {
            name: name("alice"),
            password: pw(),
            listen: "10.0.0.2:7000".parse().unwrap(),
            stamp: Default::default(),
        },
    ];
    for (id, body) in bodies.into_iter().enumerate() {
        let bytes = encode(&Message::Request(Request {
            id: id as u32,
            body,
        }));
        let sealed = seal(&mut ch, &bytes, now);
        r.handle_input(
            now,
            Input::Received {
                conn,
                bytes: &sealed,
            },
        );
        while let Some(o) = r.poll_output() {
            if let Output::DerivePassword { job, work } = o {
                r.handle_input(
                    now,
                    Input::PasswordDerived {
                        job,
                        result: work.run(),
                    },
                );
            }
        }
        while r.poll_output().is_some() {}
    }
    assert_eq!(r.directory().len(), 1, "alice is online");
    (r, now, conn, ch)
}

/// `plain` sealed by the peer's end of the channel.
fn seal(ch: &mut Channel, plain: &[u8], now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    ch.seal(plain, now, &mut out).unwrap();
    out
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("chat");
    g.throughput(Throughput::Elements(BATCH));
    let mut net = chat_pair();
    g.bench_function("send_deliver_ack", |b| {
        b.iter(|| send_batch(&mut net, BATCH))
    });
    g.finish();

    let mut g = c.benchmark_group("wire");
    g.throughput(Throughput::Elements(1));
    let frame = chat_frame();
    g.bench_function("decode_chat_data", |b| {
        b.iter(|| decode(black_box(&frame[4..])).unwrap())
    });
    let mut d = Deframer::new();
    g.bench_function("deframe_chat_data", |b| {
        b.iter(|| {
            d.push(black_box(&frame));
            d.next_message().unwrap().unwrap()
        })
    });
    g.bench_function("encode_chat_data", |b| {
        let msg = decode(&frame[4..]).unwrap();
        b.iter(|| encode(black_box(&msg)))
    });
    g.finish();

    let mut g = c.benchmark_group("registry");
    g.throughput(Throughput::Elements(1));
    let (mut r, now, conn, mut ch) = registry_with_session();
    let heartbeat = encode(&Message::Request(Request {
        id: 7,
        body: RequestBody::Heartbeat,
    }));
    // Each heartbeat is sealed anew (a record is never valid twice); the
    // peer's sealing is part of what is measured.
    g.bench_function("heartbeat", |b| {
        b.iter(|| {
            let sealed = seal(&mut ch, &heartbeat, now);
            r.handle_input(
                now,
                Input::Received {
                    conn,
                    bytes: black_box(&sealed),
                },
            );
            let mut n = 0;
            while let Some(o) = r.poll_output() {
                n += 1;
                black_box(o);
            }
            assert_eq!(n, 1, "one reply");
        })
    });
    g.finish();
}

/// Plain timings for the JSON line (criterion keeps its own report).
fn summary() {
    let time = |f: &mut dyn FnMut(), iters: u32| {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        t.elapsed() / iters
    };
    let mut net = chat_pair();
    send_batch(&mut net, BATCH); // warm up
    let per_batch = (0..5)
        .map(|_| time(&mut || send_batch(&mut net, BATCH), 4))
        .min()
        .unwrap_or(Duration::MAX);
    let msgs_per_s = BATCH as f64 / per_batch.as_secs_f64();
    let frame = chat_frame();
    let decode_ns = time(
        &mut || {
            black_box(decode(black_box(&frame[4..])).unwrap());
        },
        200_000,
    )
    .as_nanos();
    let (mut r, now, conn, mut ch) = registry_with_session();
    let heartbeat = encode(&Message::Request(Request {
        id: 7,
        body: RequestBody::Heartbeat,
    }));
    let heartbeat_ns = time(
        &mut || {
            let sealed = seal(&mut ch, &heartbeat, now);
            r.handle_input(
                now,
                Input::Received {
                    conn,
                    bytes: &sealed,
                },
            );
            while let Some(o) = r.poll_output() {
                black_box(o);
            }
        },
        200_000,
    )
    .as_nanos();
    println!(
        "engine: {msgs_per_s:.0} messages/s through send+decode+handle+ack on one core \
         (target 1000000: ratio {:.2}); decode of a chat Data frame {decode_ns} ns; \
         registry heartbeat {heartbeat_ns} ns",
        msgs_per_s / 1e6
    );
    println!(
        "{{\"bench\":\"engine\",\"msgs_per_s\":{msgs_per_s:.0},\"decode_chat_data_ns\":{decode_ns},\"registry_heartbeat_ns\":{heartbeat_ns}}}"
    );
}

criterion_group!(engine, benches);

fn main() {
    engine();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
