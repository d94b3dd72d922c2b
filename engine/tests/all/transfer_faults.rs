//! Transfers under faults: dropped connections and restarts of either side
//! at random points, corruption in the stores, a source that changes, and
//! cancel from each side.

use std::time::Duration;

use confab_engine::peer::Direction;
use confab_engine::rng::Rng;
use confab_engine::testing::{MemFile, MemFiles};
use confab_engine::testing::{Pair, PairConfig, random_bytes};
use confab_engine::transfer::TransferEvent;
use confab_engine::wire::Md5;

/// Steps the pair, applying a random fault every so often, until settled.
fn run_with_faults(p: &mut Pair, seed: u64, faults: u32) {
    let mut rng = Rng::new(seed ^ 0xfa17);
    let mut left = faults;
    for _ in 0..2_000_000 {
        if p.settled() {
            return;
        }
        if left > 0 && rng.below(40) == 0 {
            left -= 1;
            match rng.below(3) {
                0 => p.disconnect(),
                1 => p.restart_sender(),
                _ => p.restart_receiver(),
            }
        }
        if !p.step() {
            break;
        }
    }
    assert!(p.settled(), "seed {seed}: did not settle");
}

fn assert_received(p: &Pair, seed: u64, name: &str, data: &[u8]) {
    match p.receiver.outcome() {
        Some(TransferEvent::Done {
            direction: Direction::Receive,
            md5,
            ..
        }) => assert_eq!(*md5, Md5::of(data), "seed {seed}"),
        other => panic!("seed {seed}: receiver ended with {other:?}"),
    }
    let got = p.receiver.files.download(name).unwrap_or_else(|| {
        panic!(
            "seed {seed}: {name} missing; have {:?}",
            p.receiver.files.download_names()
        )
    });
    assert!(got.bytes() == data, "seed {seed}: contents differ");
    assert!(
        p.receiver.files.conflicts.is_empty(),
        "seed {seed}: {:?}",
        p.receiver.files.conflicts
    );
    assert!(p.receiver.records.is_empty(), "seed {seed}: record left");
}

#[test]
fn fetch_survives_drops_and_restarts() {
    for seed in 0..40 {
        let data = random_bytes(seed, 20_000 + (seed as usize * 997) % 9000);
        let mut s = MemFiles::new();
        s.put_shared("f.bin", MemFile::from_bytes(&data));
        let mut p = Pair::fetch(
            std::time::Instant::now(),
            seed,
            PairConfig::windowed(700, 3),
            s,
            MemFiles::new(),
            "f.bin",
        );
        run_with_faults(&mut p, seed, 6);
        assert_received(&p, seed, "f.bin", &data);
    }
}

#[test]
fn folder_offer_survives_drops_and_restarts() {
    let mut completed = 0;
    for seed in 0..25 {
        let mut s = MemFiles::new();
        let files: Vec<(String, Vec<u8>)> = (0..4)
            .map(|i| {
                let len = (seed as usize * 131 + i * 2500) % 7000;
                (
                    format!("/d/dir/f{i}"),
                    random_bytes(seed * 10 + i as u64, len),
                )
            })
            .collect();
        for (path, data) in &files {
            s.put_local(path, MemFile::from_bytes(data));
        }
        let mut p = Pair::offer(
            std::time::Instant::now(),
            seed,
            PairConfig::windowed(600, 4),
            s,
            MemFiles::new(),
            "/d/dir",
        );
        run_with_faults(&mut p, seed, 5);
        let outcome = p.receiver.outcome().cloned();
        // A restart of the sender before the receiver accepted forgets the
        // offer (it was never accepted): that ends it, and nothing arrives.
        let lost = match &outcome {
            Some(TransferEvent::Failed { reason }) => reason.contains("unknown transfer"),
            // Restarted before the offer even arrived.
            None => p.receiver.machine.is_none(),
            _ => false,
        };
        if lost {
            assert!(p.receiver.files.download_names().is_empty(), "seed {seed}");
            continue;
        }
        completed += 1;
        assert!(
            matches!(outcome, Some(TransferEvent::Done { .. })),
            "seed {seed}: {outcome:?}"
        );
        for (path, data) in &files {
            let rel = path.strip_prefix("/d/").unwrap();
            assert!(
                p.receiver.files.download(rel).map(|f| f.bytes()) == Some(data.clone()),
                "seed {seed}: {rel}"
            );
        }
        assert!(p.receiver.files.conflicts.is_empty());
    }
    assert!(completed >= 15, "only {completed} of 25 got going");
}

