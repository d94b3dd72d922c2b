//! The role machine's routing: which room an input, a message or an
//! answer concerns, and carrying out what rooms ask of each other (the
//! [`ChatOut`]s and the like), in order, right after each call. Connections
//! (who is wanted, dialing, flushing the streams onto links) live here too,
//! as every room needs them. May touch every field of [`Peer`]; rooms never
//! touch each other.

use std::collections::BTreeSet;

use crate::bounded::Text;
use crate::error::CommandError;
use crate::ids::{ConnId, RequestId, Target};
use crate::limits::MAX_MESSAGE_LEN;
use crate::peer::Peer;
use crate::peer::chat::ChatOut;
use crate::peer::event::{HistoryEntry, PeerEvent};
use crate::peer::io::Timer;
use crate::peer::link::LinkOut;
use crate::peer::lookups::Query;
use crate::peer::questions::Question;
use crate::peer::streams::Received;
use crate::secure::{Proven, Received as Opened};
use crate::wire::Name;
use crate::wire::peer::{Conv, Payload, PeerMessage};
use crate::wire::registry::RequestBody;

/// The most plaintext buffer capacity kept between reads (a read of file
/// chunks may need more for a moment; it is not kept).
const KEPT_PLAINTEXT: usize = 256 * 1024;

impl Peer {
    // ---- connections ------------------------------------------------------

    /// Whether this peer has a reason to be connected to `name`.
    pub(super) fn wants(&self, name: &Name) -> bool {
        name != self.me()
            && (self.chats.wants(name)
                || self.groups.wants(name)
                || self.transfers.wants(name)
                || self.calls.wants(name)
                || self.discovery.as_ref().is_some_and(|d| d.wants(name))
                || self.profile_asks.waiting(name)
                || self.streams.waiting_for(name) > 0)
    }

    /// Starts reaching `name` if it is wanted and nothing is under way.
    pub(super) fn ensure_link(&mut self, name: &Name) {
        if !self.wants(name)
            || self.links.is_underway(name)
            || self.io.timers.get(&Timer::Dial(name.clone())).is_some()
        {
            return;
        }
        if self.lan_dial(name) {
            return;
        }
        let body = RequestBody::Lookup { name: name.clone() };
        if self
            .reg
            .request(&mut self.io, Query::Dial(name.clone()), body)
        {
            self.links.set_looking_up(name, true);
        }
    }

    /// Everyone this peer has a reason to be connected to.
    pub(super) fn wanted(&self) -> BTreeSet<Name> {
        let mut all: BTreeSet<Name> = self.chats.names();
        all.extend(self.groups.all_members());
        all.extend(self.streams.receivers());
        all.extend(self.transfers.wanted());
        all.extend(self.calls.names().cloned());
        all.retain(|n| n != self.me());
        all
    }

    /// Bytes arrived on `conn`: opened by its channel, then handed to the
    /// machine that owns the connection (what the other side proved first,
    /// then the stream).
    pub(super) fn on_bytes(&mut self, conn: ConnId, bytes: &[u8]) {
        // One buffer for the plaintext of every read, lent out meanwhile.
        // Only the buffer is kept: what a read proved (or a read whose
        // channel failed part-way) can never be taken for a later one's.
        let mut plain = std::mem::take(&mut self.io.opened);
        plain.clear();
        let mut got = Opened {
            plain,
            ..Opened::default()
        };
        self.on_opened(conn, bytes, &mut got);
        if got.plain.capacity() <= KEPT_PLAINTEXT {
            self.io.opened = got.plain;
        }
    }

    fn on_opened(&mut self, conn: ConnId, bytes: &[u8], got: &mut Opened) {
        let io = &mut self.io;
        let Some(opened) = io.keys.open(conn, bytes, io.now, &mut io.out, got) else {
            return;
        };
        let registry = self.reg.owns(conn);
        match opened {
            Ok(()) => {}
            Err(e) if registry => {
                let outs = self.reg.on_channel_failed(&mut self.io, e);
                return self.on_registry(outs);
            }
            Err(e) => return self.links.on_channel_failed(&mut self.io, conn, e),
        }
        if let Some(proven) = got.proven.take() {
            if registry {
                self.reg.on_proven(&mut self.io, proven);
            } else {
                if let Proven::Peer { name, key } = &proven
                    && self.known_keys.seen(&mut self.io, name, *key)
                {
                    // Another install: its streams start from 1 again.
                    self.streams.restart_from(&mut self.io, name);
                }
                if !self.claim_proven(conn, &proven) {
                    return;
                }
                self.links.on_proven(conn, proven);
            }
        }
        if got.plain.is_empty() {
            return;
        }
        if self.reg.owns(conn) {
            let outs = self.reg.on_received(&mut self.io, conn, &got.plain);
            self.on_registry(outs);
        } else if self.links.owns(conn) {
            let outs = self.links.on_received(&mut self.io, conn, &got.plain);
            self.on_link(outs);
        }
    }

