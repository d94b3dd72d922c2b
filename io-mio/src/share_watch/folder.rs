//! [`Folder`]: what the share watcher knows of each entry of the share
//! folder, and the rules for when a file may be listed. It touches only the
//! share folder (read, never write) and the MD5 cache; the thread around it
//! lives in [`super`].
//!
//! A file is listed only with the digest of exactly the bytes it holds:
//! - it must have been *quiet* first: the same size and modification time
//!   for [`super::WatchConfig::quiet`] (a file whose modification time is
//!   already that old counts as quiet at once, so a restart lists an
//!   unchanged folder without waiting), so a file still being copied in is
//!   never listed with a partial size;
//! - any change of size or modification time unlists it until it is quiet
//!   and hashed again;
//! - the digest comes from the cache for that exact (path, size, mtime), or
//!   is computed from a handle opened without following links and checked
//!   against the same stamp before and after hashing.
//!
//! Regular files and sub-folders directly inside the folder, under names a
//! [`FileName`] can carry, are shared; a sub-folder is one entry, with the
//! rules of [`tree`]. Links are never followed (a link inside could lead out
//! of the folder), at any depth.

mod tree;

use std::collections::BTreeMap;
use std::fs::{Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use confab_engine::wire::registry::{ShareKind, SharedFile};
use confab_engine::wire::{FileName, Md5};

use super::status::{EntryState, ShareEntry};
use crate::files::Md5Cache;
use crate::files::source::{FolderFile, ShareFolder};
use crate::shared::md5_of_open;

/// Size and modification time (ns): what a digest is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub size: u64,
    pub mtime_ns: u128,
}

impl Stamp {
    fn of(meta: &Metadata) -> Self {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Self {
            size: meta.len(),
            mtime_ns,
        }
    }
}

#[derive(Debug, Clone)]
enum Kind {
    /// A regular file we may list.
    File {
        name: FileName,
        stamp: Stamp,
        /// When it counts as quiet, if it stays as it is.
        quiet_at: Instant,
        md5: Option<Md5>,
    },
    /// A sub-folder we may list (see [`tree`]).
    Folder {
        name: FileName,
        /// Its files as last seen, sorted by path.
        files: Vec<FolderFile>,
        /// When it counts as quiet, if it stays as it is.
        quiet_at: Instant,
        /// Once hashed: its digest, file count and total size.
        listed: Option<(Md5, u32, u64)>,
    },
    Skipped {
        size: u64,
        why: String,
    },
}

impl Kind {
    /// Not yet hashed, and quiet at this time.
    fn pending(&self) -> Option<Instant> {
        match self {
            Kind::File {
                md5: None,
                quiet_at,
                ..
            }
            | Kind::Folder {
                listed: None,
                quiet_at,
                ..
            } => Some(*quiet_at),
            _ => None,
        }
    }
}

/// What one pass of hashing did to a file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Hashed {
    /// Listed now.
    Listed,
    /// It changed under us (or vanished); it waits to be quiet again.
    Changed,
    /// It cannot be read; shown as skipped.
    Failed,
    /// Stopped: the watcher is shutting down.
    Stopped,
}

/// The share folder as last seen. See the module documentation.
#[derive(Debug)]
pub(crate) struct Folder {
    /// Absolute, as [`crate::files`] keys the MD5 cache.
    dir: PathBuf,
    /// The same folder, open: sub-folders are walked from this handle.
    share: ShareFolder,
    quiet: Duration,
    entries: BTreeMap<String, Kind>,
}