#[test]
fn a_get_of_a_partly_downloaded_file_resumes() {
    let data = random_bytes(5, 50_000);
    let mut s = MemFiles::new();
    s.put_shared("big.iso", MemFile::from_bytes(&data));
    let mut r = MemFiles::new();
    r.put_download("big.iso.part", MemFile::from_bytes(&data[..30_000]));
    let mut p = Pair::fetch(
        std::time::Instant::now(),
        5,
        PairConfig::windowed(1000, 4),
        s,
        r,
        "big.iso",
    );
    assert!(p.run(Duration::from_secs(60), 1_000_000));
    assert_received(&p, 5, "big.iso", &data);
    // Only the missing 20 000 bytes were read from the source.
    assert_eq!(p.sender.files.counts["ReadChunk"], 20);
    assert_eq!(p.receiver.files.counts["WriteChunk"], 20);
}

#[test]
fn a_stale_part_is_downloaded_again() {
    let data = random_bytes(6, 10_000);
    let mut s = MemFiles::new();
    s.put_shared("f", MemFile::from_bytes(&data));
    let mut r = MemFiles::new();
    // A .part from another version of the file.
    r.put_download("f.part", MemFile::from_bytes(&random_bytes(99, 4000)));
    let mut p = Pair::fetch(
        std::time::Instant::now(),
        6,
        PairConfig::windowed(1000, 4),
        s,
        r,
        "f",
    );
    assert!(p.run(Duration::from_secs(60), 1_000_000));
    assert_received(&p, 6, "f", &data);
    assert!(p.receiver.notices().iter().any(|n| n.contains("again")));
}

#[test]
fn a_changed_source_starts_over_and_says_so() {
    let old = random_bytes(1, 30_000);
    let new = random_bytes(2, 25_000);
    let mut s = MemFiles::new();
    s.put_shared("f", MemFile::from_bytes(&old));
    let mut p = Pair::fetch(
        std::time::Instant::now(),
        8,
        PairConfig::windowed(1000, 2),
        s,
        MemFiles::new(),
        "f",
    );
    // Move part of the file, then drop and change it.
    p.step_until_download("f.part", 10_000);
    let part = p.receiver.files.download("f.part").map_or(0, |f| f.len());
    assert!(part > 0 && part < 30_000, "part {part}");
    p.disconnect();
    p.sender.files.put_shared("f", MemFile::from_bytes(&new));
    assert!(p.run(Duration::from_secs(60), 1_000_000));
    assert_received(&p, 8, "f", &new);
    assert!(
        p.receiver.notices().iter().any(|n| n.contains("changed")),
        "{:?}",
        p.receiver.notices()
    );
}

