//! Partial downloads: `DOWNLOADS/path.part`, the driver's side of
//! [`confab_engine::Output::OpenPart`] and [`confab_engine::Output::DiscardPart`].
//!
//! Invariants:
//! - Nothing is created, opened or removed outside the downloads folder: the
//!   path is a checked [`RelPath`], and it is walked component by component
//!   from the downloads folder's open handle, each folder created with
//!   `mkdirat` and opened with `O_NOFOLLOW | O_DIRECTORY`, so a symbolic
//!   link (or a file) in the way is refused, never followed.
//! - The `.part` itself is opened with `O_NOFOLLOW` and must be a regular
//!   file; a `Part` keeps its parent folder's handle, so finishing or
//!   discarding never resolves the path again.
//! - Discarding removes only the name `path.part`, and then, deepest
//!   first, those of its folders that this process created for a `.part`
//!   ([`open_part`] says which) and that are empty now ([`remove_created`],
//!   with `rmdir`, which the kernel refuses for a folder that holds
//!   anything): a folder transfer that fails leaves no empty folders behind,
//!   and never removes a folder the user had, or one holding a file. A
//!   folder created before a restart is not known, so it stays.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use confab_engine::wire::transfer::RelPath;

use super::sys::{self, Kind};

/// Bytes written to a `.part` between two writeback hints.
pub const WRITEBACK_EVERY: u64 = 8 * 1024 * 1024;

/// The downloads folder: its path (for messages) and its open handle.
#[derive(Debug)]
pub struct Downloads {
    pub path: PathBuf,
    pub dir: File,
}

impl Downloads {
    /// Opens the downloads folder at `path` (which must be a folder; the
    /// user chose it, so a link to a folder is fine here, and only here).
    pub fn open(path: &Path) -> io::Result<Self> {
        let path = std::path::absolute(path)?;
        let dir = File::open(&path)?;
        if sys::fstat(&dir)?.kind != Kind::Folder {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a folder", path.display()),
            ));
        }
        Ok(Self { path, dir })
    }
}

/// An open `.part` file.
#[derive(Debug)]
pub struct Part {
    /// Shared with the chunk writer's jobs in flight.
    pub file: Arc<File>,
    /// The folder it is in.
    pub dir: File,
    /// The final file name (the `.part` is this plus `.part`).
    pub name: String,
    pub rel: RelPath,
    /// Bytes written since writeback was last started (see [`Part::wrote`]).
    pub unflushed: u64,
}

impl Part {
    /// The `.part`'s own name in its folder.
    pub fn part_name(&self) -> String {
        format!("{}.part", self.name)
    }

    /// Notes `n` bytes written; every [`WRITEBACK_EVERY`] bytes, asks the
    /// kernel to start writing the file out (`sync_file_range`, which does
    /// not wait), so the `fsync` that finishes it has little left to do and
    /// never stalls the event loop for long.
    pub fn wrote(&mut self, n: u64) {
        if self.writeback_due(n) {
            sys::start_writeback(&self.file);
        }
    }

    /// Notes `n` bytes written (or about to be); whether writeback should be
    /// started after them.
    pub fn writeback_due(&mut self, n: u64) -> bool {
        self.unflushed += n;
        if self.unflushed >= WRITEBACK_EVERY {
            self.unflushed = 0;
            return true;
        }
        false
    }
}

/// Splits `rel` into its folders and its file name.
fn split(rel: &RelPath) -> (Vec<&str>, &str) {
    let mut parts: Vec<&str> = rel.components().collect();
    let name = parts.pop().unwrap_or_default();
    (parts, name)
}

