//! The files each peer shares, drawn from the seed, and their bytes kept
//! for the checkers.
//!
//! Every peer gets files of edge-case sizes around the run's chunk size:
//! empty, one byte, one chunk less one, one chunk, one chunk and one byte,
//! and one or two of several chunks (a window and more, up to 1 MiB). The
//! same bytes are in its shared folder (for `/get`, as `pNNN-label.bin`)
//! and among its local files, for `/send`: under the same name (the
//! default, `same_names`), so an offer and a fetch, or two offers, of one
//! name meet at a receiver, which must keep their `.part`s apart; or, with
//! `--distinct-names`, as `pNNN-label.send.bin`.
//!
//! Invariants: file names are unique in the run (the owner's number
//! first), so the name of a `.part` or of a finished file says which source
//! it must equal; contents are pseudo-random, so a chunk sent from the
//! wrong place, or not read at all, never matches by chance; a source never
//! changes during a run.

use std::collections::BTreeMap;
use std::rc::Rc;

use confab_engine::wire::Md5;

use crate::draw::{self, Rng};

/// Largest file drawn.
pub const MAX_SIZE: u64 = 1 << 20;

/// One source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Its name in the shared folder, unique in the run.
    pub name: String,
    /// Its path among the local files (what `/send` names), unique too.
    pub offer_name: String,
    /// Its bytes.
    pub bytes: Rc<[u8]>,
    /// Their MD5.
    pub md5: Md5,
}

/// Every peer's files, and the transfer settings they were drawn for.
#[derive(Debug, Default)]
pub struct Sources {
    /// Bytes per chunk the peers use.
    pub chunk: u32,
    /// Chunks in flight the peers allow.
    pub window: u32,
    per_peer: Vec<Vec<SourceFile>>,
    by_name: BTreeMap<String, (usize, usize)>,
}

impl Sources {
    /// Draws the files of `peers` peers, and the chunk size and window.
    /// With `same_names`, a file's local path is its shared name.
    pub fn draw(rng: &mut Rng, peers: usize, same_names: bool) -> Self {
        let chunk = [4096u64, 16 * 1024, 64 * 1024][rng.below(3) as usize];
        let window = draw::between(rng, 1, 16);
        let mut sources = Self {
            chunk: chunk as u32,
            window: window as u32,
            ..Self::default()
        };
        let span = (window * chunk).min(MAX_SIZE);
        for p in 0..peers {
            let mut sizes = vec![
                ("empty", 0),
                ("one", 1),
                ("c-1", chunk - 1),
                ("c", chunk),
                ("c+1", chunk + 1),
                (
                    "multi",
                    draw::between(rng, 2 * chunk, (2 * chunk).max(span)),
                ),
            ];
            if draw::chance(rng, 0.5) {
                let big = draw::between(rng, span, (4 * span).min(MAX_SIZE).max(span));
                sizes.push(("big", big));
            }
            let files = sizes
                .into_iter()
                .map(|(label, size)| {
                    let name = format!("p{:03}-{label}.bin", p + 1);
                    let offer_name = match same_names {
                        true => name.clone(),
                        false => format!("p{:03}-{label}.send.bin", p + 1),
                    };
                    let bytes: Rc<[u8]> = pseudo_random(rng.next_u64(), size as usize).into();
                    SourceFile {
                        md5: Md5::of(&bytes),
                        name,
                        offer_name,
                        bytes,
                    }
                })
                .collect::<Vec<_>>();
            for (i, f) in files.iter().enumerate() {
                sources.by_name.insert(f.name.clone(), (p, i));
                sources.by_name.insert(f.offer_name.clone(), (p, i));
            }
            sources.per_peer.push(files);
        }
        sources
    }

    /// Peer `i`'s files.
    pub fn of_peer(&self, i: usize) -> &[SourceFile] {
        self.per_peer.get(i).map_or(&[], Vec::as_slice)
    }

    /// The file named `name`, and the index of the peer that has it. A
    /// receiver writes a download under `stem (n).ext` when another download
    /// is already writing `stem.ext`: that is the same source.
    pub fn by_name(&self, name: &str) -> Option<(usize, &SourceFile)> {
        let &(p, i) = self
            .by_name
            .get(name)
            .or_else(|| self.by_name.get(&unnumbered(name)?))?;
        Some((p, &self.per_peer[p][i]))
    }

    /// Bytes of every file, for the report.
    pub fn total_bytes(&self) -> u64 {
        self.per_peer
            .iter()
            .flatten()
            .map(|f| f.bytes.len() as u64)
            .sum()
    }

    /// How many files.
    pub fn count(&self) -> usize {
        self.per_peer.iter().map(Vec::len).sum()
    }
}

/// `len` bytes that look random, from `seed` (a splitmix64 stream: cheap
/// even in debug builds, unlike drawing every byte from the run's RNG).
fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut x = seed;
    for word in out.chunks_mut(8) {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        word.copy_from_slice(&z.to_le_bytes()[..word.len()]);
    }
    out
}

/// `stem.ext` for `stem (n).ext`; `None` for a name without such a number.
fn unnumbered(name: &str) -> Option<String> {
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name, ""),
    };
    let (base, n) = stem.strip_suffix(')')?.rsplit_once(" (")?;
    n.parse::<u32>().ok()?;
    Some(format!("{base}{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_sizes_unique_names_and_digests() {
        let s = Sources::draw(&mut Rng::new(7), 3, false);
        let c = u64::from(s.chunk);
        for p in 0..3 {
            let sizes: Vec<u64> = s.of_peer(p).iter().map(|f| f.bytes.len() as u64).collect();
            assert_eq!(&sizes[..5], &[0, 1, c - 1, c, c + 1]);
            assert!(sizes.iter().all(|&n| n <= MAX_SIZE));
            for f in s.of_peer(p) {
                assert_eq!(s.by_name(&f.name).map(|(q, _)| q), Some(p));
                assert_eq!(s.by_name(&f.offer_name).map(|(_, g)| g.md5), Some(f.md5));
                assert_ne!(f.name, f.offer_name);
                assert_eq!(f.md5, Md5::of(&f.bytes));
            }
        }
        assert_eq!(
            s.count(),
            s.of_peer(0).len() + s.of_peer(1).len() + s.of_peer(2).len()
        );
        let again = Sources::draw(&mut Rng::new(7), 3, true);
        assert_eq!(
            again.of_peer(2)[5].md5,
            s.of_peer(2)[5].md5,
            "drawn from the seed"
        );
        assert_eq!(again.of_peer(2)[5].offer_name, again.of_peer(2)[5].name);
        let f = &s.of_peer(1)[2];
        let renamed = f.name.replace(".bin", " (3).bin");
        assert_eq!(s.by_name(&renamed).map(|(_, g)| g.md5), Some(f.md5));
        assert!(s.by_name(&f.name.replace(".bin", " (x).bin")).is_none());
    }
}
