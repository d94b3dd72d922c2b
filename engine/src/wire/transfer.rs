//! Messages between two peers about file transfers, and the validated types
//! they carry ([`RelPath`], [`Manifest`]).
//!
//! Every message names its transfer by a [`TransferKey`], a random 64-bit
//! number chosen by the side that started the transfer (the receiver for a
//! fetch, the sender for an offer). Each peer routes messages by the pair
//! (remote name, key) to its own sub-machine. The [`crate::TransferId`] a
//! person sees is read off the key, so both sides show the same one (see
//! `peer/transfers/numbers.rs`); no id travels on its own.
//!
//! The flow, receiver-driven so that resuming needs no extra machinery:
//!
//! ```text
//! fetch:  R -> Get{name}            S -> Manifest | Cancel
//! offer:  S -> Offer{manifest}      R -> Accept | Cancel (declined / expired)
//! resume: R -> Resume (offer) or Get (fetch) again;  S -> Manifest (fresh: the
//!         receiver compares it with what it had and starts over if it changed)
//! then, per file, in order:
//!         R -> Want{file, offset, round, chunk, window}
//!         S -> Chunk{round, file, offset, data} ...   (at most `window` unacked)
//!         R -> Ack{round, file, upto}                  (only once written)
//! end:    R -> Complete (every file verified and renamed)
//! any:    either side -> Cancel{reason}
//!         either side -> Pause (`/pause`: over for now; the receiver keeps
//!         its `.part`, and a later `Get` resumes from it)
//! ```
//!
//! `round` counts the receiver's `Want`s, so chunks of an earlier round still
//! in flight are recognised and ignored instead of mistaken for new data.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::bounded::{Blob, List, Text};
use crate::limits::{MAX_CHUNK_LEN, MAX_FOLDER_PATH_BYTES, MAX_REL_PATH_LEN, MAX_SHARED_FILES};
use crate::wire::common::Reason;
use crate::wire::md5::{Md5, folder_digest};
use crate::wire::names::{FileName, InvalidName};

/// A transfer's name on the wire; see the module documentation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct TransferKey(pub u64);

impl fmt::Debug for TransferKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "k{:016x}", self.0)
    }
}

impl fmt::Display for TransferKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A relative path inside an offered folder: 1 to [`MAX_REL_PATH_LEN`] bytes
/// of components joined by `/`, each component a valid [`FileName`] (so no
/// `.`, `..`, `\`, NUL or control character), no empty component (so no
/// leading `/`, no `//`, no trailing `/`). A receiver can join it under its
/// downloads folder without ever leaving it. Checked when built and when
/// decoded.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Text<MAX_REL_PATH_LEN>", into = "Text<MAX_REL_PATH_LEN>")]
pub struct RelPath(String);

impl RelPath {
    /// Checks `s` against the rules.
    pub fn new(s: &str) -> Result<Self, InvalidName> {
        if s.is_empty() || s.len() > MAX_REL_PATH_LEN {
            return Err(InvalidName(format!(
                "a relative path has 1 to {MAX_REL_PATH_LEN} bytes, not {}",
                s.len()
            )));
        }
        for part in s.split('/') {
            if part.is_empty() {
                return Err(InvalidName(format!(
                    "a relative path has no empty component (leading, doubled or trailing '/'): {s:?}"
                )));
            }
            FileName::new(part).map_err(|e| InvalidName(format!("in relative path {s:?}: {e}")))?;
        }
        Ok(Self(s.to_owned()))
    }

    /// The path, components joined by `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its components, each a valid file name.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl TryFrom<Text<MAX_REL_PATH_LEN>> for RelPath {
    type Error = InvalidName;
    fn try_from(t: Text<MAX_REL_PATH_LEN>) -> Result<Self, InvalidName> {
        Self::new(t.as_str())
    }
}

impl From<RelPath> for Text<MAX_REL_PATH_LEN> {
    fn from(p: RelPath) -> Self {
        Text::truncate(&p.0)
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// One file of a [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Where it goes, relative to the downloads folder: the file name for a
    /// single file; `FOLDER/sub/name` for a file of an offered folder.
    pub path: RelPath,
    /// Its size in bytes.
    pub size: u64,
    /// Its MD5, as the sender's index has it.
    pub md5: Md5,
}

/// What a transfer moves: one file, or the files of one folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The name the user sees: the file's, or the folder's.
    pub name: FileName,
    /// Whether this is a folder (then every entry's path starts with `name/`).
    pub folder: bool,
    /// The files, in the order they move. A single file has exactly one; a
    /// folder has 0 to [`MAX_SHARED_FILES`].
    pub entries: List<ManifestEntry, MAX_SHARED_FILES>,
}

