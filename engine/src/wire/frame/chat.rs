//! The two messages of every chat line, written and read without serde:
//! `Data` carrying text in a direct chat, and its `Ack`. Each chat message
//! is one of each on the wire, and serde through rmp-serde cost several
//! times the bytes' worth (variant names copied into a scratch buffer and
//! checked as UTF-8 one by one; BENCHMARKS.md, issue 18).
//!
//! The bytes are exactly what rmp-serde writes for these messages (the
//! tests compare them for every width of every number and of the text):
//!
//! ```text
//! 81 a4 "Peer" 81 a4 "Data" 94 a6 "Direct"  {"Peer": {"Data": [Direct,
//!   seq low                                   two unsigned ints,
//!   81 a4 "Text" str                          {"Text": text}]}}
//! 81 a4 "Peer" 81 a3 "Ack" 92 a6 "Direct"   {"Peer": {"Ack": [Direct,
//!   upto                                      an unsigned int]}}
//! ```
//!
//! An unsigned int is a positive fixint or `cc`/`cd`/`ce`/`cf` and 1/2/4/8
//! bytes big-endian; a str is `a0`–`bf` (length in the marker), or `d9`/
//! `da`/`db` and a 1/2/4-byte length. One meaning per frame is kept: any
//! body [`decode`] accepts, serde decodes to the same message; anything
//! else (other messages, group streams, any error) is left to serde.
//! Touches nothing but the bytes given.

use crate::bounded::Text;
use crate::limits::MAX_MESSAGE_LEN;
use crate::wire::message::Message;
use crate::wire::peer::{Conv, Payload, PeerMessage};

const DATA_PREFIX: &[u8] = b"\x81\xa4Peer\x81\xa4Data\x94\xa6Direct";
const ACK_PREFIX: &[u8] = b"\x81\xa4Peer\x81\xa3Ack\x92\xa6Direct";
const TEXT_PREFIX: &[u8] = b"\x81\xa4Text";

/// Appends the body of `msg` to `out` if it is one of the two messages of
/// the module documentation; `false` (and nothing appended) otherwise.
pub(super) fn encode(msg: &Message, out: &mut Vec<u8>) -> bool {
    match msg {
        Message::Peer(PeerMessage::Data {
            conv: Conv::Direct,
            seq,
            low,
            payload: Payload::Text(text),
        }) => {
            out.reserve(DATA_PREFIX.len() + 18 + TEXT_PREFIX.len() + 5 + text.len());
            out.extend_from_slice(DATA_PREFIX);
            put_uint(out, *seq);
            put_uint(out, *low);
            out.extend_from_slice(TEXT_PREFIX);
            put_str(out, text.as_str());
            true
        }
        Message::Peer(PeerMessage::Ack {
            conv: Conv::Direct,
            upto,
        }) => {
            out.extend_from_slice(ACK_PREFIX);
            put_uint(out, *upto);
            true
        }
        _ => false,
    }
}

/// The message `body` holds if it is one of the two of the module
/// documentation, exactly to its end; `None` for anything else.
pub(super) fn decode(body: &[u8]) -> Option<Message> {
    if let Some(mut r) = body.strip_prefix(DATA_PREFIX) {
        let seq = take_uint(&mut r)?;
        let low = take_uint(&mut r)?;
        let mut r = r.strip_prefix(TEXT_PREFIX)?;
        let text = take_str(&mut r)?;
        if !r.is_empty() {
            return None;
        }
        // Over the limit: serde refuses it, with its own words. Checked
        // before the text is copied.
        if text.len() > MAX_MESSAGE_LEN {
            return None;
        }
        let text = Text::new(text).ok()?;
        return Some(Message::Peer(PeerMessage::Data {
            conv: Conv::Direct,
            seq,
            low,
            payload: Payload::Text(text),
        }));
    }
    let mut r = body.strip_prefix(ACK_PREFIX)?;
    let upto = take_uint(&mut r)?;
    if !r.is_empty() {
        return None;
    }
    Some(Message::Peer(PeerMessage::Ack {
        conv: Conv::Direct,
        upto,
    }))
}

/// A MessagePack unsigned integer from the front of `r`.
pub(super) fn take_uint(r: &mut &[u8]) -> Option<u64> {
    let (&marker, rest) = r.split_first()?;
    let width = match marker {
        0x00..=0x7f => {
            *r = rest;
            return Some(u64::from(marker));
        }
        0xcc => 1,
        0xcd => 2,
        0xce => 4,
        0xcf => 8,
        _ => return None,
    };
    let digits = rest.get(..width)?;
    *r = &rest[width..];
    Some(digits.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
}

/// A MessagePack str from the front of `r` (valid UTF-8, or `None`).
fn take_str<'a>(r: &mut &'a [u8]) -> Option<&'a str> {
    let (len, rest) = match **r {
        [m @ 0xa0..=0xbf, ref rest @ ..] => (usize::from(m & 0x1f), rest),
        [0xd9, n, ref rest @ ..] => (usize::from(n), rest),
        [0xda, a, b, ref rest @ ..] => (usize::from(u16::from_be_bytes([a, b])), rest),
        [0xdb, a, b, c, d, ref rest @ ..] => (u32::from_be_bytes([a, b, c, d]) as usize, rest),
        _ => return None,
    };
    let bytes = rest.get(..len)?;
    *r = &rest[len..];
    std::str::from_utf8(bytes).ok()
}

