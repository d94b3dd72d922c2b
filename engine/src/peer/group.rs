//! Groups: [`Groups`] holds the groups this peer is in, with their members
//! as it knows them, and the invitations it has sent.
//!
//! A group is a name (chosen by its creator, not registered anywhere: a peer
//! is in at most one group of a given name) and a member list that every
//! member keeps. Any member may invite; the invitee accepts or declines; the
//! inviter then tells every other member `Joined(name)` and sends the new
//! member the full list (`Members`). A member who leaves tells every member
//! `Left`. All three travel on the group's numbered streams, like messages,
//! so they are delivered exactly once and in order with the messages around
//! them, across dropped connections and restarts.
//!
//! A member takes a group item only from someone it knows as a member (or,
//! while joining, the member list from its inviter); anything else is not
//! acknowledged, so the sender tries again later, by which time the
//! announcement of the new member has usually arrived.
//!
//! Two members may let two people in at the same time, each newcomer then
//! learning the list as its inviter knew it, without the other. So a member
//! that learns of a newcomer (`Joined`) also tells the newcomer `Joined` for
//! each member it let in itself (`let_in`): whoever let someone in is sure to
//! know of them, and the newcomer takes it from a member it knows (or, if
//! that member is itself a newcomer it has not heard of yet, once it has).
//! At most one such item per member per join.
//!
//! A member that leaves tells the members it knows; one let in meanwhile
//! by someone else may not be among them. So a newcomer, once welcomed,
//! greets every member with `Joined(itself)` (ignored by those who know),
//! and a peer not in the group answers any item of it with
//! [`PeerMessage::NotInGroup`]: the newcomer then drops that member. Groups
//! have at most [`MAX_GROUP_MEMBERS`].
//!
//! Items from different members are not ordered with each other, so a
//! `Joined(x)` sent before `x` left can arrive after `x`'s own `Left` and
//! re-add it: a member that hears of `x` from someone else therefore greets
//! `x`, which answers `NotInGroup` if it has left. A `Left` from someone
//! already dropped is taken and changes nothing, and a peer that rejoins
//! first drops the membership changes its earlier membership still had
//! queued (its messages still go), so an old `Left` never follows it back
//! in.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::CommandError;
use crate::bounded::{List, Text};
use crate::limits::{MAX_GROUP_MEMBERS, MAX_PENDING_INVITES_PER_PEER};
use crate::peer::Peer;
use crate::peer::chat::Question;
use crate::peer::command::Target;
use crate::peer::event::PeerEvent;
use crate::peer::io::Timer;
use crate::peer::records::{GroupRecord, PeerRecord, group_key};
use crate::record::RecordKey;
use crate::wire::peer::{Conv, Payload, PeerMessage};
use crate::wire::{GroupName, Name};

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    groups: BTreeMap<GroupName, GroupRecord>,
    /// Invitations sent and not yet answered: (group, invitee).
    invites: BTreeSet<(GroupName, Name)>,
}

impl Groups {
    pub fn restore(&mut self, g: GroupRecord) {
        self.groups.insert(g.group.clone(), g);
    }

    /// The members of `group`, if this peer is a full member of it.
    pub fn members(&self, group: &GroupName) -> Vec<Name> {
        match self.groups.get(group) {
            Some(g) if g.joining.is_none() => g.members.clone(),
            _ => Vec::new(),
        }
    }

    fn is_member(&self, group: &GroupName) -> bool {
        self.groups.get(group).is_some_and(|g| g.joining.is_none())
    }

    /// Whether some group needs a connection to `name`.
    pub fn wants(&self, name: &Name) -> bool {
        self.groups
            .values()
            .any(|g| g.members.contains(name) || g.joining.as_ref() == Some(name))
            || self.invites.iter().any(|(_, n)| n == name)
    }

