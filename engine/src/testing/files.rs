//! [`MemFiles`]: an in-memory file store that plays the driver's part of the
//! file contract (see "Files" in [`crate::api`]) for tests.
//!
//! It holds a shared folder, local files and folders (what `/send` names),
//! and a downloads folder. Files are sparse: a page never written reads as
//! zeros and costs nothing, and writing zeros over a hole keeps it a hole, so
//! a 5 GiB synthetic file costs a few pages. Tests can plant things a real
//! driver must refuse (symlinks, folders where files are expected), corrupt
//! stored bytes behind the index's back, and check that no chunk was ever
//! written twice with different bytes.
//!
//! It answers each file output at once with a [`FileAnswer`]; the harness
//! decides when to deliver it.

use std::collections::BTreeMap;

use crate::api::{Input, Output, Source, SourceFile, SourceInfo, TransferId};
use crate::wire::Md5;

/// `len` bytes drawn from `seed`: file contents that replay exactly.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    crate::rng::Rng::new(seed).fill(&mut v);
    v
}

/// Bytes per page of a sparse file.
const PAGE: u64 = 64 * 1024;

static ZERO_PAGE: [u8; PAGE as usize] = [0; PAGE as usize];

/// A sparse file.
#[derive(Debug, Clone, Default)]
pub struct MemFile {
    len: u64,
    pages: BTreeMap<u64, Vec<u8>>,
    /// The index's digest: kept until the file is replaced through
    /// [`MemFiles::put_shared`] and friends, *not* on corruption (bit rot
    /// does not change size or modification time).
    md5: Option<Md5>,
}

impl MemFile {
    /// A file holding `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut f = Self::default();
        f.write(0, bytes);
        f
    }

    /// A file of `len` zero bytes (a hole), with `marks` written over it.
    pub fn sparse(len: u64, marks: &[(u64, &[u8])]) -> Self {
        let mut f = Self {
            len,
            ..Self::default()
        };
        for (at, bytes) in marks {
            f.write(*at, bytes);
        }
        f
    }

    /// Its length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pages actually stored (a hole costs none).
    pub fn stored_pages(&self) -> usize {
        self.pages.len()
    }

    /// Up to `len` bytes at `offset` (fewer at the end).
    pub fn read(&self, offset: u64, len: u64) -> Vec<u8> {
        let end = offset.saturating_add(len).min(self.len);
        if offset >= end {
            return Vec::new();
        }
        let mut out = vec![0u8; (end - offset) as usize];
        let mut at = offset;
        while at < end {
            let page = at / PAGE;
            let in_page = at % PAGE;
            let n = (PAGE - in_page).min(end - at);
            if let Some(p) = self.pages.get(&page) {
                let dst = (at - offset) as usize;
                out[dst..dst + n as usize]
                    .copy_from_slice(&p[in_page as usize..(in_page + n) as usize]);
            }
            at += n;
        }
        out
    }

    /// Writes `data` at `offset`, growing the file if needed.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        let mut at = offset;
        let mut rest = data;
        while !rest.is_empty() {
            let page = at / PAGE;
            let in_page = (at % PAGE) as usize;
            let n = (PAGE as usize - in_page).min(rest.len());
            let (now, later) = rest.split_at(n);
            match self.pages.get_mut(&page) {
                Some(p) => p[in_page..in_page + n].copy_from_slice(now),
                // Zeros over a hole stay a hole (compared with memcmp: fast
                // even in debug builds).
                None if now == &ZERO_PAGE[..n] => {}
                None => {
                    let mut p = vec![0u8; PAGE as usize];
                    p[in_page..in_page + n].copy_from_slice(now);
                    self.pages.insert(page, p);
                }
            }
            at += n as u64;
            rest = later;
        }
        self.len = self.len.max(at);
    }

    /// Cuts the file to `len` bytes.
    pub fn truncate(&mut self, len: u64) {
        self.len = self.len.min(len);
        let keep = self.len.div_ceil(PAGE);
        self.pages.split_off(&keep);
        if let Some(p) = self.pages.get_mut(&(self.len / PAGE)) {
            let from = (self.len % PAGE) as usize;
            p[from..].fill(0);
        }
    }

    /// The MD5 of the contents (computed now).
    pub fn compute_md5(&self) -> Md5 {
        use md5::Digest;
        let mut h = md5::Md5::new();
        let mut at = 0;
        while at < self.len {
            let n = (4 * PAGE).min(self.len - at);
            h.update(self.read(at, n));
            at += n;
        }
        Md5(h.finalize().into())
    }

    /// All the bytes (for small files in tests).
    pub fn bytes(&self) -> Vec<u8> {
        self.read(0, self.len)
    }
}

