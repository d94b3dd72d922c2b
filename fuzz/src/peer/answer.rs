//! How the driver answers what the peer sent: as the registry (plausible
//! replies, so the peer logs in and its look-ups succeed) and as the remote
//! peers (chat, groups, transfer streams). Reads and updates only the
//! [`PeerState`] the driver keeps.

use confab_engine::ConnId;
use confab_engine::bounded::{Blob, List, Text};
use confab_engine::wire::identity::Certificate;
use confab_engine::wire::peer::{Conv, Payload, PeerMessage};
use confab_engine::wire::registry::{
    FileEntry, PeerInfo, Profile, ReplyBody, RequestBody, SharedFile, UserEntry,
};
use confab_engine::wire::transfer::{TransferKey, TransferMessage};
use confab_engine::wire::{ErrorCode, Message, Name, Refusal};

use super::*;
use crate::generate::{self, ERROR_CODES, NAME_POOL, SIZE_POOL};

pub(super) fn refusal(how: u8) -> Refusal {
    Refusal::new(
        ERROR_CODES[usize::from(how >> 2) % ERROR_CODES.len()],
        "refused by the fuzz driver",
    )
}

/// A plausible reply to `body`, in the manner `how`; `certify` issues the
/// peer its certificate (at log-in, and on some heartbeats: a renewal).
pub(super) fn reply_to(
    body: &RequestBody,
    how: u8,
    certify: &dyn Fn() -> Certificate,
) -> Result<ReplyBody, Refusal> {
    let bad = how & 0x03 == 3;
    let key = |name: &Name| {
        NAME_POOL
            .iter()
            .position(|n| *n == name.as_str())
            .map(keys::public_of)
    };
    let users = || {
        NAME_POOL[1..]
            .iter()
            .map(|n| {
                let name = Name::new(n).expect("pool name");
                UserEntry {
                    addr: addr_of(&name),
                    name,
                }
            })
            .collect::<Vec<_>>()
    };
    match body {
        RequestBody::Login { .. } if how & 0x03 == 2 => {
            Err(Refusal::new(ErrorCode::UnknownName, "no such account"))
        }
        RequestBody::Lookup { name } => match how & 0x03 {
            0 | 1 => Ok(ReplyBody::Peer(PeerInfo {
                name: name.clone(),
                addr: Some(addr_of(name)),
                profile: Profile::default(),
                key: key(name),
            })),
            2 => Ok(ReplyBody::Peer(PeerInfo {
                name: name.clone(),
                addr: if how & 0x10 != 0 {
                    Some("10.9.9.9:7000".parse().expect("addr"))
                } else {
                    None
                },
                profile: Profile::default(),
                key: None,
            })),
            _ => Err(refusal(how)),
        },
        _ if bad => Err(refusal(how)),
        // A registry that does not certify (an older one, or a bug): the
        // peer logs in but cannot prove itself to other peers.
        RequestBody::Login { .. } if how & 0x08 != 0 => Ok(ReplyBody::Done),
        RequestBody::Login { .. } => Ok(ReplyBody::Certified(certify())),
        RequestBody::Heartbeat if how & 0x20 != 0 => Ok(ReplyBody::Certified(certify())),
        RequestBody::List { .. } | RequestBody::Search { .. } => Ok(ReplyBody::Users {
            users: List::new(users()).expect("short"),
            more: how & 0x04 != 0,
        }),
        RequestBody::Files { .. } => Ok(ReplyBody::Files {
            files: List::new(vec![FileEntry {
                owner: Name::new(NAME_POOL[1]).expect("pool name"),
                file: SharedFile {
                    kind: Default::default(),
                    name: confab_engine::wire::FileName::new("a.txt").expect("valid"),
                    size: 200,
                    md5: generate::content_md5(200),
                },
            }])
            .expect("short"),
            more: how & 0x04 != 0,
        }),
        _ => Ok(ReplyBody::Done),
    }
}

