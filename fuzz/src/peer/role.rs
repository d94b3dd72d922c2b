//! [`Role`] for [`Peer`]: what the driver delivers, the peer's own invariants
//! checked on every output and after every operation. Uses the answers of
//! [`super::answer`] and the [`PeerState`] it keeps.

use std::net::SocketAddr;
use std::time::Instant;

use confab_engine::limits::{MAX_GROUP_MEMBERS, MAX_TRANSFERS};
use confab_engine::peer::{ProfileChange, RequestId};
use confab_engine::secure::certificate::bind;
use confab_engine::secure::{ChannelError, Expect, Local};
use confab_engine::wire::identity::HandshakePayload;
use confab_engine::wire::peer::PeerMessage;
use confab_engine::wire::registry::Reply;
use confab_engine::wire::transfer::TransferMessage;
use confab_engine::wire::{GroupName, Hello, Message, Name, PROTOCOL_VERSION, Role as WireRole};
use confab_engine::{ConnId, Output, Peer, PeerCommand, PeerEvent, Record, TransferId};

use super::answer::reply_to;
use super::*;
use crate::driver::{Model, Role};
use crate::generate::{self, Build, NAME_POOL};
use crate::remote::{RemoteSpec, Speaks};

/// The pool number of whoever listens at `addr` (bob for an address
/// nobody has: a third party answering there).
fn at(addr: SocketAddr) -> usize {
    NAME_POOL
        .iter()
        .position(|n| addr_of(&Name::new(n).expect("pool name")) == addr)
        .unwrap_or(1)
}

/// The registry's end: `mode % 8` 2 another registry's key, 3 a binding
/// its key did not sign, 4 says it is a peer; 0 and 5..=7 honest.
fn registry_remote(mode: u8) -> RemoteSpec {
    let secret = keys::registry_static();
    let (shown, binder) = match mode {
        2 => (keys::other_signer(), keys::other_signer()),
        3 => (keys::signer(), keys::other_signer()),
        _ => (keys::signer(), keys::signer()),
    };
    let role = if mode == 4 {
        WireRole::Peer
    } else {
        WireRole::Registry
    };
    let local = Local {
        role,
        payload: HandshakePayload::Registry {
            signing_key: shown.public(),
            binding: bind(binder, &secret.public()),
        },
        secret,
    };
    RemoteSpec {
        speaks: Speaks::Channel {
            local: Box::new(local),
            expect: Expect::AnyKey,
        },
        honest: !(2..=4).contains(&mode),
    }
}

/// Pool name `k`'s end: `mode % 8` 2 certified for another name, 3 an
/// expired certificate, 4 one from another registry, 5 none, 6 one for
/// another key; 0 and 7 honest.
fn peer_remote(k: usize, mode: u8, unix_now: u64) -> RemoteSpec {
    let name = NAME_POOL[k % NAME_POOL.len()];
    let key = keys::public_of(k);
    let certificate = match mode {
        2 => Some(keys::certificate(
            keys::signer(),
            NAME_POOL[(k + 1) % NAME_POOL.len()],
            key,
            unix_now,
        )),
        3 => Some(keys::expired(name, key, unix_now)),
        4 => Some(keys::certificate(keys::other_signer(), name, key, unix_now)),
        5 => None,
        6 => Some(keys::certificate(
            keys::signer(),
            name,
            keys::public_of(k + 1),
            unix_now,
        )),
        _ => Some(keys::certificate(keys::signer(), name, key, unix_now)),
    };
    let local = Local {
        role: WireRole::Peer,
        secret: keys::static_of(k),
        payload: HandshakePayload::Peer { certificate },
    };
    let expect = Expect::Peer {
        name: Name::new(ME).expect("pool name"),
        trusted: keys::trusted(),
    };
    RemoteSpec {
        speaks: Speaks::Channel {
            local: Box::new(local),
            expect,
        },
        honest: !(2..=6).contains(&mode),
    }
}

impl Role for Peer {
    type GenCommand = GPeerCommand;
    type State = PeerState;

    const ROLE: WireRole = WireRole::Peer;

    /// `mode % 8` 1: no channel; else see `registry_remote` and `peer_remote`.
    fn remote(
        &self,
        model: &Model,
        remote: u8,
        dialed: Option<SocketAddr>,
        mode: u8,
    ) -> RemoteSpec {
        let mode = mode % 8;
        if mode == 1 {
            return RemoteSpec {
                speaks: Speaks::Clear,
                honest: false,
            };
        }
        match dialed {
            Some(REGISTRY) => registry_remote(mode),
            Some(addr) => peer_remote(at(addr), mode, model.unix_now()),
            // Remote number k + 1 is pool name k.
            None => peer_remote(
                (usize::from(remote) + NAME_POOL.len() - 1) % NAME_POOL.len(),
                mode,
                model.unix_now(),
            ),
        }
    }

    /// The peer may have no certificate yet (not logged in, or a
    /// registry that did not issue one), or one that expired.
    fn tolerated(error: &ChannelError) -> bool {
        matches!(error, ChannelError::Certificate(_))
    }

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
                // Streams relayed through the registry (issue 19): opened,
                // fed and credited on the registry connection.
                Message::Goodbye(_) | Message::Relay(_) => {}
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
            let key = self.public_key();
            let unix_now = model.unix_now();
            let certify = || keys::certificate(keys::signer(), ME, key, unix_now);
            let result = reply_to(&body, how, &certify);
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

    fn start(records: Vec<Record>, now: Instant, unix_ms: u64) -> Self {
        Peer::new(config(unix_ms), records, now, 0)
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
            GPeerCommand::Forget(n) => PeerCommand::Forget(n.build()),
            GPeerCommand::Trust { name, fingerprint } => PeerCommand::Trust {
                name: name.build(),
                fingerprint: confab_engine::wire::identity::Fingerprint(*fingerprint),
            },
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
                model.dialed.iter().any(|(c, a)| *a == REGISTRY
                    && model.open.contains(c)
                    && model.secure.contains(c)),
                "logged in without an open, authenticated registry connection"
            );
        }
        let remotes_open = model
            .open
            .iter()
            .any(|c| model.dialed.get(c) != Some(&REGISTRY) && model.secure.contains(c));
        for n in NAME_POOL {
            let n = Name::new(n).expect("pool name");
            if self.is_connected_to(&n) {
                assert!(
                    remotes_open,
                    "connected to {n} without an open, authenticated connection"
                );
            }
        }
    }
}