/// Something that is not a regular file, planted where a driver must refuse it.
#[derive(Debug, Clone)]
pub enum Planted {
    /// A symbolic link to this target.
    Symlink(String),
    /// A folder.
    Folder,
}

#[derive(Debug, Clone)]
enum Open {
    Send(Vec<String>),
    Receive(BTreeMap<u32, String>),
}

/// An owned answer to a file output, to be fed back as an [`Input`].
#[derive(Debug, Clone, PartialEq)]
pub enum FileAnswer {
    /// See [`Input::SourceOpened`].
    SourceOpened {
        transfer: TransferId,
        source: SourceInfo,
    },
    /// See [`Input::PartOpened`].
    PartOpened {
        transfer: TransferId,
        file: u32,
        len: u64,
    },
    /// See [`Input::ChunkRead`].
    ChunkRead {
        transfer: TransferId,
        file: u32,
        offset: u64,
        data: Vec<u8>,
    },
    /// See [`Input::ChunkWritten`].
    ChunkWritten {
        transfer: TransferId,
        file: u32,
        offset: u64,
    },
    /// See [`Input::FileFinished`].
    FileFinished {
        transfer: TransferId,
        file: u32,
        path: String,
    },
    /// See [`Input::StorageFailed`].
    StorageFailed { transfer: TransferId, error: String },
}

impl FileAnswer {
    /// The input to feed the engine.
    pub fn as_input(&self) -> Input<'_> {
        match self {
            FileAnswer::SourceOpened { transfer, source } => Input::SourceOpened {
                transfer: *transfer,
                source: source.clone(),
            },
            FileAnswer::PartOpened {
                transfer,
                file,
                len,
            } => Input::PartOpened {
                transfer: *transfer,
                file: *file,
                len: *len,
            },
            FileAnswer::ChunkRead {
                transfer,
                file,
                offset,
                data,
            } => Input::ChunkRead {
                transfer: *transfer,
                file: *file,
                offset: *offset,
                data,
            },
            FileAnswer::ChunkWritten {
                transfer,
                file,
                offset,
            } => Input::ChunkWritten {
                transfer: *transfer,
                file: *file,
                offset: *offset,
            },
            FileAnswer::FileFinished {
                transfer,
                file,
                path,
            } => Input::FileFinished {
                transfer: *transfer,
                file: *file,
                path: path.clone(),
            },
            FileAnswer::StorageFailed { transfer, error } => Input::StorageFailed {
                transfer: *transfer,
                error: error.clone(),
            },
        }
    }
}

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct MemFiles {
    shared: BTreeMap<String, MemFile>,
    planted: BTreeMap<String, Planted>,
    local: BTreeMap<String, MemFile>,
    downloads: BTreeMap<String, MemFile>,
    open: BTreeMap<TransferId, Open>,
    /// Digest of every chunk written, by (part, offset), since the part was
    /// last truncated.
    written: BTreeMap<(String, u64), Md5>,
    /// Chunks written twice at one place with different bytes.
    pub conflicts: Vec<String>,
    /// Count of each kind of output carried out, by name.
    pub counts: BTreeMap<&'static str, u64>,
}

impl MemFiles {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts a file in the shared folder (its index entry is made afresh);
    /// `dir/sub/name` puts it in the shared folder `dir`.
    pub fn put_shared(&mut self, name: &str, file: MemFile) {
        self.shared.insert(name.into(), file);
    }

    /// Puts a file with a known digest in the shared folder, as an index
    /// would have it, so a huge synthetic file need not be hashed here.
    pub fn put_shared_indexed(&mut self, name: &str, mut file: MemFile, md5: Md5) {
        file.md5 = Some(md5);
        self.shared.insert(name.into(), file);
    }

