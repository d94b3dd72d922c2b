//! The shared list changes while a peer runs ([`PeerCommand::Publish`]):
//! another peer's `/files` sees the new list, whether the change came while
//! logged in or while the registry was away; and a shared file that changes
//! while it is being fetched never lands under a wrong MD5.

mod peer_support;

use std::time::{Duration, Instant};

use confab_engine::peer::{PeerCommand, PeerEvent};
use confab_engine::rng::Rng;
use confab_engine::testing::{MemFile, MemFiles};
use confab_engine::testing::{Pair, PairConfig};
use confab_engine::transfer::{TransferConfig, TransferEvent};
use confab_engine::wire::registry::SharedFile;
use confab_engine::wire::{FileName, Md5};
use peer_support::{Net, name};

const S: Duration = Duration::from_secs(1);

fn shared(name: &str, contents: &[u8]) -> SharedFile {
    SharedFile {
        kind: Default::default(),
        name: FileName::new(name).unwrap(),
        size: contents.len() as u64,
        md5: Md5::of(contents),
    }
}

/// What `who`'s `/files OWNER` answers now, as (name, size, md5).
fn listing(net: &mut Net, who: &str, owner: &str) -> Vec<SharedFile> {
    net.clear(who);
    net.ok(who, PeerCommand::Files(Some(name(owner))));
    match net.wait_for(who, 10 * S, |e| matches!(e, PeerEvent::Files { .. })) {
        PeerEvent::Files { files } => files.into_iter().map(|f| f.file).collect(),
        _ => unreachable!(),
    }
}

#[test]
fn a_changed_list_reaches_another_peers_files() {
    let mut net = Net::new(31, &["alice", "bob"]);
    assert_eq!(listing(&mut net, "bob", "alice"), vec![], "seed 31");

    let a = shared("a.txt", b"hello");
    net.ok("alice", PeerCommand::Publish(vec![a.clone()]));
    assert_eq!(listing(&mut net, "bob", "alice"), vec![a], "seed 31");

    // A file changed and another removed: the whole list is replaced.
    let a2 = shared("a.txt", b"hello, world");
    let b = shared("b.bin", &[7; 100]);
    net.ok("alice", PeerCommand::Publish(vec![a2.clone(), b.clone()]));
    assert_eq!(listing(&mut net, "bob", "alice"), vec![a2, b.clone()]);
    net.ok("alice", PeerCommand::Publish(vec![b.clone()]));
    assert_eq!(listing(&mut net, "bob", "alice"), vec![b], "seed 31");
    assert!(
        !net.events("alice")
            .iter()
            .any(|e| matches!(e, PeerEvent::Error { .. })),
        "seed 31: {:?}",
        net.events("alice")
    );
}

#[test]
fn a_list_changed_while_the_registry_is_away_is_published_on_return() {
    let mut net = Net::new(32, &["alice", "bob"]);
    let (alice, registry) = (net.host("alice"), net.registry);
    net.world.partition(alice, registry);
    net.wait_for("alice", 10 * S, |e| {
        matches!(e, PeerEvent::RegistryLost { .. })
    });
    let c = shared("c.txt", b"written while away");
    net.ok("alice", PeerCommand::Publish(vec![c.clone()]));
    net.world.heal(alice, registry);
    net.wait_for("alice", 60 * S, |e| matches!(e, PeerEvent::RegistryBack));
    assert_eq!(listing(&mut net, "bob", "alice"), vec![c], "seed 32");
}

fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    Rng::new(seed).fill(&mut v);
    v
}

