//! One connection's I/O: a reader task and a writer task over the two halves
//! of a turmoil `TcpStream`, reporting to the host's driver over a channel.
//!
//! Reads and writes are separate tasks so a blocked write (turmoil's flow
//! control credits run out when a partition eats segments) never stops reads.
//! `close` flushes queued writes, then sends FIN, then lets the reader linger
//! a while so the remote's last bytes do not turn into a reset. `reset`
//! aborts both at once.

use std::net::SocketAddr;
use std::time::Duration;

use confab_engine::ConnId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, spawn_local};
use turmoil::net::TcpStream;
use turmoil::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// How long an outbound connection may take before it counts as failed
/// (a partition drops the SYN and turmoil would wait forever).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a closed connection's reader keeps draining.
const LINGER: Duration = Duration::from_secs(5);
const READ_BUF: usize = 16 * 1024;

/// What connection tasks tell the driver.
pub enum NetEvent {
    /// An outbound connection is up.
    Connected { conn: ConnId, stream: TcpStream },
    /// An outbound connection failed or timed out.
    ConnectFailed { conn: ConnId },
    /// Bytes arrived.
    Received { conn: ConnId, bytes: Vec<u8> },
    /// The remote closed, or the connection broke.
    Closed { conn: ConnId },
}

/// What the writer task is asked to do.
pub enum WriteOp {
    /// Write these bytes.
    Bytes(Vec<u8>),
    Close,
}

/// The driver's handle on one connection.
pub enum ConnIo {
    /// Connecting; bytes the engine sends meanwhile wait here.
    Connecting {
        task: AbortHandle,
        queued: Vec<Vec<u8>>,
    },
    /// Up.
    Open {
        writer: mpsc::UnboundedSender<WriteOp>,
        tasks: [AbortHandle; 2],
    },
}

impl ConnIo {
    /// Starts connecting to `addr`.
    pub fn connect(conn: ConnId, addr: SocketAddr, tx: mpsc::UnboundedSender<NetEvent>) -> Self {
        let task = spawn_local(async move {
            let ev = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => NetEvent::Connected { conn, stream },
                _ => NetEvent::ConnectFailed { conn },
            };
            let _ = tx.send(ev);
        });
        ConnIo::Connecting {
            task: task.abort_handle(),
            queued: Vec::new(),
        }
    }

    /// Runs an established stream.
    pub fn open(conn: ConnId, stream: TcpStream, tx: mpsc::UnboundedSender<NetEvent>) -> Self {
        let (rd, wr) = stream.into_split();
        let reader = spawn_local(read_loop(conn, rd, tx.clone())).abort_handle();
        let (writer, ops) = mpsc::unbounded_channel();
        let writer_task = spawn_local(write_loop(conn, wr, ops, tx, reader.clone())).abort_handle();
        ConnIo::Open {
            writer,
            tasks: [reader, writer_task],
        }
    }

    /// The outbound connection is up: run it and send what was queued.
    pub fn connected(
        &mut self,
        conn: ConnId,
        stream: TcpStream,
        tx: mpsc::UnboundedSender<NetEvent>,
    ) {
        let queued = match self {
            ConnIo::Connecting { queued, .. } => std::mem::take(queued),
            ConnIo::Open { .. } => return,
        };
        *self = ConnIo::open(conn, stream, tx);
        for bytes in queued {
            self.send(bytes);
        }
    }

    /// Whether the connection is up.
    pub fn is_open(&self) -> bool {
        matches!(self, ConnIo::Open { .. })
    }

    /// Writes `bytes` after everything sent before.
    pub fn send(&mut self, bytes: Vec<u8>) {
        match self {
            ConnIo::Connecting { queued, .. } => queued.push(bytes),
            ConnIo::Open { writer, .. } => {
                let _ = writer.send(WriteOp::Bytes(bytes));
            }
        }
    }

    /// Flushes, then closes.
    pub fn close(self) {
        match self {
            ConnIo::Connecting { task, .. } => task.abort(),
            ConnIo::Open { writer, .. } => {
                let _ = writer.send(WriteOp::Close);
            }
        }
    }

    /// Drops the connection now.
    pub fn reset(self) {
        match self {
            ConnIo::Connecting { task, .. } => task.abort(),
            ConnIo::Open { tasks, .. } => tasks.iter().for_each(AbortHandle::abort),
        }
    }
}

async fn read_loop(conn: ConnId, mut rd: OwnedReadHalf, tx: mpsc::UnboundedSender<NetEvent>) {
    let mut buf = vec![0u8; READ_BUF];
    loop {
        match rd.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = tx.send(NetEvent::Closed { conn });
                return;
            }
            Ok(n) => {
                let _ = tx.send(NetEvent::Received {
                    conn,
                    bytes: buf[..n].to_vec(),
                });
            }
        }
    }
}

async fn write_loop(
    conn: ConnId,
    mut wr: OwnedWriteHalf,
    mut ops: mpsc::UnboundedReceiver<WriteOp>,
    tx: mpsc::UnboundedSender<NetEvent>,
    reader: AbortHandle,
) {
    while let Some(op) = ops.recv().await {
        match op {
            WriteOp::Bytes(bytes) => {
                if wr.write_all(&bytes).await.is_err() {
                    let _ = tx.send(NetEvent::Closed { conn });
                    return;
                }
            }
            WriteOp::Close => break,
        }
    }
    let _ = wr.shutdown().await;
    // The driver has forgotten the connection, so what the reader still
    // reports is ignored; it only drains until the remote closes or LINGER.
    tokio::time::sleep(LINGER).await;
    reader.abort();
}