    pub(super) fn on_link(&mut self, outs: Vec<LinkOut>) {
        for out in outs {
            match out {
                LinkOut::Open { name } => self.link_opened(&name),
                LinkOut::Message { name, msg } => self.on_peer_message(&name, msg),
                LinkOut::Transfer { name, msg } => {
                    self.transfer_sync(&name);
                    let me = &self.config.name;
                    let outs = self.transfers.on_message(&mut self.io, me, &name, msg);
                    self.apply_transfer(outs);
                }
            }
        }
    }

    pub(super) fn link_opened(&mut self, name: &Name) {
        self.lan_link_opened(name);
        self.relay_link_opened(name);
        self.transfer_sync(name);
        self.chat_sync(name);
        self.call_sync(name);
        let outs = self.groups.sync(name);
        self.apply_group(outs);
        self.flush(name);
    }

    /// Sends everything waiting for `name` that may be sent now.
    pub(super) fn flush(&mut self, name: &Name) {
        if !self.links.is_open(name) {
            return self.ensure_link(name);
        }
        let open = self.chats.is_open(name);
        let msgs = self
            .streams
            .pending(name, |c| matches!(c, Conv::Group(_)) || open);
        if msgs.is_empty() {
            return;
        }
        for m in msgs {
            self.links.send(&mut self.io, name, m);
        }
        let t = Timer::Retransmit(name.clone());
        if self.io.timers.get(&t).is_none() {
            self.io.set_timer(t, self.config.link.retransmit_interval);
        }
    }

    pub(super) fn retransmit(&mut self, name: &Name) {
        self.flush(name);
    }

    /// Queues `payload` for `to` in `conv` and sends it if possible.
    pub(super) fn enqueue(
        &mut self,
        to: &Name,
        conv: &Conv,
        user_seq: Option<u64>,
        payload: Payload,
    ) -> u64 {
        let seq = self
            .streams
            .enqueue(&mut self.io, to, conv, user_seq, payload);
        let sendable = matches!(conv, Conv::Group(_)) || self.chats.is_open(to);
        if sendable && self.links.is_open(to) {
            let (links, io) = (&mut self.links, &mut self.io);
            self.streams
                .send_data(to, conv, seq, |m| links.send_message(io, to, m));
            let t = Timer::Retransmit(to.clone());
            if self.io.timers.get(&t).is_none() {
                self.io.set_timer(t, self.config.link.retransmit_interval);
            }
        } else if self.links.is_open(to) {
            // A direct message with no chat (one queued for a friend) over a
            // link that is already open: `link_opened`, which asks for the
            // chat, will not run again for this link, so ask now. A chat
            // being asked for, or asked of us, needs nothing more.
            if matches!(conv, Conv::Direct) && self.chats.get(to).is_none() {
                self.chat_sync(to);
            }
        } else {
            self.ensure_link(to);
        }
        seq
    }

