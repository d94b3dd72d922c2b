//! [`KnownKeys`]: the key each peer this one has talked to proved the last
//! time, as Signal's safety numbers and SSH's known_hosts keep them.
//!
//! A registry certifies names; a registry that lies (or is taken over) can
//! certify its own key for a friend's name, and every check in the
//! handshake would pass. What it cannot hide is the change: a name that
//! proves another key than before is reported ([`PeerEvent::KeyChanged`])
//! with both fingerprints, for the user to compare out of band. The
//! connection is not refused: reinstalling makes a new key too, and the
//! user is the one who can tell the two apart.
//!
//! Without a registry (issue 20) the same map is the trust-on-first-use
//! pin of each claimed name, and a connection proving another key for a
//! pinned name is refused (`lan_route`). The user moves a pin by hand:
//! [`KnownKeys::pin`] (`/trust NAME FINGERPRINT`, a reinstalled peer's new
//! key) and [`KnownKeys::forget`] (`/forget NAME`: the next key is trusted
//! on first use), each reported with both fingerprints
//! ([`PeerEvent::KeyPinned`]) and kept like the first pin. The last key
//! refused for each name is remembered (at most [`MAX_LAN_PEERS`] names,
//! not across restarts), so `/trust` can accept a key that was only ever
//! seen connecting.
//!
//! Touches only its own maps and, through [`Io`], the records that keep
//! them.

use std::collections::BTreeMap;

use crate::limits::MAX_LAN_PEERS;
use crate::peer::event::PeerEvent;
use crate::peer::io::Io;
use crate::peer::records::PeerRecord;
use crate::wire::Name;
use crate::wire::identity::PublicKey;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct KnownKeys {
    keys: BTreeMap<Name, PublicKey>,
    /// The last key refused for each name (see the module documentation).
    refused: BTreeMap<Name, PublicKey>,
    /// The key `/forget` took off each name, until the next one is seen:
    /// whether that one is another key decides if its streams start over.
    forgotten: BTreeMap<Name, PublicKey>,
}

impl KnownKeys {
    /// A key kept before a restart.
    pub fn restore(&mut self, record: &PeerRecord) {
        if let PeerRecord::PeerKey { name, key } = record {
            self.keys.insert(name.clone(), *key);
        }
    }

    /// The key `name` proved last, if it ever did.
    pub fn get(&self, name: &Name) -> Option<PublicKey> {
        self.keys.get(name).copied()
    }

    /// A connection proved that `name` holds `key`: kept, and reported if
    /// it is not the key `name` proved before. `true` if `name` held another
    /// key before (also one forgotten by `/forget`): a new install, whose
    /// streams start over.
    pub fn seen(&mut self, io: &mut Io, name: &Name, key: PublicKey) -> bool {
        let old = self.keys.insert(name.clone(), key);
        let before = old.or_else(|| self.forgotten.remove(name));
        if old == Some(key) {
            return false;
        }
        io.persist(PeerRecord::PeerKey {
            name: name.clone(),
            key,
        });
        if let Some(old) = old {
            io.event(PeerEvent::KeyChanged {
                name: name.clone(),
                old: old.fingerprint().to_string(),
                new: key.fingerprint().to_string(),
            });
        }
        before.is_some_and(|b| b != key)
    }

    /// A connection claiming `name` with `key` was refused (another key is
    /// pinned): remembered for `/trust`.
    pub fn refused(&mut self, name: &Name, key: PublicKey) {
        if self.refused.len() >= MAX_LAN_PEERS && !self.refused.contains_key(name) {
            // A flood of names makes room by forgetting the first in order;
            // only a later `/trust` of that name can miss its key.
            self.refused.pop_first();
        }
        self.refused.insert(name.clone(), key);
    }

    /// The last key refused for `name`, if any.
    pub fn refused_key(&self, name: &Name) -> Option<PublicKey> {
        self.refused.get(name).copied()
    }

    /// `/trust NAME FINGERPRINT`: `name` is pinned to `key` (kept, and
    /// reported with the key it replaces, if any). `true` as for
    /// [`KnownKeys::seen`]: `name` held another key before.
    pub fn pin(&mut self, io: &mut Io, name: &Name, key: PublicKey) -> bool {
        let old = self.keys.insert(name.clone(), key);
        let before = old.or_else(|| self.forgotten.remove(name));
        if self.refused.get(name) == Some(&key) {
            self.refused.remove(name);
        }
        if old != Some(key) {
            io.persist(PeerRecord::PeerKey {
                name: name.clone(),
                key,
            });
        }
        io.event(PeerEvent::KeyPinned {
            name: name.clone(),
            old: old.map(|k| k.fingerprint().to_string()),
            new: Some(key.fingerprint().to_string()),
        });
        before.is_some_and(|b| b != key)
    }

