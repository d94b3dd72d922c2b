//! MD5s of files to send: the cache in the store (table `md5_cache`, the
//! same one [`crate::SharedIndex::scan`] fills) and hashing an open handle.
//!
//! The cache follows [`confab_engine::transfer::index::ShareIndex`]'s rule:
//! a digest is trusted only for the exact (path, size, modification time in
//! nanoseconds) it was computed for; anything else is hashed again. Failures
//! to use the cache are logged and cost only a re-hash, never a wrong digest.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

use confab_engine::wire::Md5;
use md5::Digest;
use redb::{Database, ReadableDatabase, TableDefinition};

/// Path text → size (8 bytes BE), mtime in ns (16 bytes BE), MD5 (16 bytes).
const MD5_CACHE: TableDefinition<&str, &[u8]> = TableDefinition::new("md5_cache");
const CACHE_VALUE_LEN: usize = 8 + 16 + 16;

/// Bytes hashed per read.
const HASH_BUFFER: usize = 256 * 1024;

/// One digest to remember: path text, size, mtime (ns), MD5.
pub type CacheEntry = (String, u64, u128, Md5);

/// The cache of digests by path, size and modification time.
#[derive(Debug, Clone, Copy)]
pub struct Md5Cache<'a> {
    db: &'a Database,
}

impl<'a> Md5Cache<'a> {
    /// The cache kept in `db`.
    pub fn new(db: &'a Database) -> Self {
        Self { db }
    }

    /// The digest of `path` if it was hashed with exactly this size and mtime.
    pub fn get(&self, path: &str, size: u64, mtime_ns: u128) -> Option<Md5> {
        let txn = self.db.begin_read().ok()?;
        let table = txn.open_table(MD5_CACHE).ok()?;
        let value = table.get(path).ok()??;
        let v = value.value();
        if v.len() != CACHE_VALUE_LEN
            || v[..8] != size.to_be_bytes()
            || v[8..24] != mtime_ns.to_be_bytes()
        {
            return None;
        }
        let mut md5 = [0u8; 16];
        md5.copy_from_slice(&v[24..]);
        Some(Md5(md5))
    }

    /// Remembers digests just computed, in one write transaction.
    pub fn put(&self, entries: &[CacheEntry]) {
        if entries.is_empty() {
            return;
        }
        let result = (|| -> Result<(), redb::Error> {
            let txn = self.db.begin_write()?;
            {
                let mut table = txn.open_table(MD5_CACHE)?;
                for (path, size, mtime_ns, md5) in entries {
                    let mut v = Vec::with_capacity(CACHE_VALUE_LEN);
                    v.extend_from_slice(&size.to_be_bytes());
                    v.extend_from_slice(&mtime_ns.to_be_bytes());
                    v.extend_from_slice(&md5.0);
                    table.insert(path.as_str(), v.as_slice())?;
                }
            }
            txn.commit()?;
            Ok(())
        })();
        if let Err(e) = result {
            tracing::warn!("cannot update the MD5 cache: {e}");
        }
    }
}

/// The MD5 of everything in `file` (read at positions from 0 to the end),
/// calling `progress(bytes)` after each piece. Stops with `Interrupted` as
/// soon as `cancel` is set.
pub fn md5_of_handle(
    file: &File,
    cancel: &AtomicBool,
    mut progress: impl FnMut(u64),
) -> io::Result<Md5> {
    let mut hasher = md5::Md5::new();
    let mut buf = vec![0u8; HASH_BUFFER];
    let mut offset = 0u64;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "hashing stopped: the driver is shutting down",
            ));
        }
        let n = match file.read_at(&mut buf, offset) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        offset += n as u64;
        progress(n as u64);
    }
    Ok(Md5(hasher.finalize().into()))
}
