//! How a transfer's [`TransferEvent`]s become the peer's events
//! ([`PeerEvent`]), stamped with the path (`via`) the transfer's bytes take
//! now. Pure: touches only the `outs` it is given.

use super::{TransferOut, Transfers};
use crate::api::{Output, TransferId};
use crate::peer::event::{PeerEvent, Via};
use crate::transfer::TransferEvent;
use crate::wire::Name;
use crate::wire::transfer::TransferMessage;

impl Transfers {
    /// About the bytes `msg` takes on a connection: its data, for what spends a
    /// relayed stream's room (see [`super::Transfers::set_room`]); the few
    /// bytes of framing are in the limit's slack.
    pub(super) fn message_size(msg: &TransferMessage) -> u64 {
        match msg {
            TransferMessage::Chunk { data, .. } => data.len() as u64 + 64,
            _ => 64,
        }
    }

    /// Turns what transfer `id` reports into the peer's events.
    pub(super) fn report(
        outs: &mut Vec<TransferOut>,
        id: TransferId,
        from: &Name,
        via: Via,
        e: TransferEvent,
    ) {
        let event = match e {
            TransferEvent::Offered {
                name, size, files, ..
            } => {
                outs.push(TransferOut::Offered {
                    id,
                    from: from.clone(),
                    name,
                    size,
                    files,
                });
                return;
            }
            TransferEvent::Progress { done, total, rate } => PeerEvent::TransferProgress {
                id,
                done,
                total,
                rate,
                via,
            },
            TransferEvent::Notice(message) => PeerEvent::Notice {
                message: format!("{id}: {message}"),
            },
            TransferEvent::Done {
                direction,
                name,
                path,
                md5,
                folder,
                files,
                size,
            } => PeerEvent::TransferDone {
                id,
                direction,
                name,
                path,
                md5,
                folder,
                files,
                size,
                via,
            },
            TransferEvent::Failed { reason } => {
                // An offer that ends unanswered (expired, withdrawn) is no
                // longer a question.
                outs.push(TransferOut::Withdraw(id));
                PeerEvent::TransferFailed { id, reason }
            }
            TransferEvent::Paused { reason } => PeerEvent::TransferPaused { id, reason },
        };
        outs.push(TransferOut::Out(Output::Event(event)));
    }

    /// A transfer's non-event output as the peer's.
    pub(super) fn pass(out: Output<TransferEvent>) -> Output<PeerEvent> {
        out.map_event(|e| PeerEvent::Notice {
            message: format!("{e:?}"),
        })
    }
}
