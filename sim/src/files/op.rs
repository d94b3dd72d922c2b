//! [`StorageOp`]: what a host's file store carried out for its engine, as
//! the journal records it (one per file output that changes or opens
//! something; reads and releases are left out to keep the trace lean).

use std::fmt;
use std::rc::Rc;

use confab_engine::TransferId;

/// The bytes of a written chunk. Shown in the trace by length only (they
/// are a function of the seed, like everything else in the run).
#[derive(Clone, PartialEq, Eq)]
pub struct Chunk(pub Rc<[u8]>);

impl fmt::Debug for Chunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes", self.0.len())
    }
}

/// One file operation carried out. Paths are relative to the downloads
/// folder, as the engine named them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageOp {
    /// `OpenSource` of a shared name or local path; `error` if refused.
    OpenSource {
        transfer: TransferId,
        source: String,
        error: Option<String>,
    },
    /// `OpenPart` of `path.part`, truncated first if `fresh`; it holds `len`.
    OpenPart {
        transfer: TransferId,
        file: u32,
        path: String,
        fresh: bool,
        len: u64,
    },
    /// `WriteChunk` into `path.part` (`path` is `None` if the file was not
    /// open, and the write was refused).
    Write {
        transfer: TransferId,
        file: u32,
        path: Option<String>,
        offset: u64,
        data: Chunk,
    },
    /// `FinishFile`: `path.part` renamed to `name` (relative to the
    /// downloads folder), or why not. `existed`: a file of that name was
    /// already there, and was replaced.
    Finish {
        transfer: TransferId,
        file: u32,
        path: Option<String>,
        result: Result<String, String>,
        existed: bool,
    },
    /// `DiscardPart` of `path.part`.
    Discard {
        transfer: TransferId,
        file: u32,
        path: String,
    },
}