/// The handle of the folder `rel` lives in, creating folders if `create`
/// (adding the path of each one it created to `created`). `Ok(None)` if a
/// folder is missing and not created.
fn parent_of(
    downloads: &Downloads,
    rel: &RelPath,
    create: bool,
    created: &mut Vec<String>,
) -> io::Result<Option<File>> {
    let (folders, _) = split(rel);
    let mut dir = downloads.dir.try_clone()?;
    for (i, folder) in folders.iter().enumerate() {
        if create && sys::mkdir_at(&dir, folder)? {
            created.push(folders[..=i].join("/"));
        }
        dir = match sys::open_dir_at(&dir, folder) {
            Ok(d) => d,
            Err(e) if !create && e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
            // `O_NOFOLLOW | O_DIRECTORY` says ENOTDIR for a link: say which.
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
                let link = sys::stat_at(&dir, folder).is_ok_and(|st| st.kind == Kind::Symlink);
                return Err(if link {
                    io::Error::from_raw_os_error(libc::ELOOP)
                } else {
                    e
                });
            }
            Err(e) => return Err(e),
        };
    }
    Ok(Some(dir))
}

fn shown(downloads: &Downloads, rel: &RelPath) -> String {
    format!("{}.part", downloads.path.join(rel.as_str()).display())
}

fn explain(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ELOOP) => "a symbolic link is in the way".into(),
        Some(libc::ENOTDIR) => "a file is in the way of a folder".into(),
        Some(libc::ENOSPC) => "the disk is full".into(),
        _ => e.to_string(),
    }
}

/// Opens (creating) the `.part` of `rel`, emptied first if `fresh`, and
/// returns it with the length it already has. Adds to `created` the folders
/// (paths relative to the downloads folder) it had to create.
pub fn open_part(
    downloads: &Downloads,
    rel: &RelPath,
    fresh: bool,
    created: &mut Vec<String>,
) -> Result<(Part, u64), String> {
    let fail = |what: &str, e: &io::Error| {
        format!("cannot {what} {}: {}", shown(downloads, rel), explain(e))
    };
    let dir = parent_of(downloads, rel, true, created)
        .map_err(|e| fail("create the folders of", &e))?
        .ok_or_else(|| format!("cannot create the folders of {}", shown(downloads, rel)))?;
    let (_, name) = split(rel);
    let part_name = format!("{name}.part");
    let file = sys::open_rw_create_at(&dir, &part_name).map_err(|e| fail("open", &e))?;
    let st = sys::fstat(&file).map_err(|e| fail("look at", &e))?;
    if st.kind != Kind::File {
        return Err(format!(
            "cannot write {}: it is {}, not a regular file",
            shown(downloads, rel),
            st.kind.describe()
        ));
    }
    if fresh && st.size > 0 {
        file.set_len(0).map_err(|e| fail("empty", &e))?;
    }
    let len = if fresh { 0 } else { st.size };
    Ok((
        Part {
            file: Arc::new(file),
            dir,
            name: name.to_owned(),
            rel: rel.clone(),
            unflushed: 0,
        },
        len,
    ))
}

/// Removes `DOWNLOADS/rel.part` if it is there; touches nothing else.
pub fn discard_part(downloads: &Downloads, rel: &RelPath) -> Result<(), String> {
    let fail = |e: &io::Error| format!("cannot remove {}: {}", shown(downloads, rel), explain(e));
    let Some(dir) = parent_of(downloads, rel, false, &mut Vec::new()).map_err(|e| fail(&e))? else {
        return Ok(());
    };
    let (_, name) = split(rel);
    match sys::unlink_at(&dir, &format!("{name}.part")) {
        Err(e) if e.raw_os_error() != Some(libc::ENOENT) => Err(fail(&e)),
        _ => Ok(()),
    }
}

/// Removes, deepest first, the folders of `rel` that are in `created` and
/// empty, forgetting each one removed (or already gone); stops at the first
/// that holds something, as its parents then do too.
pub fn remove_created(
    downloads: &Downloads,
    rel: &RelPath,
    created: &mut std::collections::BTreeSet<String>,
) {
    let (folders, _) = split(rel);
    for depth in (1..=folders.len()).rev() {
        let path = folders[..depth].join("/");
        if !created.contains(&path) {
            return;
        }
        let Ok(folder) = RelPath::new(&path) else {
            return;
        };
        let parent = match parent_of(downloads, &folder, false, &mut Vec::new()) {
            Ok(Some(p)) => p,
            _ => return,
        };
        match sys::rmdir_at(&parent, folders[depth - 1]) {
            Ok(()) => {
                created.remove(&path);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                created.remove(&path);
            }
            Err(_) => return,
        }
    }
}
