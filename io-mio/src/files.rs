//! [`TransferFiles`]: the driver's side of the file contract ("Files" in
//! [`confab_engine::api`]): which files each transfer reads or writes, read
//! and written at positions (`FileExt::read_at`/`write_all_at`, 64-bit
//! offsets), never through a shared cursor.
//!
//! | output | carried out by | answered |
//! |---|---|---|
//! | `OpenSource` | [`source`] on the [`worker`] thread | later, via [`TransferFiles::collect`] |
//! | `OpenPart` | [`part::open_part`] | at once |
//! | `ReadChunk` | [`TransferFiles::read_chunk`] (the driver throttles) | at once |
//! | `WriteChunk` | [`TransferFiles::submit_write`] on the [`writer`] thread | after the write returned, via [`TransferFiles::collect_written`] |
//! | `FinishFile` | [`finish::finish`] (fsync + no-clobber rename) | at once |
//! | `DiscardPart` | [`part::discard_part`], then [`part::remove_created`] | never |
//! | `ReleaseFiles` | [`TransferFiles::release`] | never |
//!
//! Folders: [`TransferFiles::serve`] names the share folder and the
//! downloads folder; without them a shared name or a download is refused
//! with an error saying so.
//!
//! Invariants: every handle of a transfer is dropped by `release`; an
//! `OpenSource` answer that arrives after its transfer was released (or
//! opened again) is dropped with its handles, unanswered. A send transfer
//! keeps at most one file open (the one being read); the others are opened
//! again by path and must still be the same file (device, inode).
//!
//! Durability: chunk writes go to the page cache, so they survive a crash of
//! the process (SIGKILL) as soon as `write_all_at` returns; finishing syncs
//! the file before renaming it into place, so a finished file survives power
//! loss too. A resumed download is re-verified by MD5 at the end anyway.

mod finish;
mod hash;
mod part;
pub(crate) mod source;
mod sys;
#[cfg(test)]
mod tests;
mod worker;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use confab_engine::limits::MAX_CHUNK_LEN;
use confab_engine::wire::transfer::RelPath;
use confab_engine::{Source, SourceInfo, TransferId};
use mio::Waker;
use redb::Database;

pub use self::hash::Md5Cache;
use self::part::{Downloads, Part};
use self::source::{SendEntry, ShareFolder};
use self::worker::{Job, Report, SourceWorker};
pub use self::writer::Written;
use self::writer::{ChunkWriter, WriteJob};

/// An answer that comes later than the output it answers (opening a source).
#[derive(Debug)]
pub enum FileAnswer {
    /// Hashing progress: see `Input::SourceHashing`.
    Hashing {
        transfer: TransferId,
        hashed: u64,
        total: u64,
    },
    /// See `Input::SourceOpened`.
    Opened {
        transfer: TransferId,
        source: SourceInfo,
    },
    /// See `Input::StorageFailed`.
    Failed { transfer: TransferId, error: String },
}

/// What a send transfer reads.
#[derive(Debug)]
struct Sending {
    entries: Vec<SendEntry>,
    /// The file being read, open.
    current: Option<(u32, File)>,
}

#[derive(Debug)]
enum Open {
    Send(Sending),
    Receive(BTreeMap<u32, Part>),
}

/// See the module documentation.
#[derive(Debug)]
pub struct TransferFiles {
    share: Option<Arc<ShareFolder>>,
    downloads: Option<Downloads>,
    db: Option<Arc<Database>>,
    waker: Arc<Waker>,
    worker: Option<SourceWorker>,
    next_ticket: u64,
    /// Sources being opened: the ticket of the latest request.
    opening: HashMap<TransferId, u64>,
    open: HashMap<TransferId, Open>,
    hashed_files: u64,
    /// Writes chunks off the loop; started at the first write.
    writer: Option<ChunkWriter>,
    /// Writes submitted and not yet collected, per transfer.
    writing: HashMap<TransferId, usize>,
    /// Folders of the downloads folder (relative paths) this process
    /// created for `.part`s and has not removed: the only ones a discard may
    /// remove, once empty (see [`part::remove_created`]).
    created: std::collections::BTreeSet<String>,
    /// Where chunks are read: one buffer, reused (zeroed once as it grows, up
    /// to [`MAX_CHUNK_LEN`], never per chunk).
    chunk_buf: Vec<u8>,
}

