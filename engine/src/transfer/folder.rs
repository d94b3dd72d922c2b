//! Turning what the driver found ([`SourceInfo`]) into a [`Manifest`], and
//! deciding what a changed manifest means for a transfer under way.
//!
//! Invariants: every manifest built here passes [`Manifest::check`]; every
//! path in it is a [`RelPath`] (each component as strict as a shared file
//! name), so a receiver can join it under its downloads folder without
//! leaving it. A source that cannot be described that way is refused with a
//! reason for the user, never sent.

use crate::api::SourceInfo;
use crate::bounded::List;
use crate::limits::MAX_SHARED_FILES;
use crate::wire::FileName;
use crate::wire::transfer::{Manifest, ManifestEntry, RelPath};

/// The manifest of a source, or why it cannot be sent.
pub fn manifest_from(info: &SourceInfo) -> Result<Manifest, String> {
    let name =
        FileName::new(&info.name).map_err(|e| format!("cannot send {:?}: {e}", info.name))?;
    if !info.folder && info.files.len() != 1 {
        return Err(format!(
            "{name} is a file but {} were described",
            info.files.len()
        ));
    }
    if info.files.len() > MAX_SHARED_FILES {
        return Err(format!(
            "folder {name} has {} files, over the limit of {MAX_SHARED_FILES}",
            info.files.len()
        ));
    }
    let prefix = format!("{name}/");
    let mut entries = Vec::with_capacity(info.files.len());
    for f in &info.files {
        let path = RelPath::new(&f.path).map_err(|e| format!("cannot send {:?}: {e}", f.path))?;
        if info.folder && !path.as_str().starts_with(&prefix) {
            return Err(format!("{:?} is not inside folder {name}", f.path));
        }
        if !info.folder && path.as_str() != name.as_str() {
            return Err(format!("{:?} is not the file {name}", f.path));
        }
        entries.push(ManifestEntry {
            path,
            size: f.size,
            md5: f.md5,
        });
    }
    let manifest = Manifest {
        name,
        folder: info.folder,
        entries: List::new(entries).map_err(|e| e.to_string())?,
    };
    manifest.check()?;
    Ok(manifest)
}

/// What a receiver must do when the sender describes its source again
/// (after a reconnect or restart) and `next_file` files are already done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing changed that matters: carry on.
    Same,
    /// The file under way changed: start it over.
    Current,
    /// Files already finished changed, or the list did: start the whole
    /// transfer over (finished files stay where they are; they are the
    /// user's now).
    All,
    /// It is not the same transfer at all (other name or kind).
    Other,
}

/// Compares the manifest a transfer had with the one the sender sent now.
pub fn compare(old: &Manifest, new: &Manifest, next_file: usize) -> Change {
    if old.name != new.name || old.folder != new.folder {
        return Change::Other;
    }
    let done = next_file.min(old.entries.len());
    if new.entries.len() < done || old.entries[..done] != new.entries[..done] {
        return Change::All;
    }
    if old.entries.len() != new.entries.len() {
        // A file added or removed after the ones done: the file under way
        // may have moved to another index; start it (not the done ones) over.
        return Change::Current;
    }
    match (old.entries.get(done), new.entries.get(done)) {
        (Some(a), Some(b)) if a != b => Change::Current,
        _ => Change::Same,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::SourceFile;
    use crate::wire::Md5;

    fn info(name: &str, folder: bool, paths: &[&str]) -> SourceInfo {
        SourceInfo {
            folder,
            name: name.into(),
            files: paths
                .iter()
                .map(|p| SourceFile {
                    path: (*p).into(),
                    size: 3,
                    md5: Md5::of(p.as_bytes()),
                })
                .collect(),
        }
    }

    #[test]
    fn folders_keep_relative_paths() {
        let m = manifest_from(&info("d", true, &["d/a", "d/sub/b"])).unwrap();
        assert_eq!(m.entries.len(), 2);
        assert_eq!(m.total(), 6);
        assert!(manifest_from(&info("d", true, &[])).is_ok(), "empty folder");
        assert!(manifest_from(&info("f.txt", false, &["f.txt"])).is_ok());
    }

    #[test]
    fn traversal_of_every_shape_is_refused() {
        for bad in [
            "d/../x",
            "d/../../etc/passwd",
            "/etc/passwd",
            "d//x",
            "d/./x",
            "d/x/",
            "d\\..\\x",
            "d/a\0b",
            "e/x",
            "d",
            "..",
            "d/..",
        ] {
            assert!(manifest_from(&info("d", true, &[bad])).is_err(), "{bad:?}");
        }
        for bad_name in ["..", ".", "a/b", "", "/", "x\\y"] {
            assert!(
                manifest_from(&info(bad_name, false, &[bad_name])).is_err(),
                "{bad_name:?}"
            );
        }
        assert!(manifest_from(&info("f", false, &["f", "g"])).is_err());
        assert!(manifest_from(&info("f", false, &["g"])).is_err());
    }

    #[test]
    fn changes() {
        let a = manifest_from(&info("d", true, &["d/a", "d/b"])).unwrap();
        let mut b = a.clone();
        assert_eq!(compare(&a, &b, 1), Change::Same);
        let mut e = b.entries.clone().into_vec();
        e[1].size = 9;
        b.entries = List::new(e.clone()).unwrap();
        assert_eq!(compare(&a, &b, 1), Change::Current);
        assert_eq!(compare(&a, &b, 2), Change::All);
        e[0].md5 = Md5::of(b"x");
        b.entries = List::new(e).unwrap();
        assert_eq!(compare(&a, &b, 1), Change::All);
        let other = manifest_from(&info("e", true, &[])).unwrap();
        assert_eq!(compare(&a, &other, 0), Change::Other);
    }
}
