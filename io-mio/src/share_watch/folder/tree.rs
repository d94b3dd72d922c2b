//! A sub-folder of the share folder as one entry of [`Folder`]: how it is
//! classified on a scan and hashed once quiet. Touches the share folder only
//! through [`crate::files::source`], the same walk a fetch of the folder
//! makes (never following a link, never leaving `SHARE/name`), so what is
//! listed is exactly what a fetch would send.
//!
//! A folder is quiet when the list of its files, with every size and
//! modification time, has stayed the same for the quiet time (a file added,
//! removed, grown or touched restarts the wait); it is listed once every file
//! is hashed (cached by path, size and mtime like a plain file) and the list
//! is seen unchanged after hashing. Its digest is
//! [`confab_engine::wire::folder_digest`] of its files: the digest a folder
//! transfer of it reports. An empty folder, or one a transfer could not
//! carry (a name that is not UTF-8, too many files, paths too long), is shown
//! as skipped with why.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use confab_engine::Source;
use confab_engine::limits::{MAX_FOLDER_PATH_BYTES, MAX_SHARED_FILES};
use confab_engine::wire::{FileName, folder_digest};

use super::{Folder, Hashed, Kind};
use crate::files::Md5Cache;
use crate::files::source::{Context, open_source, shared_folder_files};

impl Folder {
    /// The entry for the sub-folder `text` (already a valid `name`).
    pub(super) fn classify_folder(
        &self,
        name: FileName,
        text: &str,
        now: Instant,
        wall: SystemTime,
    ) -> Kind {
        let skip = |size: u64, why: String| Kind::Skipped { size, why };
        let files = match shared_folder_files(&self.share, text) {
            Ok(files) => files,
            Err(why) => return skip(0, format!("a folder that cannot be shared: {why}")),
        };
        let size = files.iter().fold(0u64, |a, f| a.saturating_add(f.1));
        if files.is_empty() {
            return skip(0, "an empty folder (no files to share)".into());
        }
        if files.len() > MAX_SHARED_FILES {
            return skip(
                size,
                format!("a folder of more than {MAX_SHARED_FILES} files"),
            );
        }
        let path_bytes: usize = files.iter().map(|f| f.0.len()).sum();
        if path_bytes > MAX_FOLDER_PATH_BYTES {
            return skip(
                size,
                format!("its paths total over {MAX_FOLDER_PATH_BYTES} bytes"),
            );
        }
        if let Some(Kind::Folder { files: was, .. }) = self.entries.get(text)
            && *was == files
        {
            return self.entries[text].clone();
        }
        // Quiet once its newest file is (see `classify` for files).
        let newest = files.iter().map(|f| f.2).max().unwrap_or(0);
        let mtime = UNIX_EPOCH + Duration::from_nanos(newest.min(u64::MAX as u128) as u64);
        let age = wall.duration_since(mtime).unwrap_or(Duration::ZERO);
        Kind::Folder {
            name,
            files,
            quiet_at: now + self.quiet.saturating_sub(age),
            listed: None,
        }
    }

    /// Hashes the sub-folder `key` (a name from [`Folder::due`]).
    pub(super) fn hash_folder(
        &mut self,
        key: &str,
        cache: Option<Md5Cache<'_>>,
        stop: &AtomicBool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Hashed {
        let Some(Kind::Folder { name, files, .. }) = self.entries.get(key) else {
            return Hashed::Changed;
        };
        let (name, seen) = (name.clone(), files.clone());
        let cx = Context {
            share: Some(&self.share),
            cache,
            cancel: stop,
        };
        let described = open_source(&cx, &Source::Shared(name.clone()), progress);
        if stop.load(Ordering::SeqCst) {
            return Hashed::Stopped;
        }
        // Whatever happened, the folder must still be as it was seen quiet.
        let unchanged = shared_folder_files(&self.share, key).is_ok_and(|now| now == seen);
        let opened = match described {
            Ok(opened) if unchanged => opened,
            Ok(_) => return Hashed::Changed,
            Err(_) if !unchanged => return Hashed::Changed,
            Err(why) => {
                tracing::warn!(folder = key, "not sharing a folder: {why}");
                let size = seen.iter().fold(0u64, |a, f| a.saturating_add(f.1));
                self.entries.insert(
                    key.to_owned(),
                    Kind::Skipped {
                        size,
                        why: format!("cannot be read: {why}"),
                    },
                );
                return Hashed::Failed;
            }
        };
        let info = opened.info;
        let same = info.folder
            && info.files.len() == seen.len()
            && info
                .files
                .iter()
                .zip(&seen)
                .all(|(f, s)| f.path == s.0 && f.size == s.1);
        if !same {
            return Hashed::Changed;
        }
        let prefix = format!("{key}/");
        let digest = folder_digest(info.files.iter().map(|f| {
            let path = f.path.strip_prefix(&prefix).unwrap_or(&f.path);
            (path, f.size, f.md5)
        }));
        let total = info
            .files
            .iter()
            .fold(0u64, |a, f| a.saturating_add(f.size));
        if let Some(Kind::Folder { listed, .. }) = self.entries.get_mut(key) {
            *listed = Some((digest, info.files.len() as u32, total));
        }
        Hashed::Listed
    }
}
