//! Framing: a 4-byte big-endian length, then a MessagePack body of one [`Message`].
//!
//! [`Deframer`] takes bytes as they arrive, split at any byte or many frames at
//! once, and hands back whole messages. It checks a length prefix against
//! [`MAX_FRAME_LEN`] as soon as the four bytes are in, before it reserves room
//! for the body, and a body must decode to exactly one message with no bytes
//! left over. Errors are sticky: after one, the connection is finished and the
//! deframer hands back the same error forever.
//!
//! Two ways to feed it: [`Deframer::push`] then [`Deframer::next_message`]
//! (every byte is copied into the deframer's buffer first), or
//! [`Deframer::next_from`], which decodes frames that lie whole in the bytes
//! just received straight from them and copies only a frame cut by the end of
//! a read. Both hand out the same messages for the same stream.
//!
//! A file chunk is most of the bytes on the wire, so [`decode`] reads a body
//! of the form below without serde, copying the chunk's bytes once, into the
//! message's own buffer (serde's path through rmp-serde's reader copies them
//! twice). It is exactly the canonical MessagePack that [`encode`] writes for
//! `Message::Transfer(TransferMessage::Chunk { .. })` (one meaning per frame
//! is kept: any body this path accepts, serde decodes to the same message;
//! any other body, including every error, goes through serde):
//!
//! ```text
//! 81 a8 "Transfer" 81 a5 "Chunk" 95      {"Transfer": {"Chunk": [5 fields]}}
//! key round file offset                  unsigned ints: a positive fixint,
//!                                        or cc/cd/ce/cf + 1/2/4/8 bytes big-endian
//! c4 len8 | c5 len16 | c6 len32, data    bin: the chunk, exactly to the body's end,
//!                                        at most MAX_CHUNK_LEN bytes
//! ```
//!
//! The two messages of a chat line (a direct `Data` with text, its `Ack`)
//! are written and read without serde too, under the same rule ([`chat`]).

use std::fmt;

use self::chat::take_uint;
use crate::bounded::Blob;
use crate::limits::{FRAME_HEADER_LEN, MAX_CHUNK_LEN, MAX_FRAME_LEN};
use crate::wire::message::Message;
use crate::wire::transfer::{TransferKey, TransferMessage};

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
    let mut out = Vec::new();
    encode_into(msg, &mut out);
    out
}

/// [`encode`], appending the frame to `out`: a sender that keeps one buffer
/// for its frames allocates nothing per message.
pub fn encode_into(msg: &Message, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
    // Writing into a Vec cannot fail, and every confab type serialises.
    if chat::encode(msg, out) {
        // The chat line's two messages, without serde (see `chat`).
    } else if let Err(e) = rmp_serde::encode::write(out, msg) {
        debug_assert!(false, "confab message failed to encode: {e}");
    }
    let len = out.len() - start - FRAME_HEADER_LEN;
    debug_assert!(len <= MAX_FRAME_LEN, "confab built a frame of {len} bytes");
    out[start..start + FRAME_HEADER_LEN].copy_from_slice(&(len as u32).to_be_bytes());
}

/// Decodes one frame body. Bytes after the message are an error, so that every
/// valid frame has exactly one meaning.
pub fn decode(body: &[u8]) -> Result<Message, WireError> {
    match decode_chunk(body).or_else(|| chat::decode(body)) {
        Some(msg) => Ok(msg),
        None => decode_serde(body),
    }
}

