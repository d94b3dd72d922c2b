//! Finishing a download: the driver's side of
//! [`confab_engine::Output::FinishFile`].
//!
//! The verified `.part` is synced (`fsync`), then renamed to its final name
//! **never over an existing entry**: each candidate name (`name.ext`, then
//! `name (1).ext`, `name (2).ext`, ...) is tried with a no-clobber rename
//! (`renameat2(RENAME_NOREPLACE)`, or `linkat`+`unlinkat`), so there is no
//! window between "is it free?" and "take it" for anything to appear in. A
//! name taken by anything at all (file, folder, link, even a dangling one)
//! is skipped. Then the folder is synced so the new name survives power loss.

use std::io;

use confab_engine::wire::names::numbered;

use super::part::{Downloads, Part};
use super::sys;

/// How many names are tried before giving up.
const MAX_CANDIDATES: u32 = 10_000;

/// `name`, then `stem (n).ext` for n = 1, 2, ... (see
/// [`confab_engine::wire::names::numbered`]).
pub fn candidates(name: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(name.to_owned()).chain((1..MAX_CANDIDATES).map(move |n| numbered(name, n)))
}

/// Syncs and renames `part` to the first free name; returns the final path,
/// as the user should see it.
pub fn finish(downloads: &Downloads, part: Part) -> Result<String, String> {
    let part_name = part.part_name();
    let dir_path = match part.rel.as_str().rsplit_once('/') {
        Some((folders, _)) => downloads.path.join(folders),
        None => downloads.path.clone(),
    };
    let shown_part = dir_path.join(&part_name);
    part.file
        .sync_all()
        .map_err(|e| format!("cannot save {}: {e}", shown_part.display()))?;
    drop(part.file);
    for candidate in candidates(&part.name) {
        // A name too long for the file system ends the search.
        if candidate.len() > 255 {
            break;
        }
        match sys::rename_noreplace_at(&part.dir, &part_name, &candidate) {
            Ok(()) => {
                if let Err(e) = sys::sync_dir(&part.dir) {
                    tracing::warn!(dir = %dir_path.display(), "cannot sync the folder: {e}");
                }
                return Ok(dir_path.join(&candidate).display().to_string());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                return Err(format!("{} is gone", shown_part.display()));
            }
            Err(e) => {
                return Err(format!(
                    "cannot rename {} to {candidate}: {e}",
                    shown_part.display()
                ));
            }
        }
    }
    Err(format!(
        "no free name for {} in {}; make room and try again",
        part.name,
        dir_path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_names() {
        let c: Vec<String> = candidates("x.txt").take(3).collect();
        assert_eq!(c, ["x.txt", "x (1).txt", "x (2).txt"]);
        let c: Vec<String> = candidates("noext").take(2).collect();
        assert_eq!(c, ["noext", "noext (1)"]);
        let c: Vec<String> = candidates(".profile").take(2).collect();
        assert_eq!(c, [".profile", ".profile (1)"]);
        let c: Vec<String> = candidates("a.tar.gz").take(2).collect();
        assert_eq!(c, ["a.tar.gz", "a.tar (1).gz"]);
    }
}
