//! [`Keeper`]: the journal and the committer of one driver whose engine
//! waits for durability itself ([`confab_engine::Engine::WAITS_FOR_DURABLE`],
//! the peer), and the record numbers: each settle's batch is appended to the
//! [`super::journal`] and synced (one `fdatasync` a batch: it survives the
//! process dying and the machine losing power) before anything of that
//! settle is sent or shown, then handed to the [`super::committer`], which
//! copies batches into the database in groups, off the loop;
//! [`Keeper::news`] says how far records are durable, numbered as the driver
//! rules of `api.rs` say (every `Persist`/`Forget` polled, from 1).
//!
//! Why the sync before sending, not only before acknowledging: a sender
//! whose outbox and next-number records were lost (a power cut before the
//! commit) would number its next messages again from an older point, and
//! the receiver would drop them as duplicates while acknowledging them.
//!
//! The journal is emptied once it holds [`CLEAR_AT`] bytes and the database
//! holds all of it (not after every commit: a batch already in the database
//! is harmless to replay, and truncating costs a metadata write), and never
//! grows past [`JOURNAL_LIMIT`]: past it, the loop waits for the committer.

use std::sync::Arc;

use mio::Waker;

use super::committer::Committer;
use super::journal::Journal;
use super::{Change, Raw, Store, StoreError};

/// A journal longer than this is emptied at once, after waiting for the
/// committer: the journal is replayed at start, so it stays short.
const JOURNAL_LIMIT: u64 = 16 << 20;

/// A journal at least this long is emptied when the database has caught up.
const CLEAR_AT: u64 = 1 << 20;

/// The journal and the committer of one driver, and the record numbers.
#[derive(Debug)]
pub(crate) struct Keeper {
    journal: Journal,
    committer: Committer,
    /// Records written to the journal.
    written: u64,
    /// Written, not yet handed to the committer (see [`Keeper::hand_over`]).
    pending: Vec<Raw>,
    /// Records the engine was told are durable.
    told: u64,
}

impl Keeper {
    /// Opens the journal of `store` and starts its committer.
    pub fn start(store: &Store, waker: Arc<Waker>) -> Result<Self, StoreError> {
        let path = store.journal_path();
        let journal = Journal::open(&path).map_err(|e| {
            StoreError(format!(
                "cannot open the journal {}: {e}; check that the data folder is writable",
                path.display()
            ))
        })?;
        let committer =
            Committer::start(store.shared_database(), store.path().to_path_buf(), waker)
                .map_err(|e| StoreError(format!("cannot start the store's writer: {e}")))?;
        Ok(Self {
            journal,
            committer,
            written: 0,
            pending: Vec::new(),
            told: 0,
        })
    }

    fn journal_failed(&self, e: &std::io::Error) -> StoreError {
        StoreError(format!("cannot write the journal: {e}; is the disk full?"))
    }

    /// Writes `changes` (the next records in order) to the journal and
    /// makes them durable there (one `fdatasync` for the whole batch: the
    /// journal is the write-ahead log, so nothing of the settle is sent or
    /// shown before its records would survive a power loss); they go to the
    /// committer with [`Keeper::hand_over`].
    pub fn write(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let start = self.pending.len();
        self.pending.extend(changes.iter().map(Change::raw));
        self.journal
            .append(&self.pending[start..])
            .map_err(|e| self.journal_failed(&e))?;
        self.journal.sync().map_err(|e| self.journal_failed(&e))?;
        self.written += changes.len() as u64;
        if self.journal.len() > JOURNAL_LIMIT {
            self.sync()?;
        }
        Ok(())
    }

    /// Hands what was written to the committer. The driver does it after a
    /// settle's socket writes: waking the committer is not on the way of a
    /// message.
    pub fn hand_over(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        self.committer.submit(self.written, batch)
    }

    /// Waits until every record written is durable, then empties the journal.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        self.hand_over()?;
        self.committer.wait_for(self.written)?;
        self.journal.clear().map_err(|e| self.journal_failed(&e))
    }

    /// How far the committer got, if further than the engine was told (and
    /// empties a long journal if that is all of it).
    pub fn news(&mut self) -> Result<Option<u64>, StoreError> {
        let committed = self.committer.durable()?;
        if committed == self.written && self.journal.len() >= CLEAR_AT {
            self.journal.clear().map_err(|e| self.journal_failed(&e))?;
        }
        // Everything written is durable in the journal already.
        let durable = self.written;
        if durable <= self.told {
            return Ok(None);
        }
        self.told = durable;
        Ok(Some(durable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_engine::RecordKey;
    use mio::{Events, Poll, Token};

    fn forget(key: &str) -> Change {
        Change::Forget(RecordKey(key.into()))
    }

    #[test]
    fn written_records_become_durable_and_a_dead_process_loses_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut poll = Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), Token(0)).unwrap());
        let mut keeper = Keeper::start(&store, waker).unwrap();
        keeper.write(&[forget("a"), forget("b")]).unwrap();
        keeper.write(&[forget("c")]).unwrap();
        assert!(keeper.journal.len() > 0, "written before anything else");
        keeper.hand_over().unwrap();
        // The committer wakes the loop once it has committed.
        let mut events = Events::with_capacity(4);
        let durable = loop {
            poll.poll(&mut events, None).unwrap();
            if let Some(n) = keeper.news().unwrap() {
                break n;
            }
        };
        assert_eq!(durable, 3);
        assert_eq!(keeper.news().unwrap(), None, "said once");
        drop(keeper);
        drop(store);

        // A record only in the journal (the process died before the
        // committer got to it) is in the store after the next open.
        let record = account("alice", 9);
        let changes = [Change::Persist(record.clone())];
        let mut j = Journal::open(&dir.path().join(super::super::journal::JOURNAL_FILE)).unwrap();
        j.append(&changes.iter().map(Change::raw).collect::<Vec<_>>())
            .unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.load().unwrap(), vec![record]);
        let len = std::fs::metadata(store.journal_path()).unwrap().len();
        assert_eq!(len, 0, "replayed, so emptied");
    }

    fn account(name: &str, salt: u8) -> confab_engine::Record {
        use confab_engine::password::{PasswordCost, PasswordDigest, Salt};
        use confab_engine::record::AccountRecord;
        use confab_engine::wire::Name;
        confab_engine::Record::Account(AccountRecord {
            name: Name::new(name).unwrap(),
            salt: Salt([salt; 16]),
            cost: PasswordCost::TESTING,
            digest: PasswordDigest([salt; 32]),
            profile: Default::default(),
        })
    }
}
