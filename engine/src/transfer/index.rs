//! The shared-file index: MD5 by path, size and modification time.
//!
//! The engine never hashes a file it has not been sent; a driver hashes its
//! shared folder (and anything offered with `/send`) and keeps the digests in
//! a [`ShareIndex`] stored in its data folder, so a restart re-hashes only
//! what changed. This type is the table and its encoding, shared by every
//! driver so they agree on what "unchanged" means: same path, same size and
//! same modification time (nanoseconds). See "Files" in [`crate::api`].
//!
//! Invariant: [`ShareIndex::lookup`] returns a digest only for an exact
//! (path, size, mtime) match; anything else must be hashed again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::wire::Md5;

/// One indexed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Size in bytes when hashed.
    pub size: u64,
    /// Modification time when hashed, nanoseconds since the Unix epoch.
    pub mtime_ns: u128,
    /// The digest.
    pub md5: Md5,
}

/// See the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareIndex {
    entries: BTreeMap<String, IndexEntry>,
}

impl ShareIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// The digest of `path` if it is indexed with this size and mtime.
    pub fn lookup(&self, path: &str, size: u64, mtime_ns: u128) -> Option<Md5> {
        self.entries
            .get(path)
            .filter(|e| e.size == size && e.mtime_ns == mtime_ns)
            .map(|e| e.md5)
    }

    /// Records a digest just computed.
    pub fn insert(&mut self, path: &str, entry: IndexEntry) {
        self.entries.insert(path.to_owned(), entry);
    }

    /// Drops entries for files that are gone (`keep` says which remain).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.entries.retain(|p, _| keep(p));
    }

    /// How many files are indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Encodes the index for storage.
    pub fn to_bytes(&self) -> Vec<u8> {
        rmp_serde::to_vec(self).unwrap_or_default()
    }

    /// Decodes a stored index; `None` if unreadable (start from empty: the
    /// price is hashing again, never a wrong digest).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        rmp_serde::from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_only_and_round_trip() {
        let mut ix = ShareIndex::new();
        let md5 = Md5::of(b"abc");
        ix.insert(
            "a.txt",
            IndexEntry {
                size: 3,
                mtime_ns: 7,
                md5,
            },
        );
        assert_eq!(ix.lookup("a.txt", 3, 7), Some(md5));
        assert_eq!(ix.lookup("a.txt", 4, 7), None);
        assert_eq!(ix.lookup("a.txt", 3, 8), None);
        let back = ShareIndex::from_bytes(&ix.to_bytes()).unwrap();
        assert_eq!(back, ix);
        ix.retain(|_| false);
        assert!(ix.is_empty());
    }
}
