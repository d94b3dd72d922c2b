//! [`Streams`]: numbered, acknowledged, exactly-once delivery of what people
//! write (and of group membership changes), per sender, receiver and
//! conversation.
//!
//! Sender side: every item gets the next number of its stream and waits in
//! the outbox until the receiver acknowledges it; the outbox and the next
//! number are persisted *before* anything is sent, so a restart neither loses
//! an item nor reuses a number, even after a power loss (the driver makes
//! records durable before it sends the bytes that follow them: the rules in
//! `api.rs`). Everything unacknowledged is sent again when
//! a connection to the receiver opens, and on a retransmit timer while it
//! stays open (a receiver may hold back an item it cannot take yet).
//!
//! Receiver side: an item is delivered only if its number is exactly one past
//! the last delivered; the new delivered-up-to number is persisted before the
//! item is shown (so written before anyone sees it: shown at most once even
//! across a crash of the process), and the acknowledgement waits until that
//! record is durable (`peer::durable`), so an acknowledged item was shown and
//! is never shown again, even after the machine lost power (one shown but not
//! yet acknowledged when the power went may be shown again: the sender still
//! has it and sends it again). Duplicates are acknowledged
//! again and dropped; items after a gap are dropped (the sender resends in
//! order). A sender that abandons numbers (a closed chat) says so with `low`.
//!
//! Consent is not this module's business: the role machine asks
//! [`Streams::receive`] only for items it is willing to take.

use std::collections::BTreeMap;

use crate::peer::io::Io;
use crate::peer::records::{OutItem, PeerRecord, outbox_key};
use crate::planted::{PlantedBug, PlantedBugs};
use crate::wire::peer::{Conv, Payload, PeerMessage};
use crate::wire::{GroupName, Message, Name};

type StreamKey = (Name, Conv);

/// What [`Streams::receive`] made of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Received {
    /// New, in order: show it.
    Deliver,
    /// Already delivered (or out of order): do not show it.
    Drop,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Streams {
    outbox: BTreeMap<(Name, Conv, u64), OutItem>,
    next_seq: BTreeMap<StreamKey, u64>,
    delivered: BTreeMap<StreamKey, u64>,
    group_seq: BTreeMap<GroupName, u64>,
    /// PLANTED BUG `DeliverDuplicate` (tests only): see [`Streams::receive`].
    planted: PlantedBugs,
}

impl Streams {
    /// Empty streams, with the bugs planted in this peer (tests only).
    pub fn new(planted: PlantedBugs) -> Self {
        Self {
            planted,
            ..Self::default()
        }
    }

    /// Takes what it needs from a peer's records.
    pub fn restore(&mut self, r: &PeerRecord) {
        match r {
            PeerRecord::Outbox(o) => {
                self.outbox
                    .insert((o.to.clone(), o.conv.clone(), o.seq), o.clone());
            }
            PeerRecord::NextSeq { to, conv, next } => {
                self.next_seq.insert((to.clone(), conv.clone()), *next);
            }
            PeerRecord::Delivered { from, conv, upto } => {
                self.delivered.insert((from.clone(), conv.clone()), *upto);
            }
            PeerRecord::GroupSeq { group, next } => {
                self.group_seq.insert(group.clone(), *next);
            }
            _ => {}
        }
    }

    /// The next user-visible number for this peer's messages to `group`.
    pub fn next_group_seq(&mut self, io: &mut Io, group: &GroupName) -> u64 {
        let n = self.group_seq.entry(group.clone()).or_insert(1);
        let seq = *n;
        *n += 1;
        io.persist(PeerRecord::GroupSeq {
            group: group.clone(),
            next: *n,
        });
        seq
    }

    /// Queues `payload` on the stream to `to` in `conv`; returns its number.
    /// `user_seq` is `None` for a direct chat (the stream number is shown).
    pub fn enqueue(
        &mut self,
        io: &mut Io,
        to: &Name,
        conv: &Conv,
        user_seq: Option<u64>,
        payload: Payload,
    ) -> u64 {
        let n = self.next_seq.entry((to.clone(), conv.clone())).or_insert(1);
        let seq = *n;
        *n += 1;
        io.persist(PeerRecord::NextSeq {
            to: to.clone(),
            conv: conv.clone(),
            next: *n,
        });
        let item = OutItem {
            to: to.clone(),
            conv: conv.clone(),
            seq,
            user_seq: user_seq.unwrap_or(seq),
            payload,
        };
        io.persist(PeerRecord::Outbox(item.clone()));
        self.outbox.insert((to.clone(), conv.clone(), seq), item);
        seq
    }

