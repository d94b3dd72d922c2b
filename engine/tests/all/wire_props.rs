//! Properties of the wire format: every message round-trips, any split of a
//! valid stream decodes to the same messages, and hostile bytes never panic.

use crate::common;

use confab_engine::bounded::Blob;
use confab_engine::limits::MAX_FRAME_LEN;
use confab_engine::wire::{
    Deframer, Message, TransferKey, TransferMessage, WireError, decode, encode,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// A file chunk (decoded without serde), with ints of every width.
fn chunk() -> impl Strategy<Value = Message> {
    let int = prop_oneof![0u64..128, 128u64..65_536, any::<u64>()];
    let small = prop_oneof![0u32..128, any::<u32>()];
    let len = prop_oneof![0usize..300, 65_000usize..70_000];
    (int.clone(), small.clone(), small, int, len, any::<u8>()).prop_map(
        |(key, round, file, offset, len, seed)| {
            let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(seed)).collect();
            Message::Transfer(TransferMessage::Chunk {
                key: TransferKey(key),
                round,
                file,
                offset,
                data: Blob::new(data).unwrap(),
            })
        },
    )
}

/// Chunks among messages of every family.
fn stream_message() -> impl Strategy<Value = Message> {
    prop_oneof![common::any_message(), chunk()]
}

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

/// As [`deframe`], through `Deframer::next_from` (frames decoded in place).
fn deframe_from(stream: &[u8], cuts: &[usize]) -> (Vec<Message>, Option<WireError>, usize) {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    points.sort_unstable();
    points.push(stream.len());
    let mut d = Deframer::new();
    let mut got = vec![];
    let mut last = 0;
    for p in points {
        let mut rest = &stream[last..p];
        last = p;
        loop {
            match d.next_from(&mut rest) {
                Ok(Some(m)) => got.push(m),
                Ok(None) => {
                    assert!(rest.is_empty(), "Ok(None) with bytes left");
                    break;
                }
                Err(e) => return (got, Some(e), d.buffered()),
            }
        }
    }
    (got, None, d.buffered())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_message_round_trips(msg in stream_message()) {
        let frame = encode(&msg);
        prop_assert!(frame.len() - 4 <= MAX_FRAME_LEN);
        prop_assert_eq!(u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize, frame.len() - 4);
        prop_assert_eq!(decode(&frame[4..]).unwrap(), msg);
    }

    #[test]
    fn any_split_decodes_to_the_same_messages(
        msgs in vec(stream_message(), 1..8),
        cuts in vec(any::<usize>(), 0..20),
    ) {
        let stream: Vec<u8> = msgs.iter().flat_map(encode).collect();
        let (got, err) = deframe(&stream, &cuts);
        prop_assert_eq!(err, None);
        prop_assert_eq!(&got, &msgs);
        let (got, err, left) = deframe_from(&stream, &cuts);
        prop_assert_eq!(err, None);
        prop_assert_eq!(left, 0);
        prop_assert_eq!(got, msgs);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_errors_stick(
        bytes in vec(any::<u8>(), 0..2048),
        cuts in vec(any::<usize>(), 0..8),
    ) {
        let (got, err) = deframe(&bytes, &cuts);
        let (_, whole) = deframe(&bytes, &[]);
        // Where the stream is cut does not change whether it is valid.
        prop_assert_eq!(err.is_some(), whole.is_some());
        // Decoding in place hands out the same messages and the same error.
        let (got_from, err_from, _) = deframe_from(&bytes, &cuts);
        prop_assert_eq!(got_from, got);
        prop_assert_eq!(err_from, err);
        let _ = decode(&bytes);
    }

    #[test]
    fn corrupted_frames_are_errors_or_valid_messages(
        msg in stream_message(),
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
