//! Files beyond 4 GiB: 64-bit offsets end to end, on sparse synthetic files
//! that cost a few pages of memory.
//!
//! Hashing 5 GiB takes tens of seconds in a debug build, so these tests
//! resume near the end instead of moving every byte: the receiver starts
//! from a `.part` that already holds the file up to a point and an MD5
//! checkpoint that says "the bytes before here hash to the empty state", and
//! the sender's index declares the MD5 of the remaining bytes from that same
//! state. The bytes actually moved (and all their offsets, far above 4 GiB or
//! straddling it) are then verified exactly as in a full transfer, and a
//! restart in the middle resumes from a real checkpoint above 4 GiB.

use std::time::Duration;

use md5::Digest;
use md5::digest::common::hazmat::SerializableState;

use confab_engine::record::Record;
use confab_engine::testing::{MemFile, MemFiles};
use confab_engine::testing::{Pair, PairConfig};
use confab_engine::transfer::{HashCheckpoint, SavedSide, TransferConfig, TransferEvent};
use confab_engine::wire::Md5;

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

fn synthetic(size: u64) -> MemFile {
    MemFile::sparse(
        size,
        &[
            (7, b"start"),
            (4 * GIB - 3, b"across-4GiB"),
            (4 * GIB + MIB, b"past"),
            (size - 4, b"end!"),
        ],
    )
}

/// MD5 of `file[from..]`, hashed from the empty state.
fn md5_from(file: &MemFile, from: u64) -> Md5 {
    let mut h = md5::Md5::new();
    let mut at = from;
    while at < file.len() {
        let n = (4 * MIB).min(file.len() - at);
        h.update(file.read(at, n));
        at += n;
    }
    Md5(h.finalize().into())
}

fn resume_near_the_end(seed: u64, size: u64, part_len: u64) {
    let source = synthetic(size);
    let md5 = md5_from(&source, part_len);
    let mut s = MemFiles::new();
    s.put_shared_indexed("big.bin", source.clone(), md5);
    let mut part = source.clone();
    part.truncate(part_len);
    let mut r = MemFiles::new();
    r.put_download("big.bin.part", part);

    let t = TransferConfig {
        chunk_size: MIB as u32,
        window: 8,
        checkpoint_every: 4 * MIB,
        ..TransferConfig::default()
    };
    let cfg = PairConfig::both(t);
    let mut p = Pair::fetch(std::time::Instant::now(), seed, cfg, s, r, "big.bin");
    // Give the receiver the checkpoint of the prefix, then restart it.
    let (key, mut record) = {
        let (k, r) = p.receiver.records.iter().next().expect("a saved fetch");
        let Record::Transfer(t) = r else { panic!() };
        (k.clone(), t.clone())
    };
    if let SavedSide::Receive { checkpoint, .. } = &mut record.side {
        *checkpoint = Some(HashCheckpoint {
            file: 0,
            offset: part_len,
            size,
            md5,
            state: md5::Md5::new().serialize().to_vec(),
        });
    }
    p.receiver.records.insert(key, Record::Transfer(record));
    p.restart_receiver();

    // Halfway through, restart the receiver again: it resumes from a
    // checkpoint it saved itself, above 4 GiB.
    let half = part_len + (size - part_len) / 2;
    while p
        .receiver
        .files
        .download("big.bin.part")
        .is_some_and(|f| f.len() < half)
    {
        assert!(p.step(), "seed {seed}: stalled");
    }
    p.restart_receiver();
    assert!(p.run(Duration::from_secs(600), 10_000_000), "seed {seed}");

    match p.receiver.outcome() {
        Some(TransferEvent::Done { md5: got, .. }) => assert_eq!(*got, md5),
        other => panic!("seed {seed}: {other:?}"),
    }
    let got = p.receiver.files.download("big.bin").expect("in place");
    assert_eq!(got.len(), size);
    for (at, mark) in [
        (7, &b"start"[..]),
        (4 * GIB - 3, b"across-4GiB"),
        (4 * GIB + MIB, b"past"),
        (size - 4, b"end!"),
    ] {
        assert_eq!(got.read(at, mark.len() as u64), mark, "at {at}");
    }
    assert!(
        got.stored_pages() < 16,
        "sparse: {} pages",
        got.stored_pages()
    );
    assert!(p.receiver.files.conflicts.is_empty());
    // Only the missing bytes moved (plus at most a window again after the
    // restart), and the second restart re-read at most a checkpoint's worth.
    let moved = size - part_len;
    let writes = p.receiver.files.counts["WriteChunk"];
    assert!(writes <= moved.div_ceil(MIB) + 8, "{writes} writes");
    let rereads = p
        .receiver
        .files
        .counts
        .get("ReadChunk")
        .copied()
        .unwrap_or(0);
    // (A checkpoint is saved once its bytes are written, up to a window
    // after it was taken: at most checkpoint_every + window behind.)
    assert!(rereads <= 4 + 8 + 1, "{rereads} chunks re-read");
    assert!(
        rereads > 0,
        "the restart re-read what followed its checkpoint"
    );
}

#[test]
fn five_gib_file_resumes_above_4_gib() {
    let size = 5 * GIB + 12_345;
    resume_near_the_end(1, size, size - 24 * MIB - 777);
}

#[test]
fn offsets_straddling_4_gib() {
    // Stops short of 4 GiB and moves across it.
    resume_near_the_end(2, 4 * GIB + 16 * MIB + 5, 4 * GIB - 12 * MIB);
}