    fn low(&self, to: &Name, conv: &Conv) -> u64 {
        self.outbox
            .range((to.clone(), conv.clone(), 0)..=(to.clone(), conv.clone(), u64::MAX))
            .next()
            .map_or(u64::MAX, |(k, _)| k.2)
    }

    /// The wire message for the item `seq` of the stream to `to` in `conv`.
    pub fn data(&self, to: &Name, conv: &Conv, seq: u64) -> Option<PeerMessage> {
        let item = self.outbox.get(&(to.clone(), conv.clone(), seq))?;
        Some(PeerMessage::Data {
            conv: conv.clone(),
            seq,
            low: self.low(to, conv).min(seq),
            payload: item.payload.clone(),
        })
    }

    /// [`Streams::data`] lent to `send` instead of copied: the item's payload
    /// moves into the message for the call and back after it (the text of a
    /// message is copied once less on its way out). `None` if no such item.
    pub fn send_data<R>(
        &mut self,
        to: &Name,
        conv: &Conv,
        seq: u64,
        send: impl FnOnce(&Message) -> R,
    ) -> Option<R> {
        let low = self.low(to, conv).min(seq);
        let item = self.outbox.get_mut(&(to.clone(), conv.clone(), seq))?;
        let payload = std::mem::replace(&mut item.payload, Payload::Left);
        let msg = Message::Peer(PeerMessage::Data {
            conv: conv.clone(),
            seq,
            low,
            payload,
        });
        let r = send(&msg);
        if let Message::Peer(PeerMessage::Data { payload, .. }) = msg {
            item.payload = payload;
        }
        Some(r)
    }

    /// Everything waiting for `to` in conversations `sendable` allows, in
    /// stream order.
    pub fn pending(&self, to: &Name, sendable: impl Fn(&Conv) -> bool) -> Vec<PeerMessage> {
        self.outbox
            .range((to.clone(), Conv::Direct, 0)..)
            .take_while(|(k, _)| &k.0 == to)
            .filter(|(k, _)| sendable(&k.1))
            .filter_map(|(k, _)| self.data(to, &k.1, k.2))
            .collect()
    }

    /// How many items wait for `to` in `conv`.
    pub fn waiting(&self, to: &Name, conv: &Conv) -> usize {
        self.outbox
            .range((to.clone(), conv.clone(), 0)..=(to.clone(), conv.clone(), u64::MAX))
            .count()
    }

    /// How many items wait for `to` in all conversations.
    pub fn waiting_for(&self, to: &Name) -> usize {
        self.outbox
            .range((to.clone(), Conv::Direct, 0)..)
            .take_while(|(k, _)| &k.0 == to)
            .count()
    }

    /// Everyone something waits for.
    pub fn receivers(&self) -> Vec<Name> {
        let mut v: Vec<Name> = self.outbox.keys().map(|k| k.0.clone()).collect();
        v.dedup();
        v
    }

    /// `from` acknowledged everything up to `upto` of our stream in `conv`.
    /// Returns the user-visible numbers now delivered to everyone they were for.
    pub fn on_ack(&mut self, io: &mut Io, from: &Name, conv: &Conv, upto: u64) -> Vec<u64> {
        let (lo, hi) = (
            (from.clone(), conv.clone(), 0),
            (from.clone(), conv.clone(), upto),
        );
        let mut done = Vec::new();
        // One at a time, oldest first: usually one, and no list of keys.
        while let Some(k) = self.outbox.range(&lo..=&hi).next().map(|(k, _)| k.clone()) {
            let Some(item) = self.outbox.remove(&k) else {
                continue;
            };
            io.forget(outbox_key(&item.to, &item.conv, item.seq));
            if !matches!(item.payload, Payload::Text(_)) {
                continue;
            }
            let others = matches!(conv, Conv::Group(_))
                && self
                    .outbox
                    .values()
                    .any(|o| &o.conv == conv && o.user_seq == item.user_seq);
            if !others {
                done.push(item.user_seq);
            }
        }
        done
    }

    /// Gives up on everything waiting for `to` in `conv`; returns what was
    /// dropped.
    pub fn abandon(&mut self, io: &mut Io, to: &Name, conv: &Conv) -> Vec<OutItem> {
        self.drop_waiting(io, to, conv, |_| true)
    }

