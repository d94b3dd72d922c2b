//! Messages: what peers show is exactly what peers sent, once each, in order;
//! and, after the heal, everything that was not legitimately dropped was
//! shown.
//!
//! Ground truth is the senders' own observations: every accepted
//! `Message` command is followed by the sender's `Sent { to, seq }`, which
//! ties its (run-unique) text to its number. From then on:
//!
//! Safety, as events arrive:
//! - a shown `Message` has the text of a sent message, from its sender, in
//!   its conversation, to someone it was sent to (none invented or altered);
//! - no receiver shows a message twice, and per receiver, sender and
//!   conversation the numbers it shows only go up (in order; gaps are legal:
//!   a closed chat or a member who left abandons numbers);
//! - a sender never reports `Sent` twice with one number in one conversation
//!   (a restart must not reuse numbers);
//! - `Delivered` comes only for a sent message, and only once its receiver
//!   showed it (for a group: every member it went to, less those the sender
//!   has seen leave since, who abandon their part).
//!
//! Liveness, at the end (everyone running, every question answered or
//! expired):
//! - a one-to-one message was shown unless its sender has reported a
//!   `ChatClosed` with the receiver since sending it (declined, expired,
//!   closed by either side: `peer` drops unsent messages then). Queued
//!   messages to a friend are covered by the same rule: they wait while the
//!   friend is offline and are dropped only with a `ChatClosed`;
//! - a group message was shown by each member it went to who, at the end,
//!   still counts the sender as a member and is counted by the sender;
//! - group membership agrees: a peer that counts another as a member of a
//!   group is counted by it too (two newcomers let in at once by different
//!   members learn of each other).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use confab_engine::PeerEvent;
use confab_engine::peer::{PeerCommand, Target};
use confab_engine::wire::{GroupName, Name};

use super::view::{Checker, View};
use crate::observe::{HostIx, Observation, Observed, SimCommand, SimEvent, peer_names};
use crate::peerview::PeerViews;

/// One sent message.
#[derive(Debug)]
struct Sent {
    from: Name,
    to: Target,
    seq: u64,
    at: Duration,
    /// Whom it went to: the receiver, or the members the sender knew.
    addressed: BTreeSet<Name>,
    /// Of those, who still has to show it for a `Delivered` to be right.
    owed: BTreeSet<Name>,
    shown_by: BTreeSet<Name>,
    /// One-to-one: the sender's count of chat ends with the receiver when sent.
    closes: u64,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Messages {
    names: Vec<Name>,
    views: PeerViews,
    /// An accepted `Message` command waiting for its `Sent`, per host.
    pending: BTreeMap<HostIx, (Target, String)>,
    sent: BTreeMap<String, Sent>,
    by_seq: BTreeMap<(Name, Target, u64), String>,
    /// Texts of group messages, per sender and group.
    group_texts: BTreeMap<(Name, GroupName), Vec<String>>,
    /// Highest number shown, per receiver, sender and conversation.
    last_shown: BTreeMap<(Name, Name, Target), u64>,
    /// Chat ends the sender reported, per (sender, other).
    closes: BTreeMap<(Name, Name), u64>,
}

impl Messages {
    /// A checker for `peers` peers on hosts `1..=peers`.
    pub fn new(peers: usize) -> Self {
        Self {
            names: peer_names(peers)
                .iter()
                .map(|n| Name::new(n).expect("peer names are valid"))
                .collect(),
            views: PeerViews::new(1, peers),
            pending: BTreeMap::new(),
            sent: BTreeMap::new(),
            by_seq: BTreeMap::new(),
            group_texts: BTreeMap::new(),
            last_shown: BTreeMap::new(),
            closes: BTreeMap::new(),
        }
    }

