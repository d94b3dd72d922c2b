//! Helpers for end-to-end tests: start the real `confab` binary on 127.0.0.1
//! with port 0, read what it prints line by line (never sleeping: every wait
//! is for a line, a frame or an exit, with a generous deadline that only
//! turns a hang into a failure), and speak frames to it with a raw client
//! built from `confab_engine::wire`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use confab_engine::bounded::Text;
use confab_engine::wire::registry::{Password, Reply, ReplyBody, Request, RequestBody};
use confab_engine::wire::{
    Deframer, Hello, Message, Name, PROTOCOL_VERSION, Refusal, Role, encode,
};

/// How long any single wait may take before the test fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A running `confab` process.
pub struct Confab {
    child: Option<Child>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    exited: Option<Receiver<ExitStatus>>,
}

fn lines(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

impl Confab {
    /// Starts `confab ARGS`.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_confab"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start confab");
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        Self {
            child: Some(child),
            stdout,
            stderr,
            exited: None,
        }
    }

    /// Starts a registry on a free loopback port with its data in `data`, and
    /// waits until it says where it listens.
    pub fn registry(data: &Path) -> (Self, SocketAddr) {
        let mut r = Self::start(&[
            "registry",
            "--listen",
            "127.0.0.1:0",
            "--data",
            data.to_str().unwrap(),
        ]);
        let line = r.line_containing("listening on ");
        let addr = line
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        (r, addr)
    }

    /// The next stdout line containing `needle` (earlier lines are skipped).
    pub fn line_containing(&mut self, needle: &str) -> String {
        loop {
            match self.stdout.recv_timeout(PATIENCE) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!(
                    "no line with {needle:?} on stdout ({e}); stderr: {}",
                    self.stderr_so_far()
                ),
            }
        }
    }

    /// Everything on stderr until now (or until it closes, if it has).
    pub fn stderr_so_far(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// All of stderr, once the process has ended.
    pub fn stderr_all(&self) -> String {
        let mut out = Vec::new();
        while let Ok(line) = self.stderr.recv_timeout(PATIENCE) {
            out.push(line);
        }
        out.join("\n")
    }

    /// Sends a signal.
    pub fn signal(&self, signal: i32) {
        let pid = self.child.as_ref().expect("still owned").id();
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
        assert_eq!(rc, 0, "kill failed");
    }

    /// Waits for the process to end.
    pub fn wait(&mut self) -> ExitStatus {
        if self.exited.is_none() {
            let mut child = self.child.take().expect("child");
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                if let Ok(status) = child.wait() {
                    let _ = tx.send(status);
                }
            });
            self.exited = Some(rx);
        }
        self.exited
            .as_ref()
            .unwrap()
            .recv_timeout(PATIENCE)
            .expect("confab did not exit in time")
    }
}

impl Drop for Confab {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

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
