//! [`History`]: each conversation's messages, sent and received, kept
//! durably as `history/<conversation>/<n>` records and shown by `/history`.
//!
//! Each conversation keeps its last [`MAX_HISTORY_PER_CONVERSATION`]
//! messages; older records are deleted as new ones come, so history costs a
//! bounded amount of storage per conversation. Entries are dated in Unix
//! milliseconds from the driver's wall clock at start plus engine time.

use std::collections::{BTreeMap, VecDeque};

use crate::limits::MAX_HISTORY_PER_CONVERSATION;
use crate::peer::command::Target;
use crate::peer::event::HistoryEntry;
use crate::peer::io::Io;
use crate::peer::records::{PeerRecord, history_key};

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct History {
    convs: BTreeMap<Target, VecDeque<(u64, HistoryEntry)>>,
}

impl History {
    /// Takes a history record (records arrive in any order).
    pub fn restore(&mut self, r: &PeerRecord) {
        if let PeerRecord::History { with, n, entry } = r {
            let conv = self.convs.entry(with.clone()).or_default();
            let at = conv.partition_point(|(m, _)| m < n);
            conv.insert(at, (*n, entry.clone()));
        }
    }

    /// Appends `entry` to the conversation `with`.
    pub fn add(&mut self, io: &mut Io, with: Target, entry: HistoryEntry) {
        let conv = match self.convs.get_mut(&with) {
            Some(conv) => conv,
            None => self.convs.entry(with.clone()).or_default(),
        };
        let n = conv.back().map_or(0, |(n, _)| n + 1);
        conv.push_back((n, entry.clone()));
        io.persist(PeerRecord::History {
            with: with.clone(),
            n,
            entry,
        });
        while conv.len() > MAX_HISTORY_PER_CONVERSATION {
            if let Some((old, _)) = conv.pop_front() {
                io.forget(history_key(&with, old));
            }
        }
    }

    /// The last `count` messages with `with`, oldest first.
    pub fn last(&self, with: &Target, count: usize) -> Vec<HistoryEntry> {
        let Some(conv) = self.convs.get(with) else {
            return Vec::new();
        };
        let skip = conv.len().saturating_sub(count);
        conv.iter().skip(skip).map(|(_, e)| e.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Output;
    use crate::record::Record;
    use crate::wire::Name;
    use std::time::Instant;

    #[test]
    fn keeps_the_last_and_survives_restore() {
        let mut io = Io::new(Instant::now(), 1);
        let mut h = History::default();
        let bob = Target::User(Name::new("bob").unwrap());
        let total = MAX_HISTORY_PER_CONVERSATION + 5;
        for i in 0..total {
            let entry = HistoryEntry {
                from: Name::new("bob").unwrap(),
                text: format!("m{i}"),
                at: i as u64,
            };
            h.add(&mut io, bob.clone(), entry);
        }
        let last = h.last(&bob, 2);
        assert_eq!(last[0].text, format!("m{}", total - 2));
        assert_eq!(last[1].text, format!("m{}", total - 1));
        let mut stored = BTreeMap::new();
        for o in io.out.drain(..) {
            match o {
                Output::Persist(r) => {
                    stored.insert(r.key(), r);
                }
                Output::Forget(k) => {
                    stored.remove(&k);
                }
                _ => {}
            }
        }
        assert_eq!(stored.len(), MAX_HISTORY_PER_CONVERSATION);
        let mut again = History::default();
        for r in stored.values().rev() {
            if let Record::Peer(p) = r {
                again.restore(p);
            }
        }
        assert_eq!(again.last(&bob, 2), last);
        assert_eq!(again.last(&bob, 10_000).len(), MAX_HISTORY_PER_CONVERSATION);
    }
}
