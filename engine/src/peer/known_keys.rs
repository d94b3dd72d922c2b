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
//! Touches only its own map and, through [`Io`], the records that keep it.

use std::collections::BTreeMap;

use crate::peer::event::PeerEvent;
use crate::peer::io::Io;
use crate::peer::records::PeerRecord;
use crate::wire::Name;
use crate::wire::identity::PublicKey;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct KnownKeys {
    keys: BTreeMap<Name, PublicKey>,
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
    /// it is not the key `name` proved before.
    pub fn seen(&mut self, io: &mut Io, name: &Name, key: PublicKey) {
        let old = self.keys.insert(name.clone(), key);
        if old == Some(key) {
            return;
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
        k.seen(&mut io, &bob, PublicKey([1; 32]));
        k.seen(&mut io, &bob, PublicKey([1; 32]));
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
        k.seen(&mut io, &bob, PublicKey([2; 32]));
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
}
