//! Hostile remotes: every message a bad peer can send loses it this transfer
//! (a `Cancel` with the reason and a `Failed` event), never a panic, and
//! never costs more memory than the window.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use confab_engine::TransferId;
use confab_engine::api::{Input, Output, SourceFile, SourceInfo};
use confab_engine::bounded::{Blob, List};
use confab_engine::testing::{MemFile, MemFiles};
use confab_engine::transfer::{
    ReceiveTransfer, SendTransfer, TransferConfig, TransferEvent, TransferMachine,
};
use confab_engine::wire::transfer::{
    Manifest, ManifestEntry, RelPath, TransferKey, TransferMessage,
};
use confab_engine::wire::{FileName, Md5, Message, Name, Reason, decode, encode};

const KEY: TransferKey = TransferKey(42);

fn cfg() -> TransferConfig {
    TransferConfig {
        chunk_size: 100,
        window: 2,
        ..TransferConfig::default()
    }
}

fn manifest(size: u64) -> Manifest {
    Manifest {
        name: FileName::new("f").unwrap(),
        folder: false,
        entries: List::new(vec![ManifestEntry {
            path: RelPath::new("f").unwrap(),
            size,
            md5: Md5::of(b""),
        }])
        .unwrap(),
    }
}

fn drain<T: TransferMachine>(t: &mut T) -> (Vec<Output<TransferEvent>>, Vec<TransferMessage>) {
    let mut outs = Vec::new();
    while let Some(o) = t.poll_output() {
        outs.push(o);
    }
    let mut msgs = Vec::new();
    while let Some(m) = t.poll_message() {
        msgs.push(m);
    }
    (outs, msgs)
}

fn failed(outs: &[Output<TransferEvent>]) -> Option<String> {
    outs.iter().find_map(|o| match o {
        Output::Event(TransferEvent::Failed { reason }) => Some(reason.clone()),
        _ => None,
    })
}

/// Asserts that a transfer was lost to a protocol violation: a `Failed`
/// event saying so, and a `Cancel` to the remote.
fn assert_lost_to_violation(what: &str, outs: &[Output<TransferEvent>], sent: &[TransferMessage]) {
    let reason = failed(outs).unwrap_or_else(|| panic!("{what}: not failed: {outs:?}"));
    assert!(reason.contains("protocol violation"), "{what}: {reason}");
    assert!(
        sent.iter()
            .any(|m| matches!(m, TransferMessage::Cancel { .. })),
        "{what}"
    );
}

/// A connected receiver of a fetch of `f` from `bad`, just told `manifest`.
fn described(now: Instant, manifest: Manifest) -> ReceiveTransfer {
    let mut r = ReceiveTransfer::fetch(
        now,
        TransferId(1),
        KEY,
        Name::new("bad").unwrap(),
        FileName::new("f").unwrap(),
        cfg(),
    );
    r.handle_connected(now);
    r.handle_message(now, TransferMessage::Manifest { key: KEY, manifest });
    r
}

/// A receiver of a 1000-byte fetch, its part open and a `Want` out.
fn receiving(now: Instant) -> ReceiveTransfer {
    let mut r = described(now, manifest(1000));
    r.handle_input(
        now,
        Input::PartOpened {
            transfer: TransferId(1),
            file: 0,
            len: 0,
        },
    );
    let (_, msgs) = drain(&mut r);
    assert!(
        msgs.iter()
            .any(|m| matches!(m, TransferMessage::Want { .. })),
        "{msgs:?}"
    );
    r
}

fn chunk(round: u32, file: u32, offset: u64, len: usize) -> TransferMessage {
    TransferMessage::Chunk {
        key: KEY,
        round,
        file,
        offset,
        data: Blob::new(vec![7u8; len]).unwrap(),
    }
}

#[test]
fn a_receiver_cuts_off_a_sender_that_breaks_the_rules() {
    let now = Instant::now();
    let cases: Vec<(&str, Vec<TransferMessage>)> = vec![
        ("wrong offset", vec![chunk(1, 0, 100, 100)]),
        ("wrong file", vec![chunk(1, 3, 0, 100)]),
        ("future round", vec![chunk(9, 0, 0, 100)]),
        ("empty chunk", vec![chunk(1, 0, 0, 0)]),
        ("over the chunk size", vec![chunk(1, 0, 0, 101)]),
        (
            "past the end",
            vec![
                chunk(1, 0, 0, 100),
                chunk(1, 0, 100, 100),
                chunk(1, 0, 200, 100),
            ],
        ),
        (
            "over the window",
            vec![
                chunk(1, 0, 0, 100),
                chunk(1, 0, 100, 100),
                chunk(1, 0, 200, 100),
            ],
        ),
        (
            "a Get",
            vec![TransferMessage::Get {
                key: KEY,
                name: FileName::new("x").unwrap(),
            }],
        ),
        (
            "a Want",
            vec![TransferMessage::Want {
                key: KEY,
                round: 1,
                file: 0,
                offset: 0,
                chunk: 1,
                window: 1,
            }],
        ),
        (
            "an unasked manifest",
            vec![TransferMessage::Manifest {
                key: KEY,
                manifest: manifest(5),
            }],
        ),
    ];
    for (what, msgs) in cases {
        let mut r = receiving(now);
        for m in msgs {
            r.handle_message(now, m);
        }
        let (outs, sent) = drain(&mut r);
        assert_lost_to_violation(what, &outs, &sent);
        assert!(
            outs.iter().any(|o| matches!(o, Output::DiscardPart { .. })),
            "{what}"
        );
        assert!(r.is_over());
        // Whatever comes next is ignored.
        r.handle_message(now, chunk(1, 0, 0, 100));
        assert!(drain(&mut r).0.is_empty());
    }
}

