//! Generators of the transfer protocol: keys, manifests, chunks and the
//! content every generated file holds ([`content`]).

use arbitrary::Arbitrary;
use confab_engine::bounded::{Blob, List, Text};
use confab_engine::wire::transfer::{
    Manifest, ManifestEntry, RelPath, TransferKey, TransferMessage,
};
use confab_engine::wire::{FileName, Md5};

use super::common::*;

/// Transfer keys: a few small ones (so an offer and its chunks agree), or any.
#[derive(Debug, Arbitrary)]
pub enum GKey {
    Small(u8),
    Any(u64),
}

impl Build for GKey {
    type Out = TransferKey;
    fn build(&self) -> TransferKey {
        match self {
            GKey::Small(k) => TransferKey(u64::from(k % 4)),
            GKey::Any(k) => TransferKey(*k),
        }
    }
}

/// The bytes of every file in the peer target, as a function of the offset:
/// both the remote senders and the driver's storage hold these, so a
/// transfer that moves them verifies.
pub fn content(offset: u64, len: usize) -> Vec<u8> {
    (0..len as u64)
        .map(|i| {
            let x = offset.wrapping_add(i);
            (x ^ (x >> 8) ^ (x >> 16)).wrapping_mul(31) as u8
        })
        .collect()
}

/// The MD5 of the first `size` bytes of [`content`] (for sizes the fuzzer
/// can afford to hash; others get a made-up digest).
pub fn content_md5(size: u64) -> Md5 {
    if size <= 1 << 20 {
        Md5::of(&content(0, size as usize))
    } else {
        Md5([0x5a; 16])
    }
}

/// File sizes around the chunk sizes the peer target uses (see
/// `crate::peer::CHUNK`), and one too big to move.
pub const SIZE_POOL: [u64; 8] = [0, 1, 63, 64, 65, 200, 1000, 1 << 40];

/// One file of a manifest.
#[derive(Debug, Arbitrary)]
pub struct GEntry {
    pub name: GFileName,
    pub size: u8,
    /// A made-up digest instead of that of [`content`].
    pub md5: Option<[u8; 16]>,
}

/// A manifest: mostly valid (a single file named like the manifest, or a
/// folder whose entries lie under it), sometimes not (the engine must refuse it).
#[derive(Debug, Arbitrary)]
pub enum GManifest {
    Single(GEntry),
    Folder {
        name: GFileName,
        entries: Vec<GEntry>,
    },
    Raw {
        name: GFileName,
        folder: bool,
        entries: Vec<(GFileName, u64, [u8; 16])>,
    },
}

impl GEntry {
    fn entry(&self, prefix: Option<&FileName>) -> ManifestEntry {
        let size = SIZE_POOL[self.size as usize % SIZE_POOL.len()];
        let name = self.name.build();
        let path = match prefix {
            Some(p) => format!("{p}/{name}"),
            None => name.to_string(),
        };
        ManifestEntry {
            path: RelPath::new(&path).unwrap_or_else(|_| RelPath::new("x").expect("valid")),
            size,
            md5: self.md5.map_or_else(|| content_md5(size), Md5),
        }
    }
}

impl Build for GManifest {
    type Out = Manifest;
    fn build(&self) -> Manifest {
        use confab_engine::limits::MAX_SHARED_FILES;
        match self {
            GManifest::Single(e) => {
                let entry = e.entry(None);
                Manifest {
                    name: FileName::new(entry.path.as_str()).expect("a file name"),
                    folder: false,
                    entries: List::new(vec![entry]).expect("one"),
                }
            }
            GManifest::Folder { name, entries } => {
                let name = name.build();
                let entries = entries
                    .iter()
                    .take(MAX_SHARED_FILES)
                    .map(|e| e.entry(Some(&name)))
                    .collect();
                Manifest {
                    name,
                    folder: true,
                    entries: List::new(entries).expect("cut to the limit"),
                }
            }
            GManifest::Raw {
                name,
                folder,
                entries,
            } => Manifest {
                name: name.build(),
                folder: *folder,
                entries: List::new(
                    entries
                        .iter()
                        .take(MAX_SHARED_FILES)
                        .map(|(n, size, md5)| ManifestEntry {
                            path: RelPath::new(n.build().as_str()).expect("a file name"),
                            size: *size,
                            md5: Md5(*md5),
                        })
                        .collect(),
                )
                .expect("cut to the limit"),
            },
        }
    }
}

/// Chunk bytes: [`content`] at the offset (what a real sender sends), or junk.
#[derive(Debug, Arbitrary)]
pub enum GChunkData {
    Content { len: u16 },
    Junk(Vec<u8>),
}

/// A transfer message, one variant per [`TransferMessage`] variant.
#[derive(Debug, Arbitrary)]
pub enum GTransferMessage {
    Get {
        key: GKey,
        name: GFileName,
    },
    Offer {
        key: GKey,
        manifest: GManifest,
    },
    Accept {
        key: GKey,
    },
    Resume {
        key: GKey,
    },
    Manifest {
        key: GKey,
        manifest: GManifest,
    },
    Want {
        key: GKey,
        round: u32,
        file: u32,
        offset: u64,
        chunk: u32,
        window: u32,
    },
    Chunk {
        key: GKey,
        round: u32,
        file: u32,
        offset: u64,
        data: GChunkData,
    },
    Ack {
        key: GKey,
        round: u32,
        file: u32,
        upto: u64,
    },
    Complete {
        key: GKey,
    },
    Cancel {
        key: GKey,
        reason: String,
    },
    Pause {
        key: GKey,
    },
}

impl Build for GTransferMessage {
    type Out = TransferMessage;
    fn build(&self) -> TransferMessage {
        use confab_engine::limits::MAX_CHUNK_LEN;
        match self {
            GTransferMessage::Get { key, name } => TransferMessage::Get {
                key: key.build(),
                name: name.build(),
            },
            GTransferMessage::Offer { key, manifest } => TransferMessage::Offer {
                key: key.build(),
                manifest: manifest.build(),
            },
            GTransferMessage::Accept { key } => TransferMessage::Accept { key: key.build() },
            GTransferMessage::Resume { key } => TransferMessage::Resume { key: key.build() },
            GTransferMessage::Manifest { key, manifest } => TransferMessage::Manifest {
                key: key.build(),
                manifest: manifest.build(),
            },
            GTransferMessage::Want {
                key,
                round,
                file,
                offset,
                chunk,
                window,
            } => TransferMessage::Want {
                key: key.build(),
                round: *round,
                file: *file,
                offset: *offset,
                chunk: *chunk,
                window: *window,
            },
            GTransferMessage::Chunk {
                key,
                round,
                file,
                offset,
                data,
            } => {
                let data = match data {
                    GChunkData::Content { len } => content(*offset, usize::from(*len)),
                    GChunkData::Junk(b) => b.iter().copied().take(MAX_CHUNK_LEN).collect(),
                };
                TransferMessage::Chunk {
                    key: key.build(),
                    round: *round,
                    file: *file,
                    offset: *offset,
                    data: Blob::new(data).expect("cut to the limit"),
                }
            }
            GTransferMessage::Ack {
                key,
                round,
                file,
                upto,
            } => TransferMessage::Ack {
                key: key.build(),
                round: *round,
                file: *file,
                upto: *upto,
            },
            GTransferMessage::Complete { key } => TransferMessage::Complete { key: key.build() },
            GTransferMessage::Pause { key } => TransferMessage::Pause { key: key.build() },
            GTransferMessage::Cancel { key, reason } => TransferMessage::Cancel {
                key: key.build(),
                reason: Text::truncate(reason),
            },
        }
    }
}
