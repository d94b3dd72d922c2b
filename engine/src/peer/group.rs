//! Groups: [`Groups`] holds the groups this peer is in, with their members
//! as it knows them, and the invitations it has sent (with their
//! `Timer::InviteExpiry` and `group/<name>` records). What touches the
//! links, the streams or the questions comes back as [`GroupOut`]s, which the
//! role machine carries out in order right after the call.
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
use std::time::Duration;

use crate::bounded::{List, Text};
use crate::error::CommandError;
use crate::limits::{MAX_GROUP_MEMBERS, MAX_PENDING_INVITES_PER_PEER};
use crate::peer::event::PeerEvent;
use crate::peer::io::{Io, Timer};
use crate::peer::records::{GroupRecord, PeerRecord, group_key};
use crate::record::RecordKey;
use crate::wire::peer::{Payload, PeerMessage};
use crate::wire::{GroupName, Name};

/// What a group needs done outside itself, in this order.
#[derive(Debug)]
pub(crate) enum GroupOut {
    /// Send this over the peer's open link (lost if none).
    Send(Name, PeerMessage),
    /// Send this over the peer's open link, or start reaching the peer.
    SendOrReach(Name, PeerMessage),
    /// Queue this item on the group's stream to the peer.
    Enqueue(Name, GroupName, Payload),
    /// Start reaching the peer if it is wanted.
    Reach(Name),
    /// Ask the user about this invitation; then [`Groups::asked`].
    AskUser {
        group: GroupName,
        from: Name,
        members: Vec<Name>,
    },
    /// Keep this record (after the items before it were queued).
    Save(GroupRecord),
    /// Report this (after what came before it).
    Event(PeerEvent),
    /// `who` left `group`: drop what waits for it, then report.
    Left { group: GroupName, who: Name },
    /// Drop the membership changes an earlier membership of the group left
    /// queued (its messages still go).
    DropChanges(GroupName),
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    groups: BTreeMap<GroupName, GroupRecord>,
    /// Invitations sent and not yet answered: (group, invitee).
    invites: BTreeSet<(GroupName, Name)>,
    /// Joins this peer has passed on, each at most once: a member dropped
    /// again (it had left; `NotInGroup`) and re-added by stale news must
    /// not make the news go round for ever (sim seed 545839114).
    passed_on: BTreeSet<(GroupName, Name)>,
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

    /// Keeps `g` (see [`GroupOut::Save`]).
    pub fn save(&mut self, io: &mut Io, g: GroupRecord) {
        io.persist(PeerRecord::Group(g.clone()));
        self.groups.insert(g.group.clone(), g);
    }

    /// `/group create #G` by `me`.
    pub fn create(&mut self, io: &mut Io, me: &Name, group: GroupName) -> Result<(), CommandError> {
        if self.groups.contains_key(&group) {
            return Err(CommandError::AlreadyInGroup(group));
        }
        let members = vec![me.clone()];
        let g = GroupRecord {
            group: group.clone(),
            members: members.clone(),
            joining: None,
            let_in: Vec::new(),
        };
        self.save(io, g);
        io.event(PeerEvent::GroupJoined { group, members });
        Ok(())
    }

    /// `/invite #G NAME`; the invitation expires after `timeout`.
    pub fn invite(
        &mut self,
        io: &mut Io,
        group: GroupName,
        name: Name,
        timeout: Duration,
    ) -> Result<Vec<GroupOut>, CommandError> {
        if !self.is_member(&group) {
            return Err(CommandError::NotInGroup(group));
        }
        let members = self.members(&group);
        if members.contains(&name) {
            return Err(CommandError::AlreadyMember { name, group });
        }
        if members.len() >= MAX_GROUP_MEMBERS {
            return Err(CommandError::GroupFull(group));
        }
        self.invites.insert((group.clone(), name.clone()));
        io.set_timer(Timer::InviteExpiry(group.clone(), name.clone()), timeout);
        Ok(vec![self.invitation(&group, &name)])
    }

    fn invitation(&self, group: &GroupName, name: &Name) -> GroupOut {
        let members = List::new(self.members(group)).unwrap_or_default();
        let msg = PeerMessage::GroupInvite {
            group: group.clone(),
            members,
        };
        GroupOut::SendOrReach(name.clone(), msg)
    }

