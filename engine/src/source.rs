//! What a send transfer reads from, and what the driver says it found
//! ([`Source`], [`SourceInfo`]): values shared by the driver interface
//! ([`crate::api`]), the transfer machines and their saved records. See
//! "Files" in [`crate::api`]. Touches only `wire`'s value types.

use crate::wire::{FileName, Md5};

/// What a send transfer reads from; see "Files" in [`crate::api`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Source {
    /// A file of the shared folder, by its plain name (a fetch).
    Shared(FileName),
    /// A file or folder, as the user typed it after `/send` (an offer).
    Local(String),
}

/// The answer to [`Output::OpenSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// Whether the source is a folder.
    pub folder: bool,
    /// The files, in a stable order: for a single file one entry whose `path`
    /// is its file name; for a folder one per regular file inside, `path`
    /// relative to the folder's parent (`DIR/sub/a.txt`, `/`-separated), an
    /// empty folder having none. The engine ignores a folder's empty
    /// subfolders.
    pub files: Vec<SourceFile>,
    /// For a folder, its name (`DIR`); for a single file, the file name.
    pub name: String,
}

/// One file of a [`SourceInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// See [`SourceInfo::files`].
    pub path: String,
    /// Size in bytes, now.
    pub size: u64,
    /// MD5 of the contents, from the index (hashed again if size or
    /// modification time changed).
    pub md5: Md5,
}