    pub(super) fn on_peer_message(&mut self, from: &Name, msg: PeerMessage) {
        match msg {
            PeerMessage::ChatRequest => {
                let friend = self.friends.contains(from);
                let outs = self.chats.on_request(from, friend);
                self.apply_chat(outs);
            }
            PeerMessage::ChatAccept => {
                let outs = self.chats.on_accept(from);
                self.apply_chat(outs);
            }
            PeerMessage::ChatClose { reason } => {
                let outs = self.chats.on_close(&mut self.io, from, reason.as_str());
                self.apply_chat(outs);
            }
            PeerMessage::Data {
                conv,
                seq,
                low,
                payload,
            } => self.on_data(from, conv, seq, low, payload),
            PeerMessage::Ack { conv, upto } => {
                let target = match &conv {
                    Conv::Direct => Target::User(from.clone()),
                    Conv::Group(g) => Target::Group(g.clone()),
                };
                for seq in self.streams.on_ack(&mut self.io, from, &conv, upto) {
                    self.io.event(PeerEvent::Delivered {
                        to: target.clone(),
                        seq,
                    });
                }
            }
            PeerMessage::GroupInvite { group, members } => {
                let asked = self.questions.has_group(&group, from);
                let pending = self.questions.invites_from(from);
                let me = &self.config.name;
                let members = members.into_vec();
                let outs = self
                    .groups
                    .on_invite(me, from, group, members, asked, pending);
                self.apply_group(outs);
            }
            PeerMessage::GroupAnswer { group, accept } => {
                let me = &self.config.name;
                let outs = self
                    .groups
                    .on_answer(&mut self.io, me, from, &group, accept);
                self.apply_group(outs);
            }
            PeerMessage::GroupRefused { group, reason } => {
                self.groups
                    .on_refused(&mut self.io, from, &group, reason.as_str())
            }
            PeerMessage::NotInGroup { group } => {
                let outs = self.groups.on_not_in_group(&mut self.io, from, &group);
                self.apply_group(outs);
            }
            msg @ (PeerMessage::CallRequest { .. }
            | PeerMessage::CallAccept { .. }
            | PeerMessage::CallEnd { .. }
            | PeerMessage::CallReport { .. }) => self.on_call_message(from, msg),
            PeerMessage::Known { entries } => self.on_known(from, entries.into_vec()),
            m @ (PeerMessage::FilesAsk | PeerMessage::FilesList { .. }) => {
                self.on_files_message(from, m)
            }
            m @ (PeerMessage::ProfileAsk | PeerMessage::ProfileAnswer { .. }) => {
                self.on_profile_message(from, m)
            }
            // The links' own: they never come this far.
            PeerMessage::Verified
            | PeerMessage::Session { .. }
            | PeerMessage::Ping
            | PeerMessage::Pong => {}
        }
    }

    pub(super) fn on_data(
        &mut self,
        from: &Name,
        conv: Conv,
        seq: u64,
        low: u64,
        payload: Payload,
    ) {
        let willing = match &conv {
            Conv::Direct => self.chats.is_open(from) && matches!(payload, Payload::Text(_)),
            Conv::Group(g) => self.groups.accepts(g, from, &payload),
        };
        if !willing {
            // Not yet (a member we have not heard of) or not at all: no ack,
            // so the sender keeps it and tries again later. A group this
            // peer is not in at all it has left, without the sender hearing
            // (it joined after the leaver's `Left` went out): say so.
            if let Conv::Group(g) = &conv {
                let outs = self.groups.not_in_group(from, g);
                self.apply_group(outs);
            }
            return;
        }
        let (verdict, upto) = self.streams.receive(&mut self.io, from, &conv, seq, low);
        if verdict == Received::Deliver {
            match (&conv, payload) {
                (Conv::Direct, Payload::Text(text)) => {
                    let to = Target::User(self.me().clone());
                    self.record(Target::User(from.clone()), from.clone(), text.as_str());
                    self.io.event(PeerEvent::Message {
                        from: from.clone(),
                        to,
                        text: text.into_string(),
                    });
                }
                (Conv::Group(g), payload) => self.on_group_item(g, from, payload),
                (Conv::Direct, _) => {}
            }
        }
        // Shown already, but acknowledged only once kept (see `durable`).
        if let Some((to, conv, upto)) = self.durable.ack(&self.io.out, from, conv, upto) {
            self.links
                .send(&mut self.io, &to, PeerMessage::Ack { conv, upto });
        }
    }

    /// Stores a message in the history of `with`.
    pub(super) fn record(&mut self, with: Target, from: Name, text: &str) {
        let entry = HistoryEntry {
            from,
            text: text.to_owned(),
            at: self.at_ms(),
        };
        self.history.add(&mut self.io, with, entry);
    }

    // ---- chats, friends and questions ----------------------------------

    /// Carries out what the chats asked for, in order.
    pub(super) fn apply_chat(&mut self, outs: Vec<ChatOut>) {
        for out in outs {
            match out {
                ChatOut::Send(name, msg) => {
                    self.links.send(&mut self.io, &name, msg);
                }
                ChatOut::Request(name) => {
                    if !self
                        .links
                        .send(&mut self.io, &name, PeerMessage::ChatRequest)
                    {
                        self.ensure_link(&name);
                    }
                }
                ChatOut::AskUser(from) => {
                    let q = Question::Chat(from.clone());
                    let id = self
                        .questions
                        .ask(&mut self.io, q, self.config.request_timeout);
                    self.chats.asked(&mut self.io, &from, id);
                }
                ChatOut::Withdraw(id) => self.questions.withdraw(&mut self.io, id),
                ChatOut::Open(name) => {
                    let via = self.via_to(&name);
                    self.chats.open(&mut self.io, &name, via);
                    self.flush(&name);
                }
                ChatOut::Closed { with, reason } => {
                    let dropped = self
                        .streams
                        .abandon(&mut self.io, &with, &Conv::Direct)
                        .len();
                    self.io.event(PeerEvent::ChatClosed {
                        with: with.clone(),
                        reason,
                    });
                    if dropped > 0 {
                        self.io.notice(format!(
                            "{dropped} message(s) to {with} were not delivered and are dropped"
                        ));
                    }
                }
            }
        }
    }

