//! The receiver's MD5 state and how it is rebuilt on resume.
//!
//! MD5 cannot skip bytes, so a resumed file's state must come from hashing
//! the `.part` prefix again ([`Rehash`]: reads of the `.part` within the
//! window, hashed strictly in offset order), starting from the last saved
//! [`HashCheckpoint`] when one of this very file version is still covered by
//! the `.part` ([`resume_point`]).
//!
//! Invariants: a [`Rehash`] hashes each byte of `start..len` exactly once, in
//! order, and holds at most `window` chunks read out of order; a checkpoint
//! is used only if its file index, size and digest match the entry and it
//! lies within the `.part`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use md5::Digest;
use md5::digest::common::hazmat::{SerializableState, SerializedState};

use crate::api::{Output, TransferId};
use crate::transfer::HashCheckpoint;
use crate::transfer::outbox::TransferEvent;
use crate::wire::Md5;

/// A running MD5.
#[derive(Clone, Default)]
pub(crate) struct Hasher(md5::Md5);

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hasher")
    }
}

impl Hasher {
    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest of everything added so far (the state is kept).
    pub fn digest(&self) -> Md5 {
        Md5(self.0.clone().finalize().into())
    }

    /// md-5's serialized state.
    pub fn save(&self) -> Vec<u8> {
        self.0.serialize().to_vec()
    }

    /// A state saved by [`Hasher::save`]; `None` if it does not decode.
    pub fn load(bytes: &[u8]) -> Option<Self> {
        let state = SerializedState::<md5::Md5>::try_from(bytes).ok()?;
        md5::Md5::deserialize(&state).ok().map(Hasher)
    }
}

/// Where hashing of a resumed file starts: the checkpoint's state and offset
/// if it belongs to `file` as the entry `(size, md5)` describes it and the
/// `.part` (`len` bytes) still reaches it; otherwise `None` (from zero).
pub(crate) fn resume_point(
    checkpoint: Option<HashCheckpoint>,
    file: u32,
    entry: Option<(u64, Md5)>,
    len: u64,
) -> Option<(Hasher, HashCheckpoint)> {
    let c = checkpoint?;
    if c.file != file || Some((c.size, c.md5)) != entry || c.offset > len {
        return None;
    }
    Some((Hasher::load(&c.state)?, c))
}

/// Re-reading `start..len` of a `.part`; see the module documentation.
#[derive(Debug)]
pub(crate) struct Rehash {
    /// Bytes in the `.part` to cover.
    pub len: u64,
    next_read: u64,
    /// Everything before this is hashed.
    pub hashed: u64,
    reads: BTreeMap<u64, Option<Vec<u8>>>,
}

/// What a read answer did.
pub(crate) enum Step {
    /// Not a read this rehash is waiting for (stale): ignore.
    Stale,
    /// The `.part` is shorter than it said: trust none of it.
    Short,
    /// Hashed what was contiguous; `true` once all of `len` is.
    Hashed(bool),
}

impl Rehash {
    /// Covers `start..len` (the hasher is at `start`).
    pub fn new(start: u64, len: u64) -> Self {
        Self {
            len,
            next_read: start,
            hashed: start,
            reads: BTreeMap::new(),
        }
    }

    /// Asks for reads while fewer than `window` are outstanding.
    pub fn pump(
        &mut self,
        (transfer, file): (TransferId, u32),
        chunk: u64,
        window: u64,
        out: &mut VecDeque<Output<TransferEvent>>,
    ) {
        while self.next_read < self.len && (self.reads.len() as u64) < window {
            let len = chunk.min(self.len - self.next_read);
            self.reads.insert(self.next_read, None);
            out.push_back(Output::ReadChunk {
                transfer,
                file,
                offset: self.next_read,
                len: len as u32,
            });
            self.next_read += len;
        }
    }

    /// Takes the answer to a read of `offset` (asked with chunk size `chunk`).
    pub fn take(&mut self, offset: u64, data: &[u8], chunk: u64, hasher: &mut Hasher) -> Step {
        if !matches!(self.reads.get(&offset), Some(None)) {
            return Step::Stale;
        }
        if data.len() as u64 != chunk.min(self.len - offset) {
            return Step::Short;
        }
        self.reads.insert(offset, Some(data.to_vec()));
        while let Some(mut e) = self.reads.first_entry() {
            let Some(bytes) = e.get_mut().take() else {
                break;
            };
            e.remove();
            hasher.update(&bytes);
            self.hashed += bytes.len() as u64;
        }
        Step::Hashed(self.hashed == self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_resumes() {
        let mut h = Hasher::default();
        h.update(b"hello ");
        let back = Hasher::load(&h.save()).unwrap();
        let mut a = h.clone();
        let mut b = back;
        a.update(b"world");
        b.update(b"world");
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.digest(), Md5::of(b"hello world"));
        assert!(Hasher::load(b"garbage").is_none());
    }

    #[test]
    fn out_of_order_reads_hash_in_order() {
        let data = b"abcdefghij";
        let mut r = Rehash::new(0, 10);
        let mut out = VecDeque::new();
        r.pump((TransferId(1), 0), 4, 8, &mut out);
        assert_eq!(out.len(), 3);
        let mut h = Hasher::default();
        assert!(matches!(
            r.take(8, &data[8..], 4, &mut h),
            Step::Hashed(false)
        ));
        assert!(matches!(
            r.take(4, &data[4..8], 4, &mut h),
            Step::Hashed(false)
        ));
        assert!(matches!(r.take(4, &data[4..8], 4, &mut h), Step::Stale));
        assert!(matches!(
            r.take(0, &data[..4], 4, &mut h),
            Step::Hashed(true)
        ));
        assert_eq!(h.digest(), Md5::of(data));
        let mut r = Rehash::new(0, 10);
        r.pump((TransferId(1), 0), 4, 8, &mut out);
        assert!(matches!(r.take(0, b"ab", 4, &mut h), Step::Short));
    }
}