    /// `/leave #G` by `me`: the members to tell (`Left`); then [`Groups::left`].
    pub fn leave(
        &mut self,
        io: &mut Io,
        me: &Name,
        group: &GroupName,
    ) -> Result<Vec<Name>, CommandError> {
        let Some(g) = self.groups.remove(group) else {
            return Err(CommandError::NotInGroup(group.clone()));
        };
        self.passed_on.retain(|(g, _)| g != group);
        io.forget(RecordKey(group_key(group)));
        if g.joining.is_some() {
            return Ok(Vec::new());
        }
        Ok(g.members.into_iter().filter(|m| m != me).collect())
    }

    /// After [`Groups::leave`] and telling the members: the invitations go.
    pub fn left(&mut self, io: &mut Io, group: &GroupName) {
        let doomed: Vec<_> = self
            .invites
            .iter()
            .filter(|(g, _)| g == group)
            .cloned()
            .collect();
        for (g, n) in doomed {
            self.invites.remove(&(g.clone(), n.clone()));
            io.timers.cancel(&Timer::InviteExpiry(g, n));
        }
        io.notice(format!("you left {group}"));
    }

    /// Whom a message to `group` from `me` goes to.
    pub fn recipients(&self, me: &Name, group: &GroupName) -> Result<Vec<Name>, CommandError> {
        if !self.is_member(group) {
            return Err(CommandError::NotInGroup(group.clone()));
        }
        Ok(self
            .members(group)
            .into_iter()
            .filter(|m| m != me)
            .collect())
    }

    /// After a (re)connection to `name`: repeat what may have been lost.
    pub fn sync(&self, name: &Name) -> Vec<GroupOut> {
        let mut outs: Vec<GroupOut> = self
            .invites
            .iter()
            .filter(|(_, n)| n == name)
            .map(|(g, _)| self.invitation(g, name))
            .collect();
        for g in self.groups.values() {
            if g.joining.as_ref() == Some(name) {
                let msg = PeerMessage::GroupAnswer {
                    group: g.group.clone(),
                    accept: true,
                };
                outs.push(GroupOut::Send(name.clone(), msg));
            }
        }
        outs
    }

    /// `from` invites `me` into `group`; `asked` if that invitation already
    /// waits for the user, `pending` how many of `from`'s do.
    pub fn on_invite(
        &self,
        me: &Name,
        from: &Name,
        group: GroupName,
        members: Vec<Name>,
        asked: bool,
        pending: usize,
    ) -> Vec<GroupOut> {
        let refuse = |reason: String, group| {
            let msg = PeerMessage::GroupRefused {
                reason: Text::truncate(&reason),
                group,
            };
            vec![GroupOut::Send(from.clone(), msg)]
        };
        if self.groups.contains_key(&group) {
            return refuse(format!("{me} is already in a group called {group}"), group);
        }
        if asked {
            return Vec::new();
        }
        if pending >= MAX_PENDING_INVITES_PER_PEER {
            let why = format!(
                "{me} already has {MAX_PENDING_INVITES_PER_PEER} invitations from you waiting"
            );
            return refuse(why, group);
        }
        vec![GroupOut::AskUser {
            group,
            from: from.clone(),
            members,
        }]
    }

    /// The user was asked about `from`'s invitation: question `id`.
    pub fn asked(&self, io: &mut Io, id: crate::ids::RequestId, from: Name, group: GroupName) {
        io.event(PeerEvent::GroupInvite { id, from, group });
    }

