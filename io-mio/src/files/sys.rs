//! The few `*at` system calls the file side needs, over `libc`, each safe to
//! call: names are single path components relative to an open folder, so no
//! path is ever resolved twice and no symbolic link is ever followed.
//!
//! Invariant: every function here takes a `name` that is one component (no
//! `/`, not `.` or `..`, no NUL); callers check it first ([`check_component`]
//! is the last line of defence and refuses anything else).

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What `fstatat` says about one entry, without following a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub kind: Kind,
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 before it).
    pub mtime_ns: u128,
}

/// The type of a file system entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Folder,
    Symlink,
    /// A device, FIFO or socket.
    Other,
}

impl Kind {
    /// How a user would call it.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::File => "a regular file",
            Kind::Folder => "a folder",
            Kind::Symlink => "a symbolic link",
            Kind::Other => "a device, FIFO or socket",
        }
    }
}

fn stat_of(st: &libc::stat) -> Stat {
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => Kind::File,
        libc::S_IFDIR => Kind::Folder,
        libc::S_IFLNK => Kind::Symlink,
        _ => Kind::Other,
    };
    let mtime_ns = if st.st_mtime < 0 {
        0
    } else {
        st.st_mtime as u128 * 1_000_000_000 + st.st_mtime_nsec.max(0) as u128
    };
    Stat {
        kind,
        dev: st.st_dev,
        ino: st.st_ino,
        size: st.st_size.max(0) as u64,
        mtime_ns,
    }
}

/// Refuses anything but a single plain path component.
pub fn check_component(name: &str) -> io::Result<CString> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a plain name"),
        ));
    }
    CString::new(name).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} holds a NUL byte"),
        )
    })
}

fn cstring_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Retries a call interrupted by a signal.
fn retry(mut f: impl FnMut() -> libc::c_int) -> io::Result<libc::c_int> {
    loop {
        match check(f()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// `fstat` of an open handle.
pub fn fstat(file: &impl AsRawFd) -> io::Result<Stat> {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid, writable stat buffer; the fd is open.
    check(unsafe { libc::fstat(file.as_raw_fd(), &mut st) })?;
    Ok(stat_of(&st))
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: a symbolic link is described,
/// never followed.
pub fn stat_at(dir: &impl AsRawFd, name: &str) -> io::Result<Stat> {
    let c = check_component(name)?;
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is NUL-terminated; `st` is a valid buffer; the fd is open.
    check(unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            c.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    Ok(stat_of(&st))
}

fn open_raw(dir: libc::c_int, path: &CString, flags: libc::c_int, mode: u32) -> io::Result<File> {
    let flags = flags | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NOCTTY;
    // SAFETY: `path` is NUL-terminated; the fd returned is owned by us.
    let fd = retry(|| unsafe { libc::openat(dir, path.as_ptr(), flags, mode as libc::c_uint) })?;
    // SAFETY: `fd` was just returned by openat and nothing else owns it.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Opens `name` in `dir` for reading, refusing a symbolic link (`O_NOFOLLOW`)
/// and never blocking on a FIFO (`O_NONBLOCK`, harmless for regular files).
pub fn open_read_at(dir: &impl AsRawFd, name: &str) -> io::Result<File> {
    let c = check_component(name)?;
    open_raw(dir.as_raw_fd(), &c, libc::O_RDONLY | libc::O_NONBLOCK, 0)
}

/// Opens the folder `name` in `dir`, refusing a symbolic link or a non-folder.
pub fn open_dir_at(dir: &impl AsRawFd, name: &str) -> io::Result<File> {
    let c = check_component(name)?;
    open_raw(dir.as_raw_fd(), &c, libc::O_RDONLY | libc::O_DIRECTORY, 0)
}

/// Opens the file at `path` for reading without following a symbolic link
/// in its last component and without blocking on a FIFO.
pub fn open_read_nofollow(path: &Path) -> io::Result<File> {
    let c = cstring_path(path)?;
    open_raw(libc::AT_FDCWD, &c, libc::O_RDONLY | libc::O_NONBLOCK, 0)
}

/// Opens (creating with mode 0644 if needed) `name` in `dir` for reading and
/// writing, refusing a symbolic link and never blocking on a FIFO.
pub fn open_rw_create_at(dir: &impl AsRawFd, name: &str) -> io::Result<File> {
    let c = check_component(name)?;
    open_raw(
        dir.as_raw_fd(),
        &c,
        libc::O_RDWR | libc::O_CREAT | libc::O_NONBLOCK,
        0o644,
    )
}

/// `mkdirat(dir, name, 0755)`; an existing entry is not an error here (the
/// open that follows checks what it is). `true` if this call created it.
pub fn mkdir_at(dir: &impl AsRawFd, name: &str) -> io::Result<bool> {
    let c = check_component(name)?;
    // SAFETY: `c` is NUL-terminated; the fd is open.
    match retry(|| unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o755) }) {
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(false),
        other => other.map(|_| true),
    }
}

/// `unlinkat(dir, name, AT_REMOVEDIR)`: removes the folder `name` only if
/// it is empty (the kernel refuses otherwise, with `ENOTEMPTY`), never a
/// file and never through a link.
pub fn rmdir_at(dir: &impl AsRawFd, name: &str) -> io::Result<()> {
    let c = check_component(name)?;
    // SAFETY: `c` is NUL-terminated; the fd is open.
    retry(|| unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), libc::AT_REMOVEDIR) }).map(drop)
}

/// The names in the open folder `dir` (not `.` and `..`), read through the
/// handle itself: a folder swapped for a link after it was opened is not
/// what gets listed.
pub fn list_dir(dir: &impl AsRawFd) -> io::Result<Vec<std::ffi::OsString>> {
    // A handle of its own, which `closedir` closes.
    // SAFETY: the fd is open; the new fd is owned by the DIR below.
    let fd = retry(|| unsafe { libc::fcntl(dir.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) })?;
    // SAFETY: `fd` is an open folder handle nothing else owns.
    let d = unsafe { libc::fdopendir(fd) };
    if d.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: `fd` is still ours when fdopendir failed.
        unsafe { libc::close(fd) };
        return Err(e);
    }
    // The duplicate shares its position with `dir`: start from the top.
    // SAFETY: `d` is a valid DIR.
    unsafe { libc::rewinddir(d) };
    let mut names = Vec::new();
    let result = loop {
        // SAFETY: errno is thread-local; readdir only sets it on error.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: `d` is a valid DIR, used by this thread only.
        let entry = unsafe { libc::readdir(d) };
        if entry.is_null() {
            let e = io::Error::last_os_error();
            break match e.raw_os_error() {
                Some(0) | None => Ok(()),
                Some(_) => Err(e),
            };
        }
        // SAFETY: `d_name` is NUL-terminated and lives until the next readdir.
        let name = unsafe { std::ffi::CStr::from_ptr((*entry).d_name.as_ptr()) }.to_bytes();
        if name != b"." && name != b".." {
            names.push(std::ffi::OsStr::from_bytes(name).to_owned());
        }
    };
    // SAFETY: `d` is valid and closed once (closing `fd` with it).
    unsafe { libc::closedir(d) };
    result.map(|()| names)
}