#[test]
fn the_window_bounds_what_a_receiver_holds() {
    let now = Instant::now();
    let mut r = receiving(now);
    r.handle_message(now, chunk(1, 0, 0, 100));
    r.handle_message(now, chunk(1, 0, 100, 100));
    let (outs, _) = drain(&mut r);
    assert_eq!(
        outs.iter()
            .filter(|o| matches!(o, Output::WriteChunk { .. }))
            .count(),
        2
    );
    // A third before anything is written is over the window of 2.
    r.handle_message(now, chunk(1, 0, 200, 100));
    assert!(failed(&drain(&mut r).0).is_some());
}

#[test]
fn a_sender_cuts_off_a_receiver_that_breaks_the_rules() {
    let now = Instant::now();
    let opened = |t: &mut SendTransfer| {
        t.handle_input(
            now,
            Input::SourceOpened {
                transfer: TransferId(1),
                source: SourceInfo {
                    folder: false,
                    name: "f".into(),
                    files: vec![SourceFile {
                        path: "f".into(),
                        size: 1000,
                        md5: Md5::of(b""),
                    }],
                },
            },
        );
    };
    let want = |file, offset, chunk, window| TransferMessage::Want {
        key: KEY,
        round: 1,
        file,
        offset,
        chunk,
        window,
    };
    let cases: Vec<(&str, Vec<TransferMessage>)> = vec![
        ("no such file", vec![want(1, 0, 100, 2)]),
        ("past the end", vec![want(0, 1001, 100, 2)]),
        ("zero chunk", vec![want(0, 0, 0, 2)]),
        ("huge chunk", vec![want(0, 0, u32::MAX, 2)]),
        ("huge window", vec![want(0, 0, 100, u32::MAX)]),
        (
            "ack of the unsent",
            vec![
                want(0, 0, 100, 2),
                TransferMessage::Ack {
                    key: KEY,
                    round: 1,
                    file: 0,
                    upto: 900,
                },
            ],
        ),
        ("a Chunk", vec![chunk(1, 0, 0, 10)]),
        (
            "an Offer",
            vec![TransferMessage::Offer {
                key: KEY,
                manifest: manifest(1),
            }],
        ),
        (
            "a Get of another file",
            vec![TransferMessage::Get {
                key: KEY,
                name: FileName::new("g").unwrap(),
            }],
        ),
    ];
    for (what, msgs) in cases {
        let mut t = SendTransfer::fetch(
            now,
            TransferId(1),
            KEY,
            Name::new("bad").unwrap(),
            FileName::new("f").unwrap(),
            cfg(),
        );
        opened(&mut t);
        drain(&mut t);
        for m in msgs {
            t.handle_message(now, m);
        }
        let (outs, sent) = drain(&mut t);
        assert_lost_to_violation(what, &outs, &sent);
        assert!(t.is_over());
    }
}

#[test]
fn a_sender_reads_no_more_than_the_window() {
    let now = Instant::now();
    let mut files = MemFiles::new();
    files.put_shared("f", MemFile::from_bytes(&[1u8; 10_000]));
    let mut t = SendTransfer::fetch(
        now,
        TransferId(1),
        KEY,
        Name::new("r").unwrap(),
        FileName::new("f").unwrap(),
        cfg(),
    );
    let (outs, _) = drain(&mut t);
    for o in outs {
        if let Some(a) = files.carry_out(o) {
            t.handle_input(now, a.as_input());
        }
    }
    drain(&mut t);
    t.handle_message(
        now,
        TransferMessage::Want {
            key: KEY,
            round: 1,
            file: 0,
            offset: 0,
            chunk: 100,
            window: 64,
        },
    );
    let (outs, _) = drain(&mut t);
    let reads = outs
        .iter()
        .filter(|o| matches!(o, Output::ReadChunk { .. }))
        .count();
    assert_eq!(reads, 2, "min(own window 2, asked 64)");
}