    fn on_sent(
        &mut self,
        obs: &Observation,
        me: &Name,
        to: &Target,
        seq: u64,
    ) -> Result<(), String> {
        let Some((want, text)) = self.pending.remove(&obs.host) else {
            return Err(format!(
                "{me} reported Sent to {to} #{seq} for no message command"
            ));
        };
        if &want != to {
            return Err(format!(
                "{me} was asked to message {want} but reported Sent to {to}"
            ));
        }
        let key = (me.clone(), to.clone(), seq);
        if let Some(old) = self.by_seq.get(&key) {
            return Err(format!(
                "{me} numbered two messages to {to} #{seq}: {old:?} and {text:?}"
            ));
        }
        self.by_seq.insert(key, text.clone());
        let (addressed, closes) = match to {
            Target::User(r) => (
                BTreeSet::from([r.clone()]),
                self.closes
                    .get(&(me.clone(), r.clone()))
                    .copied()
                    .unwrap_or(0),
            ),
            Target::Group(g) => {
                let i = self.views.peer_of(obs.host).expect("a peer");
                let mut members = self.views.get(i).groups.get(g).cloned().unwrap_or_default();
                members.remove(me);
                self.group_texts
                    .entry((me.clone(), g.clone()))
                    .or_default()
                    .push(text.clone());
                (members, 0)
            }
        };
        self.sent.insert(
            text,
            Sent {
                from: me.clone(),
                to: to.clone(),
                seq,
                at: obs.at,
                owed: addressed.clone(),
                addressed,
                shown_by: BTreeSet::new(),
                closes,
            },
        );
        Ok(())
    }

    fn on_message(
        &mut self,
        me: &Name,
        from: &Name,
        to: &Target,
        text: &str,
    ) -> Result<(), String> {
        let Some(m) = self.sent.get_mut(text) else {
            return Err(format!(
                "{me} showed {text:?} from {from} in {to}, which nobody sent"
            ));
        };
        let conv_ok = match (&m.to, to) {
            (Target::User(r), Target::User(shown)) => r == me && shown == me,
            (Target::Group(g), Target::Group(shown)) => g == shown,
            _ => false,
        };
        if &m.from != from || !conv_ok {
            return Err(format!(
                "{me} showed {text:?} as from {from} in {to}; it was sent by {} to {}",
                m.from, m.to
            ));
        }
        if !m.addressed.contains(me) {
            return Err(format!(
                "{me} showed {text:?}, which {from} did not send to it"
            ));
        }
        if !m.shown_by.insert(me.clone()) {
            return Err(format!(
                "{me} showed {text:?} (from {from}, #{}) twice: delivered twice",
                m.seq
            ));
        }
        let key = (me.clone(), from.clone(), m.to.clone());
        let last = self.last_shown.get(&key).copied().unwrap_or(0);
        if m.seq <= last {
            return Err(format!(
                "{me} showed {from}'s #{} in {} after #{last}: out of order",
                m.seq, m.to
            ));
        }
        self.last_shown.insert(key, m.seq);
        Ok(())
    }

    fn on_delivered(&self, me: &Name, to: &Target, seq: u64) -> Result<(), String> {
        let Some(text) = self.by_seq.get(&(me.clone(), to.clone(), seq)) else {
            return Err(format!(
                "{me} reported Delivered to {to} #{seq}, which it never sent"
            ));
        };
        let m = &self.sent[text];
        let missing: Vec<&Name> = m.owed.iter().filter(|r| !m.shown_by.contains(*r)).collect();
        if !missing.is_empty() {
            return Err(format!(
                "{me} reported {text:?} (to {to} #{seq}) delivered, but {missing:?} never showed it"
            ));
        }
        Ok(())
    }

