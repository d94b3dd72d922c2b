//! [`Role`] for [`Peer`]: what the driver delivers, the peer's own invariants
//! checked on every output and after every operation. Uses the answers of
//! [`super::answer`] and the [`PeerState`] it keeps.

use std::time::Instant;

use confab_engine::limits::{MAX_GROUP_MEMBERS, MAX_TRANSFERS};
use confab_engine::peer::{ProfileChange, RequestId};
use confab_engine::wire::peer::PeerMessage;
use confab_engine::wire::registry::Reply;
use confab_engine::wire::transfer::TransferMessage;
use confab_engine::wire::{GroupName, Hello, Message, Name, PROTOCOL_VERSION};
use confab_engine::{ConnId, Output, Peer, PeerCommand, PeerEvent, Record, TransferId};

use super::answer::reply_to;
use super::*;
use crate::driver::{Model, Role};
use crate::generate::{self, Build, NAME_POOL};

impl Role for Peer {
    type GenCommand = GPeerCommand;
    type State = PeerState;

    fn on_delivered(state: &mut PeerState, conn: ConnId, msg: &Message) {
        match msg {
            Message::Hello(h) => {
                state.greeted.insert(conn);
                if let Some(n) = &h.name {
                    state.claimed.insert(conn, n.clone());
                }
            }
            Message::Peer(PeerMessage::Verified) => {
                state.verified.insert(conn);
            }
            Message::Transfer(
                TransferMessage::Offer { key, manifest }
                | TransferMessage::Manifest { key, manifest },
            ) => {
                state.manifests.insert(*key, manifest.clone());
            }
            _ => {}
        }
    }

    fn check_sent(&self, state: &mut PeerState, conn: ConnId, msg: &Message, model: &Model) {
        if model.dialed.get(&conn) == Some(&REGISTRY) {
            state.registry = Some(conn);
            match msg {
                Message::Hello(h) => assert!(
                    h.name.is_none() && h.role == confab_engine::wire::Role::Peer,
                    "a bad hello to the registry: {h:?}"
                ),
                Message::Request(r) => {
                    state.requests.push_back((conn, r.id, r.body.clone()));
                    if state.requests.len() > MAX_ASKS {
                        state.requests.pop_front();
                    }
                }
                Message::Goodbye(_) => {}
                other => panic!("the peer sent the registry a {}", other.kind()),
            }
            return;
        }
        match msg {
            Message::Hello(h) => {
                assert_eq!(
                    h.name.as_ref().map(Name::as_str),
                    Some(ME),
                    "a peer hello that does not name this peer"
                );
                return;
            }
            Message::Goodbye(_) => return,
            Message::Peer(PeerMessage::Verified) => {
                assert!(
                    !model.dialed.contains_key(&conn),
                    "the dialer of {conn} sent Verified"
                );
                assert!(state.verified.insert(conn), "Verified sent twice on {conn}");
                return;
            }
            // Link control is part of the handshake: the session epoch follows
            // the hello, and keepalives may flow on any open connection.
            Message::Peer(PeerMessage::Session { .. } | PeerMessage::Ping | PeerMessage::Pong) => {
                return;
            }
            Message::Peer(_) | Message::Transfer(_) => assert!(
                state.verified.contains(&conn),
                "{} sent on {conn} before the link was verified",
                msg.kind()
            ),
            other => panic!("the peer sent a remote a {}", other.kind()),
        }
        match msg {
            Message::Transfer(TransferMessage::Chunk { data, .. }) => assert!(
                !data.is_empty() && data.len() <= CHUNK as usize,
                "a chunk of {} bytes (chunk size {CHUNK})",
                data.len()
            ),
            Message::Transfer(TransferMessage::Want {
                key,
                round,
                file,
                offset,
                chunk,
                window,
            }) => {
                assert!(
                    (1..=CHUNK).contains(chunk) && (1..=WINDOW).contains(window),
                    "a Want of chunk {chunk}, window {window}"
                );
                let end = state
                    .manifests
                    .get(key)
                    .and_then(|m| m.entries.get(*file as usize))
                    .map_or(*offset, |e| e.size);
                state.sending.insert(
                    (conn, *key),
                    Sending {
                        round: *round,
                        file: *file,
                        next: *offset,
                        end,
                        chunk: u64::from(*chunk),
                    },
                );
            }
            Message::Transfer(TransferMessage::Offer { key, manifest }) => {
                state.manifests.insert(*key, manifest.clone());
            }
            Message::Transfer(TransferMessage::Manifest { key, manifest }) => {
                state.manifests.insert(*key, manifest.clone());
            }
            _ => {}
        }
        let answerable = matches!(
            msg,
            Message::Peer(
                PeerMessage::ChatRequest
                    | PeerMessage::Data { .. }
                    | PeerMessage::GroupInvite { .. }
                    | PeerMessage::GroupAnswer { accept: true, .. }
            ) | Message::Transfer(
                TransferMessage::Get { .. }
                    | TransferMessage::Offer { .. }
                    | TransferMessage::Resume { .. }
                    | TransferMessage::Manifest { .. }
                    | TransferMessage::Want { .. }
                    | TransferMessage::Chunk { .. }
            )
        );
        if answerable {
            state.ask(conn, msg.clone());
        }
    }

