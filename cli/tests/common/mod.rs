//! A raw protocol client for end-to-end tests of the registry: speaks frames
//! built with `confab_engine::wire` over a blocking socket, inside the
//! encrypted channel every confab connection runs (a client-side
//! `confab_engine::secure::Channel`: the plaintext first frame, the Noise
//! handshake, then records). The processes themselves are started with
//! `support`'s harness. Every read has a generous deadline that only turns
//! a hang into a failure.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use confab_engine::bounded::Text;
use confab_engine::secure::{Channel, ChannelError, Expect, Local, Proven, Side, StaticSecret};
use confab_engine::wire::identity::{Fingerprint, HandshakePayload, PublicKey};
use confab_engine::wire::registry::{Password, Reply, ReplyBody, Request, RequestBody};
use confab_engine::wire::{
    Deframer, Hello, Message, Name, PROTOCOL_VERSION, Refusal, Role, encode,
};

/// How long any single wait may take before the test fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A raw protocol client: frames in an encrypted channel over a blocking
/// socket.
pub struct Client {
    stream: TcpStream,
    channel: Channel,
    deframer: Deframer,
    next_id: u32,
    /// This client's Noise static key.
    pub key: PublicKey,
    /// The registry's signing key, once the handshake proved it.
    pub registry_key: Option<PublicKey>,
    /// Why the channel ended, if it did.
    pub failed: Option<ChannelError>,
}

/// 32 bytes that differ between clients and runs. Not secret: these are
/// test clients' keys and ephemeral seeds.
fn fresh_bytes() -> [u8; 32] {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut out = [0u8; 32];
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    out[..8].copy_from_slice(&nanos.to_le_bytes());
    out[8..16].copy_from_slice(&COUNT.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    out[16..20].copy_from_slice(&std::process::id().to_le_bytes());
    out
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Client {
    /// Connects and opens the channel, trusting whatever key the registry
    /// proves; then reads the registry's hello and says hello as a peer.
    pub fn connect(addr: SocketAddr) -> Self {
        let mut c = Self::open(addr, None);
        match c.recv() {
            Some(Message::Hello(h)) => assert_eq!(h.role, Role::Registry),
            other => panic!(
                "expected the registry's hello, got {other:?} (channel: {:?})",
                c.failed
            ),
        }
        c.send(&Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: None,
        }));
        c
    }

    /// Connects and starts the channel, holding the registry to `pin` if
    /// given; reads nothing yet.
    pub fn open(addr: SocketAddr, pin: Option<Fingerprint>) -> Self {
        let stream = TcpStream::connect(addr).expect("connect to the registry");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let secret = StaticSecret::from_bytes(fresh_bytes());
        let key = secret.public();
        let local = Local {
            role: Role::Peer,
            secret,
            payload: HandshakePayload::Peer { certificate: None },
        };
        let channel = Channel::new(
            Side::Initiator,
            &local,
            Expect::Registry { pin },
            fresh_bytes(),
        );
        let mut c = Self {
            stream,
            channel,
            deframer: Deframer::new(),
            next_id: 0,
            key,
            registry_key: None,
            failed: None,
        };
        let mut out = Vec::new();
        c.channel.start(&mut out);
        c.send_raw(&out);
        c
    }

    /// Writes raw bytes on the socket, around the channel.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends `bytes` as stream bytes inside the channel (held until the
    /// handshake ends), whether or not they are whole frames.
    pub fn send_sealed(&mut self, bytes: &[u8]) {
        let mut out = Vec::new();
        self.channel
            .seal(bytes, Instant::now(), &mut out)
            .expect("seal");
        self.send_raw(&out);
    }

    /// Writes one message inside the channel.
    pub fn send(&mut self, msg: &Message) {
        self.send_sealed(&encode(msg));
    }

    /// The next message, or `None` at the end of the stream or once the
    /// channel failed (`failed` says why). A goodbye the registry sent in
    /// plaintext before any key (another protocol version) comes as a
    /// `Goodbye`.
    pub fn recv(&mut self) -> Option<Message> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(m) = self.deframer.next_message().expect("valid frames") {
                return Some(m);
            }
            if self.failed.is_some() {
                return None;
            }
            let n = match self.stream.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                // A signal (the test sends SIGTERM to a child) may interrupt
                // the read; nothing was read, so read again.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => panic!("read: {e}"),
            };
            match self.channel.receive(&buf[..n], Instant::now(), unix_secs()) {
                Ok(got) => {
                    if !got.send.is_empty() {
                        // The other side may have closed already; the read
                        // that follows says so.
                        let _ = self.stream.write_all(&got.send);
                    }
                    if let Some(Proven::Registry { signing_key }) = got.proven {
                        self.registry_key = Some(signing_key);
                    }
                    self.deframer.push(&got.plain);
                }
                Err(ChannelError::Refused(g)) => {
                    self.failed = Some(ChannelError::Refused(g.clone()));
                    return Some(Message::Goodbye(g));
                }
                Err(e) => {
                    self.failed = Some(e);
                    return None;
                }
            }
        }
    }

    /// Sends a request and returns the reply to it.
    pub fn request(&mut self, body: RequestBody) -> Result<ReplyBody, Refusal> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&Message::Request(Request { id, body }));
        loop {
            match self.recv() {
                Some(Message::Reply(Reply { id: got, result })) if got == id => return result,
                Some(Message::Presence(_)) => {}
                other => panic!(
                    "expected reply {id}, got {other:?} (channel: {:?})",
                    self.failed
                ),
            }
        }
    }
}

/// A name.
pub fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

/// A password.
pub fn password(s: &str) -> Password {
    Password(Text::new(s).unwrap())
}