    fn event(&mut self, obs: &Observation, me: &Name, e: &PeerEvent) -> Result<(), String> {
        match e {
            PeerEvent::Sent { to, seq, .. } => self.on_sent(obs, me, to, *seq)?,
            PeerEvent::Message { from, to, text } => self.on_message(me, from, to, text)?,
            PeerEvent::Delivered { to, seq } => self.on_delivered(me, to, *seq)?,
            PeerEvent::ChatClosed { with, .. } => {
                *self.closes.entry((me.clone(), with.clone())).or_default() += 1;
            }
            PeerEvent::MemberLeft { group, name } => {
                // The sender abandons what waited for a member who left.
                for text in self
                    .group_texts
                    .get(&(me.clone(), group.clone()))
                    .into_iter()
                    .flatten()
                {
                    if let Some(m) = self.sent.get_mut(text) {
                        m.owed.remove(name);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// What the two ends' engines say of each other, for a failure report.
    fn state_between(&self, view: &View<'_>, a: &Name, b: &Name) -> String {
        let side = |x: &Name, y: &Name| {
            let i = self.names.iter().position(|n| n == x)?;
            let engine = view.peers[i].engine();
            let p = engine.as_ref()?;
            Some(format!(
                "{x}: chat open {}, connected {}, {} waiting for {y}",
                p.chat_is_open(y),
                p.is_connected_to(y),
                p.waiting_for(y)
            ))
        };
        format!(
            "{}; {}",
            side(a, b).unwrap_or_else(|| format!("{a} down")),
            side(b, a).unwrap_or_else(|| format!("{b} down"))
        )
    }

    /// After the heal: every two running peers agree on whether they share
    /// each group.
    fn members_agree(&self, view: &View<'_>) -> Result<(), String> {
        let groups: BTreeSet<GroupName> = (0..self.names.len())
            .flat_map(|i| self.views.get(i).groups.keys().cloned())
            .collect();
        let members = |i: usize, g: &GroupName| -> Option<Vec<Name>> {
            let engine = view.peers[i].engine();
            engine.as_ref().map(|p| p.group_members(g))
        };
        for g in &groups {
            for (i, me) in self.names.iter().enumerate() {
                let Some(mine) = members(i, g) else { continue };
                for other in mine.iter().filter(|m| *m != me) {
                    let Some(j) = self.names.iter().position(|n| n == other) else {
                        continue;
                    };
                    let Some(theirs) = members(j, g) else {
                        continue;
                    };
                    if !theirs.contains(me) {
                        return Err(format!(
                            "after the heal {me} counts {other} in {g} ({mine:?}) but {other} \
                             does not count {me} ({theirs:?})"
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether `m` should have been shown by `r` by now.
    fn overdue(&self, m: &Sent, r: &Name) -> bool {
        match &m.to {
            Target::User(_) => {
                let closes = self.closes.get(&(m.from.clone(), r.clone())).copied();
                closes.unwrap_or(0) == m.closes
            }
            Target::Group(g) => {
                let member_of = |who: &Name, whom: &Name| {
                    self.names
                        .iter()
                        .position(|n| n == who)
                        .and_then(|i| self.views.get(i).groups.get(g))
                        .is_some_and(|members| members.contains(whom))
                };
                m.owed.contains(r) && member_of(r, &m.from) && member_of(&m.from, r)
            }
        }
    }
}

impl Checker for Messages {
    fn name(&self) -> &'static str {
        "messages"
    }

    fn observe(&mut self, obs: &Observation, _view: &View<'_>) -> Result<(), String> {
        self.views.observe(obs);
        let Some(i) = self.views.peer_of(obs.host) else {
            return Ok(());
        };
        let me = self.names[i].clone();
        match &obs.what {
            Observed::Started { .. } | Observed::Crashed { .. } => {
                self.pending.remove(&obs.host);
            }
            Observed::Command {
                cmd: SimCommand::Peer(PeerCommand::Message { to, text }),
                refused: None,
            } => {
                if let Some((_, old)) = self.pending.insert(obs.host, (to.clone(), text.clone())) {
                    return Err(format!("{me} accepted {old:?} but never reported it Sent"));
                }
            }
            Observed::Event(SimEvent::Peer(e)) => self.event(obs, &me, e)?,
            _ => {}
        }
        Ok(())
    }

    fn at_end(&mut self, view: &View<'_>) -> Result<(), String> {
        self.members_agree(view)?;
        let mut lost = Vec::new();
        for (text, m) in &self.sent {
            for r in &m.addressed {
                if !m.shown_by.contains(r) && self.overdue(m, r) {
                    lost.push(format!(
                        "{text:?} ({} to {} #{}, sent at {:.3} s) never shown by {r} [{}]",
                        m.from,
                        m.to,
                        m.seq,
                        m.at.as_secs_f64(),
                        self.state_between(view, &m.from, r)
                    ));
                }
            }
        }
        if lost.is_empty() {
            return Ok(());
        }
        let n = lost.len();
        lost.truncate(5);
        Err(format!(
            "after the heal {n} message(s) were never delivered, none dropped with a closed chat: {}",
            lost.join("; ")
        ))
    }
}