    fn respond(
        &self,
        state: &mut PeerState,
        model: &Model,
        pick: u8,
        how: u8,
    ) -> Vec<(ConnId, Message)> {
        state.requests.retain(|(c, ..)| model.open.contains(c));
        state.asks.retain(|(c, _)| model.open.contains(c));
        let n = state.requests.len() + state.asks.len();
        let mut out = Vec::new();
        // Whoever the engine dialed says hello first (a remote then says
        // `Verified`; under `how`'s lowest bits 3, the wrong name answers).
        for (&conn, &addr) in &model.dialed {
            if !model.open.contains(&conn)
                || model.connecting.contains(&conn)
                || state.greeted.contains(&conn)
            {
                continue;
            }
            if addr == REGISTRY {
                let hello = Hello {
                    version: PROTOCOL_VERSION,
                    role: confab_engine::wire::Role::Registry,
                    name: None,
                };
                out.push((conn, Message::Hello(hello)));
                continue;
            }
            let k = NAME_POOL
                .iter()
                .position(|n| addr_of(&Name::new(n).expect("pool name")) == addr)
                .unwrap_or(1);
            let k = if how & 0x03 == 3 {
                (k + 1) % NAME_POOL.len()
            } else {
                k
            };
            out.push((conn, crate::samples::peer_hello(NAME_POOL[k])));
            // Both sides state their session epoch right after the hello.
            out.push((
                conn,
                Message::Peer(PeerMessage::Session {
                    epoch: u64::from(how),
                }),
            ));
            out.push((conn, Message::Peer(PeerMessage::Verified)));
        }
        if !out.is_empty() {
            return out;
        }
        if n == 0 {
            return out;
        }
        let i = usize::from(pick) % n;
        if i < state.requests.len() {
            let (conn, id, body) = state.requests.remove(i).expect("in range");
            let result = reply_to(&body, how);
            out.push((conn, Message::Reply(Reply { id, result })));
            return out;
        }
        let i = i - state.requests.len();
        let (conn, msg) = state.asks[i].clone();
        // A want is served chunk by chunk; anything else is answered once.
        let keep =
            matches!(msg, Message::Transfer(TransferMessage::Want { .. })) && how & 0x40 == 0;
        if !keep {
            state.asks.remove(i);
        }
        out.extend(state.answer(conn, &msg, how).into_iter().map(|m| (conn, m)));
        out
    }

    fn start(records: Vec<Record>, now: Instant) -> Self {
        Peer::new(config(), records, now, 0)
    }

