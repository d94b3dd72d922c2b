//! Resolving what a send transfer reads ([`Source`]) into open, described
//! files: the driver's side of [`confab_engine::Output::OpenSource`].
//!
//! - [`Source::Shared`]: a regular file or a folder directly inside the share
//!   folder and nothing else. The name must be one plain component; it is
//!   looked at with `fstatat(AT_SYMLINK_NOFOLLOW)` relative to the share
//!   folder's open handle (so a device is refused before it is ever opened).
//!   A file is then opened with `openat(O_NOFOLLOW | O_NONBLOCK)` relative to
//!   that same handle, and the handle's own `fstat` must show the same
//!   regular file. A folder is opened with `openat(O_NOFOLLOW |
//!   O_DIRECTORY)` from the same handle and walked like a local folder
//!   (below). A symbolic link (even one pointing inside the folder), a FIFO,
//!   a device, or an entry swapped between the two steps is refused; no path
//!   outside the folder is ever opened.
//! - [`Source::Local`]: what the local user typed after `/send`, a file or a
//!   folder (following a link the user typed, as `cp` would). A folder is
//!   walked without following any link inside it (each sub-folder opened with
//!   `O_NOFOLLOW | O_DIRECTORY` from its parent's handle and listed through
//!   that handle, every entry looked at with `fstatat(AT_SYMLINK_NOFOLLOW)`
//!   from it), skipping links, devices, FIFOs and sockets; each file is
//!   listed as `DIR/sub/name`, every path checked against the [`RelPath`]
//!   rules, sorted.
//!
//! Every file is identified by (device, inode) when described; whenever it is
//! opened again later ([`reopen`]) the handle must show the same identity, so
//! a file swapped for a link or another file is refused, not read.
//! MD5s come from the cache when (path, size, mtime) agree, else are hashed
//! from the handle, and a file that changes while being hashed is refused.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use confab_engine::limits::MAX_SHARED_FILES;
use confab_engine::wire::transfer::RelPath;
use confab_engine::wire::{FileName, Md5};
use confab_engine::{Source, SourceFile, SourceInfo};

use super::hash::{CacheEntry, Md5Cache, md5_of_handle};
use super::sys::{self, Kind, Stat};

/// The share folder: its path (for messages and cache keys) and an open
/// handle every shared name is resolved against.
#[derive(Debug)]
pub struct ShareFolder {
    pub path: PathBuf,
    pub dir: File,
}

impl ShareFolder {
    /// Opens the share folder at `path` (which must be a folder).
    pub fn open(path: &Path) -> io::Result<Self> {
        let path = std::path::absolute(path)?;
        let dir = File::open(&path)?;
        if !dir.metadata()?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a folder", path.display()),
            ));
        }
        Ok(Self { path, dir })
    }
}

/// One file of an opened source, as it was when described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendEntry {
    /// Where it is (absolute).
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
}

/// A source resolved, described and hashed.
#[derive(Debug)]
pub struct OpenedSource {
    pub info: SourceInfo,
    pub entries: Vec<SendEntry>,
    /// The first file, already open (the only one of a single file).
    pub first: Option<File>,
    /// How many files had to be hashed (the rest came from the cache).
    pub hashed_files: u64,
}

/// What resolving needs besides the source itself.
pub struct Context<'a> {
    pub share: Option<&'a ShareFolder>,
    pub cache: Option<Md5Cache<'a>>,
    pub cancel: &'a AtomicBool,
}

/// A file found, not yet hashed.
struct Found {
    rel: String,
    path: PathBuf,
    stat: Stat,
    open: Option<File>,
}

/// Resolves and describes `source`; `progress(hashed, total)` is called
/// while hashing. The error is a sentence for the user.
pub fn open_source(
    cx: &Context<'_>,
    source: &Source,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<OpenedSource, String> {
    let (name, folder, found) = match source {
        Source::Shared(name) => {
            let share = cx.share.ok_or_else(|| {
                format!("no shared file named {name}: this peer shares no folder")
            })?;
            let (folder, found) = resolve_shared(share, name.as_str())?;
            (name.as_str().to_owned(), folder, found)
        }
        Source::Local(typed) => resolve_local(typed)?,
    };
    describe(cx, name, folder, found, progress)
}

/// Opens `entry` again for reading, refusing anything but the very file it was.
pub fn reopen(entry: &SendEntry) -> Result<File, String> {
    let shown = entry.path.display();
    let file = sys::open_read_nofollow(&entry.path)
        .map_err(|e| format!("cannot open {shown} again: {}", plain(&e)))?;
    let st = sys::fstat(&file).map_err(|e| format!("cannot look at {shown}: {e}"))?;
    if st.kind != Kind::File || st.dev != entry.dev || st.ino != entry.ino {
        return Err(format!(
            "{shown} was replaced since it was offered; send it again"
        ));
    }
    Ok(file)
}

fn plain(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ELOOP) => "it is a symbolic link".into(),
        Some(libc::ENOENT) => "it is gone".into(),
        _ => e.to_string(),
    }
}