impl TransferFiles {
    /// Files for a driver whose loop `waker` wakes; digests are cached in
    /// `db` if given.
    pub(crate) fn new(waker: Arc<Waker>, db: Option<Arc<Database>>) -> Self {
        Self {
            share: None,
            downloads: None,
            db,
            waker,
            worker: None,
            next_ticket: 0,
            opening: HashMap::new(),
            open: HashMap::new(),
            hashed_files: 0,
            writer: None,
            writing: HashMap::new(),
            created: Default::default(),
            chunk_buf: Vec::new(),
        }
    }

    /// Serves shared files from `share` and puts downloads in `downloads`
    /// (both must be folders; see the caller for creating them).
    pub fn serve(&mut self, share: &Path, downloads: &Path) -> io::Result<()> {
        let share = ShareFolder::open(share).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot open the share folder {}: {e}", share.display()),
            )
        })?;
        let downloads = Downloads::open(downloads).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot open the downloads folder {}: {e}",
                    downloads.display()
                ),
            )
        })?;
        self.share = Some(Arc::new(share));
        self.downloads = Some(downloads);
        Ok(())
    }

    /// How many files were hashed for sources (cache misses) so far.
    pub fn files_hashed(&self) -> u64 {
        self.hashed_files
    }

    /// Starts opening `source` for `transfer`; the answer comes through
    /// [`Self::collect`]. An error here is the answer.
    pub fn open_source(&mut self, transfer: TransferId, source: Source) -> Result<(), String> {
        if self.worker.is_none() {
            let worker = SourceWorker::start(self.waker.clone())
                .map_err(|e| format!("cannot start the file worker: {e}"))?;
            self.worker = Some(worker);
        }
        self.next_ticket += 1;
        let ticket = self.next_ticket;
        self.opening.insert(transfer, ticket);
        let job = Job {
            transfer,
            ticket,
            source,
            share: self.share.clone(),
            db: self.db.clone(),
        };
        let submitted = self.worker.as_ref().map(|w| w.submit(job));
        match submitted {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => {
                self.opening.remove(&transfer);
                Err(e)
            }
            None => Err("the file worker is not running".into()),
        }
    }

    /// Answers that have come in from the worker, current ones only.
    pub fn collect(&mut self) -> Vec<FileAnswer> {
        let mut answers = Vec::new();
        let Some(worker) = &self.worker else {
            return answers;
        };
        while let Ok(report) = worker.reports.try_recv() {
            match report {
                Report::Hashing {
                    transfer,
                    ticket,
                    hashed,
                    total,
                } if self.opening.get(&transfer) == Some(&ticket) => {
                    answers.push(FileAnswer::Hashing {
                        transfer,
                        hashed,
                        total,
                    });
                }
                Report::Hashing { .. } => {}
                Report::Opened {
                    transfer,
                    ticket,
                    result,
                } => {
                    if self.opening.get(&transfer) != Some(&ticket) {
                        continue;
                    }
                    self.opening.remove(&transfer);
                    match result {
                        Ok(opened) => {
                            self.hashed_files += opened.hashed_files;
                            let current = opened.first.map(|f| (0, f));
                            self.open.insert(
                                transfer,
                                Open::Send(Sending {
                                    entries: opened.entries,
                                    current,
                                }),
                            );
                            answers.push(FileAnswer::Opened {
                                transfer,
                                source: opened.info,
                            });
                        }
                        Err(error) => {
                            self.open.remove(&transfer);
                            answers.push(FileAnswer::Failed { transfer, error });
                        }
                    }
                }
            }
        }
        answers
    }

    /// Whether a source is being opened (an answer will come).
    pub fn opening(&self) -> bool {
        !self.opening.is_empty()
    }

    /// Opens (creating) `file`'s `.part` for `transfer`; its current length.
    pub fn open_part(
        &mut self,
        transfer: TransferId,
        file: u32,
        path: &RelPath,
        fresh: bool,
    ) -> Result<u64, String> {
        let downloads = self
            .downloads
            .as_ref()
            .ok_or_else(|| format!("cannot receive {path}: this peer has no downloads folder"))?;
        let mut created = Vec::new();
        let opened = part::open_part(downloads, path, fresh, &mut created);
        // Noted even if the open failed: the folders are there all the same.
        self.created.extend(created);
        let (part, len) = opened?;
        let open = self
            .open
            .entry(transfer)
            .or_insert_with(|| Open::Receive(BTreeMap::new()));
        if let Open::Send(_) = open {
            *open = Open::Receive(BTreeMap::new());
        }
        if let Open::Receive(parts) = open {
            parts.insert(file, part);
        }
        Ok(len)
    }

    /// Up to `len` bytes at `offset` of `file` (fewer only at its end): the
    /// source for a send transfer, the `.part` for a receive transfer. The
    /// bytes live in a buffer the next read reuses.
    pub fn read_chunk(
        &mut self,
        transfer: TransferId,
        file: u32,
        offset: u64,
        len: u32,
    ) -> Result<&[u8], String> {
        let handle: &File = match self.open.get_mut(&transfer) {
            Some(Open::Send(s)) => {
                if s.current.as_ref().is_none_or(|(i, _)| *i != file) {
                    s.current = None;
                    let entry = s
                        .entries
                        .get(file as usize)
                        .ok_or_else(|| format!("{transfer} has no file {file}"))?;
                    s.current = Some((file, source::reopen(entry)?));
                }
                match &s.current {
                    Some((_, f)) => f,
                    None => return Err(format!("file {file} of {transfer} is not open")),
                }
            }
            Some(Open::Receive(parts)) => {
                &parts
                    .get(&file)
                    .ok_or_else(|| format!("file {file} of {transfer} is not open"))?
                    .file
            }
            None => return Err(format!("no file is open for {transfer}")),
        };
        let buf = &mut self.chunk_buf;
        let n = read_at_most(handle, offset, len, buf).map_err(|e| format!("cannot read: {e}"))?;
        Ok(&buf[..n])
    }

    /// Writes all of `data` at `offset` of `file`'s `.part`.
    pub fn write_chunk(
        &mut self,
        transfer: TransferId,
        file: u32,
        offset: u64,
        data: &[u8],
    ) -> Result<(), String> {
        let downloads = self.downloads.as_ref().map(|d| d.path.as_path());
        let part = match self.open.get_mut(&transfer) {
            Some(Open::Receive(parts)) => parts.get_mut(&file),
            _ => None,
        }
        .ok_or_else(|| format!("file {file} of {transfer} is not open for writing"))?;
        part.file.write_all_at(data, offset).map_err(|e| {
            let why = match e.raw_os_error() {
                Some(libc::ENOSPC) => "the disk is full".to_owned(),
                _ => e.to_string(),
            };
            let shown = downloads.unwrap_or(Path::new("")).join(part.rel.as_str());
            format!("cannot write {}.part: {why}", shown.display())
        })?;
        part.wrote(data.len() as u64);
        Ok(())
    }

    /// Queues `data` to be written at `offset` of `file`'s `.part` on the
    /// writer thread; its answer comes through [`Self::collect_written`] or
    /// [`Self::wait_writes`]. An error here (the file is not open, the writer
    /// cannot start) is the answer.
    pub fn submit_write(
        &mut self,
        transfer: TransferId,
        file: u32,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), String> {
        if self.writer.is_none() {
            let writer = ChunkWriter::start(self.waker.clone())
                .map_err(|e| format!("cannot start the chunk writer: {e}"))?;
            self.writer = Some(writer);
        }
        let downloads = self.downloads.as_ref().map(|d| d.path.as_path());
        let part = match self.open.get_mut(&transfer) {
            Some(Open::Receive(parts)) => parts.get_mut(&file),
            _ => None,
        }
        .ok_or_else(|| format!("file {file} of {transfer} is not open for writing"))?;
        let job = WriteJob {
            transfer,
            file,
            offset,
            writeback: part.writeback_due(data.len() as u64),
            data,
            part: part.file.clone(),
            shown: downloads.unwrap_or(Path::new("")).join(part.rel.as_str()),
        };
        match self.writer.as_ref().map(|w| w.submit(job)) {
            Some(Ok(())) => {
                *self.writing.entry(transfer).or_default() += 1;
                Ok(())
            }
            _ => Err("the chunk writer has stopped; restart confab".into()),
        }
    }

    /// Writes finished since the last call, in the order submitted.
    pub fn collect_written(&mut self) -> Vec<Written> {
        let mut done = Vec::new();
        if let Some(writer) = &self.writer {
            while let Ok(w) = writer.done.try_recv() {
                done.push(w);
            }
        }
        for w in &done {
            self.note_collected(w.transfer);
        }
        done
    }

    /// Whether writes are under way (answers will come).
    pub fn writing(&self) -> bool {
        !self.writing.is_empty()
    }

    /// Waits until every write of `transfer` submitted so far is done, so that
    /// a later file output of it does not overtake them. Returns every answer
    /// collected meanwhile (of any transfer), in order, for the engine.
    pub fn wait_writes(&mut self, transfer: TransferId) -> Vec<Written> {
        let mut done = Vec::new();
        while self.writing.contains_key(&transfer) {
            let Some(w) = self.writer.as_ref().and_then(|w| w.done.recv().ok()) else {
                // The thread is gone: nothing more will come.
                self.writing.clear();
                break;
            };
            self.note_collected(w.transfer);
            done.push(w);
        }
        done
    }

    fn note_collected(&mut self, transfer: TransferId) {
        if let Some(n) = self.writing.get_mut(&transfer) {
            *n -= 1;
            if *n == 0 {
                self.writing.remove(&transfer);
            }
        }
    }

    /// Syncs `file`'s `.part` and renames it to a free final name; returns
    /// the final path.
    pub fn finish(&mut self, transfer: TransferId, file: u32) -> Result<String, String> {
        let part = match self.open.get_mut(&transfer) {
            Some(Open::Receive(parts)) => parts.remove(&file),
            _ => None,
        }
        .ok_or_else(|| format!("file {file} of {transfer} is not open"))?;
        let downloads = self
            .downloads
            .as_ref()
            .ok_or_else(|| "this peer has no downloads folder".to_owned())?;
        finish::finish(downloads, part)
    }

    /// Closes `file`'s `.part` if open, deletes `DOWNLOADS/path.part`, and
    /// then the folders of `path` this process created, if empty now.
    pub fn discard(&mut self, transfer: TransferId, file: u32, path: &RelPath) {
        if let Some(Open::Receive(parts)) = self.open.get_mut(&transfer) {
            parts.remove(&file);
        }
        let Some(downloads) = &self.downloads else {
            return;
        };
        if let Err(e) = part::discard_part(downloads, path) {
            tracing::warn!("{e}");
        }
        part::remove_created(downloads, path, &mut self.created);
    }

    /// Closes every handle of `transfer`; an open under way is forgotten.
    pub fn release(&mut self, transfer: TransferId) {
        self.open.remove(&transfer);
        self.opening.remove(&transfer);
    }
}

/// Reads up to `len` bytes at `offset` into the front of `buf` (grown to
/// `len` if shorter), fewer only at the end of the file; how many.
fn read_at_most(file: &File, offset: u64, len: u32, buf: &mut Vec<u8>) -> io::Result<usize> {
    let len = (len as usize).min(MAX_CHUNK_LEN);
    if buf.len() < len {
        buf.resize(len, 0);
    }
    let buf = &mut buf[..len];
    let mut filled = 0;
    while filled < buf.len() {
        let at = offset
            .checked_add(filled as u64)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "offset past 2^64"))?;
        match file.read_at(&mut buf[filled..], at) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
