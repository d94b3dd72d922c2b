//! The `Deframer` fed one stream split at arbitrary points.
//!
//! Input: a byte `n`, then `n` two-byte piece lengths, then the stream. The
//! stream is fed once whole and once in those pieces (cycling through them);
//! both must hand out the same messages and end in the same error (or the same
//! number of bytes still buffered). Also checked: errors are sticky, bytes
//! pushed after an error change nothing, every message handed out survives the
//! encode/decode round trip and respects the limits, and between messages
//! the deframer never holds more than one partial frame plus the last push.
//! The same pieces fed through `Deframer::next_from` (whole frames decoded in
//! place, as the peer does) must give the same outcome.
#![no_main]

use confab_engine::limits::{FRAME_HEADER_LEN, MAX_FRAME_LEN};
use confab_engine::wire::{Deframer, Message, WireError};
use confab_fuzz::check;
use libfuzzer_sys::fuzz_target;

/// What a stream turned into: messages, then how it ended.
#[derive(Debug, PartialEq)]
struct Outcome {
    messages: Vec<Message>,
    error: Option<WireError>,
    buffered: usize,
}

/// Pushes each piece and drains messages after each, as a driver does.
fn feed<'a>(pieces: impl Iterator<Item = &'a [u8]>) -> Outcome {
    let mut d = Deframer::new();
    let mut messages = Vec::new();
    for piece in pieces {
        d.push(piece);
        loop {
            match d.next_message() {
                Ok(Some(m)) => messages.push(m),
                Ok(None) => {
                    // Only an incomplete frame is left (at most one frame, since a
                    // complete one would have been handed out).
                    assert!(
                        d.buffered() < FRAME_HEADER_LEN + MAX_FRAME_LEN,
                        "{} bytes buffered without a whole frame",
                        d.buffered()
                    );
                    break;
                }
                Err(e) => {
                    // Sticky: the same error again, even after more bytes.
                    assert_eq!(d.next_message(), Err(e.clone()));
                    d.push(&[0, 0, 0, 1, 0xc0]);
                    assert_eq!(d.next_message(), Err(e.clone()));
                    assert_eq!(d.buffered(), 0, "a failed deframer keeps its bytes");
                    return Outcome {
                        messages,
                        error: Some(e),
                        buffered: 0,
                    };
                }
            }
        }
    }
    Outcome {
        messages,
        error: None,
        buffered: d.buffered(),
    }
}

/// As [`feed`], through `next_from`.
fn feed_from<'a>(pieces: impl Iterator<Item = &'a [u8]>) -> Outcome {
    let mut d = Deframer::new();
    let mut messages = Vec::new();
    for piece in pieces {
        let mut rest = piece;
        loop {
            match d.next_from(&mut rest) {
                Ok(Some(m)) => messages.push(m),
                Ok(None) => {
                    assert!(rest.is_empty(), "Ok(None) with bytes left");
                    assert!(d.buffered() < FRAME_HEADER_LEN + MAX_FRAME_LEN);
                    break;
                }
                Err(e) => {
                    let mut more: &[u8] = &[0, 0, 0, 1, 0xc0];
                    assert_eq!(d.next_from(&mut more), Err(e.clone()));
                    assert_eq!(d.buffered(), 0, "a failed deframer keeps its bytes");
                    return Outcome {
                        messages,
                        error: Some(e),
                        buffered: 0,
                    };
                }
            }
        }
    }
    Outcome {
        messages,
        error: None,
        buffered: d.buffered(),
    }
}

/// Piece length when the input gives none: odd, so pieces end mid-header and
/// mid-body, and large, so a big seed is not fed a byte at a time.
const DEFAULT_PIECE: usize = 4093;

/// The stream cut into pieces of the given lengths, cycling; 0 means 1.
fn split<'a>(stream: &'a [u8], lens: &'a [usize]) -> impl Iterator<Item = &'a [u8]> {
    let mut rest = stream;
    let mut i = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let len = if lens.is_empty() {
            DEFAULT_PIECE
        } else {
            lens[i % lens.len()].max(1)
        };
        i += 1;
        let (piece, tail) = rest.split_at(len.min(rest.len()));
        rest = tail;
        Some(piece)
    })
}

fuzz_target!(
    init: confab_fuzz::alloc_guard::init_from_args(),
    |data: &[u8]| {
        let Some((&n, rest)) = data.split_first() else {
            return;
        };
        let n = usize::from(n % 32).min(rest.len() / 2);
        let (lens, stream) = rest.split_at(2 * n);
        let lens: Vec<usize> = lens
            .chunks(2)
            .map(|c| usize::from(u16::from_be_bytes([c[0], c[1]])))
            .collect();

        let whole = feed(std::iter::once(stream));
        for m in &whole.messages {
            check::limits(m);
            check::round_trip(m);
        }
        let pieces = feed(split(stream, &lens));
        assert_eq!(whole, pieces, "splitting the stream changed what it means");
        assert_eq!(whole, feed_from(split(stream, &lens)), "next_from differs");
        // One byte at a time is the hardest split; keep it cheap by trying it
        // only on short streams.
        if stream.len() <= 4096 {
            assert_eq!(whole, feed(stream.chunks(1)), "byte by byte differs");
        }
    }
);