/// `n` as rmp writes an unsigned integer: in the fewest bytes.
fn put_uint(out: &mut Vec<u8>, n: u64) {
    if n < 0x80 {
        out.push(n as u8);
    } else if let Ok(n) = u8::try_from(n) {
        out.extend_from_slice(&[0xcc, n]);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(0xcd);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(n) {
        out.push(0xce);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `s` as rmp writes a str: its length in the fewest bytes, then `s`.
fn put_str(out: &mut Vec<u8>, s: &str) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if let Ok(n) = u8::try_from(len) {
        out.extend_from_slice(&[0xd9, n]);
    } else if let Ok(n) = u16::try_from(len) {
        out.push(0xda);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::GroupName;

    const NUMBERS: [u64; 12] = [
        0,
        1,
        0x7f,
        0x80,
        0xff,
        0x100,
        0xffff,
        0x1_0000,
        0xffff_ffff,
        0x1_0000_0000,
        u64::MAX - 1,
        u64::MAX,
    ];

    fn data(seq: u64, low: u64, text: &str) -> Message {
        Message::Peer(PeerMessage::Data {
            conv: Conv::Direct,
            seq,
            low,
            payload: Payload::Text(Text::new(text).unwrap()),
        })
    }

    fn ack(upto: u64) -> Message {
        Message::Peer(PeerMessage::Ack {
            conv: Conv::Direct,
            upto,
        })
    }

    fn serde_body(msg: &Message) -> Vec<u8> {
        rmp_serde::to_vec(msg).unwrap()
    }

    fn serde_decode(body: &[u8]) -> Option<Message> {
        super::super::decode_serde(body).ok()
    }

    #[test]
    fn writes_what_serde_writes_and_reads_it_back() {
        let texts = [
            String::new(),
            "x".repeat(31),
            "y".repeat(32),
            "é".repeat(127),
            "z".repeat(256),
            "w".repeat(MAX_MESSAGE_LEN),
        ];
        let mut msgs: Vec<Message> = NUMBERS.iter().map(|&n| ack(n)).collect();
        for &seq in &NUMBERS {
            for &low in &NUMBERS {
                msgs.push(data(seq, low, "hi"));
            }
        }
        for t in &texts {
            msgs.push(data(5, 3, t));
        }
        for msg in msgs {
            let mut body = Vec::new();
            assert!(encode(&msg, &mut body));
            assert_eq!(body, serde_body(&msg), "{msg:?}");
            assert_eq!(decode(&body), Some(msg.clone()));
        }
    }

    #[test]
    fn leaves_everything_else_to_serde() {
        let group = Conv::Group(GroupName::new("#g").unwrap());
        let others = [
            Message::Peer(PeerMessage::Ack {
                conv: group.clone(),
                upto: 1,
            }),
            Message::Peer(PeerMessage::Data {
                conv: group,
                seq: 1,
                low: 1,
                payload: Payload::Text(Text::new("hi").unwrap()),
            }),
            Message::Peer(PeerMessage::Data {
                conv: Conv::Direct,
                seq: 1,
                low: 1,
                payload: Payload::Left,
            }),
            Message::Peer(PeerMessage::Ping),
        ];
        for msg in others {
            let mut body = Vec::new();
            assert!(!encode(&msg, &mut body) && body.is_empty(), "{msg:?}");
            assert_eq!(decode(&serde_body(&msg)), None, "{msg:?}");
        }
    }

    /// Every cut, every extra byte and every changed byte of the two
    /// messages: whatever the fast path accepts, serde reads the same.
    #[test]
    fn accepts_nothing_serde_reads_otherwise() {
        let bodies = [serde_body(&data(300, 7, "héllo")), serde_body(&ack(70_000))];
        let mut cases = Vec::new();
        for body in &bodies {
            for cut in 0..body.len() {
                cases.push(body[..cut].to_vec());
            }
            cases.push([body.as_slice(), &[0]].concat());
            for i in 0..body.len() {
                for v in [0x00, 0x7f, 0x80, 0xa0, 0xc1, 0xcc, 0xcf, 0xd9, 0xdb, 0xff] {
                    let mut b = body.clone();
                    b[i] = v;
                    cases.push(b);
                }
            }
        }
        // Numbers in more bytes than needed, and a text over the limit.
        cases.push(b"\x81\xa4Peer\x81\xa3Ack\x92\xa6Direct\xcf\0\0\0\0\0\0\0\x05".to_vec());
        let long = "x".repeat(MAX_MESSAGE_LEN + 1);
        let mut over = DATA_PREFIX.to_vec();
        over.extend_from_slice(&[1, 1]);
        over.extend_from_slice(TEXT_PREFIX);
        put_str(&mut over, &long);
        cases.push(over);
        for case in cases {
            if let Some(msg) = decode(&case) {
                assert_eq!(serde_decode(&case), Some(msg), "{case:02x?}");
            }
        }
    }
}
