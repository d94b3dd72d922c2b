//! A host's durable store: the records its engine asked to keep
//! ([`confab_engine::Output::Persist`]), which survive that host's crashes and
//! restarts and are handed back to the engine's constructor.
//!
//! Invariant: one record per key, iterated in key order (a `BTreeMap`), so a
//! restarted engine sees its records in the same order on every run.

use std::collections::BTreeMap;

use confab_engine::{Record, RecordKey};

/// See the module documentation.
#[derive(Debug, Default, Clone)]
pub struct Store {
    records: BTreeMap<RecordKey, Record>,
    writes: u64,
}

impl Store {
    /// Keeps `record`, replacing any with the same key.
    pub fn persist(&mut self, record: Record) {
        self.writes += 1;
        self.records.insert(record.key(), record);
    }

    /// Deletes the record under `key`.
    pub fn forget(&mut self, key: &RecordKey) {
        self.writes += 1;
        self.records.remove(key);
    }

    /// Every record, in key order.
    pub fn records(&self) -> Vec<Record> {
        self.records.values().cloned().collect()
    }

    /// How many records are stored.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// How many persists and forgets were carried out.
    pub fn writes(&self) -> u64 {
        self.writes
    }
}