    /// The user answered `from`'s invitation into `group`.
    pub fn answer(
        &mut self,
        io: &mut Io,
        me: &Name,
        group: GroupName,
        from: Name,
        members: Vec<Name>,
        yes: bool,
    ) -> Vec<GroupOut> {
        if yes && self.groups.contains_key(&group) {
            io.error(format!("you are already in a group called {group}"));
            return Vec::new();
        }
        if yes {
            let mut members = members;
            members.push(me.clone());
            members.sort();
            members.dedup();
            let g = GroupRecord {
                group: group.clone(),
                members,
                joining: Some(from.clone()),
                let_in: Vec::new(),
            };
            self.save(io, g);
            io.notice(format!("joining {group}..."));
        }
        let mut outs = Vec::new();
        if yes {
            // An earlier membership's `Left` still queued must go before the
            // answer does: once the link is up it would follow the answer on
            // it and take us out again as soon as we are in (sim seed 1188).
            // `Members` drops them again for anything queued meanwhile.
            outs.push(GroupOut::DropChanges(group.clone()));
        }
        let msg = PeerMessage::GroupAnswer { group, accept: yes };
        outs.push(GroupOut::SendOrReach(from, msg));
        outs
    }

    /// `from` answered `me`'s invitation into `group`.
    pub fn on_answer(
        &mut self,
        io: &mut Io,
        me: &Name,
        from: &Name,
        group: &GroupName,
        accept: bool,
    ) -> Vec<GroupOut> {
        let invited = self.invites.remove(&(group.clone(), from.clone()));
        io.timers
            .cancel(&Timer::InviteExpiry(group.clone(), from.clone()));
        if !accept {
            if invited {
                io.notice(format!("{from} declined the invitation into {group}"));
            }
            return Vec::new();
        }
        let members = self.members(group);
        let refuse = if !invited {
            if members.contains(from) {
                // A repeated acceptance after a reconnect: the welcome is on its way.
                return Vec::new();
            }
            Some(format!("the invitation into {group} is no longer valid"))
        } else if !self.is_member(group) {
            Some(format!("{me} has left {group}"))
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
            return vec![GroupOut::Send(from.clone(), msg)];
        }
        let mut outs: Vec<GroupOut> = members
            .iter()
            .filter(|m| *m != me)
            .map(|m| GroupOut::Enqueue(m.clone(), group.clone(), Payload::Joined(from.clone())))
            .collect();
        let mut all = members;
        all.push(from.clone());
        all.sort();
        let list = Payload::Members(List::new(all.clone()).unwrap_or_default());
        outs.push(GroupOut::Enqueue(from.clone(), group.clone(), list));
        let mut let_in = self
            .groups
            .get(group)
            .map(|g| g.let_in.clone())
            .unwrap_or_default();
        let_in.push(from.clone());
        let_in.sort();
        let_in.dedup();
        outs.push(GroupOut::Save(GroupRecord {
            group: group.clone(),
            members: all,
            joining: None,
            let_in,
        }));
        outs.push(GroupOut::Event(PeerEvent::MemberJoined {
            group: group.clone(),
            name: from.clone(),
        }));
        outs
    }

    /// `from` refused to let this peer in, or to be invited.
    pub fn on_refused(&mut self, io: &mut Io, from: &Name, group: &GroupName, reason: &str) {
        let joining = self
            .groups
            .get(group)
            .is_some_and(|g| g.joining.as_ref() == Some(from));
        if joining {
            self.groups.remove(group);
            io.forget(RecordKey(group_key(group)));
            io.error(format!("could not join {group}: {reason}"));
        } else if self.invites.remove(&(group.clone(), from.clone())) {
            io.timers
                .cancel(&Timer::InviteExpiry(group.clone(), from.clone()));
            io.notice(format!("{from} refused {group}: {reason}"));
        }
    }

    /// `from` is not in `group` (see [`PeerMessage::NotInGroup`]): if we
    /// count it a member, it left without our hearing.
    pub fn on_not_in_group(
        &mut self,
        io: &mut Io,
        from: &Name,
        group: &GroupName,
    ) -> Vec<GroupOut> {
        if self.members(group).contains(from) {
            return self.member_left(io, group, from);
        }
        Vec::new()
    }

    /// A group item came from `from` for `group`: if this peer is not in it
    /// (nor joining), it left; tells `from`, who still counts it a member.
    pub fn not_in_group(&self, from: &Name, group: &GroupName) -> Vec<GroupOut> {
        if self.groups.contains_key(group) {
            return Vec::new();
        }
        let msg = PeerMessage::NotInGroup {
            group: group.clone(),
        };
        vec![GroupOut::Send(from.clone(), msg)]
    }

