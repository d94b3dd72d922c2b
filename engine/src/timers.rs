//! One timer table per engine, keyed by an enum of the engine's timers.
//!
//! Each key has at most one deadline; setting it again moves it. The earliest
//! deadline is found in O(log n), which matters for a registry with thousands
//! of heartbeat timers. Iteration order is by (deadline, key): deterministic.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// Deadlines keyed by `K`.
#[derive(Debug, Clone)]
pub struct TimerTable<K: Ord + Clone> {
    by_key: BTreeMap<K, Instant>,
    by_time: BTreeSet<(Instant, K)>,
}

impl<K: Ord + Clone> Default for TimerTable<K> {
    fn default() -> Self {
        Self {
            by_key: BTreeMap::new(),
            by_time: BTreeSet::new(),
        }
    }
}

impl<K: Ord + Clone> TimerTable<K> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or moves) `key`'s deadline to `at`.
    pub fn set(&mut self, key: K, at: Instant) {
        if let Some(old) = self.by_key.insert(key.clone(), at) {
            self.by_time.remove(&(old, key.clone()));
        }
        self.by_time.insert((at, key));
    }

    /// Removes `key`'s deadline, if any.
    pub fn cancel(&mut self, key: &K) {
        if let Some(old) = self.by_key.remove(key) {
            self.by_time.remove(&(old, key.clone()));
        }
    }

    /// `key`'s deadline.
    pub fn get(&self, key: &K) -> Option<Instant> {
        self.by_key.get(key).copied()
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.by_time.first().map(|(at, _)| *at)
    }

    /// Removes and returns one key whose deadline is at or before `now`,
    /// earliest first.
    pub fn pop_due(&mut self, now: Instant) -> Option<K> {
        let (at, _) = self.by_time.first()?;
        if *at > now {
            return None;
        }
        let (_, key) = self.by_time.pop_first()?;
        self.by_key.remove(&key);
        Some(key)
    }

    /// How many timers are set.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no timer is set.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn earliest_first_and_moves() {
        let t0 = Instant::now();
        let mut t = TimerTable::new();
        t.set("b", t0 + Duration::from_secs(2));
        t.set("a", t0 + Duration::from_secs(3));
        t.set("a", t0 + Duration::from_secs(1));
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(t.pop_due(t0), None);
        assert_eq!(t.pop_due(t0 + Duration::from_secs(5)), Some("a"));
        t.cancel(&"b");
        assert!(t.is_empty());
        assert_eq!(t.pop_due(t0 + Duration::from_secs(5)), None);
    }
}
