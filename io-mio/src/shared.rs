//! [`SharedIndex`]: the files of a peer's shared folder, with their size and
//! MD5, as the registry lists them ([`SharedFile`]).
//!
//! Only plain files directly inside the folder are shared, under names that
//! are valid [`FileName`]s; sub-folders, links to elsewhere and odd names are
//! skipped (and logged), so a name from the network can only ever be looked up
//! in the index, never joined onto a path. A link is never followed, not even
//! to a file inside. [`crate::ShareWatch`] keeps such a list current. Hashing a large folder is slow, so
//! digests are cached in the store (table `md5_cache`), keyed by the file's
//! path and checked against its size and modification time: an unchanged file
//! is never read twice.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::UNIX_EPOCH;

use confab_engine::wire::registry::SharedFile;
use confab_engine::wire::{FileName, Md5};
use md5::Digest;
use redb::Database;

use crate::files::Md5Cache;

/// Why the shared folder could not be indexed. The text says what to do.
#[derive(Debug)]
pub struct ShareError(pub String);

impl fmt::Display for ShareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShareError {}

/// The shared folder's files. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct SharedIndex {
    dir: PathBuf,
    files: BTreeMap<FileName, (PathBuf, SharedFile)>,
}

impl SharedIndex {
    /// Indexes `dir`, hashing what the cache in `db` does not already know.
    pub fn scan(dir: &Path, db: &Database) -> Result<Self, ShareError> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            ShareError(format!(
                "cannot read the share folder {}: {e}; create it or pick another with --share",
                dir.display()
            ))
        })?;
        let cache = Md5Cache::new(db);
        let mut files = BTreeMap::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let Some(name) = entry
                .file_name()
                .to_str()
                .and_then(|n| FileName::new(n).ok())
            else {
                tracing::warn!(path = %path.display(), "not sharing a file whose name confab cannot carry");
                continue;
            };
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            let key = path.to_string_lossy().into_owned();
            let md5 = match cache.get(&key, meta.len(), mtime_ns) {
                Some(md5) => md5,
                None => match md5_of_file(&path) {
                    Ok(md5) => {
                        cache.put(&[(key.clone(), meta.len(), mtime_ns, md5)]);
                        md5
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), "not sharing an unreadable file: {e}");
                        continue;
                    }
                },
            };
            let shared = SharedFile {
                kind: Default::default(),
                name: name.clone(),
                size: meta.len(),
                md5,
            };
            files.insert(name, (path, shared));
        }
        Ok(Self {
            dir: dir.to_owned(),
            files,
        })
    }

    /// The folder indexed.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The list to publish, in name order (for `PeerConfig::shared`).
    pub fn files(&self) -> Vec<SharedFile> {
        self.files.values().map(|(_, f)| f.clone()).collect()
    }

    /// Where a shared file is on disk: the only way a name from the network
    /// becomes a path. `None` if it is not shared.
    pub fn path_of(&self, name: &FileName) -> Option<&Path> {
        self.files.get(name).map(|(p, _)| p.as_path())
    }
}

/// The MD5 of a whole file, read in 256 KiB pieces.
pub fn md5_of_file(path: &Path) -> io::Result<Md5> {
    md5_of_open(&File::open(path)?, &AtomicBool::new(false), &mut |_| {})
}

/// The MD5 of everything in `file`, calling `progress(bytes so far)` after
/// each piece; stops with `Interrupted` once `stop` is set.
pub(crate) fn md5_of_open(
    file: &File,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64),
) -> io::Result<Md5> {
    let mut hasher = md5::Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut offset = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "stopping"));
        }
        let n = match file.read_at(&mut buf, offset) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        offset += n as u64;
        progress(offset);
    }
    Ok(Md5(hasher.finalize().into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn indexes_plain_files_with_their_md5_and_skips_the_rest() {
        let data = tempfile::tempdir().unwrap();
        let share = tempfile::tempdir().unwrap();
        std::fs::write(share.path().join("a.txt"), b"hello").unwrap();
        std::fs::write(share.path().join("empty"), b"").unwrap();
        std::fs::create_dir(share.path().join("sub")).unwrap();
        std::fs::write(share.path().join("sub").join("hidden.txt"), b"x").unwrap();
        let store = Store::open(data.path()).unwrap();

        let index = SharedIndex::scan(share.path(), store.database()).unwrap();
        let files = index.files();
        assert_eq!(files.len(), 2, "{files:?}");
        assert_eq!(files[0].name.as_str(), "a.txt");
        assert_eq!(files[0].size, 5);
        assert_eq!(files[0].md5.to_hex(), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(files[1].md5.to_hex(), "d41d8cd98f00b204e9800998ecf8427e");
        let name = FileName::new("a.txt").unwrap();
        assert_eq!(
            index.path_of(&name),
            Some(share.path().join("a.txt").as_path())
        );
        assert_eq!(index.path_of(&FileName::new("hidden.txt").unwrap()), None);
    }

    #[test]
    fn the_cache_answers_for_unchanged_files_and_not_for_changed_ones() {
        let data = tempfile::tempdir().unwrap();
        let share = tempfile::tempdir().unwrap();
        let path = share.path().join("f");
        std::fs::write(&path, b"one").unwrap();
        let store = Store::open(data.path()).unwrap();
        SharedIndex::scan(share.path(), store.database()).unwrap();

        let cache = Md5Cache::new(store.database());
        let meta = std::fs::metadata(&path).unwrap();
        let mtime = meta
            .modified()
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let key = path.to_string_lossy();
        assert_eq!(cache.get(&key, 3, mtime), Some(Md5::of(b"one")));
        assert_eq!(cache.get(&key, 4, mtime), None, "size changed");
        assert_eq!(cache.get(&key, 3, mtime + 1), None, "mtime changed");
    }

    #[test]
    fn a_missing_share_folder_is_a_clear_error() {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(data.path()).unwrap();
        let err = SharedIndex::scan(&data.path().join("nope"), store.database()).unwrap_err();
        assert!(err.0.contains("--share"), "{err}");
    }
}