    /// `/forget NAME`: no key is pinned for `name` any more (its record is
    /// deleted); reported with the key it had, if any.
    pub fn forget(&mut self, io: &mut Io, name: &Name) {
        let old = self.keys.remove(name);
        if let Some(key) = old {
            if self.forgotten.len() >= MAX_LAN_PEERS {
                self.forgotten.pop_first();
            }
            self.forgotten.insert(name.clone(), key);
            io.forget(
                PeerRecord::PeerKey {
                    name: name.clone(),
                    key,
                }
                .key(),
            );
        }
        io.event(PeerEvent::KeyPinned {
            name: name.clone(),
            old: old.map(|k| k.fingerprint().to_string()),
            new: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Output;
    use std::time::Instant;

    #[test]
    fn a_first_key_is_kept_and_a_changed_one_reported() {
        let mut io = Io::new(Instant::now(), 1);
        let mut k = KnownKeys::default();
        let bob = Name::new("bob").unwrap();
        assert!(!k.seen(&mut io, &bob, PublicKey([1; 32])), "a first key");
        assert!(!k.seen(&mut io, &bob, PublicKey([1; 32])));
        let events = |io: &mut Io| -> Vec<PeerEvent> {
            io.out
                .drain(..)
                .filter_map(|o| match o {
                    Output::Event(e) => Some(e),
                    _ => None,
                })
                .collect()
        };
        assert!(events(&mut io).is_empty(), "first sight is quiet");
        assert!(k.seen(&mut io, &bob, PublicKey([2; 32])), "another key");
        let got = events(&mut io);
        assert!(
            matches!(&got[..], [PeerEvent::KeyChanged { name, old, new }]
                if name == &bob && *old == PublicKey([1; 32]).fingerprint().to_string()
                    && *new == PublicKey([2; 32]).fingerprint().to_string()),
            "{got:?}"
        );
        // Kept across a restart.
        let mut again = KnownKeys::default();
        again.restore(&PeerRecord::PeerKey {
            name: bob.clone(),
            key: PublicKey([2; 32]),
        });
        assert_eq!(again.get(&bob), Some(PublicKey([2; 32])));
    }

    #[test]
    fn a_pin_is_moved_by_hand_and_forgotten_with_its_record() {
        let mut io = Io::new(Instant::now(), 1);
        let mut k = KnownKeys::default();
        let bob = Name::new("bob").unwrap();
        let (one, two) = (PublicKey([1; 32]), PublicKey([2; 32]));
        k.seen(&mut io, &bob, one);
        k.refused(&bob, two);
        assert_eq!(k.refused_key(&bob), Some(two));
        io.out.clear();
        k.pin(&mut io, &bob, two);
        assert_eq!(k.get(&bob), Some(two));
        assert_eq!(k.refused_key(&bob), None, "taken");
        let out: Vec<Output<PeerEvent>> = io.out.drain(..).collect();
        assert!(
            out.iter()
                .any(|o| matches!(o, Output::Persist(crate::record::Record::Peer(
                PeerRecord::PeerKey { key, .. })) if key == &two)),
            "{out:?}"
        );
        assert!(
            out.iter().any(
                |o| matches!(o, Output::Event(PeerEvent::KeyPinned { old, new, .. })
                if old == &Some(one.fingerprint().to_string())
                    && new == &Some(two.fingerprint().to_string()))
            ),
            "{out:?}"
        );
        k.forget(&mut io, &bob);
        assert_eq!(k.get(&bob), None);
        let out: Vec<Output<PeerEvent>> = io.out.drain(..).collect();
        let gone = PeerRecord::PeerKey {
            name: bob.clone(),
            key: two,
        }
        .key();
        assert!(
            out.iter()
                .any(|o| matches!(o, Output::Forget(key) if key == &gone))
        );
        // Forgetting again: nothing pinned, said so (no old key).
        k.forget(&mut io, &bob);
        assert!(io.out.iter().any(|o| matches!(
            o,
            Output::Event(PeerEvent::KeyPinned {
                old: None,
                new: None,
                ..
            })
        )));
        // A first sight after `/forget` is trusted quietly, as any first.
        io.out.clear();
        assert!(
            k.seen(&mut io, &bob, one),
            "another key than the one forgotten: its streams start over"
        );
        assert!(!io.out.iter().any(|o| matches!(o, Output::Event(_))));
        k.forget(&mut io, &bob);
        assert!(!k.seen(&mut io, &bob, one), "the key forgotten, back");
    }
}