#[test]
fn bad_offers_and_manifests_are_refused() {
    let now = Instant::now();
    let mut bad = manifest(10);
    bad.name = FileName::new("other").unwrap();
    let mut r = ReceiveTransfer::offered(
        now,
        TransferId(1),
        KEY,
        Name::new("bad").unwrap(),
        bad,
        cfg(),
    );
    let (outs, msgs) = drain(&mut r);
    assert!(failed(&outs).is_some());
    assert!(
        msgs.iter()
            .any(|m| matches!(m, TransferMessage::Cancel { .. }))
    );
    assert!(
        !outs
            .iter()
            .any(|o| matches!(o, Output::Event(TransferEvent::Offered { .. })))
    );

    // A fetch answered with another file, or a folder of another name (a
    // folder of the name asked for is a shared folder, and fine).
    for m in [
        Manifest {
            name: FileName::new("g").unwrap(),
            folder: true,
            entries: List::new(vec![]).unwrap(),
        },
        Manifest {
            name: FileName::new("g").unwrap(),
            entries: List::new(vec![ManifestEntry {
                path: RelPath::new("g").unwrap(),
                size: 1,
                md5: Md5::of(b""),
            }])
            .unwrap(),
            folder: false,
        },
    ] {
        let mut r = described(now, m);
        assert!(failed(&drain(&mut r).0).is_some());
    }
}

#[test]
fn traversal_in_a_manifest_never_decodes() {
    // Build a manifest frame by hand with a path that climbs out.
    let good = Message::Transfer(TransferMessage::Offer {
        key: KEY,
        manifest: Manifest {
            name: FileName::new("d").unwrap(),
            folder: true,
            entries: List::new(vec![ManifestEntry {
                path: RelPath::new("d/aa/passwd").unwrap(),
                size: 1,
                md5: Md5::of(b""),
            }])
            .unwrap(),
        },
    });
    let bytes = encode(&good);
    let body = &bytes[4..];
    let needle = b"d/aa/passwd";
    let at = body
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    for evil in [
        &b"d/../passwd"[..],
        b"/etc/passwd",
        b"d/..\\passwd",
        b"d//a/passwd",
        b"d/./passwdx",
        b"../a/passwd",
    ] {
        let mut evil_body = body.to_vec();
        evil_body[at..at + needle.len()].copy_from_slice(&evil[..needle.len()]);
        assert!(
            decode(&evil_body).is_err(),
            "{:?}",
            String::from_utf8_lossy(evil)
        );
    }
    assert!(decode(body).is_ok());
}

fn any_message() -> impl Strategy<Value = TransferMessage> {
    let key = Just(KEY);
    prop_oneof![
        key.prop_map(|key| TransferMessage::Accept { key }),
        key.prop_map(|key| TransferMessage::Resume { key }),
        key.prop_map(|key| TransferMessage::Complete { key }),
        (0u64..2000).prop_map(|s| TransferMessage::Manifest {
            key: KEY,
            manifest: manifest(s)
        }),
        (0u64..2000).prop_map(|s| TransferMessage::Offer {
            key: KEY,
            manifest: manifest(s)
        }),
        (0u32..3, 0u32..2, 0u64..1200, 0usize..150).prop_map(|(r, f, o, l)| chunk(r, f, o, l)),
        (0u32..3, 0u32..2, 0u64..1200).prop_map(|(round, file, upto)| TransferMessage::Ack {
            key: KEY,
            round,
            file,
            upto
        }),
        (0u32..3, 0u32..2, 0u64..1200, 0u32..200, 0u32..100).prop_map(
            |(round, file, offset, chunk, window)| TransferMessage::Want {
                key: KEY,
                round,
                file,
                offset,
                chunk,
                window
            }
        ),
        Just(TransferMessage::Get {
            key: KEY,
            name: FileName::new("f").unwrap()
        }),
        Just(TransferMessage::Cancel {
            key: KEY,
            reason: Reason::truncate("x")
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// Random messages, file answers and connection changes in any order:
    /// no panic, and a machine that is over stays over and says nothing more.
    #[test]
    fn random_inputs_never_panic(
        msgs in proptest::collection::vec((any_message(), 0u8..6, 0u64..1200), 1..40),
        receiver in any::<bool>(),
    ) {
        let mut now = Instant::now();
        let id = TransferId(1);
        let mut files = MemFiles::new();
        files.put_shared("f", MemFile::from_bytes(&[3u8; 1000]));
        let mut t: Box<dyn TransferMachine> = if receiver {
            Box::new(ReceiveTransfer::fetch(now, id, KEY, Name::new("x").unwrap(), FileName::new("f").unwrap(), cfg()))
        } else {
            Box::new(SendTransfer::fetch(now, id, KEY, Name::new("x").unwrap(), FileName::new("f").unwrap(), cfg()))
        };
        for (m, extra, n) in msgs {
            now += Duration::from_millis(n);
            t.handle_message(now, m);
            match extra {
                0 => t.handle_disconnected(now),
                1 => t.handle_connected(now),
                2 => t.handle_input(now, Input::ChunkWritten { transfer: id, file: 0, offset: n / 100 * 100 }),
                3 => t.handle_input(now, Input::PartOpened { transfer: id, file: 0, len: n }),
                4 => t.handle_timeout(now + Duration::from_secs(3600)),
                _ => {}
            }
            let was_over = t.is_over();
            while let Some(o) = t.poll_output() {
                if let Some(a) = files.carry_out(o) {
                    t.handle_input(now, a.as_input());
                }
            }
            while t.poll_message().is_some() {}
            if was_over {
                t.handle_message(now, chunk(1, 0, 0, 10));
                prop_assert!(t.poll_output().is_none() && t.poll_message().is_none());
            }
        }
    }
}