    /// `who` is no longer in `group`: drop it, and what was waiting for it.
    fn member_left(&mut self, io: &mut Io, group: &GroupName, who: &Name) -> Vec<GroupOut> {
        let Some(mut g) = self.groups.get(group).cloned() else {
            return Vec::new();
        };
        if !g.members.contains(who) {
            return Vec::new();
        }
        g.members.retain(|m| m != who);
        g.let_in.retain(|m| m != who);
        self.save(io, g);
        vec![GroupOut::Left {
            group: group.clone(),
            who: who.clone(),
        }]
    }

    /// `Timer::InviteExpiry(group, name)` fired.
    pub fn invite_expired(&mut self, io: &mut Io, group: &GroupName, name: &Name) {
        if self.invites.remove(&(group.clone(), name.clone())) {
            io.notice(format!("{name} did not answer the invitation into {group}"));
        }
    }

    /// A membership item (not a message) of `group` from `from`, taken
    /// and in order; `me` is this peer.
    pub fn apply(
        &mut self,
        io: &mut Io,
        me: &Name,
        group: &GroupName,
        from: &Name,
        payload: Payload,
    ) -> Vec<GroupOut> {
        let Some(mut g) = self.groups.get(group).cloned() else {
            return Vec::new();
        };
        match payload {
            // Messages are the role machine's (history, events).
            Payload::Text(_) => Vec::new(),
            Payload::Joined(name) => {
                if g.members.contains(&name) || g.members.len() >= MAX_GROUP_MEMBERS {
                    return Vec::new();
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
                self.save(io, g);
                io.event(PeerEvent::MemberJoined {
                    group: group.clone(),
                    name: name.clone(),
                });
                let mut outs: Vec<GroupOut> = tell
                    .into_iter()
                    .map(|m| GroupOut::Enqueue(name.clone(), group.clone(), Payload::Joined(m)))
                    .collect();
                // Heard of `name` from someone else: greet it. It answers
                // `NotInGroup` if this news was stale (it has left since).
                if name != *from {
                    let greet = Payload::Joined(me.clone());
                    outs.push(GroupOut::Enqueue(name.clone(), group.clone(), greet));
                    // And pass the news on to every other member: the one
                    // who announced it may leave (or crash for good) before
                    // its own announcement reaches a member who was away,
                    // and nobody else would tell that member (sim seed 1009).
                    // Each member passes a given join on at most once.
                    if self.passed_on.insert((group.clone(), name.clone())) {
                        for m in g_members_but(&self.groups, group, &[me, from, &name]) {
                            let news = Payload::Joined(name.clone());
                            outs.push(GroupOut::Enqueue(m, group.clone(), news));
                        }
                    }
                }
                outs.push(GroupOut::Reach(name));
                outs
            }
            Payload::Left => self.member_left(io, group, from),
            Payload::Members(list) => {
                let mut members = list.into_vec();
                members.push(me.clone());
                members.sort();
                members.dedup();
                g.members = members.clone();
                g.joining = None;
                self.save(io, g);
                io.event(PeerEvent::GroupJoined {
                    group: group.clone(),
                    members: members.clone(),
                });
                // An earlier membership's `Left`, to members who never took
                // it, must not follow us in (its messages still go).
                let mut outs = vec![GroupOut::DropChanges(group.clone())];
                // Greets every member but the inviter (who announced us):
                // one that left before hearing of us answers `NotInGroup`,
                // and is dropped here (see the module documentation).
                for m in members.iter().filter(|m| *m != me && *m != from) {
                    let greet = Payload::Joined(me.clone());
                    outs.push(GroupOut::Enqueue(m.clone(), group.clone(), greet));
                }
                outs.extend(members.into_iter().map(GroupOut::Reach));
                outs
            }
        }
    }
}

/// The members of `group` other than `but`.
fn g_members_but(
    groups: &BTreeMap<GroupName, GroupRecord>,
    group: &GroupName,
    but: &[&Name],
) -> Vec<Name> {
    groups
        .get(group)
        .map(|g| {
            g.members
                .iter()
                .filter(|m| !but.contains(m))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
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
