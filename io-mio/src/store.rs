//! [`Store`]: the engine's durable records, kept in a redb database in the
//! data directory.
//!
//! Every [`Record`] is stored under its [`RecordKey`] text in one table; a later
//! record with the same key replaces the earlier one. [`Store::load`] hands every
//! record back at start, in key order. The driver writes records in batches
//! ([`Store::commit`]): one redb write transaction, which redb makes durable
//! (fsync) before `commit` returns. The driver calls it before any byte the
//! engine produced after those records reaches a socket, so a crash can lose a
//! record only if nobody was ever told about it.
//!
//! An engine that waits for durability itself ([`Engine::WAITS_FOR_DURABLE`],
//! the peer) is served faster: the driver appends each batch to the
//! [`journal`] (one `write`, no `fsync`: it survives the process dying)
//! before anything that depends on it is sent or shown, and the
//! [`committer`] thread commits the batches waiting into the database, many
//! per transaction, and reports how far it got. [`Store::open`] first
//! replays what a dead process left in the journal.
//!
//! [`Engine::WAITS_FOR_DURABLE`]: confab_engine::Engine::WAITS_FOR_DURABLE
//!
//! The same database holds the MD5 cache of the shared folder
//! ([`crate::SharedIndex`]), in its own table.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use confab_engine::{Record, RecordKey};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

pub(crate) mod committer;
pub(crate) mod journal;
pub(crate) mod keeper;

pub(crate) use journal::Raw;

/// Records, by key text.
const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("records");

/// File name of the database inside the data directory.
pub const STORE_FILE: &str = "confab.redb";

/// Why the store could not be opened or written. The text says what to do.
#[derive(Debug, Clone)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// One change waiting to be committed.
// A `Record` comes by value out of `Output::Persist` and waits here for the
// next commit; boxing it would cost an allocation per record for no saving
// (a batch holds few `Forget`s).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Store (or replace) this record.
    Persist(Record),
    /// Delete the record with this key.
    Forget(RecordKey),
}

impl Change {
    /// The change as the database stores it: key text and encoded record.
    pub(crate) fn raw(&self) -> Raw {
        match self {
            Change::Persist(record) => Raw {
                key: record.key().0,
                value: Some(record.to_bytes()),
            },
            Change::Forget(key) => Raw {
                key: key.0.clone(),
                value: None,
            },
        }
    }
}

/// Applies `changes` in order in one durable transaction of `db` (at `path`,
/// for messages).
pub(crate) fn write<'a>(
    db: &Database,
    path: &Path,
    changes: impl IntoIterator<Item = (&'a str, Option<&'a [u8]>)>,
) -> Result<(), StoreError> {
    let fail = |e: &dyn fmt::Display| {
        StoreError(format!(
            "cannot write the store {}: {e}; is the disk full?",
            path.display()
        ))
    };
    let txn = db.begin_write().map_err(|e| fail(&e))?;
    {
        let mut table = txn.open_table(RECORDS).map_err(|e| fail(&e))?;
        for (key, value) in changes {
            match value {
                Some(v) => {
                    table.insert(key, v).map_err(|e| fail(&e))?;
                }
                None => {
                    table.remove(key).map_err(|e| fail(&e))?;
                }
            }
        }
    }
    txn.commit().map_err(|e| fail(&e))
}

/// The durable store of one engine. See the module documentation.
pub struct Store {
    db: Arc<Database>,
    path: PathBuf,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, creating `dir` too.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError(format!(
                "cannot create the data folder {}: {e}; pick another with --data",
                dir.display()
            ))
        })?;
        let path = dir.join(STORE_FILE);
        let db = Database::create(&path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError(format!(
                "{} is in use by another confab; give this one its own --data folder",
                path.display()
            )),
            other => StoreError(format!(
                "cannot open the store {}: {other}; check that the data folder is writable \
                 or pick another with --data",
                path.display()
            )),
        })?;
        let store = Self {
            db: Arc::new(db),
            path,
        };
        // Create the table so that reads never meet "table does not exist",
        // with whatever a process that died left in the journal.
        let journal = dir.join(journal::JOURNAL_FILE);
        let left = journal::read(&journal).map_err(|e| {
            StoreError(format!(
                "cannot read the journal {}: {e}",
                journal.display()
            ))
        })?;
        write(
            &store.db,
            &store.path,
            left.iter().map(|c| (c.key.as_str(), c.value.as_deref())),
        )?;
        if !left.is_empty() {
            tracing::info!(changes = left.len(), "replayed the journal into the store");
            std::fs::File::create(&journal).map_err(|e| {
                StoreError(format!(
                    "cannot empty the journal {}: {e}",
                    journal.display()
                ))
            })?;
        }
        Ok(store)
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database, for other tables of the same data folder (the MD5 cache).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The database, shared with the thread that hashes files to send (for
    /// the MD5 cache).
    pub(crate) fn shared_database(&self) -> Arc<Database> {
        self.db.clone()
    }

    /// Every stored record, in key order. Records this build cannot decode are
    /// skipped with a warning, never a crash.
    pub fn load(&self) -> Result<Vec<Record>, StoreError> {
        let fail = |e: &dyn fmt::Display| {
            StoreError(format!(
                "cannot read the store {}: {e}",
                self.path.display()
            ))
        };
        let txn = self.db.begin_read().map_err(|e| fail(&e))?;
        let table = txn.open_table(RECORDS).map_err(|e| fail(&e))?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(|e| fail(&e))? {
            let (key, value) = entry.map_err(|e| fail(&e))?;
            match Record::from_bytes(value.value()) {
                Some(record) => out.push(record),
                None => tracing::warn!(
                    key = key.value(),
                    "skipping a stored record this version of confab cannot read"
                ),
            }
        }
        Ok(out)
    }

    /// Applies `changes` in order in one durable transaction.
    pub fn commit(&self, changes: &[Change]) -> Result<(), StoreError> {
        let raws: Vec<Raw> = changes.iter().map(Change::raw).collect();
        write(
            &self.db,
            &self.path,
            raws.iter().map(|c| (c.key.as_str(), c.value.as_deref())),
        )
    }

    /// Where the journal of this store is (see [`journal`]).
    pub(crate) fn journal_path(&self) -> PathBuf {
        self.path.with_file_name(journal::JOURNAL_FILE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_engine::password::{PasswordCost, PasswordDigest, Salt};
    use confab_engine::record::AccountRecord;
    use confab_engine::wire::Name;

    fn account(name: &str, salt: u8) -> Record {
        Record::Account(AccountRecord {
            name: Name::new(name).unwrap(),
            salt: Salt([salt; 16]),
            cost: PasswordCost::TESTING,
            digest: PasswordDigest([salt; 32]),
            profile: Default::default(),
        })
    }

    #[test]
    fn records_survive_reopening_and_replace_by_key() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .commit(&[
                    Change::Persist(account("bob", 1)),
                    Change::Persist(account("alice", 2)),
                    Change::Persist(account("bob", 3)),
                ])
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.load().unwrap(),
            vec![account("alice", 2), account("bob", 3)]
        );
        store
            .commit(&[Change::Forget(account("alice", 0).key())])
            .unwrap();
        assert_eq!(store.load().unwrap(), vec![account("bob", 3)]);
    }

    #[test]
    fn a_second_open_of_the_same_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(err.0.contains("in use"), "{err}");
    }

    #[test]
    fn a_data_folder_that_cannot_be_created_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = Store::open(&file.join("sub")).unwrap_err();
        assert!(err.0.contains("--data"), "{err}");
    }
}