/// The file is rewritten in place (same size) after part of it has moved,
/// on a connection that stays up: the receiver's MD5 check fails it, and
/// nothing is renamed into place.
#[test]
fn a_file_changed_while_being_fetched_never_lands_with_a_wrong_md5() {
    for seed in 0..8u64 {
        let old = bytes(seed, 30_000);
        let new = bytes(seed + 100, 30_000);
        let mut s = MemFiles::new();
        s.put_shared("f", MemFile::from_bytes(&old));
        let t = TransferConfig {
            chunk_size: 1000,
            window: 4,
            ..TransferConfig::default()
        };
        let config = PairConfig {
            sender: t.clone(),
            receiver: t,
            ..PairConfig::default()
        };
        let mut p = Pair::fetch(Instant::now(), seed, config, s, MemFiles::new(), "f");
        let at = 2_000 + 3_000 * (seed % 8);
        while p
            .receiver
            .files
            .download("f.part")
            .is_none_or(|f| f.len() < at)
        {
            assert!(p.step(), "seed {seed}");
        }
        p.sender.files.put_shared("f", MemFile::from_bytes(&new));
        assert!(p.run(Duration::from_secs(60), 1_000_000), "seed {seed}");
        match p.receiver.outcome() {
            Some(TransferEvent::Failed { reason }) => {
                assert!(reason.contains("verification"), "seed {seed}: {reason}")
            }
            Some(TransferEvent::Done { md5, .. }) => {
                let got = p.receiver.files.download("f").expect("landed").bytes();
                assert_eq!(Md5::of(&got), *md5, "seed {seed}: landed with a wrong MD5");
                assert!(got == old || got == new, "seed {seed}: a mix landed");
            }
            other => panic!("seed {seed}: {other:?}"),
        }
        // Never a final file made of both versions.
        for n in p.receiver.files.download_names() {
            if n == "f" {
                let got = p.receiver.files.download("f").unwrap().bytes();
                assert!(got == old || got == new, "seed {seed}");
            }
        }
    }
}

/// A shared folder is one entry of the listing, with its kind and count.
#[test]
fn a_shared_folder_is_listed_as_one_entry_with_its_file_count() {
    use confab_engine::wire::registry::ShareKind;
    let mut net = Net::new(33, &["alice", "bob"]);
    let folder = SharedFile {
        name: FileName::new("photos").unwrap(),
        size: 12_345,
        md5: Md5::of(b"the folder digest"),
        kind: ShareKind::Folder { files: 12 },
    };
    let a = shared("a.txt", b"hello");
    net.ok(
        "alice",
        PeerCommand::Publish(vec![a.clone(), folder.clone()]),
    );
    let listed = listing(&mut net, "bob", "alice");
    assert_eq!(listed, vec![a, folder], "seed 33");
    assert_eq!(listed[1].files(), 12);
}

/// `/get NAME FOLDER` fetches a shared folder whole: every file lands
/// verified under `FOLDER/`, and both sides report the folder, its count,
/// its size and its folder digest.
#[test]
fn a_shared_folder_is_fetched_whole_and_reported_as_a_folder() {
    use confab_engine::wire::folder_digest;
    for seed in 0..4u64 {
        let files = [
            ("photos/a.jpg", bytes(seed, 5_000)),
            ("photos/sub/b.jpg", bytes(seed + 10, 12_000)),
            ("photos/sub/deeper/c", bytes(seed + 20, 1)),
        ];
        let mut s = MemFiles::new();
        for (path, data) in &files {
            s.put_shared(path, MemFile::from_bytes(data));
        }
        s.put_shared("photos.txt", MemFile::from_bytes(b"not in the folder"));
        let t = TransferConfig {
            chunk_size: 1000,
            window: 4,
            ..TransferConfig::default()
        };
        let config = PairConfig {
            sender: t.clone(),
            receiver: t,
            ..PairConfig::default()
        };
        let mut p = Pair::fetch(Instant::now(), seed, config, s, MemFiles::new(), "photos");
        assert!(p.run(Duration::from_secs(60), 1_000_000), "seed {seed}");
        let total: u64 = files.iter().map(|f| f.1.len() as u64).sum();
        let digest = folder_digest(files.iter().map(|(p, d)| {
            let rel = p.strip_prefix("photos/").unwrap();
            (rel, d.len() as u64, Md5::of(d))
        }));
        for side in [p.receiver.outcome(), p.sender.outcome()] {
            match side {
                Some(TransferEvent::Done {
                    name,
                    md5,
                    folder,
                    files: count,
                    size,
                    ..
                }) => {
                    assert_eq!(name, "photos", "seed {seed}");
                    assert!(*folder, "seed {seed}");
                    assert_eq!((*count, *size), (3, total), "seed {seed}");
                    assert_eq!(*md5, digest, "seed {seed}: the folder digest");
                }
                other => panic!("seed {seed}: {other:?}"),
            }
        }
        for (path, data) in &files {
            let got = p.receiver.files.download(path).expect("landed").bytes();
            assert!(got == *data, "seed {seed}: {path}");
        }
        assert_eq!(p.receiver.files.download_names().len(), 3, "seed {seed}");
    }
}