/// The shared file or folder `name`: whether it is a folder, and its files.
fn resolve_shared(share: &ShareFolder, name: &str) -> Result<(bool, Vec<Found>), String> {
    if FileName::new(name).is_err() || sys::check_component(name).is_err() {
        return Err(format!(
            "no shared file named {name:?}: not a plain file name"
        ));
    }
    let missing = || format!("no shared file named {name}");
    let st = sys::stat_at(&share.dir, name).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT | libc::ENOTDIR) => missing(),
        _ => format!("cannot look at shared {name}: {e}"),
    })?;
    match st.kind {
        Kind::File => {}
        Kind::Folder => return Ok((true, walk_shared(share, name)?)),
        other => {
            return Err(format!(
                "shared {name} is {}, not a regular file or folder",
                other.describe()
            ));
        }
    }
    let file = sys::open_read_at(&share.dir, name).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => format!("shared {name} is a symbolic link, not a regular file"),
        Some(libc::ENOENT) => missing(),
        _ => format!("cannot open shared {name}: {e}"),
    })?;
    let now = sys::fstat(&file).map_err(|e| format!("cannot look at shared {name}: {e}"))?;
    if now.kind != Kind::File || now.dev != st.dev || now.ino != st.ino {
        return Err(format!(
            "shared {name} changed while it was being opened; ask again"
        ));
    }
    let found = Found {
        rel: name.to_owned(),
        path: share.path.join(name),
        stat: now,
        open: Some(file),
    };
    Ok((false, vec![found]))
}

/// The files of the shared folder `name` (`name/sub/file`, sorted), found
/// without following any link: nothing outside `SHARE/name` is listed.
fn walk_shared(share: &ShareFolder, name: &str) -> Result<Vec<Found>, String> {
    let dir = sys::open_dir_at(&share.dir, name).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) => format!("no shared file named {name}"),
        Some(libc::ELOOP | libc::ENOTDIR) => {
            format!("shared {name} is no longer a folder; ask again")
        }
        _ => format!("cannot open shared folder {name}: {e}"),
    })?;
    let mut found = Vec::new();
    walk(&dir, &share.path.join(name), name, &mut found)?;
    found.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(found)
}

/// One file of a shared folder as it is now, not read: its path relative
/// to the share folder (`name/sub/file`), size and modification time (ns).
pub(crate) type FolderFile = (String, u64, u128);

/// The files of the shared folder `name`, sorted by path, without reading
/// any (what the share watch compares between scans); the same walk a
/// fetch of `name` makes. The error is a sentence for the user.
pub(crate) fn shared_folder_files(
    share: &ShareFolder,
    name: &str,
) -> Result<Vec<FolderFile>, String> {
    Ok(walk_shared(share, name)?
        .into_iter()
        .map(|f| (f.rel, f.stat.size, f.stat.mtime_ns))
        .collect())
}

/// The name a typed path goes by: its last component, or for `.`, `..` and
/// the like, the last component of where it leads.
fn name_of(path: &Path, typed: &str) -> Result<String, String> {
    let last = path
        .file_name()
        .map(ToOwned::to_owned)
        .or_else(|| {
            std::fs::canonicalize(path)
                .ok()
                .and_then(|p| p.file_name().map(ToOwned::to_owned))
        })
        .ok_or_else(|| format!("cannot tell what to call {typed}; name a file or folder"))?;
    let last = last
        .to_str()
        .ok_or_else(|| format!("the name of {typed} is not valid UTF-8; rename it first"))?;
    FileName::new(last).map_err(|e| format!("cannot send {typed}: {e}"))?;
    Ok(last.to_owned())
}

/// `~` and `~/rest` as a shell would read them (the prompt has no shell).
fn expand_home(typed: &str, home: Option<std::ffi::OsString>) -> PathBuf {
    let home = home.filter(|h| !h.is_empty());
    match (typed.strip_prefix('~'), home) {
        (Some(""), Some(home)) => PathBuf::from(home),
        (Some(rest), Some(home)) if rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(typed),
    }
}

fn resolve_local(typed: &str) -> Result<(String, bool, Vec<Found>), String> {
    if typed.is_empty() {
        return Err("name a file or folder to send".into());
    }
    let expanded = expand_home(typed, std::env::var_os("HOME"));
    let path = std::path::absolute(&expanded).map_err(|e| format!("cannot send {typed}: {e}"))?;
    let name = name_of(&expanded, typed)?;
    // Follows a link the user typed; never blocks on a FIFO.
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&path)
    }
    .map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => format!("no file or folder at {typed}"),
        _ => format!("cannot open {typed}: {e}"),
    })?;
    let st = sys::fstat(&file).map_err(|e| format!("cannot look at {typed}: {e}"))?;
    match st.kind {
        Kind::File => Ok((
            name.clone(),
            false,
            vec![Found {
                rel: name,
                path,
                stat: st,
                open: Some(file),
            }],
        )),
        Kind::Folder => {
            let mut found = Vec::new();
            walk(&file, &path, &name, &mut found)?;
            found.sort_by(|a, b| a.rel.cmp(&b.rel));
            Ok((name, true, found))
        }
        other => Err(format!(
            "{typed} is {}, not a regular file or folder",
            other.describe()
        )),
    }
}

