//! What the share watch reports of each entry of the folder: plain values,
//! below both the watch and its folder scan so neither imports the other.

use std::path::PathBuf;

use confab_engine::wire::Md5;

/// Where one entry of the share folder stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryState {
    /// New or changed, and not yet quiet (perhaps still being written).
    Settling,
    /// Being hashed: `done` bytes so far.
    Hashing { done: u64 },
    /// Listed with this digest.
    Listed { md5: Md5 },
    /// Never listed, for this reason.
    Skipped { why: String },
}

/// One entry of the share folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareEntry {
    /// Its name as the folder holds it (lossily shown if not UTF-8).
    pub name: String,
    /// Its size in bytes when last seen (a folder: its files' total).
    pub size: u64,
    pub state: EntryState,
    /// For a folder, how many regular files it holds (at any depth); `None`
    /// for anything else.
    pub files: Option<u32>,
}

/// What `/share` shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShareStatus {
    /// The share folder (absolute).
    pub dir: PathBuf,
    /// Every entry, in name order.
    pub entries: Vec<ShareEntry>,
    /// How many lists were handed to the callback since start.
    pub publishes: u64,
    /// Why changes are only noticed by the periodic rescan, if they are.
    pub degraded: Option<String>,
}
