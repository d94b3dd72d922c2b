//! How a transfer gets its id ([`TransferId`]), so that both sides show
//! the same one: it is read off the [`TransferKey`] both sides share,
//! `t1000` to `t9999` (see [`id_of`]). The side that starts a transfer
//! draws keys until the id has not been used here this run; the other side
//! takes the id the key says unless it has used it this run, and then takes
//! a fresh one from `t10000` up, and says so. An id is never handed out
//! twice in a run (the engine's contract: a driver's late answer about a
//! transfer that ended must not reach another one), so after about 9000
//! transfers in one run the two sides' ids may differ. `/resume` continues
//! a download as a new transfer, with a new id (see `kept`).
//!
//! Touches `used` and reads the live and kept transfers through
//! [`Transfers::taken`]. Ids of transfers saved before this numbering (a
//! store from an earlier version) are kept as they were.

use super::Transfers;
use crate::api::TransferId;
use crate::peer::io::Io;
use crate::wire::Name;
use crate::wire::transfer::TransferKey;

/// The first id read off a key.
const FIRST: u64 = 1000;
/// How many ids keys read as: `FIRST..FIRST + SPAN`.
const SPAN: u64 = 9000;
/// Draws before the starting side gives up avoiding ids used this run.
const TRIES: usize = 64;
/// The first id of those that no key reads as, handed out in order when
/// the one a key reads as was used already.
const FIRST_UNIQUE: u64 = FIRST + SPAN;

/// The id a transfer with `key` has on both sides (unless taken).
pub(crate) fn id_of(key: TransferKey) -> TransferId {
    TransferId(FIRST + key.0 % SPAN)
}

impl Transfers {
    /// Whether `id` names a live or kept transfer here.
    pub(super) fn taken(&self, id: TransferId) -> bool {
        self.machines.contains_key(&id) || self.kept.contains_key(&id)
    }

    /// Notes `id` as used this run: a key's id in `used` (at most 9000 of
    /// them), any other id by moving the fresh ids past it.
    pub(super) fn note_used(&mut self, id: TransferId) {
        if id.0 >= FIRST_UNIQUE {
            self.next_unique = self.next_unique.max(id.0 + 1);
        } else {
            self.used.insert(id);
        }
    }

    /// An id no key reads as and never handed out here.
    fn fresh_id(&mut self) -> TransferId {
        let id = TransferId(self.next_unique.max(FIRST_UNIQUE));
        self.next_unique = id.0 + 1;
        id
    }

    /// A fresh key for a transfer this peer starts with `peer`, and the id
    /// it reads as (free here).
    pub(super) fn mint(&mut self, io: &mut Io, peer: &Name) -> (TransferId, TransferKey) {
        for tries in 1.. {
            let key = TransferKey(io.rng.next_u64());
            if self.keys.contains_key(&(peer.clone(), key)) {
                continue;
            }
            let id = id_of(key);
            if !self.used.contains(&id) && !self.taken(id) {
                self.note_used(id);
                return (id, key);
            }
            if tries >= TRIES {
                // Nearly every key id used this run: one of our own.
                return (self.fresh_id(), key);
            }
        }
        unreachable!("the loop above returns")
    }

    /// The id here of a transfer `from` started with `key`: the one the key
    /// reads as, or, if that is taken here, the next free one (with a
    /// notice saying both).
    pub(super) fn answering_id(
        &mut self,
        io: &mut Io,
        from: &Name,
        key: TransferKey,
    ) -> TransferId {
        let theirs = id_of(key);
        if !self.used.contains(&theirs) && !self.taken(theirs) {
            self.note_used(theirs);
            return theirs;
        }
        let id = self.fresh_id();
        io.notice(format!(
            "{id}: {from}'s transfer {theirs} is {id} here ({theirs} was used here already)"
        ));
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_off_keys_stay_in_range() {
        for k in [0, 1, 8999, 9000, u64::MAX, u64::MAX - 1, 123_456_789] {
            let id = id_of(TransferKey(k));
            assert!((FIRST..FIRST + SPAN).contains(&id.0), "{k}: {id}");
        }
        assert_eq!(id_of(TransferKey(0)), TransferId(1000));
        assert_eq!(id_of(TransferKey(9001)), TransferId(1001));
    }

    fn transfers() -> (Transfers, Io) {
        let t = Transfers::new(crate::transfer::TransferConfig::default());
        (t, Io::new(std::time::Instant::now(), 5))
    }

    #[test]
    fn both_sides_read_the_same_id() {
        let (mut alice, mut io) = transfers();
        let (mut bob, _) = transfers();
        let (a, b) = (Name::new("alice").unwrap(), Name::new("bob").unwrap());
        for _ in 0..50 {
            let (id, key) = alice.mint(&mut io, &b);
            assert_eq!(id, id_of(key));
            assert_eq!(bob.answering_id(&mut io, &a, key), id);
        }
    }

    #[test]
    fn a_taken_id_is_answered_with_a_fresh_one_and_said() {
        let (mut t, mut io) = transfers();
        let bob = Name::new("bob").unwrap();
        let part = crate::transfer::status::KeptPart {
            name: "f".into(),
            done: 1,
            total: 2,
            paused: true,
            file: 0,
            path: crate::wire::transfer::RelPath::new("f").unwrap(),
            bytes: 1,
            fetch: None,
        };
        for id in [9999, 1000] {
            t.kept.insert(TransferId(id), (bob.clone(), part.clone()));
        }
        let key = TransferKey(8999); // reads as t9999
        assert_eq!(t.answering_id(&mut io, &bob, key), TransferId(10000));
        let said = format!("{:?}", io.out);
        assert!(
            said.contains("bob's transfer t9999 is t10000 here"),
            "{said}"
        );
    }

    /// Found by the simulator (seeds 1047, 1063, 1193): the id of a finished
    /// transfer was handed to a new one, so the old one's late reports
    /// named the new one. An id is never handed out twice in a run.
    #[test]
    fn no_id_is_handed_out_twice_in_a_run() {
        let (mut t, mut io) = transfers();
        let bob = Name::new("bob").unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for k in 0..20_000u64 {
            // Keys that read as few ids, answered and started in turn.
            let id = if k % 2 == 0 {
                t.answering_id(&mut io, &bob, TransferKey(k % 50))
            } else {
                t.mint(&mut io, &bob).0
            };
            assert!(seen.insert(id), "{id} handed out twice");
        }
    }
}
