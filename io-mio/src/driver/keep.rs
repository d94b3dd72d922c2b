//! How the driver keeps the records of an engine that waits for durability
//! itself ([`confab_engine::Engine::WAITS_FOR_DURABLE`], the peer): each
//! settle's batch is appended to the store's journal (survives the process
//! dying) before anything of that settle is sent or shown, and handed to the
//! committer thread, which makes batches durable in groups; the engine is
//! told how far with [`Input::RecordsDurable`], numbered as the driver rules
//! of `api.rs` say (every `Persist`/`Forget` polled, from 1).
//!
//! The journal is emptied once it holds [`CLEAR_AT`] bytes and the database
//! holds all of it (not after every commit: a batch already in the database
//! is harmless to replay, and truncating costs a metadata write), and never
//! grows past [`JOURNAL_LIMIT`]: past it, the loop waits for the committer.

use std::sync::Arc;
use std::time::Instant;

use confab_engine::{Engine, Input};
use mio::Waker;

use super::{Driver, DriverError};
use crate::role::Stoppable;
use crate::store::committer::Committer;
use crate::store::journal::Journal;
use crate::store::{Change, Raw, Store, StoreError};

/// A journal longer than this is emptied at once, after waiting for the
/// committer: the journal is replayed at start, so it stays short.
const JOURNAL_LIMIT: u64 = 16 << 20;

/// A journal at least this long is emptied when the database has caught up.
const CLEAR_AT: u64 = 1 << 20;

/// The journal and the committer of one driver, and the record numbers.
#[derive(Debug)]
pub(super) struct Keeper {
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

    /// Writes `changes` (the next records in order) to the journal; they go
    /// to the committer with [`Keeper::hand_over`].
    pub fn write(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        let start = self.pending.len();
        self.pending.extend(changes.iter().map(Change::raw));
        self.journal
            .append(&self.pending[start..])
            .map_err(|e| self.journal_failed(&e))?;
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
        let durable = self.committer.durable()?;
        if durable == self.written && self.journal.len() >= CLEAR_AT {
            self.journal.clear().map_err(|e| self.journal_failed(&e))?;
        }
        if durable <= self.told {
            return Ok(None);
        }
        self.told = durable;
        Ok(Some(durable))
    }
}

impl<E> Driver<E>
where
    E: Engine,
    E::Command: Stoppable,
{
    /// Hands what the journal got in this settle to the committer.
    pub(super) fn hand_over(&mut self) -> Result<(), DriverError> {
        match self.keeper.as_mut() {
            Some(keeper) => keeper.hand_over().map_err(DriverError::Store),
            None => Ok(()),
        }
    }

    /// Tells the engine how far its records are durable, if further than
    /// before. A store failure stops the driver.
    pub(super) fn take_durable(&mut self, now: Instant) -> Result<(), DriverError> {
        let Some(keeper) = self.keeper.as_mut() else {
            return Ok(());
        };
        match keeper.news() {
            Ok(Some(upto)) => {
                self.engine
                    .handle_input(now, Input::RecordsDurable { upto });
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(DriverError::Store(e)),
        }
    }
}
