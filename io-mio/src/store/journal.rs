//! [`Journal`]: the store's write-ahead file, `confab.journal` beside the
//! database. A batch of records is appended with one `write` (no `fsync`)
//! before anything that depends on it is sent or shown, so it survives the
//! process dying; the [`super::committer`] makes it durable in the database
//! soon after, and the journal is emptied whenever the database has caught
//! up with all of it. [`super::Store::open`] replays what a dead process
//! left here into the database before anything is loaded.
//!
//! Format, per batch: `CFJ1`, the body's length (u32 LE), an FNV-1a 64 of
//! the body (u64 LE), then the body: per change, a tag (1 persist, 0
//! forget), the key's length (u32 LE) and bytes, and for a persist the
//! value's length (u32 LE) and bytes. A batch cut short by the process
//! dying mid-write, or anything after it, is ignored when read back: it was
//! never complete, so nothing that depends on it was sent or shown.
//!
//! Invariant: every batch in the journal follows (in the order written) all
//! the changes the database holds from earlier batches, so replaying the
//! journal over the database in order gives the state after the last batch,
//! whether or not some of its batches were already committed.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// File name of the journal inside the data directory.
pub const JOURNAL_FILE: &str = "confab.journal";

const MAGIC: &[u8; 4] = b"CFJ1";
const HEADER: usize = 4 + 4 + 8;
/// Larger than any batch a driver writes (a batch holds the records of one
/// settle); a length beyond it is damage, not a batch.
const MAX_BATCH: usize = 256 << 20;

/// A change as stored: the encoded record to keep under `key`, or `None` to
/// delete it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Raw {
    pub key: String,
    pub value: Option<Vec<u8>>,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    len: u64,
    buf: Vec<u8>,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn put_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    buf.extend_from_slice(bytes);
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`, appending after
    /// whatever it holds.
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)?;
        let len = file.seek(SeekFrom::End(0))?;
        Ok(Self {
            file,
            len,
            buf: Vec::new(),
        })
    }

    /// Bytes in the journal now.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends one batch with a single write. On failure the journal is
    /// unusable (a partial batch may be in it): the caller stops.
    pub fn append(&mut self, changes: &[Raw]) -> io::Result<()> {
        self.buf.clear();
        self.buf.extend_from_slice(MAGIC);
        self.buf.extend_from_slice(&[0; 12]);
        for c in changes {
            self.buf.push(u8::from(c.value.is_some()));
            put_bytes(&mut self.buf, c.key.as_bytes());
            if let Some(v) = &c.value {
                put_bytes(&mut self.buf, v);
            }
        }
        let body = self.buf.len() - HEADER;
        let sum = fnv1a(&self.buf[HEADER..]);
        self.buf[4..8].copy_from_slice(&(body as u32).to_le_bytes());
        self.buf[8..16].copy_from_slice(&sum.to_le_bytes());
        self.file.write_all(&self.buf)?;
        self.len += self.buf.len() as u64;
        if self.buf.capacity() > 1 << 20 {
            self.buf = Vec::new();
        }
        Ok(())
    }

    /// Makes what was appended survive the machine losing power.
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Empties the journal (the database holds all of it).
    pub fn clear(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.len = 0;
        Ok(())
    }
}

/// Every complete batch in the journal at `path`, in order (nothing if there
/// is no journal). Stops at the first batch that is cut short or damaged.
pub(crate) fn read(path: &Path) -> io::Result<Vec<Raw>> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    }
    let mut out = Vec::new();
    let mut at = 0;
    while let Some((changes, next)) = batch(&bytes, at) {
        out.extend(changes);
        at = next;
    }
    if at < bytes.len() {
        tracing::warn!(
            kept = at,
            ignored = bytes.len() - at,
            "the journal ends in an incomplete batch (the process died while writing it); ignoring it"
        );
    }
    Ok(out)
}

/// The batch at `at` and where the next begins, if it is complete and sound.
fn batch(bytes: &[u8], at: usize) -> Option<(Vec<Raw>, usize)> {
    let head = bytes.get(at..at.checked_add(HEADER)?)?;
    if &head[..4] != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(head[4..8].try_into().ok()?) as usize;
    let sum = u64::from_le_bytes(head[8..16].try_into().ok()?);
    if len > MAX_BATCH {
        return None;
    }
    let start = at + HEADER;
    let body = bytes.get(start..start.checked_add(len)?)?;
    if fnv1a(body) != sum {
        return None;
    }
    let mut changes = Vec::new();
    let mut r = body;
    let take = |r: &mut &[u8]| -> Option<Vec<u8>> {
        let n = u32::from_le_bytes(r.get(..4)?.try_into().ok()?) as usize;
        let v = r.get(4..4usize.checked_add(n)?)?.to_vec();
        *r = &r[4 + n..];
        Some(v)
    };
    while let Some((&tag, rest)) = r.split_first() {
        r = rest;
        let key = String::from_utf8(take(&mut r)?).ok()?;
        let value = match tag {
            0 => None,
            1 => Some(take(&mut r)?),
            _ => return None,
        };
        changes.push(Raw { key, value });
    }
    Some((changes, start + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(key: &str, value: Option<&[u8]>) -> Raw {
        Raw {
            key: key.into(),
            value: value.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn batches_read_back_in_order_and_a_torn_tail_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        assert!(read(&path).unwrap().is_empty());
        let first = vec![raw("a", Some(b"1")), raw("b", None)];
        let second = vec![raw("a", Some(b"")), raw("c", Some(&[7; 300]))];
        let two = {
            let mut j = Journal::open(&path).unwrap();
            j.append(&first).unwrap();
            j.append(&second).unwrap();
            let two = j.len();
            j.append(&first).unwrap();
            two
        };
        let all = [first.clone(), second.clone(), first.clone()].concat();
        assert_eq!(read(&path).unwrap(), all);
        // The process died in the middle of the last write.
        let len = std::fs::metadata(&path).unwrap().len();
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        for cut in [len - 1, len - 10, len - 20] {
            f.set_len(cut).unwrap();
            assert_eq!(
                read(&path).unwrap(),
                [first.clone(), second.clone()].concat()
            );
        }
        // A damaged byte ends the journal there.
        f.set_len(two).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&path).unwrap(), first);
        // Appending goes after what is there; clearing empties it.
        let mut j = Journal::open(&path).unwrap();
        assert_eq!(j.len(), bytes.len() as u64);
        j.clear().unwrap();
        j.append(&second).unwrap();
        assert_eq!(read(&path).unwrap(), second);
    }
}
