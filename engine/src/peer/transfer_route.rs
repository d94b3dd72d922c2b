//! The role machine's side of file transfers: carrying out what the
//! transfers room asks for ([`TransferOut`]), telling it where each link
//! stands, and starting the transfers a user asked for. Split from
//! `route.rs` so each routing file stays one idea. May touch every field of
//! [`Peer`]; the transfers room itself never touches another room.

use crate::ids::TransferId;
use crate::peer::Peer;
use crate::peer::event::PeerEvent;
use crate::peer::questions::Question;
use crate::peer::transfers::{Machine, TransferOut};
use crate::wire::Name;

impl Peer {
    /// Carries out what the transfers asked for, in order.
    pub(super) fn apply_transfer(&mut self, outs: Vec<TransferOut>) {
        for out in outs {
            match out {
                TransferOut::Send(name, msg) => {
                    self.links.send_transfer(&mut self.io, &name, msg);
                }
                TransferOut::Out(o) => self.io.out.push_back(o),
                TransferOut::Offered {
                    id,
                    from,
                    name,
                    size,
                    files,
                } => {
                    let rid = self.questions.add(Question::File(id));
                    self.transfers.offered(id, rid);
                    if files > 1 {
                        self.io
                            .notice(format!("{id}: {from} offers {name}, {files} files"));
                    }
                    self.io.event(PeerEvent::FileOffer {
                        id: rid,
                        from,
                        name,
                        size,
                        transfer: id,
                    });
                }
                TransferOut::Withdraw(id) => {
                    if let Some(rid) = self.transfers.take_offer(id) {
                        self.questions.remove(rid);
                    }
                }
                TransferOut::WantsLink(name) => {
                    if self.links.conn_of(&name).is_none() {
                        self.ensure_link(&name);
                    }
                }
                TransferOut::Reach(name) => self.ensure_link(&name),
            }
        }
    }

    /// Tells `name`'s transfers whether a link to `name` is up, if that
    /// changed (see `peer::transfers`).
    pub(super) fn transfer_sync(&mut self, name: &Name) {
        let cur = self.links.conn_of(name);
        let outs = self.transfers.sync(&mut self.io, name, cur);
        self.apply_transfer(outs);
    }

    /// At the end of every entry point: notices connections that came or
    /// went by any path.
    pub(super) fn transfers_settle(&mut self) {
        let links = &self.links;
        if self.transfers.settled(|name| links.conn_of(name)) {
            return;
        }
        for name in self.transfers.remotes() {
            self.transfer_sync(&name);
        }
    }

    /// Starts a transfer the user asked for, after telling its remote's
    /// transfers where the link stands.
    pub(super) fn start_transfer(&mut self, started: (TransferId, Machine)) {
        let (id, m) = started;
        self.transfer_sync(m.peer());
        let outs = self.transfers.start(&mut self.io, id, m);
        self.apply_transfer(outs);
    }
}
