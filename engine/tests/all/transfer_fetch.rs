//! Fetch (`/get`) and offer (`/send`) of files of every awkward size between
//! a sender and a receiver sub-machine, through the test pump.

use std::time::Duration;

use confab_engine::peer::Direction;
use confab_engine::testing::{MemFile, MemFiles, Planted};
use confab_engine::testing::{Pair, PairConfig, random_bytes};
use confab_engine::transfer::TransferEvent;
use confab_engine::wire::Md5;

fn done(p: &Pair, seed: u64) -> (String, Md5) {
    match p.receiver.outcome() {
        Some(TransferEvent::Done {
            direction: Direction::Receive,
            path,
            md5,
            ..
        }) => (path.clone(), *md5),
        other => panic!("seed {seed}: receiver ended with {other:?}"),
    }
}

fn fetch_one(seed: u64, len: usize, chunk: u32, window: u32) {
    let data = random_bytes(seed, len);
    let mut s = MemFiles::new();
    s.put_shared("f.bin", MemFile::from_bytes(&data));
    let mut p = Pair::fetch(
        std::time::Instant::now(),
        seed,
        PairConfig::windowed(chunk, window),
        s,
        MemFiles::new(),
        "f.bin",
    );
    assert!(
        p.run(Duration::from_secs(600), 1_000_000),
        "seed {seed}: not settled"
    );
    let (path, md5) = done(&p, seed);
    assert_eq!(path, "downloads/f.bin");
    assert_eq!(md5, Md5::of(&data));
    let got = p.receiver.files.download("f.bin").expect("file in place");
    assert_eq!(got.bytes(), data, "seed {seed}");
    assert!(p.receiver.files.download("f.bin.part").is_none());
    assert!(p.receiver.records.is_empty(), "record forgotten");
    assert!(matches!(
        p.sender.outcome(),
        Some(TransferEvent::Done {
            direction: Direction::Send,
            ..
        })
    ));
    assert!(p.receiver.files.conflicts.is_empty());
}

#[test]
fn fetch_sizes() {
    let chunk = 1024;
    for (i, len) in [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 10 * chunk + 7]
        .into_iter()
        .enumerate()
    {
        fetch_one(100 + i as u64, len, chunk as u32, 4);
    }
}

#[test]
fn fetch_with_default_settings() {
    fetch_one(7, 1_000_003, 64 * 1024, 16);
}

#[test]
fn offer_sizes() {
    let chunk = 512usize;
    for (i, len) in [0, 1, chunk, 5 * chunk + 3].into_iter().enumerate() {
        let seed = 200 + i as u64;
        let data = random_bytes(seed, len);
        let mut s = MemFiles::new();
        s.put_local("/home/me/report.pdf", MemFile::from_bytes(&data));
        let mut p = Pair::offer(
            std::time::Instant::now(),
            seed,
            PairConfig::windowed(chunk as u32, 3),
            s,
            MemFiles::new(),
            "/home/me/report.pdf",
        );
        assert!(p.run(Duration::from_secs(600), 1_000_000));
        let offered = p.receiver.events.iter().any(|(_, e)| {
            matches!(e, TransferEvent::Offered { name, size, .. } if name == "report.pdf" && *size == len as u64)
        });
        assert!(offered, "seed {seed}: the receiver saw name and size");
        let (path, _) = done(&p, seed);
        assert_eq!(path, "downloads/report.pdf");
        assert_eq!(
            p.receiver.files.download("report.pdf").unwrap().bytes(),
            data
        );
        assert!(p.sender.records.is_empty() && p.receiver.records.is_empty());
    }
}

#[test]
fn never_over_an_existing_file() {
    let data = random_bytes(1, 3000);
    let mut s = MemFiles::new();
    s.put_shared("a.txt", MemFile::from_bytes(&data));
    let mut r = MemFiles::new();
    r.put_download("a.txt", MemFile::from_bytes(b"mine"));
    let mut p = Pair::fetch(
        std::time::Instant::now(),
        1,
        PairConfig::windowed(1000, 2),
        s,
        r,
        "a.txt",
    );
    assert!(p.run(Duration::from_secs(60), 100_000));
    let (path, _) = done(&p, 1);
    assert_eq!(path, "downloads/a (1).txt");
    assert_eq!(p.receiver.files.download("a.txt").unwrap().bytes(), b"mine");
    assert_eq!(
        p.receiver.files.download("a (1).txt").unwrap().bytes(),
        data
    );
}