impl PeerState {
    /// The answer of a remote to `msg`, which the engine sent on `conn`.
    pub(super) fn answer(&mut self, conn: ConnId, msg: &Message, how: u8) -> Vec<Message> {
        let no = how & 0x03 == 3;
        let reason = || Text::truncate("declined by the fuzz driver");
        let m = match msg {
            Message::Peer(PeerMessage::ChatRequest) if no => {
                PeerMessage::ChatClose { reason: reason() }
            }
            Message::Peer(PeerMessage::ChatRequest) => PeerMessage::ChatAccept,
            Message::Peer(PeerMessage::Data { conv, seq, .. }) => PeerMessage::Ack {
                conv: conv.clone(),
                upto: *seq,
            },
            Message::Peer(PeerMessage::GroupInvite { group, .. }) => PeerMessage::GroupAnswer {
                group: group.clone(),
                accept: !no,
            },
            Message::Peer(PeerMessage::GroupAnswer {
                group,
                accept: true,
            }) => {
                // The inviter's welcome: the member list.
                let conv = Conv::Group(group.clone());
                let seq = self.next_seq(conn, &conv);
                let mut members: Vec<Name> = NAME_POOL[..1 + usize::from(how % 4)]
                    .iter()
                    .map(|n| Name::new(n).expect("pool name"))
                    .collect();
                if let Some(me) = self.claimed.get(&conn) {
                    members.push(me.clone());
                }
                members.sort();
                members.dedup();
                PeerMessage::Data {
                    conv,
                    seq,
                    low: 0,
                    payload: Payload::Members(List::new(members).expect("short")),
                }
            }
            Message::Transfer(t) => return self.answer_transfer(conn, t, how),
            _ => return Vec::new(),
        };
        vec![Message::Peer(m)]
    }

    pub(super) fn answer_transfer(
        &mut self,
        conn: ConnId,
        t: &TransferMessage,
        how: u8,
    ) -> Vec<Message> {
        let no = how & 0x03 == 3;
        let key = t.key();
        let cancel = || {
            vec![Message::Transfer(TransferMessage::Cancel {
                key,
                reason: Text::truncate("cancelled by the fuzz driver"),
            })]
        };
        let m = match t {
            _ if no => return cancel(),
            TransferMessage::Get { name, .. } => {
                let size = SIZE_POOL[usize::from(how >> 4) % SIZE_POOL.len()];
                let manifest = crate::samples::single(name.as_str(), size);
                self.manifests.insert(key, manifest.clone());
                TransferMessage::Manifest { key, manifest }
            }
            TransferMessage::Resume { .. } => match self.manifests.get(&key) {
                Some(m) => TransferMessage::Manifest {
                    key,
                    manifest: m.clone(),
                },
                None => return cancel(),
            },
            TransferMessage::Offer { .. } => TransferMessage::Accept { key },
            TransferMessage::Manifest { .. } => TransferMessage::Want {
                key,
                round: u32::from(how >> 2),
                file: 0,
                offset: 0,
                chunk: CHUNK,
                window: WINDOW,
            },
            TransferMessage::Chunk {
                round,
                file,
                offset,
                data,
                ..
            } => {
                let upto = offset.saturating_add(data.len() as u64);
                let mut out = vec![Message::Transfer(TransferMessage::Ack {
                    key,
                    round: *round,
                    file: *file,
                    upto,
                })];
                // The whole transfer moved: the receiver says so, or asks
                // for the next file.
                if let Some(m) = self.manifests.get(&key) {
                    let i = *file as usize;
                    if m.entries.get(i).is_some_and(|e| e.size == upto) {
                        out.push(Message::Transfer(if i + 1 < m.entries.len() {
                            TransferMessage::Want {
                                key,
                                round: round.wrapping_add(1),
                                file: file.saturating_add(1),
                                offset: 0,
                                chunk: CHUNK,
                                window: WINDOW,
                            }
                        } else {
                            TransferMessage::Complete { key }
                        }));
                    }
                }
                return out;
            }
            TransferMessage::Want { .. } => return self.serve(conn, key, how),
            _ => return Vec::new(),
        };
        vec![Message::Transfer(m)]
    }

    /// The remote sender's next chunks for the engine's want of `key`.
    pub(super) fn serve(&mut self, conn: ConnId, key: TransferKey, how: u8) -> Vec<Message> {
        let Some(s) = self.sending.get_mut(&(conn, key)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for _ in 0..=(how & 0x03) {
            if s.next >= s.end {
                break;
            }
            let len = s.chunk.min(s.end - s.next);
            let mut data = generate::content(s.next, len as usize);
            if how & 0x80 != 0
                && let Some(b) = data.last_mut()
            {
                *b ^= 0x01;
            }
            out.push(Message::Transfer(TransferMessage::Chunk {
                key,
                round: s.round,
                file: s.file,
                offset: s.next,
                data: Blob::new(data).expect("within the chunk limit"),
            }));
            s.next = s.next.saturating_add(len);
        }
        out
    }
}
