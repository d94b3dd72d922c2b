//! [`Channels`]: the [`Channel`] of every connection a role engine has,
//! keyed by the [`ConnId`]s the engine mints. The role's single way to put
//! bytes on a connection ([`Channels::seal`]) and to take them off
//! ([`Channels::open`]), so no path around the encryption exists.
//!
//! The owner creates a channel when it dials or accepts, starts it when the
//! connection is up, and drops it when the connection closes (either side).
//! A send on a connection with no channel is dropped: the connection is
//! closed or closing, and its bytes must never go out in clear.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use crate::api::{ConnId, Output};
use crate::bounded::Text;
use crate::secure::channel::{Channel, ChannelError, Received};
use crate::wire::{ErrorCode, Goodbye, Message, encode};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Channels {
    map: BTreeMap<ConnId, Channel>,
}

impl Channels {
    /// No channels.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `channel` for `conn` (replacing none: ids are never reused).
    pub fn insert(&mut self, conn: ConnId, channel: Channel) {
        self.map.insert(conn, channel);
    }

    /// Forgets `conn`'s channel (the connection is gone or going).
    pub fn remove(&mut self, conn: ConnId) {
        self.map.remove(&conn);
    }

    /// The connection is up: sends this side's first bytes.
    pub fn start<E>(&mut self, conn: ConnId, out: &mut VecDeque<Output<E>>) {
        if let Some(c) = self.map.get_mut(&conn) {
            let mut bytes = Vec::new();
            c.start(&mut bytes);
            push(out, conn, bytes);
        }
    }

    /// Encrypts `plain` (stream bytes: whole frames) for `conn`, or holds it
    /// until the handshake ends. An error means the channel is finished and
    /// nothing was sent; its owner closes the connection.
    pub fn seal<E>(
        &mut self,
        conn: ConnId,
        plain: &[u8],
        now: Instant,
        out: &mut VecDeque<Output<E>>,
    ) -> Result<(), ChannelError> {
        let Some(c) = self.map.get_mut(&conn) else {
            return Ok(());
        };
        let mut bytes = Vec::new();
        let r = c.seal(plain, now, &mut bytes);
        push(out, conn, bytes);
        r
    }

    /// Takes bytes that arrived on `conn`; `None` if it has no channel. On
    /// an error before any key was agreed (another version, not confab), a
    /// plaintext goodbye says why, so that any confab on the other end can
    /// show it; the owner then closes the connection.
    pub fn open<E>(
        &mut self,
        conn: ConnId,
        bytes: &[u8],
        now: Instant,
        unix_now: u64,
        out: &mut VecDeque<Output<E>>,
    ) -> Option<Result<Received, ChannelError>> {
        let mut got = Received::default();
        let r = self.open_into(conn, bytes, now, unix_now, out, &mut got)?;
        Some(r.map(|()| got))
    }

    /// [`Channels::open`], appending what was opened to `got` (see
    /// [`Channel::receive_into`]); `got.send` is always left empty.
    pub fn open_into<E>(
        &mut self,
        conn: ConnId,
        bytes: &[u8],
        now: Instant,
        unix_now: u64,
        out: &mut VecDeque<Output<E>>,
        got: &mut Received,
    ) -> Option<Result<(), ChannelError>> {
        let c = self.map.get_mut(&conn)?;
        if let Some(e) = c.error() {
            // Failed before: the owner is closing it, and its goodbye (if
            // any) is already on its way. Nothing more is sent.
            return Some(Err(e.clone()));
        }
        let r = c.receive_into(bytes, now, unix_now, got);
        match &r {
            Ok(()) => push(out, conn, std::mem::take(&mut got.send)),
            Err(e) if e.before_keys() => {
                let code = match e {
                    ChannelError::VersionMismatch { .. } => ErrorCode::VersionMismatch,
                    _ => ErrorCode::ProtocolViolation,
                };
                let bye = Goodbye {
                    code,
                    reason: Text::truncate(&e.to_string()),
                };
                push(out, conn, encode(&Message::Goodbye(bye)));
            }
            Err(_) => {}
        }
        Some(r)
    }
}

fn push<E>(out: &mut VecDeque<Output<E>>, conn: ConnId, bytes: Vec<u8>) {
    if !bytes.is_empty() {
        out.push_back(Output::Send { conn, bytes });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secure::channel::{Expect, Local, Side};
    use crate::secure::keys::StaticSecret;
    use crate::wire::Role;
    use crate::wire::identity::HandshakePayload;

    /// Found by the `peer` fuzz target: a channel that failed before keys
    /// said goodbye again for every later byte, after its owner had closed.
    #[test]
    fn a_failed_channel_says_goodbye_once() {
        let local = Local {
            role: Role::Peer,
            secret: StaticSecret::from_bytes([1; 32]),
            payload: HandshakePayload::Peer { certificate: None },
        };
        let mut t = Channels::new();
        let conn = ConnId(1);
        t.insert(
            conn,
            Channel::new(
                Side::Initiator,
                &local,
                Expect::Registry { pin: None },
                [2; 32],
            ),
        );
        let mut out: VecDeque<Output<()>> = VecDeque::new();
        let now = Instant::now();
        let garbage = [0xffu8, 0xff, 0xff, 0xff, 1];
        assert!(matches!(
            t.open(conn, &garbage, now, 0, &mut out),
            Some(Err(_))
        ));
        assert_eq!(out.len(), 1, "one plaintext goodbye");
        assert!(matches!(
            t.open(conn, &garbage, now, 0, &mut out),
            Some(Err(_))
        ));
        assert_eq!(out.len(), 1, "nothing more");
    }
}
