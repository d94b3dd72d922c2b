//! A raw protocol client for end-to-end tests of the registry: speaks frames
//! built with `confab_engine::wire` over a blocking socket (the processes
//! themselves are started with `support`'s harness). Every read has a
//! generous deadline that only turns a hang into a failure.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use confab_engine::bounded::Text;
use confab_engine::wire::registry::{Password, Reply, ReplyBody, Request, RequestBody};
use confab_engine::wire::{
    Deframer, Hello, Message, Name, PROTOCOL_VERSION, Refusal, Role, encode,
};

/// How long any single wait may take before the test fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A raw protocol client: frames over a blocking socket.
pub struct Client {
    stream: TcpStream,
    deframer: Deframer,
    next_id: u32,
}

impl Client {
    /// Connects, reads the registry's hello and says hello as a peer.
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect to the registry");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut c = Self {
            stream,
            deframer: Deframer::new(),
            next_id: 0,
        };
        match c.recv() {
            Some(Message::Hello(h)) => assert_eq!(h.role, Role::Registry),
            other => panic!("expected the registry's hello, got {other:?}"),
        }
        c.send(&Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: None,
        }));
        c
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Writes one message.
    pub fn send(&mut self, msg: &Message) {
        self.send_raw(&encode(msg));
    }

    /// The next message, or `None` at the end of the stream.
    pub fn recv(&mut self) -> Option<Message> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(m) = self.deframer.next_message().expect("valid frames") {
                return Some(m);
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => self.deframer.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                // A signal (the test sends SIGTERM to a child) may interrupt
                // the read; nothing was read, so read again.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => panic!("read: {e}"),
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
                other => panic!("expected reply {id}, got {other:?}"),
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