    /// Plants something that is not a regular file in the shared folder.
    pub fn plant_shared(&mut self, name: &str, what: Planted) {
        self.planted.insert(name.into(), what);
    }

    /// Puts a local file (for `/send`), at a `/`-separated path.
    pub fn put_local(&mut self, path: &str, file: MemFile) {
        self.local.insert(path.into(), file);
    }

    /// Puts a file in the downloads folder (a `.part` left by an earlier
    /// run, or a file the user already has).
    pub fn put_download(&mut self, rel: &str, file: MemFile) {
        self.downloads.insert(rel.into(), file);
    }

    /// A file of the downloads folder.
    pub fn download(&self, rel: &str) -> Option<&MemFile> {
        self.downloads.get(rel)
    }

    /// The names in the downloads folder.
    pub fn download_names(&self) -> Vec<String> {
        self.downloads.keys().cloned().collect()
    }

    /// Flips the byte at `offset` of a stored file (`area` is "shared",
    /// "local" or "downloads"), leaving its index entry alone, as bit rot would.
    pub fn corrupt(&mut self, area: &str, name: &str, offset: u64) {
        let map = match area {
            "shared" => &mut self.shared,
            "local" => &mut self.local,
            _ => &mut self.downloads,
        };
        if let Some(f) = map.get_mut(name) {
            let b = f.read(offset, 1);
            if let Some(&b) = b.first() {
                let md5 = f.md5;
                f.write(offset, &[!b]);
                f.md5 = md5;
            }
        }
    }

    /// Forgets every open handle (the driver process died).
    pub fn crash(&mut self) {
        self.open.clear();
    }

    /// Whether `out` is a file output this store carries out.
    pub fn is_file_output<E>(out: &Output<E>) -> bool {
        matches!(
            out,
            Output::OpenSource { .. }
                | Output::OpenPart { .. }
                | Output::ReadChunk { .. }
                | Output::WriteChunk { .. }
                | Output::FinishFile { .. }
                | Output::DiscardPart { .. }
                | Output::ReleaseFiles { .. }
        )
    }

