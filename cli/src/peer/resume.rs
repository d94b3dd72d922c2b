//! What resumes: the downloads a restart picks up again (from the records
//! the engine is about to be given), and a `/get` whose `.part` already
//! holds bytes, each said in one line with where it resumes from. The
//! engine resumes them without a word; a person should not have to guess.
//! Reads records and one file's size, nothing else.

use std::path::Path;

use confab_engine::Record;
use confab_engine::transfer::{Origin, SavedSide};
use indicatif::HumanBytes;

use crate::safe::Shown;

/// One line per unfinished download in `records`.
pub fn after_restart(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Transfer(t) => Some(t),
            _ => None,
        })
        .filter_map(|t| {
            let SavedSide::Receive {
                origin,
                manifest,
                checkpoint,
                complete: false,
                ..
            } = &t.side
            else {
                return None;
            };
            let name = match (manifest, origin) {
                (Some(m), _) => m.name.as_str(),
                (None, Origin::Fetch(f)) => f.as_str(),
                (None, Origin::Offer) => "a file",
            };
            let mut line = format!(
                "t{}: the download of {} from {} resumes",
                t.id.0,
                Shown(name),
                t.peer
            );
            match (checkpoint, manifest) {
                (Some(c), Some(m)) if c.offset > 0 => line.push_str(&format!(
                    " (at least {} of {} already here)",
                    HumanBytes(c.offset),
                    HumanBytes(m.total())
                )),
                _ => line.push_str(" when the sender is back"),
            }
            Some(line)
        })
        .collect()
}

/// For `/get` of `file` into `downloads`: what its `.part` already holds.
pub fn before_get(downloads: &Path, file: &str) -> Option<String> {
    let held = std::fs::metadata(downloads.join(format!("{file}.part")))
        .ok()?
        .len();
    (held > 0).then(|| {
        format!(
            "{}.part already holds {}: the download resumes from there if the \
             file has not changed",
            Shown(file),
            HumanBytes(held)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_download_in_the_records_is_named() {
        use confab_engine::TransferId;
        use confab_engine::bounded::List;
        use confab_engine::transfer::{HashCheckpoint, TransferRecord};
        use confab_engine::wire::transfer::{Manifest, ManifestEntry, RelPath, TransferKey};
        use confab_engine::wire::{FileName, Md5, Name};

        let md5 = Md5::of(b"");
        let manifest = Manifest {
            name: FileName::new("film.mkv").unwrap(),
            folder: false,
            entries: List::new(vec![ManifestEntry {
                path: RelPath::new("film.mkv").unwrap(),
                size: 4 << 20,
                md5,
            }])
            .unwrap(),
        };
        let record = |complete| {
            Record::Transfer(TransferRecord {
                id: TransferId(3),
                key: TransferKey(9),
                peer: Name::new("bob").unwrap(),
                side: SavedSide::Receive {
                    origin: Origin::Offer,
                    manifest: Some(manifest.clone()),
                    next_file: 0,
                    first_path: None,
                    complete,
                    checkpoint: Some(HashCheckpoint {
                        file: 0,
                        offset: 1 << 20,
                        size: 4 << 20,
                        md5,
                        state: vec![],
                    }),
                    finishing: false,
                    local_root: None,
                },
            })
        };
        assert_eq!(
            after_restart(&[record(false), record(true)]),
            [
                "t3: the download of film.mkv from bob resumes (at least 1.00 MiB of 4.00 MiB already here)"
            ]
        );
    }

    #[test]
    fn a_part_file_is_mentioned() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(before_get(dir.path(), "a.iso"), None);
        std::fs::write(dir.path().join("a.iso.part"), vec![0; 2048]).unwrap();
        let said = before_get(dir.path(), "a.iso").unwrap();
        assert!(
            said.starts_with("a.iso.part already holds 2.00 KiB"),
            "{said}"
        );
        assert!(after_restart(&[]).is_empty());
    }
}
