//! A host's files: the engine's side of the file contract (see "Files" in
//! `confab_engine::api`), played by the engine's in-memory [`MemFiles`].
//!
//! Like the record [`crate::store::Store`], a host's files live in its
//! [`crate::driver::HostState`] and survive its crashes and restarts; only
//! open handles are lost with a crash ([`HostFiles::crash`]), which the
//! contract allows (a restarted engine opens again what it needs).
//!
//! Each peer's shared folder and local files hold its drawn [`Sources`];
//! downloads start empty. Every output is carried out at once, in the order
//! given (as the contract demands); the driver delivers the answers after
//! the host's drawn disk latency. Each operation that opens or changes
//! something is also returned as a [`StorageOp`] for the journal, so the
//! checkers see every write with its bytes.
//!
//! Determinism: `MemFiles` keeps everything in `BTreeMap`s.

pub mod op;
pub mod sources;

use std::collections::BTreeMap;
use std::rc::Rc;

use confab_engine::testing::files::{FileAnswer, MemFile, MemFiles};
use confab_engine::{Output, Source, TransferId};

pub use self::op::{Chunk, StorageOp};
pub use self::sources::{SourceFile, Sources};

/// The prefix `MemFiles` gives the paths of finished files.
pub const DOWNLOADS: &str = "downloads/";

/// See the module documentation.
#[derive(Debug, Default)]
pub struct HostFiles {
    mem: MemFiles,
    /// The `.part` each open (transfer, file) writes, for naming writes in
    /// the journal; handles, so lost with a crash.
    parts: BTreeMap<(TransferId, u32), String>,
}

impl HostFiles {
    /// A store whose shared folder and local files hold `files`.
    pub fn with_sources(files: &[SourceFile]) -> Self {
        let mut mem = MemFiles::new();
        for f in files {
            mem.put_shared(&f.name, MemFile::from_bytes(&f.bytes));
            mem.put_local(&f.offer_name, MemFile::from_bytes(&f.bytes));
        }
        Self {
            mem,
            parts: BTreeMap::new(),
        }
    }

    /// Carries out a file output: what it did, for the journal, and the
    /// answer to deliver, if it has one.
    pub fn carry_out<E>(&mut self, out: Output<E>) -> (Option<StorageOp>, Option<FileAnswer>) {
        let op = match &out {
            Output::OpenPart {
                transfer,
                file,
                path,
                ..
            } => {
                self.parts
                    .insert((*transfer, *file), path.as_str().to_owned());
                None
            }
            Output::WriteChunk {
                transfer,
                file,
                offset,
                data,
            } => Some(StorageOp::Write {
                transfer: *transfer,
                file: *file,
                path: self.parts.get(&(*transfer, *file)).cloned(),
                offset: *offset,
                data: Chunk(Rc::from(data.as_slice())),
            }),
            Output::DiscardPart {
                transfer,
                file,
                path,
            } => Some(StorageOp::Discard {
                transfer: *transfer,
                file: *file,
                path: path.as_str().to_owned(),
            }),
            Output::ReleaseFiles { transfer } => {
                self.parts.retain(|(t, _), _| t != transfer);
                None
            }
            _ => None,
        };
        // A finish must not replace anything: note what was there before.
        let finish = match &out {
            Output::FinishFile { transfer, file } => Some((*transfer, *file)),
            _ => None,
        };
        let before = finish.map(|_| self.mem.download_names());
        let source = match &out {
            Output::OpenSource { source, .. } => Some(match source {
                Source::Shared(n) => format!("shared {n}"),
                Source::Local(p) => format!("local {p}"),
            }),
            _ => None,
        };
        let fresh = match &out {
            Output::OpenPart { fresh, .. } => *fresh,
            _ => false,
        };
        let answer = self.mem.carry_out(out);
        let op = op.or_else(|| match answer.as_ref()? {
            FileAnswer::SourceOpened { transfer, .. } => Some(StorageOp::OpenSource {
                transfer: *transfer,
                source: source.clone()?,
                error: None,
            }),
            FileAnswer::PartOpened {
                transfer,
                file,
                len,
            } => Some(StorageOp::OpenPart {
                transfer: *transfer,
                file: *file,
                path: self.parts.get(&(*transfer, *file)).cloned()?,
                fresh,
                len: *len,
            }),
            FileAnswer::FileFinished {
                transfer,
                file,
                path,
            } => {
                let name = path.strip_prefix(DOWNLOADS).unwrap_or(path).to_owned();
                Some(StorageOp::Finish {
                    transfer: *transfer,
                    file: *file,
                    path: self.parts.get(&(*transfer, *file)).cloned(),
                    existed: before.as_ref().is_some_and(|b| b.contains(&name)),
                    result: Ok(name),
                })
            }
            FileAnswer::StorageFailed { transfer, error } => match &source {
                Some(s) => Some(StorageOp::OpenSource {
                    transfer: *transfer,
                    source: s.clone(),
                    error: Some(error.clone()),
                }),
                None => finish.map(|(transfer, file)| StorageOp::Finish {
                    transfer,
                    file,
                    path: self.parts.get(&(transfer, file)).cloned(),
                    existed: false,
                    result: Err(error.clone()),
                }),
            },
            FileAnswer::ChunkRead { .. } | FileAnswer::ChunkWritten { .. } => None,
        });
        (op, answer)
    }

    /// The host crashed: open handles are gone, files stay.
    pub fn crash(&mut self) {
        self.mem.crash();
        self.parts.clear();
    }

    /// A file of the downloads folder (`name` relative to it).
    pub fn download(&self, name: &str) -> Option<&MemFile> {
        self.mem.download(name)
    }

    /// Every name in the downloads folder, `.part` files included.
    pub fn download_names(&self) -> Vec<String> {
        self.mem.download_names()
    }
}