/// `unlinkat(dir, name, 0)`: removes that name only (never a folder; a
/// symbolic link itself, not what it points to).
pub fn unlink_at(dir: &impl AsRawFd, name: &str) -> io::Result<()> {
    let c = check_component(name)?;
    // SAFETY: `c` is NUL-terminated; the fd is open.
    retry(|| unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), 0) }).map(drop)
}

/// Renames `from` to `to` inside `dir`, failing with `AlreadyExists` if `to`
/// exists (whatever it is): `renameat2(RENAME_NOREPLACE)`, or where the file
/// system lacks it, `linkat` then `unlinkat` (also atomic about `to`).
pub fn rename_noreplace_at(dir: &impl AsRawFd, from: &str, to: &str) -> io::Result<()> {
    let f = check_component(from)?;
    let t = check_component(to)?;
    let fd = dir.as_raw_fd();
    // SAFETY: both names are NUL-terminated; the fd is open. The raw syscall
    // is used because older C libraries lack a `renameat2` wrapper.
    let renamed = retry(|| unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            fd,
            f.as_ptr(),
            fd,
            t.as_ptr(),
            libc::RENAME_NOREPLACE,
        ) as libc::c_int
    });
    match renamed {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
            // SAFETY: as above.
            retry(|| unsafe { libc::linkat(fd, f.as_ptr(), fd, t.as_ptr(), 0) })?;
            unlink_at(dir, from)
        }
        Err(e) => Err(e),
    }
}

/// Starts writing `file`'s dirty pages out without waiting for them
/// (`sync_file_range(SYNC_FILE_RANGE_WRITE)`); a hint, so failure is ignored.
pub fn start_writeback(file: &File) {
    // SAFETY: the fd is open; offsets 0, 0 mean the whole file.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

/// Makes the entries of a folder durable (after a rename into it).
pub fn sync_dir(dir: &File) -> io::Result<()> {
    dir.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_plain() {
        for bad in ["", ".", "..", "a/b", "/etc", "a\0b"] {
            assert!(check_component(bad).is_err(), "{bad:?}");
        }
        assert!(check_component("..x").is_ok());
    }

    #[test]
    fn rename_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), b"new").unwrap();
        std::fs::write(dir.path().join("b"), b"old").unwrap();
        let d = File::open(dir.path()).unwrap();
        let e = rename_noreplace_at(&d, "a", "b").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(dir.path().join("b")).unwrap(), b"old");
        rename_noreplace_at(&d, "a", "c").unwrap();
        assert_eq!(std::fs::read(dir.path().join("c")).unwrap(), b"new");
        assert!(!dir.path().join("a").exists());
    }
}