/// [`decode`] through serde alone.
fn decode_serde(body: &[u8]) -> Result<Message, WireError> {
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

/// How every chunk body begins: `{"Transfer": {"Chunk": [` five fields.
const CHUNK_PREFIX: &[u8] = b"\x81\xa8Transfer\x81\xa5Chunk\x95";

/// A chunk body in the canonical form of the module documentation, or `None`
/// for anything else (which serde then decodes, or refuses). Allocates only
/// once the claimed length is known to be within the limit and to be exactly
/// the bytes present.
fn decode_chunk(body: &[u8]) -> Option<Message> {
    let mut r = body.strip_prefix(CHUNK_PREFIX)?;
    let key = take_uint(&mut r)?;
    let round = u32::try_from(take_uint(&mut r)?).ok()?;
    let file = u32::try_from(take_uint(&mut r)?).ok()?;
    let offset = take_uint(&mut r)?;
    let (len, data) = match *r {
        [0xc4, n, ref rest @ ..] => (usize::from(n), rest),
        [0xc5, a, b, ref rest @ ..] => (usize::from(u16::from_be_bytes([a, b])), rest),
        [0xc6, a, b, c, d, ref rest @ ..] => (u32::from_be_bytes([a, b, c, d]) as usize, rest),
        _ => return None,
    };
    if len != data.len() || len > MAX_CHUNK_LEN {
        return None;
    }
    let data = Blob::new(data.to_vec()).ok()?;
    Some(Message::Transfer(TransferMessage::Chunk {
        key: TransferKey(key),
        round,
        file,
        offset,
        data,
    }))
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

    /// The next whole message from what is buffered followed by `data`, the
    /// bytes just received: `data` is advanced past what was used. A frame
    /// that lies whole in `data` is decoded from it in place; only a frame
    /// cut by its end is copied into the buffer. `Ok(None)` means every byte
    /// of `data` is used (kept for the next call). Same messages and errors,
    /// and the same limit checked before reserving, as [`Self::push`] then
    /// [`Self::next_message`].
    pub fn next_from(&mut self, data: &mut &[u8]) -> Result<Option<Message>, WireError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.buffered() == 0 {
            self.buf.clear();
            self.start = 0;
            if let Some(header) = data.first_chunk::<FRAME_HEADER_LEN>() {
                let len = u32::from_be_bytes(*header) as usize;
                if len > MAX_FRAME_LEN {
                    return Err(self.fail(WireError::FrameTooLong {
                        len,
                        max: MAX_FRAME_LEN,
                    }));
                }
                if let Some(frame) = data.get(..FRAME_HEADER_LEN + len) {
                    *data = &data[frame.len()..];
                    return match decode(&frame[FRAME_HEADER_LEN..]) {
                        Ok(msg) => Ok(Some(msg)),
                        Err(e) => Err(self.fail(e)),
                    };
                }
            }
        }
        // A frame cut by a read: top up the buffer with its header, then (once
        // its length is known good, by `next_message`) with the rest of it.
        if self.buffered() < FRAME_HEADER_LEN {
            let take = (FRAME_HEADER_LEN - self.buffered()).min(data.len());
            self.push(&data[..take]);
            *data = &data[take..];
            if self.buffered() < FRAME_HEADER_LEN {
                return Ok(None);
            }
        }
        let s = self.start;
        let header = [
            self.buf[s],
            self.buf[s + 1],
            self.buf[s + 2],
            self.buf[s + 3],
        ];
        let len = u32::from_be_bytes(header) as usize;
        if len <= MAX_FRAME_LEN {
            // `saturating_sub`: a caller that also used `push` may have
            // buffered more than this frame; `next_message` sorts that out.
            let take = (FRAME_HEADER_LEN + len)
                .saturating_sub(self.buffered())
                .min(data.len());
            self.compact();
            // Room for this frame only, now that its length is known good.
            self.buf
                .reserve_exact((FRAME_HEADER_LEN + len).saturating_sub(self.buf.len()));
            self.buf.extend_from_slice(&data[..take]);
            *data = &data[take..];
        }
        self.next_message()
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

mod chat;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::common::{Hello, Role};
    use crate::wire::transfer::{TransferKey, TransferMessage};

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

    fn chunk(key: u64, round: u32, file: u32, offset: u64, len: usize) -> Message {
        Message::Transfer(TransferMessage::Chunk {
            key: TransferKey(key),
            round,
            file,
            offset,
            data: Blob::new((0..len).map(|i| i as u8).collect::<Vec<u8>>()).unwrap(),
        })
    }

    #[test]
    fn chunks_decode_without_serde_as_serde_would() {
        for (key, round, file, offset, len) in [
            (0, 0, 0, 0, 0),
            (1, 127, 128, 255, 1),
            (256, 65_535, 65_536, 1 << 32, 255),
            (u64::MAX, u32::MAX, 7, u64::MAX, 256),
            (1 << 40, 3, 0, 65_536, 65_535),
            (9, 1, 2, 3, 65_536),
            (9, 1, 2, 3, MAX_CHUNK_LEN),
        ] {
            let msg = chunk(key, round, file, offset, len);
            let frame = encode(&msg);
            let body = &frame[FRAME_HEADER_LEN..];
            assert_eq!(decode_chunk(body), Some(msg.clone()), "{len}");
            assert_eq!(decode_serde(body), Ok(msg.clone()));
            assert_eq!(decode(body), Ok(msg));
        }
    }

    #[test]
    fn any_other_chunk_body_goes_to_serde() {
        let frame = encode(&chunk(1, 2, 3, 4, 10));
        let body = &frame[FRAME_HEADER_LEN..];
        let mut cases: Vec<Vec<u8>> = Vec::new();
        // Every prefix: cut short.
        cases.extend((0..body.len()).map(|n| body[..n].to_vec()));
        // A trailing byte.
        cases.push([body, &[0][..]].concat());
        // The round as a signed int (0xd0): serde takes it, the fast path does not.
        let at = CHUNK_PREFIX.len() + 1;
        let mut signed = body.to_vec();
        signed.splice(at..at + 1, [0xd0, 2]);
        cases.push(signed);
        // A round over u32 (0xcf).
        let mut wide = body.to_vec();
        wide.splice(at..at + 1, [0xcf, 0, 0, 0, 1, 0, 0, 0, 0]);
        cases.push(wide);
        // A bin length that is not the rest of the body, either way.
        let bin = body.len() - 12; // c4 0a, then the 10 bytes
        for claimed in [9u8, 11] {
            let mut lie = body.to_vec();
            lie[bin + 1] = claimed;
            cases.push(lie);
        }
        // Over the chunk limit.
        let mut big = body[..bin].to_vec();
        big.push(0xc6);
        big.extend(((MAX_CHUNK_LEN + 1) as u32).to_be_bytes());
        big.resize(big.len() + MAX_CHUNK_LEN + 1, 0);
        cases.push(big);
        for case in &cases {
            assert_eq!(decode_chunk(case), None, "{case:02x?}");
            assert_eq!(decode(case), decode_serde(case));
        }
        assert!(
            decode(&cases[body.len() + 1]).is_ok(),
            "serde reads the signed round"
        );
    }

    /// Feeds `pieces` through `next_from`, as the peer does.
    fn feed_from(pieces: &[&[u8]]) -> (Vec<Message>, Option<WireError>, usize) {
        let mut d = Deframer::new();
        let mut got = vec![];
        for piece in pieces {
            let mut rest = *piece;
            loop {
                match d.next_from(&mut rest) {
                    Ok(Some(m)) => got.push(m),
                    Ok(None) => {
                        assert!(rest.is_empty());
                        break;
                    }
                    Err(e) => return (got, Some(e), d.buffered()),
                }
            }
        }
        (got, None, d.buffered())
    }

    /// Feeds `pieces` through `push` and `next_message`.
    fn feed_push(pieces: &[&[u8]]) -> (Vec<Message>, Option<WireError>, usize) {
        let mut d = Deframer::new();
        let mut got = vec![];
        for piece in pieces {
            d.push(piece);
            loop {
                match d.next_message() {
                    Ok(Some(m)) => got.push(m),
                    Ok(None) => break,
                    Err(e) => return (got, Some(e), d.buffered()),
                }
            }
        }
        (got, None, d.buffered())
    }

    #[test]
    fn next_from_hands_out_what_push_does_however_split() {
        let stream = [
            encode(&hello()),
            encode(&chunk(5, 1, 0, 0, 300)),
            encode(&chunk(5, 1, 0, 300, 0)),
            encode(&hello()),
            encode(&chunk(5, 1, 0, 300, 70_000)),
        ]
        .concat();
        let whole = feed_push(&[&stream]);
        assert_eq!(whole.0.len(), 5);
        assert_eq!(feed_from(&[&stream]), whole);
        for size in [1, 3, 4, 5, 7, 64, 333, 4096, 65_536] {
            let pieces: Vec<&[u8]> = stream.chunks(size).collect();
            assert_eq!(feed_from(&pieces), whole, "pieces of {size}");
        }
        for cut in 0..=stream.len() {
            if cut % 97 != 0 && cut > 400 && cut < stream.len() - 400 {
                continue;
            }
            let pieces = [&stream[..cut], &stream[cut..]];
            assert_eq!(feed_from(&pieces), whole, "cut at {cut}");
        }
        // Errors, after good frames, and sticky.
        let mut bad = stream.clone();
        bad.extend((MAX_FRAME_LEN as u32 + 1).to_be_bytes());
        for size in [1, 5, 4096, bad.len()] {
            let pieces: Vec<&[u8]> = bad.chunks(size).collect();
            let (got, err, buffered) = feed_from(&pieces);
            assert_eq!((got, buffered), (whole.0.clone(), 0));
            assert!(matches!(err, Some(WireError::FrameTooLong { .. })));
        }
        let mut d = Deframer::new();
        let mut rest = &bad[..];
        while d.next_from(&mut rest).is_ok() {}
        let mut more = &encode(&hello())[..];
        assert!(d.next_from(&mut more).is_err());
        let mut garbage = stream.clone();
        garbage.extend([0, 0, 0, 3, 0xff, 0xff, 0xff]);
        assert_eq!(feed_from(&[&garbage]), feed_push(&[&garbage]));
        assert!(feed_from(&[&garbage]).1.is_some());
    }

    #[test]
    fn next_from_reserves_nothing_for_a_refused_frame() {
        let mut d = Deframer::new();
        let head = (MAX_FRAME_LEN as u32 + 1).to_be_bytes();
        let (a, b) = head.split_at(2);
        let mut rest = a;
        assert_eq!(d.next_from(&mut rest), Ok(None));
        let mut rest = b;
        assert!(matches!(
            d.next_from(&mut rest),
            Err(WireError::FrameTooLong { .. })
        ));
        assert!(d.buf.capacity() < 1024);
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let mut d = Deframer::new();
        d.push(&[0, 0, 0, 3, 0xff, 0xff, 0xff]);
        assert!(matches!(d.next_message(), Err(WireError::Malformed(_))));
    }
}