impl Manifest {
    /// Bytes in all.
    pub fn total(&self) -> u64 {
        self.entries
            .iter()
            .fold(0u64, |acc, e| acc.saturating_add(e.size))
    }

    /// Checks what the types cannot: a single file is exactly one entry named
    /// like the manifest; a folder's entries all lie under `name/`, are
    /// distinct, and their paths total at most [`MAX_FOLDER_PATH_BYTES`]; the
    /// total size fits a u64. A manifest from the wire that fails this is a
    /// protocol violation.
    pub fn check(&self) -> Result<(), String> {
        if !self.folder {
            if self.entries.len() != 1 || self.entries[0].path.as_str() != self.name.as_str() {
                return Err("a single-file manifest has one entry named like it".into());
            }
        } else {
            let prefix = format!("{}/", self.name);
            let mut seen = std::collections::BTreeSet::new();
            let mut bytes = 0usize;
            for e in self.entries.iter() {
                if !e.path.as_str().starts_with(&prefix) {
                    return Err(format!("{:?} is not inside folder {:?}", e.path, self.name));
                }
                if !seen.insert(e.path.as_str()) {
                    return Err(format!("{:?} is listed twice", e.path));
                }
                bytes += e.path.as_str().len();
            }
            if bytes > MAX_FOLDER_PATH_BYTES {
                return Err(format!(
                    "folder paths total {bytes} bytes, over the limit of {MAX_FOLDER_PATH_BYTES}"
                ));
            }
        }
        let mut total = 0u64;
        for e in self.entries.iter() {
            total = total
                .checked_add(e.size)
                .ok_or_else(|| "sizes add up beyond 2^64 bytes".to_string())?;
        }
        Ok(())
    }

    /// The digest shown for the whole transfer: the file's MD5 for a single
    /// file; for a folder, [`crate::wire::md5::folder_digest`] of its files
    /// (paths relative to the folder), the digest a share listing shows
    /// for the same folder.
    pub fn digest(&self) -> Md5 {
        if !self.folder && self.entries.len() == 1 {
            return self.entries[0].md5;
        }
        let prefix = format!("{}/", self.name);
        folder_digest(self.entries.iter().map(|e| {
            let path = e.path.as_str();
            (path.strip_prefix(&prefix).unwrap_or(path), e.size, e.md5)
        }))
    }
}

/// A file chunk's bytes.
pub type ChunkData = Blob<MAX_CHUNK_LEN>;

/// A message about one transfer. See the module documentation for the flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TransferMessage {
    /// Receiver to sender: send me this file from your shared folder.
    Get { key: TransferKey, name: FileName },
    /// Sender to receiver: will you take this?
    Offer {
        key: TransferKey,
        manifest: Manifest,
    },
    /// Receiver to sender: yes to the offer.
    Accept { key: TransferKey },
    /// Receiver to sender: after a reconnect or restart, tell me the offer's
    /// manifest again as your files are now.
    Resume { key: TransferKey },
    /// Sender to receiver: what a `Get` or `Resume` asked about, as it is now.
    Manifest {
        key: TransferKey,
        manifest: Manifest,
    },
    /// Receiver to sender: send file `file` from `offset`, in chunks of at most
    /// `chunk` bytes, at most `window` unacknowledged. Starts round `round`.
    Want {
        key: TransferKey,
        round: u32,
        file: u32,
        offset: u64,
        chunk: u32,
        window: u32,
    },
    /// Sender to receiver: bytes of `file` at `offset`.
    Chunk {
        key: TransferKey,
        round: u32,
        file: u32,
        offset: u64,
        data: ChunkData,
    },
    /// Receiver to sender: every byte of `file` before `upto` is written.
    Ack {
        key: TransferKey,
        round: u32,
        file: u32,
        upto: u64,
    },
    /// Receiver to sender: every file is verified and in place.
    Complete { key: TransferKey },
    /// Either side: this transfer is over (cancelled, declined, expired,
    /// refused, or broken), and why.
    Cancel { key: TransferKey, reason: Reason },
    /// Either side: this transfer stops for now (`/pause` by the sender of
    /// this message). The receiver keeps what arrived, so a later `Get`
    /// (or, for an offer, a new `Offer`) continues from its `.part`.
    Pause { key: TransferKey },
}