    /// Drops the membership changes (not the messages) still waiting for
    /// `to` in `conv`: a peer rejoining a group sends its messages from
    /// before, but never an old `Left`.
    pub fn abandon_changes(&mut self, io: &mut Io, to: &Name, conv: &Conv) {
        self.drop_waiting(io, to, conv, |o| !matches!(o.payload, Payload::Text(_)));
    }

    /// Removes (and forgets the records of) the items waiting for `to` in
    /// `conv` that `which` picks; returns them.
    fn drop_waiting(
        &mut self,
        io: &mut Io,
        to: &Name,
        conv: &Conv,
        which: impl Fn(&OutItem) -> bool,
    ) -> Vec<OutItem> {
        let keys: Vec<_> = self
            .outbox
            .range((to.clone(), conv.clone(), 0)..=(to.clone(), conv.clone(), u64::MAX))
            .filter(|(_, o)| which(o))
            .map(|(k, _)| k.clone())
            .collect();
        let mut dropped = Vec::with_capacity(keys.len());
        for k in &keys {
            dropped.extend(self.outbox.remove(k));
            io.forget(outbox_key(&k.0, &k.1, k.2));
        }
        dropped
    }

    /// Of the group messages `dropped` (a member's, abandoned when it left),
    /// the user-visible numbers no other member is waiting for any more:
    /// they have now reached everyone still in the group.
    pub fn settled_by(&self, dropped: &[OutItem]) -> Vec<u64> {
        let mut seqs: Vec<u64> = dropped
            .iter()
            .filter(|o| matches!(o.conv, Conv::Group(_)) && matches!(o.payload, Payload::Text(_)))
            .filter(|o| {
                !self
                    .outbox
                    .values()
                    .any(|w| w.conv == o.conv && w.user_seq == o.user_seq)
            })
            .map(|o| o.user_seq)
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        seqs
    }

    /// `from` now holds another key than before (a reinstall, accepted by
    /// `/trust` or trust on first use, or certified by the registry): its
    /// streams to this peer start over from 1, so what was delivered from
    /// the old install is forgotten, records too. (Ours to it need nothing:
    /// `low` skips the numbers it never saw.)
    pub fn restart_from(&mut self, io: &mut Io, from: &Name) {
        let old: Vec<StreamKey> = self
            .delivered
            .keys()
            .filter(|(n, _)| n == from)
            .cloned()
            .collect();
        for (from, conv) in old {
            self.delivered.remove(&(from.clone(), conv.clone()));
            io.forget(
                PeerRecord::Delivered {
                    from,
                    conv,
                    upto: 0,
                }
                .key(),
            );
        }
    }

