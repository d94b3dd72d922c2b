//! The layout of a call datagram, parsed from borrowed bytes.
//!
//! ```text
//! clear header (authenticated as associated data, 17 bytes):
//!   0      kind   = DATAGRAM_KIND (a version: anything else is dropped)
//!   1..9   call   u64 big-endian, the call's id (chosen by the caller)
//!   9..17  counter u64 big-endian, the sender's nonce for this key
//! sealed (AES-256-GCM, 16-byte tag at the end):
//!   0      MEDIA
//!   1..5   frame   u32, numbered from 0 per call and direction
//!   5..7   index   u16, this fragment's place in the frame
//!   7..9   count   u16, the frame's fragments (1..=MAX_FRAGMENTS)
//!   9..17  captured u64, microseconds since the sender's call start
//!   17..   payload: bytes index*FRAGMENT_PAYLOAD.. of the JPEG
//! ```
//!
//! Nothing here allocates: parsing borrows the datagram, and every length
//! is checked against [`MAX_DATAGRAM_LEN`] and the header sizes first.

use crate::limits::{MAX_CALL_FRAME_LEN, MAX_DATAGRAM_LEN};

/// The first byte of every call datagram of this version.
pub const DATAGRAM_KIND: u8 = 0xC1;
/// Bytes of the clear header.
pub const HEADER_LEN: usize = 17;
/// Bytes of the AES-GCM tag.
pub const TAG_LEN: usize = 16;
/// The first sealed byte of a media fragment.
pub const MEDIA: u8 = 1;
/// Bytes of a media fragment's own header (inside the seal).
pub const FRAGMENT_HEADER_LEN: usize = 17;
/// Most JPEG bytes one datagram carries.
pub const FRAGMENT_PAYLOAD: usize = MAX_DATAGRAM_LEN - HEADER_LEN - TAG_LEN - FRAGMENT_HEADER_LEN;
/// Most fragments a frame may have.
pub const MAX_FRAGMENTS: usize = MAX_CALL_FRAME_LEN.div_ceil(FRAGMENT_PAYLOAD);

/// The clear header of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub call: u64,
    pub counter: u64,
}

impl Header {
    /// The header of `bytes`, if it is shaped like a call datagram (right
    /// kind, room for a tag and something sealed, not too long).
    pub fn parse(bytes: &[u8]) -> Option<Header> {
        if bytes.len() > MAX_DATAGRAM_LEN || bytes.len() < HEADER_LEN + TAG_LEN + 1 {
            return None;
        }
        if bytes[0] != DATAGRAM_KIND {
            return None;
        }
        let call = u64::from_be_bytes(bytes[1..9].try_into().ok()?);
        let counter = u64::from_be_bytes(bytes[9..17].try_into().ok()?);
        Some(Header { call, counter })
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(DATAGRAM_KIND);
        out.extend_from_slice(&self.call.to_be_bytes());
        out.extend_from_slice(&self.counter.to_be_bytes());
    }
}

/// One fragment of a frame, borrowed from an opened datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub frame: u32,
    pub index: u16,
    pub count: u16,
    pub captured_us: u64,
    pub payload: &'a [u8],
}

impl<'a> Fragment<'a> {
    /// The fragment in an opened datagram's plaintext, if it is one and its
    /// numbers make sense (index below count, count within the limit, a
    /// payload that is full unless it is the last fragment).
    pub fn parse(plain: &'a [u8]) -> Option<Fragment<'a>> {
        if plain.len() < FRAGMENT_HEADER_LEN || plain[0] != MEDIA {
            return None;
        }
        let frame = u32::from_be_bytes(plain[1..5].try_into().ok()?);
        let index = u16::from_be_bytes(plain[5..7].try_into().ok()?);
        let count = u16::from_be_bytes(plain[7..9].try_into().ok()?);
        let captured_us = u64::from_be_bytes(plain[9..17].try_into().ok()?);
        let payload = &plain[FRAGMENT_HEADER_LEN..];
        // Widened: an index of u16::MAX must not overflow (found by the
        // `datagram` fuzz target).
        let last = u32::from(index) + 1 == u32::from(count);
        let sized = payload.len() <= FRAGMENT_PAYLOAD
            && (last || payload.len() == FRAGMENT_PAYLOAD)
            && !payload.is_empty();
        if count == 0 || index >= count || count as usize > MAX_FRAGMENTS || !sized {
            return None;
        }
        Some(Fragment {
            frame,
            index,
            count,
            captured_us,
            payload,
        })
    }

    /// Appends the fragment's plaintext to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(MEDIA);
        out.extend_from_slice(&self.frame.to_be_bytes());
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&self.captured_us.to_be_bytes());
        out.extend_from_slice(self.payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_refuses_wrong_kind_and_sizes() {
        let mut ok = vec![];
        Header {
            call: 7,
            counter: 9,
        }
        .write(&mut ok);
        ok.resize(HEADER_LEN + TAG_LEN + 1, 0);
        assert_eq!(
            Header::parse(&ok),
            Some(Header {
                call: 7,
                counter: 9
            })
        );
        assert_eq!(Header::parse(&ok[..ok.len() - 1]), None);
        let mut long = ok.clone();
        long.resize(MAX_DATAGRAM_LEN + 1, 0);
        assert_eq!(Header::parse(&long), None);
        ok[0] = 0;
        assert_eq!(Header::parse(&ok), None);
    }

    #[test]
    fn fragment_round_trip_and_checks() {
        let body = [5u8; 10];
        let f = Fragment {
            frame: 3,
            index: 1,
            count: 2,
            captured_us: 99,
            payload: &body,
        };
        let mut out = vec![];
        f.write(&mut out);
        assert_eq!(Fragment::parse(&out), Some(f));
        // A short payload that is not the last fragment is refused.
        let g = Fragment { index: 0, ..f };
        out.clear();
        g.write(&mut out);
        assert_eq!(Fragment::parse(&out), None);
        let h = Fragment { index: 2, ..f };
        out.clear();
        h.write(&mut out);
        assert_eq!(Fragment::parse(&out), None);
        let big = Fragment {
            count: (MAX_FRAGMENTS + 1) as u16,
            index: MAX_FRAGMENTS as u16,
            ..f
        };
        out.clear();
        big.write(&mut out);
        assert_eq!(Fragment::parse(&out), None);
        // The largest index does not overflow (a fuzz finding).
        let top = Fragment {
            index: u16::MAX,
            count: u16::MAX,
            ..f
        };
        out.clear();
        top.write(&mut out);
        assert_eq!(Fragment::parse(&out), None);
    }
}