    /// Carries out a file output; the answer to deliver, if it has one.
    /// Other outputs are ignored.
    pub fn carry_out<E>(&mut self, out: Output<E>) -> Option<FileAnswer> {
        match out {
            Output::OpenSource { transfer, source } => {
                *self.counts.entry("OpenSource").or_default() += 1;
                Some(match self.open_source(transfer, &source) {
                    Ok(source) => FileAnswer::SourceOpened { transfer, source },
                    Err(error) => FileAnswer::StorageFailed { transfer, error },
                })
            }
            Output::OpenPart {
                transfer,
                file,
                path,
                fresh,
                ..
            } => {
                *self.counts.entry("OpenPart").or_default() += 1;
                let rel = path.as_str().to_owned();
                let part = format!("{rel}.part");
                if fresh {
                    self.written.retain(|(p, _), _| *p != part);
                }
                let f = self.downloads.entry(part).or_default();
                if fresh {
                    f.truncate(0);
                }
                let len = f.len();
                let open = self
                    .open
                    .entry(transfer)
                    .or_insert_with(|| Open::Receive(BTreeMap::new()));
                if let Open::Send(_) = open {
                    *open = Open::Receive(BTreeMap::new());
                }
                if let Open::Receive(parts) = open {
                    parts.insert(file, rel);
                }
                Some(FileAnswer::PartOpened {
                    transfer,
                    file,
                    len,
                })
            }
            Output::ReadChunk {
                transfer,
                file,
                offset,
                len,
            } => {
                *self.counts.entry("ReadChunk").or_default() += 1;
                let f = match self.open.get(&transfer) {
                    Some(Open::Send(files)) => {
                        files.get(file as usize).and_then(|p| self.source_file(p))
                    }
                    Some(Open::Receive(parts)) => parts
                        .get(&file)
                        .and_then(|rel| self.downloads.get(&format!("{rel}.part"))),
                    None => None,
                };
                Some(match f {
                    Some(f) => FileAnswer::ChunkRead {
                        transfer,
                        file,
                        offset,
                        data: f.read(offset, u64::from(len)),
                    },
                    None => FileAnswer::StorageFailed {
                        transfer,
                        error: format!("read of file {file} of {transfer}, which is not open"),
                    },
                })
            }
            Output::WriteChunk {
                transfer,
                file,
                offset,
                data,
            } => {
                *self.counts.entry("WriteChunk").or_default() += 1;
                let Some(Open::Receive(parts)) = self.open.get(&transfer) else {
                    return Some(FileAnswer::StorageFailed {
                        transfer,
                        error: format!("write to {transfer}, which is not open"),
                    });
                };
                let Some(rel) = parts.get(&file) else {
                    return Some(FileAnswer::StorageFailed {
                        transfer,
                        error: format!("write to file {file} of {transfer}, which is not open"),
                    });
                };
                let part = format!("{rel}.part");
                let digest = Md5::of(&data);
                let old = self.written.insert((part.clone(), offset), digest);
                if old.is_some_and(|old| old != digest) {
                    self.conflicts.push(format!(
                        "{part} at {offset} written twice with different bytes"
                    ));
                }
                self.downloads.entry(part).or_default().write(offset, &data);
                Some(FileAnswer::ChunkWritten {
                    transfer,
                    file,
                    offset,
                })
            }
            Output::FinishFile { transfer, file } => {
                *self.counts.entry("FinishFile").or_default() += 1;
                let rel = match self.open.get(&transfer) {
                    Some(Open::Receive(parts)) => parts.get(&file).cloned(),
                    _ => None,
                };
                let Some(rel) = rel else {
                    return Some(FileAnswer::StorageFailed {
                        transfer,
                        error: format!("finish of file {file} of {transfer}, which is not open"),
                    });
                };
                let part = format!("{rel}.part");
                let Some(f) = self.downloads.remove(&part) else {
                    return Some(FileAnswer::StorageFailed {
                        transfer,
                        error: format!("{part} is gone"),
                    });
                };
                self.written.retain(|(p, _), _| *p != part);
                let name = self.free_name(&rel);
                self.downloads.insert(name.clone(), f);
                Some(FileAnswer::FileFinished {
                    transfer,
                    file,
                    path: format!("downloads/{name}"),
                })
            }
            Output::DiscardPart { path, .. } => {
                *self.counts.entry("DiscardPart").or_default() += 1;
                let part = format!("{}.part", path.as_str());
                self.written.retain(|(p, _), _| *p != part);
                self.downloads.remove(&part);
                None
            }
            Output::ReleaseFiles { transfer } => {
                *self.counts.entry("ReleaseFiles").or_default() += 1;
                self.open.remove(&transfer);
                None
            }
            _ => None,
        }
    }

    /// `rel`, or `stem (n).ext` beside it: the first name not taken.
    fn free_name(&self, rel: &str) -> String {
        if !self.downloads.contains_key(rel) {
            return rel.to_owned();
        }
        let (dir, file) = match rel.rfind('/') {
            Some(i) => (&rel[..=i], &rel[i + 1..]),
            None => ("", rel),
        };
        let (stem, ext) = match file.rfind('.') {
            Some(i) if i > 0 => (&file[..i], &file[i..]),
            _ => (file, ""),
        };
        (1..)
            .map(|n| format!("{dir}{stem} ({n}){ext}"))
            .find(|c| !self.downloads.contains_key(c))
            .unwrap_or_default()
    }

    fn source_file(&self, key: &str) -> Option<&MemFile> {
        match key.strip_prefix("shared:") {
            Some(name) => self.shared.get(name),
            None => self.local.get(key.strip_prefix("local:")?),
        }
    }

    fn digest(file: &mut MemFile) -> Md5 {
        if file.md5.is_none() {
            file.md5 = Some(file.compute_md5());
        }
        file.md5.unwrap_or_default()
    }