    pub fn all_members(&self) -> BTreeSet<Name> {
        let mut all: BTreeSet<Name> = self
            .groups
            .values()
            .flat_map(|g| g.members.iter().chain(g.joining.iter()).cloned())
            .collect();
        all.extend(self.invites.iter().map(|(_, n)| n.clone()));
        all
    }

    /// Whether an item of `group`'s stream from `from` may be taken now.
    pub fn accepts(&self, group: &GroupName, from: &Name, payload: &Payload) -> bool {
        let Some(g) = self.groups.get(group) else {
            return false;
        };
        match (&g.joining, payload) {
            (Some(inviter), Payload::Members(_)) => inviter == from,
            (Some(_), _) | (None, Payload::Members(_)) => false,
            // A `Left` from someone already dropped (it said `NotInGroup`)
            // is taken, and changes nothing: otherwise its sender would
            // repeat it until it rejoins, and then it would count.
            (None, Payload::Left) => true,
            (None, _) => g.members.contains(from),
        }
    }

    fn save(&mut self, io: &mut crate::peer::io::Io, g: GroupRecord) {
        io.persist(PeerRecord::Group(g.clone()));
        self.groups.insert(g.group.clone(), g);
    }
}

impl Peer {
    pub(crate) fn cmd_group_create(&mut self, group: GroupName) -> Result<(), CommandError> {
        if self.groups.groups.contains_key(&group) {
            return Err(CommandError::AlreadyInGroup(group));
        }
        let members = vec![self.me().clone()];
        let g = GroupRecord {
            group: group.clone(),
            members: members.clone(),
            joining: None,
            let_in: Vec::new(),
        };
        self.groups.save(&mut self.io, g);
        self.io.event(PeerEvent::GroupJoined { group, members });
        Ok(())
    }

    pub(crate) fn cmd_invite(&mut self, group: GroupName, name: Name) -> Result<(), CommandError> {
        if !self.groups.is_member(&group) {
            return Err(CommandError::NotInGroup(group));
        }
        let members = self.groups.members(&group);
        if members.contains(&name) {
            return Err(CommandError::AlreadyMember { name, group });
        }
        if members.len() >= MAX_GROUP_MEMBERS {
            return Err(CommandError::GroupFull(group));
        }
        self.groups.invites.insert((group.clone(), name.clone()));
        let timeout = self.config.request_timeout;
        self.io
            .set_timer(Timer::InviteExpiry(group.clone(), name.clone()), timeout);
        self.send_invite(&group, &name);
        Ok(())
    }

    fn send_invite(&mut self, group: &GroupName, name: &Name) {
        let members = List::new(self.groups.members(group)).unwrap_or_default();
        let msg = PeerMessage::GroupInvite {
            group: group.clone(),
            members,
        };
        if !self.links.send(&mut self.io, name, msg) {
            self.ensure_link(name);
        }
    }

    pub(crate) fn cmd_leave(&mut self, group: &GroupName) -> Result<(), CommandError> {
        let Some(g) = self.groups.groups.remove(group) else {
            return Err(CommandError::NotInGroup(group.clone()));
        };
        self.io.forget(RecordKey(group_key(group)));
        let conv = Conv::Group(group.clone());
        if g.joining.is_none() {
            for m in g
                .members
                .iter()
                .filter(|m| *m != self.me())
                .cloned()
                .collect::<Vec<_>>()
            {
                self.enqueue(&m, &conv, Some(0), Payload::Left);
            }
        }
        let doomed: Vec<_> = self
            .groups
            .invites
            .iter()
            .filter(|(g, _)| g == group)
            .cloned()
            .collect();
        for (g, n) in doomed {
            self.groups.invites.remove(&(g.clone(), n.clone()));
            self.io.timers.cancel(&Timer::InviteExpiry(g, n));
        }
        self.io.notice(format!("you left {group}"));
        Ok(())
    }