/// Lists the regular files under `dir` (open handle of `path`), as
/// `rel/name`, without following links: entries are listed and looked at
/// through the handle, `path` only names them.
fn walk(dir: &File, path: &Path, rel: &str, out: &mut Vec<Found>) -> Result<(), String> {
    RelPath::new(rel).map_err(|e| format!("cannot send folder {rel}: {e}"))?;
    let names = sys::list_dir(dir).map_err(|e| format!("cannot list {}: {e}", path.display()))?;
    for os_name in names {
        let entry_path = path.join(&os_name);
        let Some(name) = os_name.to_str() else {
            return Err(format!(
                "{} has a name that is not valid UTF-8; rename it or send another folder",
                entry_path.display()
            ));
        };
        let child_rel = format!("{rel}/{name}");
        // Looked at through the parent's handle, never following a link.
        let st = match sys::stat_at(dir, name) {
            Ok(st) => st,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(format!("cannot look at {}: {e}", entry_path.display())),
        };
        match st.kind {
            Kind::Symlink | Kind::Other => {
                tracing::debug!(path = %entry_path.display(), kind = st.kind.describe(), "not sending");
            }
            Kind::Folder => {
                // Refuses a link swapped in since the look above.
                let sub = sys::open_dir_at(dir, name).map_err(|e| {
                    format!("cannot open folder {}: {}", entry_path.display(), plain(&e))
                })?;
                walk(&sub, &path.join(name), &child_rel, out)?;
            }
            Kind::File => {
                RelPath::new(&child_rel)
                    .map_err(|e| format!("cannot send {child_rel:?}: {e}; rename it"))?;
                if out.len() >= MAX_SHARED_FILES {
                    return Err(format!(
                        "the folder holds more than {MAX_SHARED_FILES} files; send a smaller one"
                    ));
                }
                out.push(Found {
                    rel: child_rel,
                    path: path.join(name),
                    stat: st,
                    open: None,
                });
            }
        }
    }
    Ok(())
}

/// Digests from the cache or hashed, then the description.
fn describe(
    cx: &Context<'_>,
    name: String,
    folder: bool,
    found: Vec<Found>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<OpenedSource, String> {
    let key = |f: &Found| f.path.to_string_lossy().into_owned();
    let cached: Vec<Option<Md5>> = found
        .iter()
        .map(|f| {
            cx.cache
                .and_then(|c| c.get(&key(f), f.stat.size, f.stat.mtime_ns))
        })
        .collect();
    let total: u64 = found
        .iter()
        .zip(&cached)
        .filter(|(_, c)| c.is_none())
        .map(|(f, _)| f.stat.size)
        .sum();
    let mut hashed = 0u64;
    let mut hashed_files = 0u64;
    let mut fresh: Vec<CacheEntry> = Vec::new();
    let mut files = Vec::with_capacity(found.len());
    let mut entries = Vec::with_capacity(found.len());
    let mut first = None;
    if total > 0 {
        progress(0, total);
    }
    for (i, (mut f, cached)) in found.into_iter().zip(cached).enumerate() {
        let entry = SendEntry {
            path: f.path.clone(),
            dev: f.stat.dev,
            ino: f.stat.ino,
        };
        let md5 = match cached {
            Some(md5) => md5,
            None => {
                let file = match f.open.take() {
                    Some(file) => file,
                    None => reopen(&entry)?,
                };
                let md5 = md5_of_handle(&file, cx.cancel, |n| {
                    hashed += n;
                    progress(hashed, total);
                })
                .map_err(|e| format!("cannot read {}: {e}", f.path.display()))?;
                let after = sys::fstat(&file)
                    .map_err(|e| format!("cannot look at {}: {e}", f.path.display()))?;
                if after.size != f.stat.size || after.mtime_ns != f.stat.mtime_ns {
                    return Err(format!(
                        "{} changed while it was being hashed; try again once it is complete",
                        f.path.display()
                    ));
                }
                hashed_files += 1;
                fresh.push((key(&f), f.stat.size, f.stat.mtime_ns, md5));
                f.open = Some(file);
                md5
            }
        };
        if i == 0 {
            first = f.open.take();
        }
        files.push(SourceFile {
            path: f.rel,
            size: f.stat.size,
            md5,
        });
        entries.push(entry);
    }
    if let Some(cache) = cx.cache {
        cache.put(&fresh);
    }
    Ok(OpenedSource {
        info: SourceInfo {
            folder,
            files,
            name,
        },
        entries,
        first,
        hashed_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_is_expanded_like_a_shell_would() {
        let home = || Some("/home/me".into());
        assert_eq!(expand_home("~", home()), Path::new("/home/me"));
        assert_eq!(expand_home("~/a/b", home()), Path::new("/home/me/a/b"));
        assert_eq!(expand_home("~bob/a", home()), Path::new("~bob/a"));
        assert_eq!(expand_home("a/~", home()), Path::new("a/~"));
        assert_eq!(expand_home("~/a", None), Path::new("~/a"));
    }
}