    /// A shared folder: the shared files put as `name/...`, in path order.
    fn shared_folder(&mut self, transfer: TransferId, name: &str) -> Result<SourceInfo, String> {
        let prefix = format!("{name}/");
        let keys: Vec<String> = self
            .shared
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        if keys.is_empty() {
            return Err(format!("no shared file named {name}"));
        }
        let mut files = Vec::new();
        for k in &keys {
            let f = self.shared.get_mut(k).expect("listed above");
            let (size, md5) = (f.len(), Self::digest(f));
            files.push(SourceFile {
                path: k.clone(),
                size,
                md5,
            });
        }
        let open = keys.iter().map(|k| format!("shared:{k}")).collect();
        self.open.insert(transfer, Open::Send(open));
        Ok(SourceInfo {
            folder: true,
            name: name.into(),
            files,
        })
    }

    fn open_source(&mut self, transfer: TransferId, source: &Source) -> Result<SourceInfo, String> {
        match source {
            Source::Shared(name) => {
                let name = name.as_str();
                match self.planted.get(name) {
                    Some(Planted::Symlink(to)) => {
                        return Err(format!(
                            "shared {name} is a symbolic link (to {to}), not a regular file"
                        ));
                    }
                    Some(Planted::Folder) => {
                        return Err(format!("shared {name} is a folder, not a regular file"));
                    }
                    None => {}
                }
                let Some(f) = self.shared.get_mut(name) else {
                    return self.shared_folder(transfer, name);
                };
                let md5 = Self::digest(f);
                let size = f.len();
                self.open
                    .insert(transfer, Open::Send(vec![format!("shared:{name}")]));
                Ok(SourceInfo {
                    folder: false,
                    name: name.into(),
                    files: vec![SourceFile {
                        path: name.into(),
                        size,
                        md5,
                    }],
                })
            }
            Source::Local(path) => {
                let path = path.trim_end_matches('/');
                let base = path.rsplit('/').next().unwrap_or(path).to_owned();
                if let Some(f) = self.local.get_mut(path) {
                    let md5 = Self::digest(f);
                    let size = f.len();
                    self.open
                        .insert(transfer, Open::Send(vec![format!("local:{path}")]));
                    return Ok(SourceInfo {
                        folder: false,
                        name: base.clone(),
                        files: vec![SourceFile {
                            path: base,
                            size,
                            md5,
                        }],
                    });
                }
                let prefix = format!("{path}/");
                let keys: Vec<String> = self
                    .local
                    .keys()
                    .filter(|k| k.starts_with(&prefix))
                    .cloned()
                    .collect();
                if keys.is_empty() {
                    return Err(format!("no file or folder at {path}"));
                }
                let mut files = Vec::new();
                for k in &keys {
                    let f = self.local.get_mut(k).expect("listed above");
                    files.push(SourceFile {
                        path: format!("{base}/{}", &k[prefix.len()..]),
                        size: f.len(),
                        md5: Self::digest(f),
                    });
                }
                self.open.insert(
                    transfer,
                    Open::Send(keys.iter().map(|k| format!("local:{k}")).collect()),
                );
                Ok(SourceInfo {
                    folder: true,
                    name: base,
                    files,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_files_cost_nothing_and_read_back() {
        let five_gib = 5u64 << 30;
        let mut f = MemFile::sparse(five_gib, &[(4u64 << 30, b"mark")]);
        assert_eq!(f.len(), five_gib);
        assert_eq!(f.stored_pages(), 1);
        assert_eq!(f.read((4u64 << 30) - 2, 8), b"\0\0mark\0\0");
        f.write(five_gib - 1, &[0; 1024 * 1024]);
        assert_eq!(f.stored_pages(), 1, "zeros over a hole stay a hole");
        assert_eq!(f.len(), five_gib - 1 + 1024 * 1024);
        f.truncate(3);
        assert_eq!(f.len(), 3);
        assert_eq!(f.stored_pages(), 0);
        let g = MemFile::from_bytes(b"hello world");
        assert_eq!(g.read(6, 100), b"world");
        assert_eq!(g.compute_md5(), Md5::of(b"hello world"));
    }

    #[test]
    fn free_names() {
        let mut m = MemFiles::new();
        m.put_download("a.txt", MemFile::default());
        m.put_download("a (1).txt", MemFile::default());
        m.put_download("d/noext", MemFile::default());
        assert_eq!(m.free_name("a.txt"), "a (2).txt");
        assert_eq!(m.free_name("d/noext"), "d/noext (1)");
        assert_eq!(m.free_name("b.txt"), "b.txt");
    }
}
