//! [`TransferFiles`]: the open files behind transfers, read and written at
//! positions (`std::os::unix::fs::FileExt`), never through a shared cursor.
//!
//! This is the driver's side of [`confab_engine::Output::ReadChunk`] and
//! [`confab_engine::Output::WriteChunk`]. Which file a transfer reads or
//! writes is decided by outputs that come with issue 4 (open a source, open a
//! partial download, finish it); until then a chunk request for a transfer
//! with no open file is answered with `StorageFailed`. Those outputs map onto
//! [`TransferFiles::open_source`], [`TransferFiles::open_part`],
//! [`TransferFiles::finish`] and [`TransferFiles::close`].
//!
//! Durability: chunk writes go to the page cache, so they survive a crash of
//! the process (SIGKILL) as soon as `write_at` returns; [`TransferFiles::finish`]
//! syncs the file before renaming it into place, so a finished file survives
//! power loss too. A resumed download is re-verified by MD5 at the end anyway.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use confab_engine::TransferId;

#[derive(Debug)]
struct Open {
    file: File,
    path: PathBuf,
}

/// Files open for transfers, by transfer.
#[derive(Debug, Default)]
pub struct TransferFiles {
    open: HashMap<TransferId, Open>,
}

impl TransferFiles {
    /// Opens `path` for reading as the source of `transfer`.
    pub fn open_source(&mut self, transfer: TransferId, path: &Path) -> io::Result<()> {
        let file = File::open(path)?;
        self.open.insert(
            transfer,
            Open {
                file,
                path: path.to_owned(),
            },
        );
        Ok(())
    }

    /// Opens (creating, keeping what is there for a resume) the partial file
    /// `path` that `transfer` writes into. Returns its current length, which
    /// is where a resume may start.
    pub fn open_part(&mut self, transfer: TransferId, path: &Path) -> io::Result<u64> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        self.open.insert(
            transfer,
            Open {
                file,
                path: path.to_owned(),
            },
        );
        Ok(len)
    }

    /// Reads up to `len` bytes at `offset` (fewer only at the end of the file).
    pub fn read_chunk(&self, transfer: TransferId, offset: u64, len: u32) -> io::Result<Vec<u8>> {
        let open = self.get(transfer)?;
        let mut buf = vec![0u8; len as usize];
        let mut filled = 0;
        while filled < buf.len() {
            match open
                .file
                .read_at(&mut buf[filled..], offset + filled as u64)
            {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        Ok(buf)
    }

    /// Writes all of `data` at `offset`.
    pub fn write_chunk(&self, transfer: TransferId, offset: u64, data: &[u8]) -> io::Result<()> {
        self.get(transfer)?.file.write_all_at(data, offset)
    }

    /// Syncs the partial file and renames it to `dest`; forgets the transfer.
    pub fn finish(&mut self, transfer: TransferId, dest: &Path) -> io::Result<()> {
        let open = self
            .open
            .remove(&transfer)
            .ok_or_else(|| unknown(transfer))?;
        open.file.sync_all()?;
        std::fs::rename(&open.path, dest)
    }

    /// Forgets the transfer, closing its file (a partial file stays for a resume).
    pub fn close(&mut self, transfer: TransferId) {
        self.open.remove(&transfer);
    }

    fn get(&self, transfer: TransferId) -> io::Result<&Open> {
        self.open.get(&transfer).ok_or_else(|| unknown(transfer))
    }
}

fn unknown(transfer: TransferId) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("no file is open for transfer {transfer}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_written_and_read_at_their_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("f.part");
        let dest = dir.path().join("f");
        let mut files = TransferFiles::default();
        let t = TransferId(1);
        assert_eq!(files.open_part(t, &part).unwrap(), 0);
        files.write_chunk(t, 3, b"def").unwrap();
        files.write_chunk(t, 0, b"abc").unwrap();
        files.finish(t, &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"abcdef");

        let s = TransferId(2);
        files.open_source(s, &dest).unwrap();
        assert_eq!(files.read_chunk(s, 2, 3).unwrap(), b"cde");
        assert_eq!(
            files.read_chunk(s, 4, 10).unwrap(),
            b"ef",
            "short at the end"
        );
        files.close(s);
        assert!(files.read_chunk(s, 0, 1).is_err());
    }

    #[test]
    fn a_partial_file_is_kept_for_a_resume() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("f.part");
        let mut files = TransferFiles::default();
        files.open_part(TransferId(1), &part).unwrap();
        files.write_chunk(TransferId(1), 0, b"1234").unwrap();
        files.close(TransferId(1));
        assert_eq!(files.open_part(TransferId(2), &part).unwrap(), 4);
    }
}
