//! [`Committer`]: a thread that makes the driver's records durable in the
//! database, off the event loop. Group commit: each turn it takes every
//! batch waiting, folds them (the last change to a key wins, so a record
//! written and deleted within the turn costs nothing), and commits them in
//! one redb transaction (one `fsync`). It then publishes the number of the
//! last record made durable and wakes the loop.
//!
//! It works in the background of the event loop, which never waits for it
//! on the way of a message: it gathers for [`GATHER`] after the first batch
//! of a turn (a commit costs an `fsync` and copy-on-write pages whatever it
//! holds, so fewer, larger commits leave the CPU to the loop). (A lower
//! priority for this thread was tried and dropped: at `nice 10` on a busy
//! machine it starved, holding back acknowledgements and the throughput.)
//!
//! Touches only the database (through [`super::write`]) and the loop's
//! waker. The batches are already in the [`super::journal`], so a batch
//! still waiting here when the process dies is not lost: the next start
//! replays it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use mio::Waker;
use redb::Database;

use super::{Raw, StoreError, write};

/// Records up to `upto` (numbered by the driver) with these changes.
struct Batch {
    upto: u64,
    changes: Vec<Raw>,
}

/// How far the thread got.
#[derive(Debug, Default)]
struct Progress {
    durable: u64,
    failed: Option<String>,
}

type Shared = Arc<(Mutex<Progress>, Condvar)>;

/// How long a turn gathers batches after its first: what an acknowledgement
/// may wait beyond the commit itself.
const GATHER: Duration = Duration::from_millis(1);

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Committer {
    batches: Option<Sender<Batch>>,
    progress: Shared,
    thread: Option<JoinHandle<()>>,
}

impl Committer {
    /// Starts the thread committing into `db` (at `path`, for messages).
    pub fn start(db: Arc<Database>, path: PathBuf, waker: Arc<Waker>) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let progress: Shared = Arc::default();
        let shared = progress.clone();
        let thread = std::thread::Builder::new()
            .name("confab-commit".into())
            .spawn(move || run(&db, &path, &rx, &shared, &waker))?;
        Ok(Self {
            batches: Some(tx),
            progress,
            thread: Some(thread),
        })
    }

    /// Hands over the changes of records up to `upto`.
    pub fn submit(&self, upto: u64, changes: Vec<Raw>) -> Result<(), StoreError> {
        let sent = self
            .batches
            .as_ref()
            .is_some_and(|tx| tx.send(Batch { upto, changes }).is_ok());
        if sent {
            return Ok(());
        }
        Err(self
            .failure()
            .unwrap_or_else(|| StoreError("the store's writer stopped".into())))
    }

    fn failure(&self) -> Option<StoreError> {
        let p = self
            .progress
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        p.failed.clone().map(StoreError)
    }

    /// The number of the last record made durable.
    pub fn durable(&self) -> Result<u64, StoreError> {
        let p = self
            .progress
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match &p.failed {
            Some(e) => Err(StoreError(e.clone())),
            None => Ok(p.durable),
        }
    }

    /// Waits until every record up to `upto` is durable.
    pub fn wait_for(&self, upto: u64) -> Result<(), StoreError> {
        let (lock, cond) = &*self.progress;
        let mut p = lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(e) = &p.failed {
                return Err(StoreError(e.clone()));
            }
            if p.durable >= upto {
                return Ok(());
            }
            p = cond.wait(p).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for Committer {
    /// Commits what is still waiting, then ends the thread.
    fn drop(&mut self) {
        self.batches = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(
    db: &Database,
    path: &std::path::Path,
    rx: &Receiver<Batch>,
    shared: &Shared,
    waker: &Waker,
) {
    while let Ok(first) = rx.recv() {
        // Not an event to wait for: the point is to let batches pile up.
        std::thread::sleep(GATHER);
        let mut upto = first.upto;
        let mut folded: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
        for batch in std::iter::once(first).chain(rx.try_iter()) {
            upto = upto.max(batch.upto);
            for c in batch.changes {
                folded.insert(c.key, c.value);
            }
        }
        let result = write(
            db,
            path,
            folded.iter().map(|(k, v)| (k.as_str(), v.as_deref())),
        );
        let (lock, cond) = &**shared;
        let mut p = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let stop = match result {
            Ok(()) => {
                p.durable = upto;
                false
            }
            Err(e) => {
                p.failed = Some(e.0);
                true
            }
        };
        drop(p);
        cond.notify_all();
        let _ = waker.wake();
        if stop {
            return;
        }
    }
}