    /// An item `seq` of the stream from `from` in `conv` arrived (and the role
    /// machine is willing to take it). Returns what to do with it and the
    /// number to acknowledge.
    pub fn receive(
        &mut self,
        io: &mut Io,
        from: &Name,
        conv: &Conv,
        seq: u64,
        low: u64,
    ) -> (Received, u64) {
        let key = (from.clone(), conv.clone());
        let old = self.delivered.get(&key).copied().unwrap_or(0);
        if seq == old && seq > 0 && self.planted.has(PlantedBug::DeliverDuplicate) {
            // PLANTED BUG: a resent copy of the last delivered item is shown again.
            return (Received::Deliver, old);
        }
        // Numbers below `low` will never come: skip them.
        let mut upto = old.max(low.saturating_sub(1).min(seq.saturating_sub(1)));
        let verdict = if seq == upto + 1 {
            upto = seq;
            Received::Deliver
        } else {
            Received::Drop
        };
        if upto != old {
            self.delivered.insert(key, upto);
            io.persist(PeerRecord::Delivered {
                from: from.clone(),
                conv: conv.clone(),
                upto,
            });
        }
        (verdict, upto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded::Text;
    use std::time::Instant;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn text(s: &str) -> Payload {
        Payload::Text(Text::new(s).unwrap())
    }

    #[test]
    fn a_new_install_s_streams_start_over() {
        let mut io = Io::new(Instant::now(), 1);
        let mut b = Streams::default();
        let (alice, carol) = (n("alice"), n("carol"));
        let team = Conv::Group(GroupName::new("#team").unwrap());
        for conv in [&Conv::Direct, &team] {
            b.receive(&mut io, &alice, conv, 1, 1);
            b.receive(&mut io, &alice, conv, 2, 1);
        }
        b.receive(&mut io, &carol, &Conv::Direct, 1, 1);
        io.out.clear();
        b.restart_from(&mut io, &alice);
        let forgotten = io
            .out
            .iter()
            .filter(|o| matches!(o, crate::api::Output::Forget(_)))
            .count();
        assert_eq!(forgotten, 2, "both of alice's streams, records too");
        for conv in [&Conv::Direct, &team] {
            assert_eq!(
                b.receive(&mut io, &alice, conv, 1, 1),
                (Received::Deliver, 1),
                "numbered from 1 again"
            );
        }
        assert_eq!(
            b.receive(&mut io, &carol, &Conv::Direct, 1, 1),
            (Received::Drop, 1),
            "others keep theirs"
        );
    }

    #[test]
    fn numbers_acks_and_duplicates() {
        let mut io = Io::new(Instant::now(), 1);
        let mut a = Streams::default();
        let bob = n("bob");
        for i in 1..=3 {
            assert_eq!(a.enqueue(&mut io, &bob, &Conv::Direct, None, text("x")), i);
        }
        assert_eq!(a.pending(&bob, |_| true).len(), 3);
        assert_eq!(a.on_ack(&mut io, &bob, &Conv::Direct, 2), vec![1, 2]);
        assert_eq!(a.waiting(&bob, &Conv::Direct), 1);

        let mut b = Streams::default();
        let alice = n("alice");
        assert_eq!(
            b.receive(&mut io, &alice, &Conv::Direct, 1, 1),
            (Received::Deliver, 1)
        );
        assert_eq!(
            b.receive(&mut io, &alice, &Conv::Direct, 1, 1),
            (Received::Drop, 1)
        );
        assert_eq!(
            b.receive(&mut io, &alice, &Conv::Direct, 3, 2),
            (Received::Drop, 1)
        );
        assert_eq!(
            b.receive(&mut io, &alice, &Conv::Direct, 2, 2),
            (Received::Deliver, 2)
        );
    }

    #[test]
    fn abandoned_numbers_are_skipped() {
        let mut io = Io::new(Instant::now(), 1);
        let mut a = Streams::default();
        let bob = n("bob");
        for _ in 0..3 {
            a.enqueue(&mut io, &bob, &Conv::Direct, None, text("x"));
        }
        assert_eq!(a.abandon(&mut io, &bob, &Conv::Direct).len(), 3);
        let seq = a.enqueue(&mut io, &bob, &Conv::Direct, None, text("y"));
        let Some(PeerMessage::Data { low, .. }) = a.data(&bob, &Conv::Direct, seq) else {
            panic!()
        };
        assert_eq!((seq, low), (4, 4));
        let mut b = Streams::default();
        let alice = n("alice");
        assert_eq!(
            b.receive(&mut io, &alice, &Conv::Direct, 4, 4),
            (Received::Deliver, 4)
        );
    }

    #[test]
    fn group_message_is_delivered_when_everyone_acked() {
        let mut io = Io::new(Instant::now(), 1);
        let mut a = Streams::default();
        let g = GroupName::new("#g").unwrap();
        let conv = Conv::Group(g.clone());
        let us = a.next_group_seq(&mut io, &g);
        for who in ["bob", "carol"] {
            a.enqueue(&mut io, &n(who), &conv, Some(us), text("hi"));
        }
        assert!(a.on_ack(&mut io, &n("bob"), &conv, 1).is_empty());
        assert_eq!(a.on_ack(&mut io, &n("carol"), &conv, 1), vec![us]);
    }

    #[test]
    fn state_survives_restore() {
        let mut io = Io::new(Instant::now(), 1);
        let mut a = Streams::default();
        let bob = n("bob");
        a.enqueue(&mut io, &bob, &Conv::Direct, None, text("x"));
        a.receive(&mut io, &bob, &Conv::Direct, 1, 1);
        let mut b = Streams::default();
        for o in io.out.drain(..) {
            match o {
                crate::api::Output::Persist(crate::record::Record::Peer(r)) => b.restore(&r),
                crate::api::Output::Forget(_) => panic!("nothing forgotten"),
                _ => {}
            }
        }
        assert_eq!(b.waiting(&bob, &Conv::Direct), 1);
        assert_eq!(b.enqueue(&mut io, &bob, &Conv::Direct, None, text("y")), 2);
        assert_eq!(
            b.receive(&mut io, &bob, &Conv::Direct, 1, 1),
            (Received::Drop, 1)
        );
    }
}
