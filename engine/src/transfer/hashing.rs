//! [`Md5Work`] and [`HashLane`]: the receiver's MD5 of new chunks, computed
//! on whatever thread the driver likes, so that the event loop receives and
//! decrypts the next chunks while the last ones are hashed.
//!
//! Why: on a transfer's receiver MD5 is most of the work per byte (about
//! 600 MB/s on the project's machine; decrypting, decoding and handing bytes
//! to the writer are several times faster). Done on the loop's thread it caps
//! the transfer well below the hashing limit. Handing the work out keeps the
//! engine sans-IO: the engine decides what is hashed and in which order, the
//! driver only picks the thread, as it does for password work
//! ([`crate::password::PasswordWork`]).
//!
//! A chunk's way: taken (in order, at `expected`) -> waits in the lane -> out
//! in an [`Md5Work`] ([`crate::Output::HashChunks`]) -> back
//! ([`crate::Input::ChunksHashed`]) -> [`crate::Output::WriteChunk`] ->
//! [`crate::Input::ChunkWritten`] -> acknowledged. A chunk is written only
//! after it is hashed, and acknowledged only after both.
//!
//! Invariants:
//! - at most one work of a lane is out at a time, and the running hasher
//!   travels in it (the lane holds none meanwhile); chunks taken meanwhile
//!   wait in the lane and go out together in the next work, so the hash
//!   covers every chunk exactly once, in the order taken;
//! - only the work out is taken back: work of an earlier epoch (the lane was
//!   reset because its file started over or was reopened), or handed back
//!   twice, is dropped, chunks and all;
//! - what waits is bounded by the write window: the receiver counts a chunk
//!   as a pending write from the moment it takes it;
//! - work that comes back unrun (a driver's mistake) is run on return, so a
//!   digest never skips bytes.

use std::fmt;

use md5::Digest;
use md5::digest::common::hazmat::{SerializableState, SerializedState};

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

/// A chunk taken and not yet written: its offset in the file and its bytes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pending {
    pub offset: u64,
    pub data: Vec<u8>,
}

/// MD5 work for the driver: call [`Md5Work::run`] on any thread, then hand
/// it back with [`crate::Input::ChunksHashed`]. Holds the chunks to hash and
/// the running MD5 state of their file; nothing in it touches the engine.
/// A copy handed back after the original (or instead of a later work) is
/// dropped, so cloning it (as test harnesses do) is harmless.
#[derive(Clone)]
pub struct Md5Work {
    hasher: Box<Hasher>,
    chunks: Vec<Pending>,
    epoch: u32,
    serial: u64,
    ran: bool,
}

impl fmt::Debug for Md5Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Md5Work")
            .field("chunks", &self.chunks.len())
            .field("bytes", &self.bytes())
            .field("ran", &self.ran)
            .finish()
    }
}

impl PartialEq for Md5Work {
    fn eq(&self, other: &Self) -> bool {
        (self.epoch, self.serial, self.ran, &self.chunks)
            == (other.epoch, other.serial, other.ran, &other.chunks)
            && self.hasher.digest() == other.hasher.digest()
    }
}

impl Md5Work {
    /// Hashes the chunks into the state. The slow part: about 1.6 ns per
    /// byte. Running it twice hashes nothing twice.
    pub fn run(&mut self) {
        if std::mem::replace(&mut self.ran, true) {
            return;
        }
        for c in &self.chunks {
            self.hasher.update(&c.data);
        }
    }

    /// How many bytes it hashes.
    pub fn bytes(&self) -> u64 {
        self.chunks.iter().map(|c| c.data.len() as u64).sum()
    }
}

/// One file's MD5 as its chunks come in. See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct HashLane {
    /// The running state, when no work is out (boxed: it travels).
    home: Option<Box<Hasher>>,
    waiting: Vec<Pending>,
    epoch: u32,
    /// The serial number of the last work sent out.
    serial: u64,
}

impl HashLane {
    /// Starts over from `hasher` (of the bytes before the next chunk),
    /// forgetting whatever waits and disowning any work out.
    pub fn reset(&mut self, hasher: Hasher) {
        self.epoch = self.epoch.wrapping_add(1);
        self.home = Some(Box::new(hasher));
        self.waiting.clear();
    }

