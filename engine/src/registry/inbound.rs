//! Reading a registry connection: bytes into whole messages, the hello
//! stage, and which messages a greeted connection may send.
//!
//! Touches a connection's own state (its deframer, `greeted`, the hello
//! timer) and hands requests to [`super::requests`]; it decides nothing about
//! accounts or sessions.

use std::time::Instant;

use super::{MAX_WAITING_BYTES, OfflineReason, Registry, RegistryEvent, Timer};
use crate::api::{ConnId, Output};
use crate::secure::{ChannelError, Proven};
use crate::wire::{ErrorCode, Message, PROTOCOL_VERSION, Role, WireError};

impl Registry {
    /// Bytes arrived: opened by the connection's channel (what it proved
    /// is kept, the stream goes to the deframer), then read.
    pub(super) fn handle_received(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        let Some(opened) = self.keys.open(conn, bytes, now, &mut self.out) else {
            return;
        };
        let got = match opened {
            Ok(got) => got,
            Err(e) => return self.channel_failed(conn, e),
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if let Some(Proven::Key { key }) = got.proven {
            c.key = Some(key);
        }
        c.deframer.push(&got.plain);
        self.read_messages(now, conn);
    }

    /// The channel failed: reported as a violation, closed without a
    /// goodbye (the channel can send nothing more; one that failed before
    /// any key was agreed has already said why in plaintext).
    fn channel_failed(&mut self, conn: ConnId, e: ChannelError) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let remote = c.remote;
        self.out.push_back(Output::Event(RegistryEvent::Violation {
            conn,
            remote,
            reason: e.to_string(),
        }));
        self.out.push_back(Output::Close { conn });
        self.forget(conn, OfflineReason::Violation);
    }

    /// Handles the whole messages buffered on `conn`, in order, until one
    /// starts a password check: the rest wait for its answer, so that each
    /// request is answered in order and after the ones before it took effect.
    pub(super) fn read_messages(&mut self, now: Instant, conn: ConnId) {
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            if c.auth_pending {
                if c.deframer.buffered() > MAX_WAITING_BYTES {
                    let reason = format!(
                        "more than {MAX_WAITING_BYTES} bytes sent while a log-in was being \
                         checked; wait for its reply"
                    );
                    return self.violation(conn, reason);
                }
                return;
            }
            match c.deframer.next_message() {
                Ok(Some(msg)) => self.handle_message(now, conn, msg),
                Ok(None) => return,
                Err(e @ (WireError::FrameTooLong { .. } | WireError::Malformed(_))) => {
                    return self.violation(conn, e.to_string());
                }
            }
        }
    }

    fn handle_message(&mut self, now: Instant, conn: ConnId, msg: Message) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !c.greeted {
            let Message::Hello(hello) = msg else {
                return self.violation(conn, "the first message must be a hello".into());
            };
            if hello.version != PROTOCOL_VERSION {
                let reason = format!(
                    "this registry speaks confab protocol {PROTOCOL_VERSION}, you speak {}; \
                     use the same confab version on both sides",
                    hello.version
                );
                return self.close(
                    conn,
                    ErrorCode::VersionMismatch,
                    &reason,
                    OfflineReason::Violation,
                );
            }
            if hello.role != Role::Peer {
                return self.violation(
                    conn,
                    format!("a registry talks to peers, not to a {}", hello.role),
                );
            }
            c.greeted = true;
            self.timers.cancel(&Timer::Hello(conn));
            return;
        }
        match msg {
            Message::Request(req) => self.handle_request(now, conn, req),
            Message::Relay(msg) => self.on_relay(now, conn, msg),
            Message::Goodbye(_) => {
                // The peer is leaving; it closes the connection itself.
                self.conns.remove(&conn);
                self.out.push_back(Output::Close { conn });
                self.forget(conn, OfflineReason::Disconnected);
            }
            Message::Hello(_) => self.violation(conn, "a second hello".into()),
            other => self.violation(conn, format!("a registry does not take {}", other.kind())),
        }
    }
}