#[test]
fn corruption_at_the_source_is_detected_and_reported() {
    let data = random_bytes(3, 10_000);
    let mut s = MemFiles::new();
    s.put_shared("f", MemFile::from_bytes(&data));
    // The index hashed it; then a byte rotted (same size, same mtime).
    s.put_shared_indexed("f", MemFile::from_bytes(&data), Md5::of(&data));
    s.corrupt("shared", "f", 4321);
    let mut r = MemFiles::new();
    r.put_download("f", MemFile::from_bytes(b"the user's own f"));
    let mut p = Pair::fetch(
        std::time::Instant::now(),
        3,
        PairConfig::windowed(1000, 4),
        s,
        r,
        "f",
    );
    assert!(p.run(Duration::from_secs(60), 1_000_000));
    match p.receiver.outcome() {
        Some(TransferEvent::Failed { reason }) => {
            assert!(reason.contains("failed verification"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        p.sender.outcome(),
        Some(TransferEvent::Failed { .. })
    ));
    // Nothing the user had is touched; the .part is gone.
    assert_eq!(p.receiver.files.download_names(), vec!["f".to_string()]);
    assert_eq!(
        p.receiver.files.download("f").unwrap().bytes(),
        b"the user's own f"
    );
}

#[test]
fn corruption_of_the_part_while_paused_is_repaired() {
    let data = random_bytes(4, 40_000);
    let mut s = MemFiles::new();
    s.put_shared("f", MemFile::from_bytes(&data));
    let mut p = Pair::fetch(
        std::time::Instant::now(),
        4,
        PairConfig::windowed(1000, 4),
        s,
        MemFiles::new(),
        "f",
    );
    for _ in 0..150 {
        p.step();
    }
    p.restart_receiver();
    p.receiver.files.corrupt("downloads", "f.part", 10);
    assert!(p.run(Duration::from_secs(60), 1_000_000));
    assert_received(&p, 4, "f", &data);
}

#[test]
fn cancel_from_either_side_stops_both_and_removes_the_part() {
    for receiver_cancels in [false, true] {
        let data = random_bytes(11, 100_000);
        let mut s = MemFiles::new();
        s.put_shared("f", MemFile::from_bytes(&data));
        let mut p = Pair::fetch(
            std::time::Instant::now(),
            11,
            PairConfig::windowed(1000, 4),
            s,
            MemFiles::new(),
            "f",
        );
        for _ in 0..100 {
            p.step();
        }
        assert!(p.receiver.files.download("f.part").is_some());
        if receiver_cancels {
            p.cancel_receiver();
        } else {
            p.cancel_sender();
        }
        assert!(p.run(Duration::from_secs(60), 100_000));
        for outcome in [p.sender.outcome(), p.receiver.outcome()] {
            match outcome {
                Some(TransferEvent::Failed { reason }) => assert!(reason.contains("cancelled")),
                other => panic!("{other:?}"),
            }
        }
        assert!(p.receiver.files.download_names().is_empty());
        assert!(p.receiver.records.is_empty() && p.sender.records.is_empty());
    }
}

#[test]
fn cancel_after_a_restart_removes_the_part_too() {
    let data = random_bytes(13, 50_000);
    let mut s = MemFiles::new();
    s.put_shared("f", MemFile::from_bytes(&data));
    let mut p = Pair::fetch(
        std::time::Instant::now(),
        13,
        PairConfig::windowed(1000, 4),
        s,
        MemFiles::new(),
        "f",
    );
    p.step_until_download("f.part", 5000);
    p.restart_receiver();
    // Cancelled while disconnected: the sender hears of it on reconnection.
    p.cancel_receiver();
    assert!(p.run(Duration::from_secs(60), 100_000));
    assert!(p.receiver.files.download_names().is_empty());
    assert!(p.receiver.records.is_empty());
    match p.sender.outcome() {
        Some(TransferEvent::Failed { reason }) => assert!(reason.contains("cancelled"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn progress_is_reported_at_a_bounded_rate() {
    let data = random_bytes(12, 2_000_000);
    let mut s = MemFiles::new();
    s.put_shared("f", MemFile::from_bytes(&data));
    let mut cfg = PairConfig::windowed(4096, 8);
    cfg.rate = Some(1_000_000); // 2 s of transfer
    let mut p = Pair::fetch(std::time::Instant::now(), 12, cfg, s, MemFiles::new(), "f");
    assert!(p.run(Duration::from_secs(60), 10_000_000));
    let progress: Vec<_> = p
        .receiver
        .events
        .iter()
        .filter_map(|(at, e)| match e {
            TransferEvent::Progress { done, total, rate } => Some((*at, *done, *total, *rate)),
            _ => None,
        })
        .collect();
    assert!(progress.len() >= 6, "{}", progress.len());
    assert!(progress.len() <= 10, "{}", progress.len());
    for w in progress.windows(2) {
        assert!(w[1].0 - w[0].0 >= Duration::from_millis(250) || w[1].1 == w[1].2);
        assert!(w[1].1 > w[0].1);
    }
    let mid = progress[progress.len() / 2].3;
    assert!((700_000..1_300_000).contains(&mid), "rate {mid}");
    assert_eq!(progress.last().unwrap().1, 2_000_000);
}