    /// After a (re)connection: remind, ask, or start asking for queued messages.
    pub(super) fn chat_sync(&mut self, name: &Name) {
        let waiting = self.streams.waiting(name, &Conv::Direct);
        let outs = self.chats.sync(&mut self.io, name, waiting);
        self.apply_chat(outs);
    }

    /// The registry says `name` is not online.
    pub(super) fn peer_offline(&mut self, name: &Name) {
        let friend = self.friends.contains(name);
        let waiting = self.streams.waiting(name, &Conv::Direct);
        let outs = self.chats.offline(&mut self.io, name, friend, waiting);
        self.apply_chat(outs);
    }

    /// The registry does not know `name`.
    pub(super) fn peer_unknown(&mut self, name: &Name, why: &str) {
        let outs = self.chats.unknown(&mut self.io, name, why);
        self.apply_chat(outs);
    }

    /// `/accept` or `/decline`: to the room that asked.
    pub(super) fn cmd_answer(
        &mut self,
        id: Option<RequestId>,
        yes: bool,
    ) -> Result<(), CommandError> {
        let (_, q) = self.questions.answer(&mut self.io, id)?;
        match q {
            Question::Chat(name) => {
                let outs = self.chats.answer(&mut self.io, name, yes);
                self.apply_chat(outs);
            }
            Question::Group {
                group,
                from,
                members,
            } => {
                let me = &self.config.name;
                let outs = self
                    .groups
                    .answer(&mut self.io, me, group, from, members, yes);
                self.apply_group(outs);
            }
            Question::File(id) => {
                let outs = self.transfers.answer(&mut self.io, id, yes);
                self.apply_transfer(outs);
            }
            Question::Call(name) => self.answer_call(&name, yes),
        }
        Ok(())
    }

    /// `Timer::QuestionExpiry(id)` fired.
    pub(super) fn question_expired(&mut self, id: RequestId) {
        match self.questions.remove(id) {
            Some(Question::Chat(name)) => {
                let outs = self.chats.question_expired(&mut self.io, &name, id);
                self.apply_chat(outs);
            }
            Some(Question::Group { group, from, .. }) => {
                self.io.notice(format!(
                    "the invitation from {from} into {group} expired unanswered"
                ));
            }
            Some(Question::Call(name)) => self.call_question_expired(&name),
            // An offer expires by its transfer's own deadline.
            Some(Question::File(_)) | None => {}
        }
    }

    /// `/msg`.
    pub(super) fn cmd_message(&mut self, to: Target, text: String) -> Result<(), CommandError> {
        if text.is_empty() {
            return Err(CommandError::EmptyMessage);
        }
        let text: Text<MAX_MESSAGE_LEN> =
            Text::new(text).map_err(|e| CommandError::MessageTooLong { len: e.len })?;
        match to {
            Target::User(name) => self.message_user(name, text),
            Target::Group(group) => self.message_group(group, text),
        }
    }

    fn message_user(
        &mut self,
        name: Name,
        text: Text<MAX_MESSAGE_LEN>,
    ) -> Result<(), CommandError> {
        let friend = self.friends.contains(&name);
        let waiting = self.streams.waiting(&name, &Conv::Direct);
        self.chats.may_message(&name, friend, waiting)?;
        let me = self.me().clone();
        self.record(Target::User(name.clone()), me, text.as_str());
        let seq = self.enqueue(&name, &Conv::Direct, None, Payload::Text(text));
        let queued = !(self.chats.is_open(&name) && self.links.is_open(&name));
        self.io.event(PeerEvent::Sent {
            to: Target::User(name),
            seq,
            queued,
        });
        Ok(())
    }

    /// `/friends`, and after every change to the list.
    pub(super) fn report_friends(&mut self) {
        let streams = &self.streams;
        self.friends
            .report(&mut self.io, self.presence.online(), |n| {
                streams.waiting(n, &Conv::Direct)
            });
    }
}
