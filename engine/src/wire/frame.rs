//! Framing: a 4-byte big-endian length, then a MessagePack body of one [`Message`].
//!
//! [`Deframer`] takes bytes as they arrive, split at any byte or many frames at
//! once, and hands back whole messages. It checks a length prefix against
//! [`MAX_FRAME_LEN`] as soon as the four bytes are in, before it reserves room
//! for the body, and a body must decode to exactly one message with no bytes
//! left over. Errors are sticky: after one, the connection is finished and the
//! deframer hands back the same error forever.

use std::fmt;

use crate::limits::{FRAME_HEADER_LEN, MAX_FRAME_LEN};
use crate::wire::message::Message;

/// Why a byte stream could not be read as frames. Every variant is the other
/// side's fault, and ends its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// A length prefix over the limit.
    FrameTooLong {
        /// The length claimed.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A body that is not one valid message.
    Malformed(String),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::FrameTooLong { len, max } => {
                write!(f, "frame of {len} bytes is over the limit of {max}")
            }
            WireError::Malformed(why) => write!(f, "malformed message: {why}"),
        }
    }
}

impl std::error::Error for WireError {}

/// Encodes `msg` as one frame, header included.
///
/// Every message the engine builds is within the limits by construction (its
/// fields are bounded types), so an oversized frame here is a bug in confab,
/// caught by a debug assertion; release builds send it and let the other side
/// refuse it.
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut out = vec![0u8; FRAME_HEADER_LEN];
    // Writing into a Vec cannot fail, and every confab type serialises.
    if let Err(e) = rmp_serde::encode::write(&mut out, msg) {
        debug_assert!(false, "confab message failed to encode: {e}");
    }
    let len = out.len() - FRAME_HEADER_LEN;
    debug_assert!(len <= MAX_FRAME_LEN, "confab built a frame of {len} bytes");
    out[..FRAME_HEADER_LEN].copy_from_slice(&(len as u32).to_be_bytes());
    out
}

/// Decodes one frame body. Bytes after the message are an error, so that every
/// valid frame has exactly one meaning.
pub fn decode(body: &[u8]) -> Result<Message, WireError> {
    let mut rest = body;
    let mut de = rmp_serde::Deserializer::new(&mut rest);
    let msg: Message = serde::Deserialize::deserialize(&mut de)
        .map_err(|e| WireError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(WireError::Malformed(format!(
            "{} bytes after the message",
            rest.len()
        )));
    }
    Ok(msg)
}

/// Turns a byte stream into messages. See the module documentation.
#[derive(Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
    /// Bytes of `buf` already handed out; compacted lazily.
    start: usize,
    error: Option<WireError>,
}

impl Deframer {
    /// An empty deframer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes that arrived.
    pub fn push(&mut self, data: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet handed out as a message.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole message, `Ok(None)` if more bytes are needed, or the
    /// error that ended this stream.
    pub fn next_message(&mut self) -> Result<Option<Message>, WireError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.buffered() < FRAME_HEADER_LEN {
            self.compact();
            return Ok(None);
        }
        let s = self.start;
        let header = [
            self.buf[s],
            self.buf[s + 1],
            self.buf[s + 2],
            self.buf[s + 3],
        ];
        let len = u32::from_be_bytes(header) as usize;
        if len > MAX_FRAME_LEN {
            return Err(self.fail(WireError::FrameTooLong {
                len,
                max: MAX_FRAME_LEN,
            }));
        }
        if self.buffered() < FRAME_HEADER_LEN + len {
            self.compact();
            // Reserve for the rest of this frame only now that its length is known good.
            self.buf.reserve(FRAME_HEADER_LEN + len - self.buf.len());
            return Ok(None);
        }
        let body = &self.buf[s + FRAME_HEADER_LEN..s + FRAME_HEADER_LEN + len];
        let result = decode(body);
        self.start += FRAME_HEADER_LEN + len;
        match result {
            Ok(msg) => Ok(Some(msg)),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn fail(&mut self, e: WireError) -> WireError {
        self.error = Some(e.clone());
        self.buf = Vec::new();
        self.start = 0;
        e
    }

    /// Moves the unread tail to the front once the read part dominates, so the
    /// buffer never holds more than one partial frame plus the last push.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::message::{Hello, Role};

    fn hello() -> Message {
        Message::Hello(Hello {
            version: 1,
            role: Role::Peer,
            name: None,
        })
    }

    #[test]
    fn one_byte_at_a_time() {
        let bytes = [encode(&hello()), encode(&hello())].concat();
        let mut d = Deframer::new();
        let mut got = vec![];
        for b in &bytes {
            d.push(std::slice::from_ref(b));
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got, vec![hello(), hello()]);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn oversized_length_is_refused_before_the_body() {
        let mut d = Deframer::new();
        d.push(&(MAX_FRAME_LEN as u32 + 1).to_be_bytes());
        assert!(matches!(
            d.next_message(),
            Err(WireError::FrameTooLong { .. })
        ));
        // Sticky.
        d.push(&encode(&hello()));
        assert!(d.next_message().is_err());
        assert!(
            d.buf.capacity() < 1024,
            "nothing reserved for the refused frame"
        );
    }

    #[test]
    fn trailing_bytes_are_malformed() {
        let mut frame = encode(&hello());
        frame.push(0xc0);
        let len = (frame.len() - 4) as u32;
        frame[..4].copy_from_slice(&len.to_be_bytes());
        let mut d = Deframer::new();
        d.push(&frame);
        assert!(matches!(d.next_message(), Err(WireError::Malformed(_))));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let mut d = Deframer::new();
        d.push(&[0, 0, 0, 3, 0xff, 0xff, 0xff]);
        assert!(matches!(d.next_message(), Err(WireError::Malformed(_))));
    }
}