impl TransferMessage {
    /// The transfer this message is about.
    pub fn key(&self) -> TransferKey {
        match self {
            TransferMessage::Get { key, .. }
            | TransferMessage::Offer { key, .. }
            | TransferMessage::Accept { key }
            | TransferMessage::Resume { key }
            | TransferMessage::Manifest { key, .. }
            | TransferMessage::Want { key, .. }
            | TransferMessage::Chunk { key, .. }
            | TransferMessage::Ack { key, .. }
            | TransferMessage::Complete { key }
            | TransferMessage::Cancel { key, .. }
            | TransferMessage::Pause { key } => *key,
        }
    }

    /// The variant's name, for logs and reasons.
    pub fn kind(&self) -> &'static str {
        match self {
            TransferMessage::Get { .. } => "Get",
            TransferMessage::Offer { .. } => "Offer",
            TransferMessage::Accept { .. } => "Accept",
            TransferMessage::Resume { .. } => "Resume",
            TransferMessage::Manifest { .. } => "Manifest",
            TransferMessage::Want { .. } => "Want",
            TransferMessage::Chunk { .. } => "Chunk",
            TransferMessage::Ack { .. } => "Ack",
            TransferMessage::Complete { .. } => "Complete",
            TransferMessage::Cancel { .. } => "Cancel",
            TransferMessage::Pause { .. } => "Pause",
        }
    }

    /// Whether a new sub-machine should be made for this message when no
    /// transfer with its key exists yet: `Get` (the sender side of a fetch)
    /// and `Offer` (the receiver side of an offer). Anything else about an
    /// unknown key is answered with `Cancel` ("unknown transfer") by the owner.
    pub fn starts_transfer(&self) -> bool {
        matches!(
            self,
            TransferMessage::Get { .. } | TransferMessage::Offer { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_paths_stay_inside() {
        for ok in ["a", "dir/a.txt", "d/e/f g (1).txt", "..x/y", "d/.hidden"] {
            assert!(RelPath::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/",
            "/etc/passwd",
            "a/../../etc/passwd",
            "..",
            "../x",
            "x/..",
            ".",
            "./x",
            "x/./y",
            "a//b",
            "a/",
            "a\\b",
            "..\\..\\windows",
            "a/\0/b",
            "a\n/b",
            &"a/".repeat(MAX_REL_PATH_LEN),
            &"x".repeat(crate::limits::MAX_FILE_NAME_LEN + 1),
        ] {
            assert!(RelPath::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn decoding_checks_rel_paths() {
        let bytes = rmp_serde::to_vec(&"d/../../x").unwrap();
        assert!(rmp_serde::from_slice::<RelPath>(&bytes).is_err());
        let bytes = rmp_serde::to_vec(&"d/x").unwrap();
        assert_eq!(
            rmp_serde::from_slice::<RelPath>(&bytes).unwrap().as_str(),
            "d/x"
        );
    }

    fn entry(p: &str, size: u64) -> ManifestEntry {
        ManifestEntry {
            path: RelPath::new(p).unwrap(),
            size,
            md5: Md5::of(b""),
        }
    }

    #[test]
    fn manifest_checks() {
        let name = FileName::new("d").unwrap();
        let ok = Manifest {
            name: name.clone(),
            folder: true,
            entries: List::new(vec![entry("d/a", 1), entry("d/b/c", 2)]).unwrap(),
        };
        assert!(ok.check().is_ok());
        assert_eq!(ok.total(), 3);
        let outside = Manifest {
            entries: List::new(vec![entry("e/a", 1)]).unwrap(),
            ..ok.clone()
        };
        assert!(outside.check().is_err());
        let twice = Manifest {
            entries: List::new(vec![entry("d/a", 1), entry("d/a", 1)]).unwrap(),
            ..ok.clone()
        };
        assert!(twice.check().is_err());
        let overflow = Manifest {
            entries: List::new(vec![entry("d/a", u64::MAX), entry("d/b", 1)]).unwrap(),
            ..ok.clone()
        };
        assert!(overflow.check().is_err());
        let single_misnamed = Manifest {
            name,
            folder: false,
            entries: List::new(vec![entry("x", 1)]).unwrap(),
        };
        assert!(single_misnamed.check().is_err());
    }
}
