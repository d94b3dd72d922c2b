//! What resumes: the downloads a restart picks up again (from the records
//! the engine is about to be given), and a `/get` whose `.part` already
//! holds bytes, each said in one line with where it resumes from; a
//! download paused (or cancelled keeping its `.part`) before the restart
//! is named too, with how to go on, since it does not resume by itself. The
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
                kept,
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
            if let Some(k) = kept {
                let how = match origin {
                    Origin::Fetch(_) => format!("/resume {} continues", t.id),
                    Origin::Offer => format!("{} can /send it again", t.peer),
                };
                let (what, held) = (
                    if k.paused { "paused" } else { "cancelled" },
                    HumanBytes(k.bytes),
                );
                return Some(format!(
                    "{}: the download of {} from {} is {what}, its .part holding {held}: {how}",
                    t.id,
                    Shown(name),
                    t.peer
                ));
            }
            let mut line = format!(
                "{}: the download of {} from {} resumes",
                t.id,
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
        use confab_engine::transfer::{HashCheckpoint, KeptRecord, TransferRecord};
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
        let record = |complete, kept: Option<KeptRecord>| {
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
                    kept,
                },
            })
        };
        assert_eq!(
            after_restart(&[record(false, None), record(true, None)]),
            [
                "t3: the download of film.mkv from bob resumes (at least 1.00 MiB of 4.00 MiB already here)"
            ]
        );
        let paused = KeptRecord {
            bytes: 2 << 20,
            paused: true,
        };
        assert_eq!(
            after_restart(&[record(false, Some(paused))]),
            [
                "t3: the download of film.mkv from bob is paused, its .part holding 2.00 MiB: bob can /send it again"
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
