//! The look-up prober: one blocking connection (encrypted, see
//! `super::link`) doing back-to-back `Lookup`s while the swarm heartbeats,
//! and the latency summary of what it measured.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream as StdTcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use confab_engine::secure::Channel;
use confab_engine::wire::registry::{Reply, ReplyBody, RequestBody};
use confab_engine::wire::{Deframer, Hello, Message, Name, PROTOCOL_VERSION, Role, encode};

use super::link;
use super::swarm::{password, request};

/// A blocking client for back-to-back look-ups.
pub struct Prober {
    pub stream: StdTcpStream,
    pub channel: Channel,
    pub deframer: Deframer,
    pub buf: Vec<u8>,
    pub next_id: u32,
    /// Look-ups not answered with a peer.
    pub failed: usize,
}

impl Prober {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = StdTcpStream::connect(addr).expect("prober connect");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        // Numbered apart from the swarm's clients (see `link::channel`).
        static PROBERS: AtomicU64 = AtomicU64::new(1 << 40);
        let mut p = Prober {
            stream,
            channel: link::channel(PROBERS.fetch_add(1, Ordering::Relaxed)),
            deframer: Deframer::new(),
            buf: vec![0; 64 * 1024],
            next_id: 1,
            failed: 0,
        };
        let mut out = Vec::new();
        p.channel.start(&mut out);
        p.stream.write_all(&out).unwrap();
        p.send(&encode(&Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: None,
        })));
        p
    }

    /// Sends stream bytes through the channel (held until the handshake
    /// has ended).
    fn send(&mut self, bytes: &[u8]) {
        let mut out = Vec::new();
        self.channel
            .seal(bytes, Instant::now(), &mut out)
            .expect("prober channel");
        self.stream.write_all(&out).expect("write");
    }

    /// Sends one request and waits for its reply.
    pub fn ask(&mut self, body: RequestBody) -> Reply {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&request(id, body));
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
            let got = self
                .channel
                .receive(&self.buf[..n], Instant::now(), link::unix_secs())
                .expect("prober channel");
            self.stream.write_all(&got.send).expect("write");
            self.deframer.push(&got.plain);
        }
    }

    /// Registers (if asked) and logs in as `probe`.
    pub fn log_in(&mut self, register: bool) {
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
    pub fn lookups(&mut self, n: usize, mut pick: impl FnMut(usize) -> Name) -> Vec<Duration> {
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

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[k].as_secs_f64() * 1e6
}

pub fn lat_summary(mut lat: Vec<Duration>) -> (f64, f64, f64) {
    lat.sort();
    (
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
    )
}