    pub(crate) fn message_group(
        &mut self,
        group: GroupName,
        text: Text<{ crate::limits::MAX_MESSAGE_LEN }>,
    ) -> Result<(), CommandError> {
        if !self.groups.is_member(&group) {
            return Err(CommandError::NotInGroup(group));
        }
        let conv = Conv::Group(group.clone());
        let me = self.me().clone();
        let others: Vec<Name> = self
            .groups
            .members(&group)
            .into_iter()
            .filter(|m| *m != me)
            .collect();
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

    /// After a (re)connection to `name`: repeat what may have been lost.
    pub(crate) fn group_sync(&mut self, name: &Name) {
        let invites: Vec<GroupName> = self
            .groups
            .invites
            .iter()
            .filter(|(_, n)| n == name)
            .map(|(g, _)| g.clone())
            .collect();
        for g in invites {
            self.send_invite(&g, name);
        }
        let joining: Vec<GroupName> = self
            .groups
            .groups
            .values()
            .filter(|g| g.joining.as_ref() == Some(name))
            .map(|g| g.group.clone())
            .collect();
        for group in joining {
            let msg = PeerMessage::GroupAnswer {
                group,
                accept: true,
            };
            self.links.send(&mut self.io, name, msg);
        }
    }

    pub(crate) fn on_group_invite(&mut self, from: &Name, group: GroupName, members: Vec<Name>) {
        if self.groups.groups.contains_key(&group) {
            let msg = PeerMessage::GroupRefused {
                reason: Text::truncate(&format!(
                    "{} is already in a group called {group}",
                    self.me()
                )),
                group,
            };
            self.links.send(&mut self.io, from, msg);
            return;
        }
        if self.questions.has_group(&group, from) {
            return;
        }
        if self.questions.invites_from(from) >= MAX_PENDING_INVITES_PER_PEER {
            let msg = PeerMessage::GroupRefused {
                reason: Text::truncate(&format!(
                    "{} already has {MAX_PENDING_INVITES_PER_PEER} invitations from you waiting",
                    self.me()
                )),
                group,
            };
            self.links.send(&mut self.io, from, msg);
            return;
        }
        let id = self.questions.add(Question::Group {
            group: group.clone(),
            from: from.clone(),
            members,
        });
        let timeout = self.config.request_timeout;
        self.io.set_timer(Timer::QuestionExpiry(id), timeout);
        self.io.event(PeerEvent::GroupInvite {
            id,
            from: from.clone(),
            group,
        });
    }

    pub(crate) fn answer_invite(
        &mut self,
        group: GroupName,
        from: Name,
        members: Vec<Name>,
        yes: bool,
    ) {
        if yes && self.groups.groups.contains_key(&group) {
            self.io
                .error(format!("you are already in a group called {group}"));
            return;
        }
        if yes {
            let mut members = members;
            members.push(self.me().clone());
            members.sort();
            members.dedup();
            let g = GroupRecord {
                group: group.clone(),
                members,
                joining: Some(from.clone()),
                let_in: Vec::new(),
            };
            self.groups.save(&mut self.io, g);
            self.io.notice(format!("joining {group}..."));
        }
        let msg = PeerMessage::GroupAnswer { group, accept: yes };
        if !self.links.send(&mut self.io, &from, msg) {
            self.ensure_link(&from);
        }
    }

    pub(crate) fn on_group_answer(&mut self, from: &Name, group: &GroupName, accept: bool) {
        let invited = self.groups.invites.remove(&(group.clone(), from.clone()));
        self.io
            .timers
            .cancel(&Timer::InviteExpiry(group.clone(), from.clone()));
        if !accept {
            if invited {
                self.io
                    .notice(format!("{from} declined the invitation into {group}"));
            }
            return;
        }
        let members = self.groups.members(group);
        let refuse = if !invited {
            if members.contains(from) {
                // A repeated acceptance after a reconnect: the welcome is on its way.
                return;
            }
            Some(format!("the invitation into {group} is no longer valid"))
        } else if !self.groups.is_member(group) {
            Some(format!("{} has left {group}", self.me()))
        } else if members.len() >= MAX_GROUP_MEMBERS {
            Some(format!("{group} is full"))
        } else {
            None
        };
        if let Some(why) = refuse {
            let msg = PeerMessage::GroupRefused {
                group: group.clone(),
                reason: Text::truncate(&why),
            };
            self.links.send(&mut self.io, from, msg);
            return;
        }
        let conv = Conv::Group(group.clone());
        let me = self.me().clone();
        for m in members.iter().filter(|m| **m != me) {
            self.enqueue(m, &conv, Some(0), Payload::Joined(from.clone()));
        }
        let mut all = members;
        all.push(from.clone());
        all.sort();
        self.enqueue(
            from,
            &conv,
            Some(0),
            Payload::Members(List::new(all.clone()).unwrap_or_default()),
        );
        let mut let_in = self
            .groups
            .groups
            .get(group)
            .map(|g| g.let_in.clone())
            .unwrap_or_default();
        let_in.push(from.clone());
        let_in.sort();
        let_in.dedup();
        self.groups.save(
            &mut self.io,
            GroupRecord {
                group: group.clone(),
                members: all,
                joining: None,
                let_in,
            },
        );
        self.io.event(PeerEvent::MemberJoined {
            group: group.clone(),
            name: from.clone(),
        });
    }

    pub(crate) fn on_group_refused(&mut self, from: &Name, group: &GroupName, reason: &str) {
        let joining = self
            .groups
            .groups
            .get(group)
            .is_some_and(|g| g.joining.as_ref() == Some(from));
        if joining {
            self.groups.groups.remove(group);
            self.io.forget(RecordKey(group_key(group)));
            self.io.error(format!("could not join {group}: {reason}"));
        } else if self.groups.invites.remove(&(group.clone(), from.clone())) {
            self.io
                .timers
                .cancel(&Timer::InviteExpiry(group.clone(), from.clone()));
            self.io.notice(format!("{from} refused {group}: {reason}"));
        }
    }

    /// `from` is not in `group` (see [`PeerMessage::NotInGroup`]): if we
    /// count it a member, it left without our hearing.
    pub(crate) fn on_not_in_group(&mut self, from: &Name, group: &GroupName) {
        if self.groups.members(group).contains(from) {
            self.member_left(group, from);
        }
    }

    /// A group item came from `from` for `group`, which this peer is not in
    /// (nor joining): it left. Tells `from`, who still counts it a member.
    pub(crate) fn not_in_group(&mut self, from: &Name, group: &GroupName) {
        if self.groups.groups.contains_key(group) {
            return;
        }
        let msg = PeerMessage::NotInGroup {
            group: group.clone(),
        };
        self.links.send(&mut self.io, from, msg);
    }

    /// `who` is no longer in `group`: drop it, and what was waiting for it.
    fn member_left(&mut self, group: &GroupName, who: &Name) {
        let Some(mut g) = self.groups.groups.get(group).cloned() else {
            return;
        };
        if !g.members.contains(who) {
            return;
        }
        g.members.retain(|m| m != who);
        g.let_in.retain(|m| m != who);
        self.groups.save(&mut self.io, g);
        let dropped = self
            .streams
            .abandon(&mut self.io, who, &Conv::Group(group.clone()));
        self.io.event(PeerEvent::MemberLeft {
            group: group.clone(),
            name: who.clone(),
        });
        // A message only the leaver had not acknowledged has now reached
        // everyone in the group.
        for seq in self.streams.settled_by(&dropped) {
            let to = Target::Group(group.clone());
            self.io.event(PeerEvent::Delivered { to, seq });
        }
    }

    pub(crate) fn invite_expired(&mut self, group: &GroupName, name: &Name) {
        if self.groups.invites.remove(&(group.clone(), name.clone())) {
            self.io
                .notice(format!("{name} did not answer the invitation into {group}"));
        }
    }

    /// A group item from `from`, taken and in order.
    pub(crate) fn apply_group_payload(&mut self, group: &GroupName, from: &Name, payload: Payload) {
        let Some(mut g) = self.groups.groups.get(group).cloned() else {
            return;
        };
        match payload {
            Payload::Text(text) => {
                self.record(Target::Group(group.clone()), from.clone(), text.as_str());
                self.io.event(PeerEvent::Message {
                    from: from.clone(),
                    to: Target::Group(group.clone()),
                    text: text.into_string(),
                });
            }
            Payload::Joined(name) => {
                if g.members.contains(&name) || g.members.len() >= MAX_GROUP_MEMBERS {
                    return;
                }
                g.members.push(name.clone());
                g.members.sort();
                // Those this peer let in, whom `from` may not have known of
                // when it welcomed `name` (see the module documentation).
                let tell: Vec<Name> = g
                    .let_in
                    .iter()
                    .filter(|m| **m != name && *m != from && g.members.contains(m))
                    .cloned()
                    .collect();
                self.groups.save(&mut self.io, g);
                self.io.event(PeerEvent::MemberJoined {
                    group: group.clone(),
                    name: name.clone(),
                });
                let conv = Conv::Group(group.clone());
                for m in tell {
                    self.enqueue(&name, &conv, Some(0), Payload::Joined(m));
                }
                // Heard of `name` from someone else: greet it. It answers
                // `NotInGroup` if this news was stale (it has left since).
                if name != *from {
                    let me = self.me().clone();
                    self.enqueue(&name, &conv, Some(0), Payload::Joined(me));
                }
                self.ensure_link(&name);
            }
            Payload::Left => self.member_left(group, from),
            Payload::Members(list) => {
                let mut members = list.into_vec();
                members.push(self.me().clone());
                members.sort();
                members.dedup();
                g.members = members.clone();
                g.joining = None;
                self.groups.save(&mut self.io, g);
                self.io.event(PeerEvent::GroupJoined {
                    group: group.clone(),
                    members: members.clone(),
                });
                // An earlier membership's `Left`, to members who never took
                // it, must not follow us in (its messages still go).
                let conv = Conv::Group(group.clone());
                for r in self.streams.receivers() {
                    self.streams.abandon_changes(&mut self.io, &r, &conv);
                }
                // Greets every member but the inviter (who announced us):
                // one that left before hearing of us answers `NotInGroup`,
                // and is dropped here (see the module documentation).
                let (me, conv) = (self.me().clone(), Conv::Group(group.clone()));
                for m in members.iter().filter(|m| **m != me && *m != from) {
                    self.enqueue(m, &conv, Some(0), Payload::Joined(me.clone()));
                }
                for m in members {
                    self.ensure_link(&m);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    #[test]
    fn who_may_write_to_a_group() {
        let g = GroupName::new("#g").unwrap();
        let mut groups = Groups::default();
        let text = Payload::Text(Text::new("x").unwrap());
        let list = Payload::Members(List::default());
        assert!(!groups.accepts(&g, &n("a"), &text), "not in the group");
        groups.restore(GroupRecord {
            group: g.clone(),
            members: vec![n("me")],
            joining: Some(n("a")),
            let_in: Vec::new(),
        });
        assert!(!groups.accepts(&g, &n("a"), &text), "still joining");
        assert!(groups.accepts(&g, &n("a"), &list), "the inviter's welcome");
        assert!(!groups.accepts(&g, &n("b"), &list), "someone else's list");
        groups.restore(GroupRecord {
            group: g.clone(),
            members: vec![n("a"), n("me")],
            joining: None,
            let_in: Vec::new(),
        });
        assert!(groups.accepts(&g, &n("a"), &text));
        assert!(!groups.accepts(&g, &n("b"), &text), "not a member (yet)");
        assert!(!groups.accepts(&g, &n("a"), &list), "no second welcome");
        assert!(groups.wants(&n("a")) && !groups.wants(&n("b")));
    }
}
