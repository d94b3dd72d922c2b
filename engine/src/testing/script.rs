//! [`ScriptClient`]: a remote the test drives message by message.
//!
//! It connects where it is told, sends whatever [`Message`] (or raw bytes) the
//! test gives it, and reports every message it receives as a [`ScriptEvent`].
//! It does no protocol of its own, not even a hello, so a test can play a
//! correct peer, a confused one or a hostile one.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use crate::api::{CommandError, ConnId, Engine, Input, Output};
use crate::wire::{Deframer, Message, encode};

/// What the test asks of a [`ScriptClient`].
#[derive(Debug, Clone)]
pub enum ScriptCommand {
    /// Open a connection to `addr` (reported as [`ScriptEvent::Connected`]).
    Connect(SocketAddr),
    /// Send a message on `conn`.
    Send(ConnId, Message),
    /// Send raw bytes on `conn`.
    SendRaw(ConnId, Vec<u8>),
    /// Close `conn`.
    Close(ConnId),
}

/// What a [`ScriptClient`] saw.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptEvent {
    /// A connection is up (outgoing or accepted).
    Connected(ConnId),
    /// A connection could not be made.
    ConnectFailed(ConnId),
    /// A message arrived.
    Message(ConnId, Message),
    /// The bytes on `conn` were not valid frames.
    BadBytes(ConnId, String),
    /// The connection is gone.
    Closed(ConnId),
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct ScriptClient {
    next_conn: u64,
    conns: BTreeMap<ConnId, Deframer>,
    out: VecDeque<Output<ScriptEvent>>,
}

impl ScriptClient {
    /// A client with no connections.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id the next `Connect` will get.
    pub fn next_conn_id(&self) -> ConnId {
        ConnId(self.next_conn + 1)
    }
}

impl Engine for ScriptClient {
    type Command = ScriptCommand;
    type Event = ScriptEvent;

    fn accept(&mut self, _now: Instant, _remote: SocketAddr) -> ConnId {
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.conns.insert(conn, Deframer::new());
        self.out
            .push_back(Output::Event(ScriptEvent::Connected(conn)));
        conn
    }

    fn handle_input(&mut self, _now: Instant, input: Input<'_>) {
        match input {
            Input::Connected { conn } => self
                .out
                .push_back(Output::Event(ScriptEvent::Connected(conn))),
            Input::ConnectFailed { conn } => {
                self.conns.remove(&conn);
                self.out
                    .push_back(Output::Event(ScriptEvent::ConnectFailed(conn)));
            }
            Input::Received { conn, bytes } => {
                let Some(d) = self.conns.get_mut(&conn) else {
                    return;
                };
                d.push(bytes);
                loop {
                    match d.next_message() {
                        Ok(Some(m)) => self
                            .out
                            .push_back(Output::Event(ScriptEvent::Message(conn, m))),
                        Ok(None) => break,
                        Err(e) => {
                            self.out.push_back(Output::Event(ScriptEvent::BadBytes(
                                conn,
                                e.to_string(),
                            )));
                            break;
                        }
                    }
                }
            }
            Input::Closed { conn } if self.conns.remove(&conn).is_some() => {
                self.out.push_back(Output::Event(ScriptEvent::Closed(conn)));
            }
            _ => {}
        }
    }

    fn handle_command(&mut self, _now: Instant, cmd: ScriptCommand) -> Result<(), CommandError> {
        match cmd {
            ScriptCommand::Connect(addr) => {
                self.next_conn += 1;
                let conn = ConnId(self.next_conn);
                self.conns.insert(conn, Deframer::new());
                self.out.push_back(Output::Connect { conn, addr });
            }
            ScriptCommand::Send(conn, msg) => self.out.push_back(Output::Send {
                conn,
                bytes: encode(&msg),
            }),
            ScriptCommand::SendRaw(conn, bytes) => self.out.push_back(Output::Send { conn, bytes }),
            ScriptCommand::Close(conn) => {
                self.conns.remove(&conn);
                self.out.push_back(Output::Close { conn });
            }
        }
        Ok(())
    }

    fn handle_timeout(&mut self, _now: Instant) {}

    fn poll_output(&mut self) -> Option<Output<ScriptEvent>> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}