    fn command(&self, g: &GPeerCommand, model: &Model) -> Option<PeerCommand> {
        Some(match g {
            GPeerCommand::Who => PeerCommand::Who,
            GPeerCommand::Whois(n) => PeerCommand::Whois(n.build()),
            GPeerCommand::Search(s) => PeerCommand::Search(s.clone()),
            GPeerCommand::Files(n) => PeerCommand::Files(n.build()),
            GPeerCommand::Chat(n) => PeerCommand::Chat(n.build()),
            GPeerCommand::Accept(i) => PeerCommand::Accept(i.map(|i| RequestId(i.into()))),
            GPeerCommand::Decline(i) => PeerCommand::Decline(i.map(|i| RequestId(i.into()))),
            GPeerCommand::Message { to, text } => PeerCommand::Message {
                to: to.build(),
                text: text.clone(),
            },
            GPeerCommand::CloseChat(n) => PeerCommand::CloseChat(n.build()),
            GPeerCommand::GroupCreate(g) => PeerCommand::GroupCreate(g.build()),
            GPeerCommand::Invite { group, name } => PeerCommand::Invite {
                group: group.build(),
                name: name.build(),
            },
            GPeerCommand::Leave(g) => PeerCommand::Leave(g.build()),
            GPeerCommand::SendFile { to, path } => PeerCommand::SendFile {
                to: to.build(),
                path: format!("/home/me/{}", path.build()),
            },
            GPeerCommand::Get { from, file } => PeerCommand::Get {
                from: from.build(),
                file: file.build(),
            },
            GPeerCommand::Transfers => PeerCommand::Transfers,
            GPeerCommand::Cancel { named, i } => {
                let named_ids = &model.files.named;
                PeerCommand::Cancel(if *named && !named_ids.is_empty() {
                    named_ids[usize::from(*i) % named_ids.len()]
                } else {
                    TransferId(u64::from(*i % 16))
                })
            }
            GPeerCommand::Friends => PeerCommand::Friends,
            GPeerCommand::FriendAdd(n) => PeerCommand::FriendAdd(n.build()),
            GPeerCommand::FriendRemove(n) => PeerCommand::FriendRemove(n.build()),
            GPeerCommand::History { with, last } => PeerCommand::History {
                with: with.build(),
                last: usize::from(*last),
            },
            GPeerCommand::ShowProfile => PeerCommand::ShowProfile,
            GPeerCommand::Nick(s) => PeerCommand::SetProfile(ProfileChange::Nick(s.clone())),
            GPeerCommand::Bio(s) => PeerCommand::SetProfile(ProfileChange::Bio(s.clone())),
            GPeerCommand::Avatar(len) => {
                PeerCommand::SetProfile(ProfileChange::Avatar(vec![7; usize::from(*len) * 2]))
            }
            GPeerCommand::Quit => PeerCommand::Quit,
        })
    }

    fn check_event(&self, event: &PeerEvent, model: &Model) {
        let _ = model;
        match event {
            PeerEvent::TransferProgress { done, total, .. } => {
                assert!(done <= total, "progress {done} of {total}")
            }
            PeerEvent::ChatRequest { from, .. }
            | PeerEvent::GroupInvite { from, .. }
            | PeerEvent::FileOffer { from, .. } => {
                assert_ne!(from.as_str(), ME, "a question from this peer itself")
            }
            PeerEvent::GroupJoined { members, .. } => {
                assert!(
                    members.len() <= MAX_GROUP_MEMBERS,
                    "a group of {}",
                    members.len()
                );
                assert!(
                    members.iter().any(|m| m.as_str() == ME),
                    "joined a group without this peer in it"
                );
            }
            _ => {}
        }
    }

    fn check_other_output(&self, output: &Output<PeerEvent>, _model: &Model) {
        match output {
            Output::ReadChunk { len, .. } => assert!(
                *len <= CHUNK,
                "a ReadChunk of {len} bytes (chunk size {CHUNK})"
            ),
            Output::WriteChunk { data, .. } => assert!(
                !data.is_empty() && data.len() <= CHUNK as usize,
                "a WriteChunk of {} bytes (chunk size {CHUNK})",
                data.len()
            ),
            Output::OpenSource { .. }
            | Output::OpenPart { .. }
            | Output::FinishFile { .. }
            | Output::DiscardPart { .. }
            | Output::ReleaseFiles { .. } => {}
            other => panic!("an unexpected output: {other:?}"),
        }
    }

    fn check(&self, model: &Model) {
        assert!(
            self.transfer_count() <= MAX_TRANSFERS,
            "{} transfers held",
            self.transfer_count()
        );
        for g in generate::GROUP_POOL {
            let g = GroupName::new(g).expect("pool group");
            assert!(self.group_members(&g).len() <= MAX_GROUP_MEMBERS);
        }
        if self.is_logged_in() {
            assert!(
                model
                    .dialed
                    .iter()
                    .any(|(c, a)| *a == REGISTRY && model.open.contains(c)),
                "logged in without an open registry connection"
            );
        }
        let remotes_open = model
            .open
            .iter()
            .any(|c| model.dialed.get(c) != Some(&REGISTRY));
        for n in NAME_POOL {
            let n = Name::new(n).expect("pool name");
            if self.is_connected_to(&n) {
                assert!(remotes_open, "connected to {n} without an open connection");
            }
        }
    }
}