    /// The running state, unless work is out (then `None`).
    pub fn home(&mut self) -> Option<&mut Hasher> {
        self.home.as_deref_mut()
    }

    /// Takes the next chunk in order; the work to hand out, if the hasher is
    /// home to go with it.
    pub fn take(&mut self, offset: u64, data: Vec<u8>) -> Option<Md5Work> {
        self.waiting.push(Pending { offset, data });
        self.send_out()
    }

    /// Work of this lane comes back: the chunks it hashed, in order, for
    /// writing; `None` if it is of an earlier epoch (dropped).
    pub fn returned(&mut self, mut work: Md5Work) -> Option<Vec<Pending>> {
        if work.epoch != self.epoch || work.serial != self.serial || self.home.is_some() {
            return None;
        }
        work.run();
        self.home = Some(work.hasher);
        Some(work.chunks)
    }

    /// The work for whatever waits, if the hasher is home to go with it.
    pub fn send_out(&mut self) -> Option<Md5Work> {
        if self.waiting.is_empty() {
            return None;
        }
        let hasher = self.home.take()?;
        self.serial += 1;
        Some(Md5Work {
            hasher,
            chunks: std::mem::take(&mut self.waiting),
            epoch: self.epoch,
            serial: self.serial,
            ran: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(lane: &mut HashLane) -> Md5 {
        lane.home().map(|h| h.digest()).unwrap_or_default()
    }

    #[test]
    fn chunks_taken_while_work_is_out_go_in_the_next_work_in_order() {
        let mut lane = HashLane::default();
        lane.reset(Hasher::default());
        let mut first = lane.take(0, b"ab".to_vec()).expect("the hasher is home");
        assert!(
            lane.take(2, b"cd".to_vec()).is_none(),
            "one work out at a time"
        );
        assert!(lane.take(4, b"e".to_vec()).is_none());
        assert!(lane.home().is_none());
        first.run();
        let done = lane.returned(first).expect("of this epoch");
        assert_eq!(done.iter().map(|p| p.offset).collect::<Vec<_>>(), [0]);
        let mut second = lane.send_out().expect("two chunks wait");
        assert_eq!(second.bytes(), 3);
        second.run();
        let done = lane.returned(second).expect("of this epoch");
        assert_eq!(done.iter().map(|p| p.offset).collect::<Vec<_>>(), [2, 4]);
        assert!(lane.send_out().is_none());
        assert_eq!(digest(&mut lane), Md5::of(b"abcde"));
    }

    #[test]
    fn work_of_an_earlier_epoch_is_dropped() {
        let mut lane = HashLane::default();
        lane.reset(Hasher::default());
        let old = lane.take(0, b"stale".to_vec()).expect("home");
        lane.reset(Hasher::default());
        assert!(lane.returned(old).is_none());
        let w = lane.take(0, b"x".to_vec()).expect("home again after reset");
        assert!(lane.returned(w).is_some());
        assert_eq!(digest(&mut lane), Md5::of(b"x"));
    }

    #[test]
    fn only_the_work_out_is_taken_back() {
        let mut lane = HashLane::default();
        lane.reset(Hasher::default());
        let first = lane.take(0, b"a".to_vec()).expect("home");
        let twin = Md5Work {
            hasher: Box::default(),
            chunks: Vec::new(),
            epoch: first.epoch,
            serial: first.serial,
            ran: true,
        };
        lane.returned(first).expect("the work out");
        let second = lane.take(1, b"b".to_vec()).expect("home");
        assert!(lane.returned(twin).is_none(), "handed back twice");
        lane.returned(second).expect("the work out");
        assert_eq!(digest(&mut lane), Md5::of(b"ab"));
    }

    #[test]
    fn unrun_work_is_run_on_return_and_run_twice_hashes_once() {
        let mut lane = HashLane::default();
        lane.reset(Hasher::default());
        let w = lane.take(0, b"abc".to_vec()).expect("home");
        lane.returned(w).expect("this epoch");
        assert_eq!(digest(&mut lane), Md5::of(b"abc"), "run on return");
        let mut w = lane.take(3, b"d".to_vec()).expect("home");
        w.run();
        w.run();
        lane.returned(w).expect("this epoch");
        assert_eq!(digest(&mut lane), Md5::of(b"abcd"), "once");
    }
}
