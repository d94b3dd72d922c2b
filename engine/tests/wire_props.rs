//! Properties of the wire format: every message round-trips, any split of a
//! valid stream decodes to the same messages, and hostile bytes never panic.

mod common;

use confab_engine::limits::MAX_FRAME_LEN;
use confab_engine::wire::{Deframer, Message, WireError, decode, encode};
use proptest::collection::vec;
use proptest::prelude::*;

/// Feeds `stream` in pieces cut at `cuts` and collects what comes out.
fn deframe(stream: &[u8], cuts: &[usize]) -> (Vec<Message>, Option<WireError>) {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    points.sort_unstable();
    points.push(stream.len());
    let mut d = Deframer::new();
    let mut got = vec![];
    let mut last = 0;
    for p in points {
        d.push(&stream[last..p]);
        last = p;
        loop {
            match d.next_message() {
                Ok(Some(m)) => got.push(m),
                Ok(None) => break,
                Err(e) => return (got, Some(e)),
            }
        }
    }
    (got, None)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_message_round_trips(msg in common::any_message()) {
        let frame = encode(&msg);
        prop_assert!(frame.len() - 4 <= MAX_FRAME_LEN);
        prop_assert_eq!(u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize, frame.len() - 4);
        prop_assert_eq!(decode(&frame[4..]).unwrap(), msg);
    }

    #[test]
    fn any_split_decodes_to_the_same_messages(
        msgs in vec(common::any_message(), 1..8),
        cuts in vec(any::<usize>(), 0..20),
    ) {
        let stream: Vec<u8> = msgs.iter().flat_map(encode).collect();
        let (got, err) = deframe(&stream, &cuts);
        prop_assert_eq!(err, None);
        prop_assert_eq!(got, msgs);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_errors_stick(
        bytes in vec(any::<u8>(), 0..2048),
        cuts in vec(any::<usize>(), 0..8),
    ) {
        let (_, err) = deframe(&bytes, &cuts);
        let (_, whole) = deframe(&bytes, &[]);
        // Where the stream is cut does not change whether it is valid.
        prop_assert_eq!(err.is_some(), whole.is_some());
        let _ = decode(&bytes);
    }

    #[test]
    fn corrupted_frames_are_errors_or_valid_messages(
        msg in common::any_message(),
        flips in vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        let mut frame = encode(&msg);
        for (at, x) in flips {
            let i = 4 + at % (frame.len() - 4);
            frame[i] ^= x.max(1);
        }
        // Anything that still decodes is a message that re-encodes to itself.
        if let Ok(m) = decode(&frame[4..]) {
            prop_assert_eq!(decode(&encode(&m)[4..]).unwrap(), m);
        }
    }
}
