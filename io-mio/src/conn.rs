//! [`Connection`]: one TCP stream as the driver sees it, with its bounded
//! write queue and its place in the connection's life.
//!
//! Life: `Connecting` (an outgoing connect, until the socket is writable or its
//! deadline passes) → `Open` (the engine knows it) → `Closing` (the engine has
//! let go: the queue is flushed, then the write side is shut, then the driver
//! waits for the remote's end of stream or the linger deadline). Incoming bytes
//! on a closing connection are read and dropped, so that the kernel never
//! answers our goodbye with a reset.
//!
//! Invariant: `queued()` is the exact number of bytes accepted from the engine
//! and not yet written to the socket.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::time::Instant;

use mio::net::TcpStream;

/// Most queued buffers handed to one `writev`: a window of chunk frames
/// (16 with the defaults) and the small frames between them.
const WRITE_BATCH: usize = 32;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// An outgoing connect under way, given up at the deadline.
    Connecting { deadline: Instant },
    /// Connected, and known to the engine.
    Open,
    /// Forgotten by the engine: flush, shut the write side, wait for the end of
    /// stream until the deadline.
    Closing { deadline: Instant, shut: bool },
}

/// What one read gave.
#[derive(Debug)]
pub(crate) enum ReadOutcome {
    /// This many bytes are in the buffer.
    Data(usize),
    /// Nothing more for now.
    WouldBlock,
    /// The remote closed, or the connection failed.
    Ended,
}

/// A connection. See the module documentation.
#[derive(Debug)]
pub(crate) struct Connection {
    pub stream: TcpStream,
    pub state: State,
    queue: VecDeque<Vec<u8>>,
    /// Bytes of the front buffer already written.
    head: usize,
    queued: usize,
    /// A readiness edge was seen and reads have not yet hit `WouldBlock`.
    pub readable: bool,
    /// Writes have not hit `WouldBlock` since the last writable edge.
    pub writable: bool,
    /// Reads are held back because the write queue is over the high-water mark.
    pub read_paused: bool,
}

impl Connection {
    pub fn new(stream: TcpStream, state: State) -> Self {
        Self {
            stream,
            state,
            queue: VecDeque::new(),
            head: 0,
            queued: 0,
            readable: false,
            writable: false,
            read_paused: false,
        }
    }

    /// Bytes waiting to be written.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Queues bytes after the ones already queued.
    pub fn push(&mut self, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.queued += bytes.len();
            self.queue.push_back(bytes);
        }
    }

    /// Writes as much of the queue as the socket takes, up to
    /// [`WRITE_BATCH`] queued buffers per system call (`writev`). `Err` means
    /// the connection is broken.
    pub fn flush(&mut self) -> io::Result<()> {
        while let Some(front) = self.queue.front() {
            let mut slices = [IoSlice::new(&[]); WRITE_BATCH];
            slices[0] = IoSlice::new(&front[self.head..]);
            let mut n_slices = 1;
            for (slot, buf) in slices[1..].iter_mut().zip(self.queue.iter().skip(1)) {
                *slot = IoSlice::new(buf);
                n_slices += 1;
            }
            match self.stream.write_vectored(&slices[..n_slices]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.queued -= n;
                    let mut left = n;
                    while let Some(front) = self.queue.front() {
                        let rest = front.len() - self.head;
                        if left < rest {
                            self.head += left;
                            break;
                        }
                        left -= rest;
                        self.queue.pop_front();
                        self.head = 0;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.writable = false;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads once into `buf`.
    pub fn read(&mut self, buf: &mut [u8]) -> ReadOutcome {
        loop {
            return match self.stream.read(buf) {
                Ok(0) => ReadOutcome::Ended,
                Ok(n) => ReadOutcome::Data(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    ReadOutcome::WouldBlock
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::debug!("read failed: {e}");
                    ReadOutcome::Ended
                }
            };
        }
    }

    /// Updates `read_paused` from the queue, with hysteresis between the marks.
    pub fn update_pause(&mut self, high_water: usize, low_water: usize) {
        if self.read_paused {
            if self.queued <= low_water {
                self.read_paused = false;
            }
        } else if self.queued >= high_water {
            self.read_paused = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_counts_and_pause_hysteresis() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        std_stream.set_nonblocking(true).unwrap();
        let mut c = Connection::new(TcpStream::from_std(std_stream), State::Open);
        c.push(vec![0; 10]);
        c.push(Vec::new());
        c.push(vec![0; 5]);
        assert_eq!(c.queued(), 15);
        c.update_pause(15, 5);
        assert!(c.read_paused);
        c.flush().unwrap();
        assert_eq!(c.queued(), 0, "a fresh loopback socket takes 15 bytes");
        c.update_pause(15, 5);
        assert!(!c.read_paused);
    }

    #[test]
    fn a_flush_writes_many_buffers_in_order_and_resumes_mid_buffer() {
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut far, _) = listener.accept().unwrap();
        // A small send buffer, so that flushes stop mid-buffer.
        let size: libc::c_int = 4096;
        // SAFETY: a valid socket and a c_int option of the right size.
        let set = unsafe {
            libc::setsockopt(
                std_stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(set, 0);
        std_stream.set_nonblocking(true).unwrap();
        let mut c = Connection::new(TcpStream::from_std(std_stream), State::Open);
        // More buffers than one batch, of many sizes.
        let bufs: Vec<Vec<u8>> = (0..100u32)
            .map(|i| vec![i as u8; 1 + (i as usize * 7919) % 20_000])
            .collect();
        let total: usize = bufs.iter().map(Vec::len).sum();
        for b in &bufs {
            c.push(b.clone());
        }
        assert_eq!(c.queued(), total);
        let mut got = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut partial = 0;
        loop {
            c.flush().unwrap();
            let sent = total - c.queued();
            if c.queued() > 0 {
                partial += 1;
            }
            // Read what was sent (blocking until it has all arrived).
            while got.len() < sent {
                let n = far.read(&mut buf).unwrap();
                assert!(n > 0);
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got.len(), sent);
            if c.queued() == 0 {
                break;
            }
        }
        assert!(partial > 0, "the socket took everything at once");
        assert_eq!(got, bufs.concat());
    }
}
