//! The path of [`Transfers`] to each remote: whether its connection goes
//! through the registry's relay (`via` on the transfer events), and the
//! room its relayed stream has before it is full, which holds the
//! transfers with that remote back (see
//! [`crate::limits::MAX_RELAY_WAITING`]). Touches `relayed`, `room` and
//! `held`, and the sub-machines through `drive`.

use std::collections::BTreeMap;

use super::{TransferOut, Transfers};
use crate::api::TransferId;
use crate::peer::event::Via;
use crate::peer::io::Io;
use crate::wire::Name;

impl Transfers {
    /// The room on each relayed stream now (remotes reached directly are
    /// not in `room`); held transfers whose remote has room again go on at
    /// once: what they produce comes back to be carried out.
    pub fn set_room(&mut self, io: &mut Io, room: BTreeMap<Name, u64>) -> Vec<TransferOut> {
        self.room = room;
        let released: Vec<Name> = self
            .held
            .iter()
            .filter(|n| self.room.get(*n).is_none_or(|r| *r > 0))
            .cloned()
            .collect();
        for n in &released {
            self.held.remove(n);
        }
        let ids: Vec<TransferId> = self
            .machines
            .iter()
            .filter(|(_, m)| released.contains(m.peer()))
            .map(|(id, _)| *id)
            .collect();
        let mut outs = Vec::new();
        for id in ids {
            outs.extend(self.drive(io, id, |_, _| {}));
        }
        outs
    }

    /// The connection to `name` opened or moved onto `via`.
    pub fn set_via(&mut self, name: &Name, via: Via) {
        match via {
            Via::Relay => self.relayed.insert(name.clone()),
            Via::Direct => self.relayed.remove(name),
        };
    }
}