impl Folder {
    pub fn new(dir: &Path, quiet: Duration) -> io::Result<Self> {
        let share = ShareFolder::open(dir)?;
        Ok(Self {
            dir: share.path.clone(),
            share,
            quiet,
            entries: BTreeMap::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Looks at every entry again; `now` and `wall` are the same moment by
    /// the two clocks.
    pub fn scan(&mut self, now: Instant, wall: SystemTime) -> io::Result<()> {
        let mut seen = BTreeMap::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let Ok(entry) = entry else { continue };
            let raw = entry.file_name();
            let shown = raw.to_string_lossy().into_owned();
            // Never follows a link: what a link is, not where it points.
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                continue;
            };
            let kind = self.classify(&raw, &meta, now, wall, seen.contains_key(&shown));
            seen.insert(shown, kind);
        }
        self.entries = seen;
        Ok(())
    }

    fn classify(
        &self,
        raw: &std::ffi::OsStr,
        meta: &Metadata,
        now: Instant,
        wall: SystemTime,
        clash: bool,
    ) -> Kind {
        let skip = |why: &str| Kind::Skipped {
            size: meta.len(),
            why: why.to_owned(),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            return skip("a link (links are never followed)");
        }
        if !ft.is_file() && !ft.is_dir() {
            return skip("not a regular file or folder");
        }
        let Some(text) = raw.to_str() else {
            return skip("its name is not valid UTF-8");
        };
        if clash {
            return skip("its name, shown this way, is taken by another entry");
        }
        let name = match FileName::new(text) {
            Ok(n) => n,
            Err(e) => return skip(&format!("a name confab cannot carry: {e}")),
        };
        if ft.is_dir() {
            return self.classify_folder(name, text, now, wall);
        }
        let stamp = Stamp::of(meta);
        if let Some(Kind::File { stamp: was, .. }) = self.entries.get(text)
            && *was == stamp
        {
            return self.entries[text].clone();
        }
        // New or changed: unlisted until quiet. A modification time already
        // `quiet` in the past shortens the wait (never below zero, never
        // beyond `quiet` when the clock and the file disagree).
        let mtime = UNIX_EPOCH + Duration::from_nanos(stamp.mtime_ns.min(u64::MAX as u128) as u64);
        let age = wall.duration_since(mtime).unwrap_or(Duration::ZERO);
        Kind::File {
            name,
            stamp,
            quiet_at: now + self.quiet.saturating_sub(age),
            md5: None,
        }
    }

    /// Names of files and folders that are quiet and not yet hashed, in
    /// name order.
    pub fn due(&self, now: Instant) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, k)| k.pending().is_some_and(|q| q <= now))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// When the next file or folder that is still settling becomes quiet.
    pub fn next_quiet(&self, now: Instant) -> Option<Instant> {
        self.entries
            .values()
            .filter_map(Kind::pending)
            .filter(|q| *q > now)
            .min()
    }

    /// Whether any file is still settling (being written, or just changed).
    pub fn settling(&self, now: Instant) -> bool {
        self.next_quiet(now).is_some()
    }

    /// Hashes `key` (a name from [`Self::due`]), from the cache if it can.
    /// `progress(done, total)` follows a long hash.
    pub fn hash(
        &mut self,
        key: &str,
        now: Instant,
        cache: Option<Md5Cache<'_>>,
        stop: &AtomicBool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Hashed {
        if let Some(Kind::Folder { .. }) = self.entries.get(key) {
            let result = self.hash_folder(key, cache, stop, progress);
            if result == Hashed::Changed
                && let Some(Kind::Folder { quiet_at, .. }) = self.entries.get_mut(key)
            {
                *quiet_at = now + self.quiet;
            }
            return result;
        }
        let Some(Kind::File { stamp, .. }) = self.entries.get(key) else {
            return Hashed::Changed;
        };
        let stamp = *stamp;
        let path = self.dir.join(key);
        let cache_key = path.to_string_lossy().into_owned();
        let outcome = (|| -> io::Result<Option<Md5>> {
            let file = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
                .open(&path)?;
            let meta = file.metadata()?;
            if !meta.is_file() || Stamp::of(&meta) != stamp {
                return Ok(None);
            }
            if let Some(md5) = cache.and_then(|c| c.get(&cache_key, stamp.size, stamp.mtime_ns)) {
                return Ok(Some(md5));
            }
            let size = stamp.size;
            let md5 = md5_of_open(&file, stop, &mut |done| progress(done, size))?;
            // Changed while we read it: these bytes are no version of it.
            if Stamp::of(&file.metadata()?) != stamp {
                return Ok(None);
            }
            if let Some(c) = cache {
                c.put(&[(cache_key.clone(), stamp.size, stamp.mtime_ns, md5)]);
            }
            Ok(Some(md5))
        })();
        let result = match outcome {
            Ok(Some(digest)) => {
                if let Some(Kind::File { md5, .. }) = self.entries.get_mut(key) {
                    *md5 = Some(digest);
                }
                Hashed::Listed
            }
            Ok(None) => Hashed::Changed,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Hashed::Stopped,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Hashed::Changed,
            Err(e) => {
                tracing::warn!(path = %path.display(), "not sharing an unreadable file: {e}");
                self.entries.insert(
                    key.to_owned(),
                    Kind::Skipped {
                        size: stamp.size,
                        why: format!("cannot be read: {e}"),
                    },
                );
                Hashed::Failed
            }
        };
        if result == Hashed::Changed
            && let Some(Kind::File { quiet_at, .. }) = self.entries.get_mut(key)
        {
            // The next scan sees its new stamp; until then it is not quiet.
            *quiet_at = now + self.quiet;
        }
        result
    }

    /// The files to publish now, in name order.
    pub fn listed(&self) -> Vec<SharedFile> {
        self.entries
            .values()
            .filter_map(|k| match k {
                Kind::File {
                    name,
                    stamp,
                    md5: Some(md5),
                    ..
                } => Some(SharedFile::file(name.clone(), stamp.size, *md5)),
                Kind::Folder {
                    name,
                    listed: Some((md5, files, size)),
                    ..
                } => Some(SharedFile {
                    name: name.clone(),
                    size: *size,
                    md5: *md5,
                    kind: ShareKind::Folder { files: *files },
                }),
                _ => None,
            })
            .collect()
    }

    /// Every entry with its state, in name order (`hashing` is the one
    /// being hashed now, with its progress).
    pub fn entries(&self, hashing: Option<(&str, u64)>) -> Vec<ShareEntry> {
        self.entries
            .iter()
            .map(|(n, k)| {
                let (size, state) = match k {
                    Kind::File {
                        stamp,
                        md5: Some(m),
                        ..
                    } => (stamp.size, EntryState::Listed { md5: *m }),
                    Kind::File { stamp, .. } => match hashing {
                        Some((h, done)) if h == n => (stamp.size, EntryState::Hashing { done }),
                        _ => (stamp.size, EntryState::Settling),
                    },
                    Kind::Folder {
                        listed: Some((md5, files, size)),
                        ..
                    } => {
                        let state = EntryState::Listed { md5: *md5 };
                        return folder_entry(n, *size, *files, state);
                    }
                    Kind::Folder { files, .. } => {
                        let size = files.iter().fold(0u64, |a, f| a.saturating_add(f.1));
                        let state = match hashing {
                            Some((h, done)) if h == n => EntryState::Hashing { done },
                            _ => EntryState::Settling,
                        };
                        return folder_entry(n, size, files.len() as u32, state);
                    }
                    Kind::Skipped { size, why } => {
                        (*size, EntryState::Skipped { why: why.clone() })
                    }
                };
                ShareEntry {
                    name: n.clone(),
                    size,
                    state,
                    files: None,
                }
            })
            .collect()
    }
}

fn folder_entry(name: &str, size: u64, files: u32, state: EntryState) -> ShareEntry {
    ShareEntry {
        name: name.to_owned(),
        size,
        state,
        files: Some(files),
    }
}