#[test]
fn missing_and_non_regular_shared_files_are_refused() {
    for (name, plant) in [
        ("nothing.txt", None),
        ("link.txt", Some(Planted::Symlink("/etc/passwd".into()))),
        ("dir", Some(Planted::Folder)),
    ] {
        let mut s = MemFiles::new();
        if let Some(p) = plant {
            s.plant_shared(name, p);
        }
        let mut p = Pair::fetch(
            std::time::Instant::now(),
            3,
            PairConfig::windowed(1000, 2),
            s,
            MemFiles::new(),
            name,
        );
        assert!(p.run(Duration::from_secs(60), 10_000));
        match p.receiver.outcome() {
            Some(TransferEvent::Failed { reason }) => {
                assert!(reason.contains(name), "{reason}")
            }
            other => panic!("{name}: {other:?}"),
        }
        assert!(p.receiver.files.download_names().is_empty());
        assert!(p.receiver.records.is_empty());
    }
}

#[test]
fn folder_offer_keeps_relative_paths() {
    let mut s = MemFiles::new();
    let files = [
        ("/u/photos/a.jpg", 5000usize),
        ("/u/photos/empty", 0),
        ("/u/photos/sub/b.txt", 1),
        ("/u/photos/sub/deeper/c.bin", 4096),
    ];
    for (i, (path, len)) in files.iter().enumerate() {
        s.put_local(path, MemFile::from_bytes(&random_bytes(i as u64, *len)));
    }
    s.put_local("/u/other.txt", MemFile::from_bytes(b"not sent"));
    let mut p = Pair::offer(
        std::time::Instant::now(),
        9,
        PairConfig::windowed(1024, 4),
        s,
        MemFiles::new(),
        "/u/photos",
    );
    assert!(p.run(Duration::from_secs(60), 100_000));
    let (path, _) = done(&p, 9);
    assert_eq!(path, "downloads/photos", "the folder's own path");
    for (i, (path, len)) in files.iter().enumerate() {
        let rel = path.strip_prefix("/u/").unwrap();
        let got = p
            .receiver
            .files
            .download(rel)
            .unwrap_or_else(|| panic!("{rel}"));
        assert_eq!(got.bytes(), random_bytes(i as u64, *len));
    }
    assert_eq!(p.receiver.files.download_names().len(), 4);
}

#[test]
fn declined_and_expired_offers() {
    let mut s = MemFiles::new();
    s.put_local("/x.bin", MemFile::from_bytes(b"data"));
    let mut cfg = PairConfig::windowed(1024, 4);
    cfg.answer = Some(false);
    let mut p = Pair::offer(
        std::time::Instant::now(),
        1,
        cfg,
        s.clone(),
        MemFiles::new(),
        "/x.bin",
    );
    assert!(p.run(Duration::from_secs(60), 10_000));
    match p.sender.outcome() {
        Some(TransferEvent::Failed { reason }) => assert!(reason.contains("declined"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(p.receiver.files.download_names().is_empty());

    let mut cfg = PairConfig::windowed(1024, 4);
    cfg.answer = None;
    let mut p = Pair::offer(
        std::time::Instant::now(),
        2,
        cfg,
        s,
        MemFiles::new(),
        "/x.bin",
    );
    assert!(p.run(Duration::from_secs(600), 10_000));
    for side in [p.sender.outcome(), p.receiver.outcome()] {
        match side {
            Some(TransferEvent::Failed { reason }) => {
                assert!(reason.contains("expired"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(p.elapsed() >= Duration::from_secs(60));
    assert!(p.sender.records.is_empty() && p.receiver.records.is_empty());
}
