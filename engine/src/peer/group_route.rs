//! The role machine's side of groups: carrying out what the groups room
//! asks for ([`GroupOut`]), leaving a group, and sending or applying a
//! group's messages. Split from `route.rs` so each routing file stays one
//! idea. May touch every field of [`Peer`]; the groups room itself never
//! touches another room.

use crate::bounded::Text;
use crate::error::CommandError;
use crate::ids::Target;
use crate::limits::MAX_MESSAGE_LEN;
use crate::peer::Peer;
use crate::peer::event::PeerEvent;
use crate::peer::group::GroupOut;
use crate::peer::questions::Question;
use crate::wire::peer::{Conv, Payload};
use crate::wire::{GroupName, Name};

impl Peer {
    /// Carries out what the groups asked for, in order.
    pub(super) fn apply_group(&mut self, outs: Vec<GroupOut>) {
        for out in outs {
            match out {
                GroupOut::Send(name, msg) => {
                    self.links.send(&mut self.io, &name, msg);
                }
                GroupOut::SendOrReach(name, msg) => {
                    if !self.links.send(&mut self.io, &name, msg) {
                        self.ensure_link(&name);
                    }
                }
                GroupOut::Enqueue(to, group, payload) => {
                    self.enqueue(&to, &Conv::Group(group), Some(0), payload);
                }
                GroupOut::Reach(name) => self.ensure_link(&name),
                GroupOut::AskUser {
                    group,
                    from,
                    members,
                } => {
                    let q = Question::Group {
                        group: group.clone(),
                        from: from.clone(),
                        members,
                    };
                    let id = self
                        .questions
                        .ask(&mut self.io, q, self.config.request_timeout);
                    self.groups.asked(&mut self.io, id, from, group);
                }
                GroupOut::Save(g) => self.groups.save(&mut self.io, g),
                GroupOut::Event(e) => self.io.event(e),
                GroupOut::Left { group, who } => {
                    let conv = Conv::Group(group.clone());
                    let dropped = self.streams.abandon(&mut self.io, &who, &conv);
                    self.io.event(PeerEvent::MemberLeft {
                        group: group.clone(),
                        name: who,
                    });
                    // A message only the leaver had not acknowledged has now
                    // reached everyone in the group.
                    for seq in self.streams.settled_by(&dropped) {
                        let to = Target::Group(group.clone());
                        self.io.event(PeerEvent::Delivered { to, seq });
                    }
                }
                GroupOut::DropChanges(group) => {
                    let conv = Conv::Group(group);
                    for r in self.streams.receivers() {
                        self.streams.abandon_changes(&mut self.io, &r, &conv);
                    }
                }
            }
        }
    }

    /// `/leave #G`: tells the members, then the invitations go.
    pub(super) fn cmd_leave(&mut self, group: &GroupName) -> Result<(), CommandError> {
        let tell = self.groups.leave(&mut self.io, &self.config.name, group)?;
        let conv = Conv::Group(group.clone());
        for m in tell {
            self.enqueue(&m, &conv, Some(0), Payload::Left);
        }
        self.groups.left(&mut self.io, group);
        Ok(())
    }

    pub(super) fn message_group(
        &mut self,
        group: GroupName,
        text: Text<MAX_MESSAGE_LEN>,
    ) -> Result<(), CommandError> {
        let me = self.config.name.clone();
        let others = self.groups.recipients(&me, &group)?;
        let conv = Conv::Group(group.clone());
        let seq = self.streams.next_group_seq(&mut self.io, &group);
        self.record(Target::Group(group.clone()), me, text.as_str());
        for m in &others {
            self.enqueue(m, &conv, Some(seq), Payload::Text(text.clone()));
        }
        let to = Target::Group(group);
        self.io.event(PeerEvent::Sent {
            to: to.clone(),
            seq,
            queued: false,
        });
        if others.is_empty() {
            self.io.event(PeerEvent::Delivered { to, seq });
        }
        Ok(())
    }

    /// A group item from `from`, taken and in order.
    pub(super) fn on_group_item(&mut self, group: &GroupName, from: &Name, payload: Payload) {
        if let Payload::Text(text) = payload {
            self.record(Target::Group(group.clone()), from.clone(), text.as_str());
            self.io.event(PeerEvent::Message {
                from: from.clone(),
                to: Target::Group(group.clone()),
                text: text.into_string(),
            });
            return;
        }
        let outs = self
            .groups
            .apply(&mut self.io, &self.config.name, group, from, payload);
        self.apply_group(outs);
    }
}
