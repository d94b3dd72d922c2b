//! Shared set-up for the peer transfer scenarios: small chunks and windows
//! (so a few KiB make many chunks), file helpers over each host's
//! `MemFiles`, and waits that name the seed when they fail.
#![allow(dead_code)]

use std::time::Duration;

use confab_engine::api::TransferId;
use confab_engine::peer::{Direction, PeerCommand, PeerConfig, PeerEvent, TransferStatus};
use confab_engine::rng::Rng;
use confab_engine::testing::MemFile;
use confab_engine::wire::{FileName, Md5};

pub use crate::peer_support::{Net, name};

/// Chunk size of every peer in these tests.
pub const CHUNK: u32 = 1024;
/// Window of every peer in these tests.
pub const WINDOW: u32 = 4;
pub const S: Duration = Duration::from_secs(1);

fn small(c: &mut PeerConfig) {
    c.transfer.chunk_size = CHUNK;
    c.transfer.window = WINDOW;
}

/// A registry and the named peers, logged in, with small chunks.
pub fn net(seed: u64, names: &[&str]) -> Net {
    Net::with(seed, names, small)
}

/// [`net`] with the registry's relay off, so that a partition keeps two
/// peers truly apart (with it on, they would talk through the registry).
pub fn net_without_relay(seed: u64, names: &[&str]) -> Net {
    Net::with_registry(seed, names, small, |r| r.relay.on = false)
}

pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    Rng::new(seed).fill(&mut v);
    v
}

pub fn share(net: &mut Net, who: &str, file: &str, data: &[u8]) {
    let h = net.host(who);
    net.world
        .files_mut(h)
        .put_shared(file, MemFile::from_bytes(data));
}

pub fn local(net: &mut Net, who: &str, path: &str, data: &[u8]) {
    let h = net.host(who);
    net.world
        .files_mut(h)
        .put_local(path, MemFile::from_bytes(data));
}

/// The bytes of `rel` in `who`'s downloads folder.
pub fn download(net: &Net, who: &str, rel: &str) -> Option<Vec<u8>> {
    net.world
        .files(net.host(who))
        .download(rel)
        .map(|f| f.bytes())
}

/// How many outputs of `kind` (`"WriteChunk"`, `"ReadChunk"`, ...) `who`'s
/// store has carried out, across restarts.
pub fn count(net: &Net, who: &str, kind: &str) -> u64 {
    net.world
        .files(net.host(who))
        .counts
        .get(kind)
        .copied()
        .unwrap_or(0)
}

/// Chunks a file of `len` bytes has (a zero-length file has none).
pub fn chunks(len: usize) -> u64 {
    (len as u64).div_ceil(u64::from(CHUNK))
}

pub fn get(net: &mut Net, who: &str, from: &str, file: &str) {
    let file = FileName::new(file).unwrap();
    net.ok(
        who,
        PeerCommand::Get {
            from: name(from),
            file,
        },
    );
}

pub fn send(net: &mut Net, who: &str, to: &str, path: &str) {
    net.ok(
        who,
        PeerCommand::SendFile {
            to: name(to),
            path: path.into(),
        },
    );
}

/// `/transfers` of `who`, answered at once.
pub fn transfers(net: &mut Net, who: &str) -> Vec<TransferStatus> {
    net.ok(who, PeerCommand::Transfers);
    net.events(who)
        .into_iter()
        .rev()
        .find_map(|e| match e {
            PeerEvent::Transfers { transfers } => Some(transfers),
            _ => None,
        })
        .expect("/transfers answers at once")
}

/// The id of `who`'s transfer of `file` in `direction`.
pub fn transfer_id(net: &mut Net, who: &str, direction: Direction, file: &str) -> TransferId {
    let seed = net.seed;
    transfers(net, who)
        .into_iter()
        .find(|t| t.direction == direction && t.name == file)
        .unwrap_or_else(|| panic!("seed {seed}: {who} has no {direction:?} transfer of {file}"))
        .id
}

/// Waits for `who`'s `TransferDone` of `file` in `direction`; its path and MD5.
pub fn wait_done(net: &mut Net, who: &str, direction: Direction, file: &str) -> (String, Md5) {
    match net.wait_for(who, 600 * S, |e| {
        matches!(e, PeerEvent::TransferDone { direction: d, name, .. } if *d == direction && name == file)
            || matches!(e, PeerEvent::TransferFailed { .. })
    }) {
        PeerEvent::TransferDone { path, md5, .. } => (path, md5),
        other => panic!("seed {}: {who} reported {other:?}", net.seed),
    }
}

/// Waits for `who`'s first `TransferFailed`; its reason.
pub fn wait_failed(net: &mut Net, who: &str) -> String {
    match net.wait_for(who, 600 * S, |e| {
        matches!(
            e,
            PeerEvent::TransferFailed { .. } | PeerEvent::TransferDone { .. }
        )
    }) {
        PeerEvent::TransferFailed { reason, .. } => reason,
        other => panic!("seed {}: {who} reported {other:?}", net.seed),
    }
}

/// Checks that `who` received `data` as downloads/`rel` (bytes and MD5),
/// reported with `path` and `md5`, with no chunk written twice differently.
pub fn check_received(net: &Net, who: &str, rel: &str, data: &[u8], path: &str, md5: Md5) {
    let seed = net.seed;
    let got = download(net, who, rel)
        .unwrap_or_else(|| panic!("seed {seed}: {who} has no downloads/{rel}"));
    assert!(
        got == data,
        "seed {seed}: {rel}: bytes differ ({} vs {})",
        got.len(),
        data.len()
    );
    assert_eq!(md5, Md5::of(data), "seed {seed}: {rel}: reported MD5");
    assert_eq!(path, format!("downloads/{rel}"), "seed {seed}");
    let files = net.world.files(net.host(who));
    assert!(
        files.conflicts.is_empty(),
        "seed {seed}: {:?}",
        files.conflicts
    );
    assert!(
        files.download(&format!("{rel}.part")).is_none(),
        "seed {seed}: {rel}.part left behind"
    );
}

/// Runs until `who`'s store has carried out at least `n` outputs of `kind`.
pub fn run_until_count(net: &mut Net, who: &str, kind: &str, n: u64) {
    let ok = net.run_until(600 * S, |net| count(net, who, kind) >= n);
    assert!(ok, "seed {}: {who} never reached {n} {kind}", net.seed);
}

/// The id of the latest file offer `who` got.
pub fn offer_id(net: &mut Net, who: &str) -> confab_engine::peer::RequestId {
    match net.wait_for(who, 10 * S, |e| matches!(e, PeerEvent::FileOffer { .. })) {
        PeerEvent::FileOffer { id, .. } => id,
        _ => unreachable!(),
    }
}
