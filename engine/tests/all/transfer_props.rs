//! Property tests: random sizes, chunk sizes, windows, latencies and fault
//! points (drops, restarts of either side). Whatever happens, a transfer
//! settles; if the receiver reports Done, the file in place is exactly the
//! source, and no chunk was ever written twice with different bytes. A
//! failing case is printed by proptest with its seed and fault list.

use std::time::Duration;

use proptest::prelude::*;

use confab_engine::testing::{MemFile, MemFiles};
use confab_engine::testing::{Pair, PairConfig, random_bytes};
use confab_engine::transfer::{TransferConfig, TransferEvent};
use confab_engine::wire::Md5;

#[derive(Debug, Clone, Copy)]
enum Fault {
    Drop,
    RestartSender,
    RestartReceiver,
}

fn fault() -> impl Strategy<Value = (u32, Fault)> {
    (
        1u32..400,
        prop_oneof![
            Just(Fault::Drop),
            Just(Fault::RestartSender),
            Just(Fault::RestartReceiver)
        ],
    )
}

fn run(p: &mut Pair, mut faults: Vec<(u32, Fault)>) {
    faults.sort_by_key(|f| f.0);
    let mut next = 0;
    for step in 0..3_000_000u32 {
        if p.settled() {
            return;
        }
        while next < faults.len() && faults[next].0 <= step {
            match faults[next].1 {
                Fault::Drop => p.disconnect(),
                Fault::RestartSender => p.restart_sender(),
                Fault::RestartReceiver => p.restart_receiver(),
            }
            next += 1;
        }
        if !p.step() {
            break;
        }
    }
}

fn config(chunk: u32, window: u32, latency_us: u64, split: bool) -> PairConfig {
    let t = TransferConfig {
        chunk_size: chunk,
        window,
        checkpoint_every: u64::from(chunk) * 3,
        ..TransferConfig::default()
    };
    PairConfig {
        latency: Duration::from_micros(latency_us),
        split,
        ..PairConfig::both(t)
    }
}

/// 64 cases, or `PROPTEST_CASES` (which an explicit `cases` would override)
/// for a longer hunt.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// The property of `fetch_completes_and_verifies`, for one case.
fn check_fetch(
    seed: u64,
    size: usize,
    chunk: u32,
    window: u32,
    latency_us: u64,
    split: bool,
    faults: Vec<(u32, Fault)>,
) -> Result<(), TestCaseError> {
    let data = random_bytes(seed, size);
    let mut s = MemFiles::new();
    s.put_shared("f", MemFile::from_bytes(&data));
    let mut p = Pair::fetch(
        std::time::Instant::now(),
        seed,
        config(chunk, window, latency_us, split),
        s,
        MemFiles::new(),
        "f",
    );
    run(&mut p, faults);
    prop_assert!(p.settled(), "seed {seed}: not settled");
    match p.receiver.outcome() {
        Some(TransferEvent::Done { md5, .. }) => prop_assert_eq!(*md5, Md5::of(&data)),
        other => prop_assert!(false, "seed {}: {:?}", seed, other),
    }
    let got = p.receiver.files.download("f").map(|f| f.bytes());
    prop_assert!(got.as_deref() == Some(&data[..]), "seed {seed}: contents");
    prop_assert!(
        p.receiver.files.conflicts.is_empty(),
        "{:?}",
        p.receiver.files.conflicts
    );
    prop_assert!(p.receiver.records.is_empty());
    prop_assert_eq!(
        p.receiver.files.download_names(),
        vec!["f".to_string()],
        "seed {}: a second copy or a .part left",
        seed
    );
    Ok(())
}

/// Found by `fetch_completes_and_verifies`: a receiver restarted after its
/// store renamed `f.part` to `f` but before it took `FileFinished` fetched
/// the file again and saved a second copy, `f (1)`.
#[test]
fn fetch_regression_restart_after_the_rename() {
    check_fetch(
        0,
        15688,
        1961,
        1,
        10,
        true,
        vec![(54, Fault::RestartReceiver)],
    )
    .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), .. ProptestConfig::default() })]

    #[test]
    fn fetch_completes_and_verifies(
        seed in any::<u64>(),
        size in prop_oneof![0usize..3, 0usize..5000, 5000usize..40_000],
        chunk in 1u32..3000,
        window in 1u32..10,
        latency_us in 10u64..5000,
        split in any::<bool>(),
        faults in proptest::collection::vec(fault(), 0..6),
    ) {
        check_fetch(seed, size, chunk, window, latency_us, split, faults)?;
    }

    #[test]
    fn folder_offers_end_whole_or_not_at_all(
        seed in any::<u64>(),
        sizes in proptest::collection::vec(0usize..4000, 0..5),
        chunk in 1u32..2000,
        window in 1u32..6,
        faults in proptest::collection::vec(fault(), 0..4),
    ) {
        let mut s = MemFiles::new();
        let mut files = Vec::new();
        for (i, len) in sizes.iter().enumerate() {
            let d = random_bytes(seed.wrapping_add(i as u64), *len);
            s.put_local(&format!("/h/dir/s{}/f{i}", i % 2), MemFile::from_bytes(&d));
            files.push((format!("dir/s{}/f{i}", i % 2), d));
        }
        if files.is_empty() {
            s.put_local("/h/dir/only", MemFile::from_bytes(b""));
            files.push(("dir/only".into(), Vec::new()));
        }
        let mut p = Pair::offer(std::time::Instant::now(), seed, config(chunk, window, 500, true), s, MemFiles::new(), "/h/dir");
        run(&mut p, faults);
        prop_assert!(p.settled(), "seed {seed}: not settled");
        match p.receiver.outcome() {
            Some(TransferEvent::Done { .. }) => {
                for (rel, d) in &files {
                    let got = p.receiver.files.download(rel).map(|f| f.bytes());
                    prop_assert!(got.as_deref() == Some(&d[..]), "seed {seed}: {rel}");
                }
            }
            // Only an offer lost to a sender restart before acceptance may
            // end otherwise; then nothing arrived.
            _ => prop_assert!(
                p.receiver.files.download_names().iter().all(|n| !n.ends_with(".part")),
                "seed {seed}: parts left"
            ),
        }
        prop_assert!(p.receiver.files.conflicts.is_empty());
    }
}
