//! The `--json` contract: each [`PeerEvent`] as one JSON object with an
//! `"event"` field, exactly `docs/events.md`'s names and fields (more fields may be
//! added, none removed or renamed: scripts depend on them). Ids are numbers,
//! addresses are `"ip:port"` text, MD5s are 32 lowercase hex digits, a
//! message's `to` is a name or `#group`. Events the table does not name get
//! names in the same style.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use confab_engine::peer::{Direction, PeerEvent, WhoisFrom};
use confab_engine::wire::Name;
use confab_engine::wire::registry::{ShareKind, SharedFile};
use serde_json::{Value, json};

/// The JSON object for `event`.
pub fn event(event: &PeerEvent) -> Value {
    match event {
        PeerEvent::Ready {
            name,
            listen,
            fingerprint,
        } => json!({
            "event": "ready",
            "name": name.as_str(),
            "listen": listen.to_string(),
            "fingerprint": fingerprint,
        }),
        PeerEvent::Users { users } => json!({
            "event": "users",
            "users": users.iter().map(|u| json!({
                "name": u.name.as_str(),
                "addr": u.addr.to_string(),
                // Port 0: it takes no connections (`--listen off`).
                "listens": u.addr.port() != 0,
            })).collect::<Vec<_>>(),
        }),
        PeerEvent::Found { peers } => super::lan::found_json(peers),
        PeerEvent::Files { files } => json!({
            "event": "files",
            "files": files.iter().map(|f| {
                let mut v = shared_file(&f.file);
                v["owner"] = json!(f.owner.as_str());
                v
            }).collect::<Vec<_>>(),
        }),
        PeerEvent::Whois { info, files, from } => json!({
            "event": "whois",
            "name": info.name.as_str(),
            "addr": info.addr.map(|a| a.to_string()),
            "online": info.addr.is_some(),
            "nick": info.profile.nick.as_str(),
            "bio": info.profile.bio.as_str(),
            "avatar_size": info.profile.avatar.len(),
            "fingerprint": info.key.map(|k| k.fingerprint().to_string()),
            "files": files.iter().map(shared_file).collect::<Vec<_>>(),
            "source": match from {
                WhoisFrom::Registry => "registry",
                WhoisFrom::Peer { .. } => "peer",
            },
            "found_by": match from {
                WhoisFrom::Peer { by: Some(by), .. } => Some(by.as_str()),
                _ => None,
            },
            "profile_digest": match from {
                WhoisFrom::Peer { digest, .. } => Some(digest.as_str()),
                WhoisFrom::Registry => None,
            },
        }),
        PeerEvent::KeyPinned { name, old, new } => json!({
            "event": "key_pinned",
            "name": name.as_str(),
            "old": old,
            "new": new,
        }),
        PeerEvent::Presence { name, online } => {
            json!({"event": "presence", "name": name.as_str(), "online": online})
        }
        PeerEvent::ChatRequest { id, from } => {
            json!({"event": "chat_request", "id": id.0, "from": from.as_str()})
        }
        PeerEvent::ChatOpened { with, via } => {
            json!({"event": "chat_opened", "with": with.as_str(), "via": via.word()})
        }
        PeerEvent::Path { with, via } => {
            json!({"event": "path", "with": with.as_str(), "via": via.word()})
        }
        e @ (PeerEvent::CallRequest { .. }
        | PeerEvent::CallStarted { .. }
        | PeerEvent::CallStats { .. }
        | PeerEvent::CallEnded { .. }
        | PeerEvent::CallFrame { .. }
        | PeerEvent::CallAdapt { .. }) => super::call_json::event(e),
        PeerEvent::ChatClosed { with, reason } => {
            json!({"event": "chat_closed", "with": with.as_str(), "reason": reason})
        }
        PeerEvent::GroupInvite { id, from, group } => json!({
            "event": "group_invite", "id": id.0, "from": from.as_str(), "group": group.as_str(),
        }),
        PeerEvent::GroupJoined { group, members } => json!({
            "event": "group_joined",
            "group": group.as_str(),
            "members": members.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
        }),
        PeerEvent::MemberJoined { group, name } => {
            json!({"event": "member_joined", "group": group.as_str(), "name": name.as_str()})
        }
        PeerEvent::MemberLeft { group, name } => {
            json!({"event": "member_left", "group": group.as_str(), "name": name.as_str()})
        }
        PeerEvent::Message { from, to, text } => json!({
            "event": "message", "from": from.as_str(), "to": to.to_string(), "text": text,
        }),
        PeerEvent::Delivered { to, seq } => {
            json!({"event": "delivered", "to": to.to_string(), "seq": seq})
        }
        PeerEvent::Sent { to, seq, queued } => {
            json!({"event": "sent", "to": to.to_string(), "seq": seq, "queued": queued})
        }
        PeerEvent::FileOffer {
            id,
            from,
            name,
            size,
            transfer,
        } => json!({
            "event": "file_offer", "id": id.0, "from": from.as_str(), "name": name, "size": size,
            "transfer": transfer.0,
        }),
        PeerEvent::TransferProgress {
            id,
            done,
            total,
            rate,
            via,
        } => json!({
            "event": "transfer_progress", "id": id.0, "done": done, "total": total, "rate": rate,
            "via": via.word(),
        }),
        PeerEvent::TransferDone {
            id,
            direction,
            name,
            path,
            md5,
            folder,
            files,
            size,
            via,
        } => json!({
            "event": "transfer_done",
            "id": id.0,
            "direction": direction_str(*direction),
            "name": name,
            "path": path,
            "md5": md5.to_hex(),
            "kind": if *folder { "folder" } else { "file" },
            "files": files,
            "size": size,
            "via": via.word(),
        }),
        PeerEvent::TransferFailed { id, reason } => {
            json!({"event": "transfer_failed", "id": id.0, "reason": reason})
        }
        PeerEvent::TransferPaused { id, reason } => {
            json!({"event": "transfer_paused", "id": id.0, "reason": reason})
        }
        PeerEvent::Transfers { transfers } => json!({
            "event": "transfers",
            "transfers": transfers.iter().map(|t| json!({
                "id": t.id.0,
                "direction": direction_str(t.direction),
                "peer": t.peer.as_str(),
                "name": t.name,
                "done": t.done,
                "total": t.total,
                "rate": t.rate,
                "state": t.state,
                "via": t.via.word(),
            })).collect::<Vec<_>>(),
        }),
        PeerEvent::History { with, messages } => json!({
            "event": "history",
            "with": with.to_string(),
            "messages": messages.iter().map(|m| json!({
                "from": m.from.as_str(), "text": m.text, "at": m.at,
            })).collect::<Vec<_>>(),
        }),
        PeerEvent::Friends { friends } => json!({
            "event": "friends",
            "friends": friends.iter().map(|f| json!({
                "name": f.name.as_str(), "online": f.online, "queued": f.queued,
            })).collect::<Vec<_>>(),
        }),
        PeerEvent::Profile { profile } => json!({
            "event": "profile",
            "nick": profile.nick.as_str(),
            "bio": profile.bio.as_str(),
            "avatar_size": profile.avatar.len(),
        }),
        PeerEvent::RegistryLost { reason } => json!({"event": "registry_lost", "reason": reason}),
        PeerEvent::RegistryBack => json!({"event": "registry_back"}),
        PeerEvent::RegistryKey {
            registry,
            fingerprint,
        } => registry_key(*registry, fingerprint, None),
        PeerEvent::RegistryHeard {
            registry,
            fingerprint,
            used,
            ..
        } => json!({
            "event": "registry_heard",
            "registry": registry.to_string(),
            "fingerprint": fingerprint,
            "used": used,
        }),
        PeerEvent::KeyChanged { name, old, new } => {
            json!({"event": "key_changed", "name": name.as_str(), "old": old, "new": new})
        }
        PeerEvent::Error { message } => error(message),
        PeerEvent::Notice { message } => notice(message),
        PeerEvent::Stopped { code, reason } => {
            json!({"event": "stopped", "code": code.to_string(), "reason": reason})
        }
    }
}

/// A `registry_key` event: the registry at `registry` proved this key on
/// first contact and is trusted from now on; `file` is where it was kept
/// (`null`: it could not be, an `error` follows).
pub fn registry_key(registry: SocketAddr, fingerprint: &str, file: Option<&PathBuf>) -> Value {
    json!({
        "event": "registry_key",
        "registry": registry.to_string(),
        "fingerprint": fingerprint,
        "file": file.map(|f| f.display().to_string()),
    })
}

/// An `error` event for a mistake found before the engine (bad input).
pub fn error(message: &str) -> Value {
    json!({"event": "error", "message": message})
}

/// A `notice` event: something worth telling that fits no other event.
pub fn notice(message: &str) -> Value {
    json!({"event": "notice", "message": message})
}

/// The answer to `/avatar NAME`: where it was saved (`null`: no avatar).
pub fn avatar(name: &Name, size: usize, path: Option<&Path>) -> Value {
    json!({
        "event": "avatar",
        "name": name.as_str(),
        "size": size,
        "path": path.map(|p| p.display().to_string()),
    })
}

/// A `share_updated` event: the share watch published this list.
pub fn share_updated(dir: &std::path::Path, files: &[SharedFile]) -> Value {
    let files: Vec<Value> = files.iter().map(shared_file).collect();
    json!({"event": "share_updated", "dir": dir.to_string_lossy(), "files": files})
}

/// The answer to `/share`.
pub fn share(status: &confab_mio::ShareStatus) -> Value {
    use confab_mio::EntryState;
    let entries: Vec<Value> = status
        .entries
        .iter()
        .map(|e| {
            let kind = if e.files.is_some() { "folder" } else { "file" };
            let mut v = json!({"name": e.name, "size": e.size, "kind": kind, "files": e.files.unwrap_or(1)});
            let (state, extra) = match &e.state {
                EntryState::Settling => ("settling", None),
                EntryState::Hashing { done } => ("hashing", Some(("done", json!(done)))),
                EntryState::Listed { md5 } => ("listed", Some(("md5", json!(md5.to_hex())))),
                EntryState::Skipped { why } => ("skipped", Some(("why", json!(why)))),
            };
            v["state"] = json!(state);
            if let Some((k, x)) = extra {
                v[k] = x;
            }
            v
        })
        .collect();
    json!({
        "event": "share",
        "dir": status.dir.to_string_lossy(),
        "files": entries,
        "publishes": status.publishes,
        "degraded": status.degraded,
    })
}

/// `/share` for people: one line per entry.
pub fn share_text(status: &confab_mio::ShareStatus) -> String {
    use confab_mio::EntryState;
    use std::fmt::Write;
    let mut out = format!("share folder {}", status.dir.display());
    if let Some(d) = &status.degraded {
        let _ = write!(out, "\n  note: {d}");
    }
    if status.entries.is_empty() {
        out.push_str("\n  (empty)");
    }
    for e in &status.entries {
        let state = match &e.state {
            EntryState::Settling => "waiting until it stops changing".to_string(),
            EntryState::Hashing { done } => format!("hashing, {done} of {} bytes", e.size),
            EntryState::Listed { md5 } => format!("listed, md5 {}", md5.to_hex()),
            EntryState::Skipped { why } => format!("skipped: {why}"),
        };
        let name = e.name.escape_debug();
        match e.files {
            Some(n) => {
                let _ = write!(out, "\n  {name}/  {n} files, {} bytes  {state}", e.size);
            }
            None => {
                let _ = write!(out, "\n  {name}  {} bytes  {state}", e.size);
            }
        }
    }
    out
}

/// The answer to `/help`.
pub fn help(text: &str) -> Value {
    json!({"event": "help", "text": text})
}

/// One shared entry: `kind` is `file` or `folder`, `files` how many files
/// it stands for (1 for a file).
fn shared_file(f: &SharedFile) -> Value {
    let kind = match f.kind {
        ShareKind::File => "file",
        ShareKind::Folder { .. } => "folder",
    };
    json!({
        "name": f.name.as_str(),
        "size": f.size,
        "md5": f.md5.to_hex(),
        "kind": kind,
        "files": f.files(),
    })
}

fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::Send => "send",
        Direction::Receive => "receive",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_engine::TransferId;
    use confab_engine::peer::{
        DigestCheck, FoundBy, FriendStatus, HistoryEntry, RequestId, Target, TransferStatus, Via,
    };
    use confab_engine::wire::registry::{FileEntry, PeerInfo, UserEntry};
    use confab_engine::wire::{ErrorCode, FileName, GroupName, Md5, Name};

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    /// The one line printed for `e`, parsed back.
    fn line(e: PeerEvent) -> Value {
        let text = event(&e).to_string();
        assert!(!text.contains('\n'), "one line: {text}");
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn ready() {
        let v = line(PeerEvent::Ready {
            name: n("alice"),
            listen: "127.0.0.1:4000".parse().unwrap(),
            fingerprint: "ab".repeat(16),
        });
        assert_eq!(
            v,
            json!({"event": "ready", "name": "alice", "listen": "127.0.0.1:4000", "fingerprint": "ab".repeat(16)})
        );
    }

    #[test]
    fn users() {
        let v = line(PeerEvent::Users {
            users: vec![UserEntry {
                name: n("bob"),
                addr: "10.0.0.2:5000".parse().unwrap(),
            }],
        });
        assert_eq!(
            v,
            json!({"event": "users", "users": [{"name": "bob", "addr": "10.0.0.2:5000", "listens": true}]})
        );
        let v = line(PeerEvent::Users {
            users: vec![UserEntry {
                name: n("bob"),
                addr: "10.0.0.2:0".parse().unwrap(),
            }],
        });
        assert_eq!(v["users"][0]["listens"], false, "--listen off shows: {v}");
    }

    #[test]
    fn files_with_lowercase_hex_md5() {
        let md5 = Md5([0xAB; 16]);
        let folder = SharedFile {
            name: FileName::new("photos").unwrap(),
            size: 30,
            md5,
            kind: ShareKind::Folder { files: 3 },
        };
        let v = line(PeerEvent::Files {
            files: vec![
                FileEntry {
                    owner: n("bob"),
                    file: SharedFile::file(FileName::new("a b.txt").unwrap(), 12, md5),
                },
                FileEntry {
                    owner: n("bob"),
                    file: folder,
                },
            ],
        });
        assert_eq!(
            v,
            json!({"event": "files", "files": [
                {"owner": "bob", "name": "a b.txt", "size": 12, "md5": "ab".repeat(16), "kind": "file", "files": 1},
                {"owner": "bob", "name": "photos", "size": 30, "md5": "ab".repeat(16), "kind": "folder", "files": 3},
            ]})
        );
    }

    #[test]
    fn whois() {
        let v = line(PeerEvent::Whois {
            info: PeerInfo {
                name: n("bob"),
                addr: None,
                profile: Default::default(),
                key: None,
            },
            files: vec![],
            from: WhoisFrom::Registry,
        });
        assert_eq!(v["event"], "whois");
        assert_eq!(v["source"], "registry");
        assert_eq!(v["profile_digest"], Value::Null);
        assert_eq!(v["name"], "bob");
        assert_eq!(v["online"], false);
        assert_eq!(v["addr"], Value::Null);
        assert_eq!(v["fingerprint"], Value::Null);
        let key = confab_engine::wire::identity::PublicKey([7; 32]);
        let v = line(PeerEvent::Whois {
            info: PeerInfo {
                name: n("bob"),
                addr: Some("10.0.0.2:5000".parse().unwrap()),
                profile: Default::default(),
                key: Some(key),
            },
            files: vec![],
            from: WhoisFrom::Peer {
                by: Some(FoundBy::Lan),
                digest: DigestCheck::Differs,
            },
        });
        assert_eq!(v["fingerprint"], key.fingerprint().to_string());
        assert_eq!(v["source"], "peer");
        assert_eq!(v["found_by"], "lan");
        assert_eq!(v["profile_digest"], "differs");
    }

    #[test]
    fn key_pinned() {
        let (old, new) = ("00".repeat(16), "11".repeat(16));
        let v = line(PeerEvent::KeyPinned {
            name: n("bob"),
            old: Some(old.clone()),
            new: Some(new.clone()),
        });
        assert_eq!(v["event"], "key_pinned");
        assert_eq!(v["name"], "bob");
        assert_eq!(v["old"], old);
        assert_eq!(v["new"], new);
        let v = line(PeerEvent::KeyPinned {
            name: n("bob"),
            old: Some(old),
            new: None,
        });
        assert_eq!(v["new"], Value::Null, "/forget");
    }

    #[test]
    fn presence() {
        let v = line(PeerEvent::Presence {
            name: n("bob"),
            online: true,
        });
        assert_eq!(
            v,
            json!({"event": "presence", "name": "bob", "online": true})
        );
    }

    #[test]
    fn chat_request_opened_closed() {
        let v = line(PeerEvent::ChatRequest {
            id: RequestId(3),
            from: n("bob"),
        });
        assert_eq!(v, json!({"event": "chat_request", "id": 3, "from": "bob"}));
        let v = line(PeerEvent::ChatOpened {
            with: n("bob"),
            via: Via::Direct,
        });
        assert_eq!(
            v,
            json!({"event": "chat_opened", "with": "bob", "via": "direct"})
        );
        let v = line(PeerEvent::ChatOpened {
            with: n("bob"),
            via: Via::Relay,
        });
        assert_eq!(v["via"], "relay");
        let v = line(PeerEvent::ChatClosed {
            with: n("bob"),
            reason: "declined".into(),
        });
        assert_eq!(
            v,
            json!({"event": "chat_closed", "with": "bob", "reason": "declined"})
        );
    }

    #[test]
    fn group_invite_and_membership() {
        let team = GroupName::new("#team").unwrap();
        let v = line(PeerEvent::GroupInvite {
            id: RequestId(9),
            from: n("bob"),
            group: team.clone(),
        });
        assert_eq!(
            v,
            json!({"event": "group_invite", "id": 9, "from": "bob", "group": "#team"})
        );
        let v = line(PeerEvent::GroupJoined {
            group: team.clone(),
            members: vec![n("alice"), n("bob")],
        });
        assert_eq!(v["members"], json!(["alice", "bob"]));
        let v = line(PeerEvent::MemberLeft {
            group: team,
            name: n("bob"),
        });
        assert_eq!(
            v,
            json!({"event": "member_left", "group": "#team", "name": "bob"})
        );
    }

    #[test]
    fn message_to_a_person_and_to_a_group() {
        let v = line(PeerEvent::Message {
            from: n("bob"),
            to: Target::User(n("alice")),
            text: "hi \"you\"".into(),
        });
        assert_eq!(
            v,
            json!({"event": "message", "from": "bob", "to": "alice", "text": "hi \"you\""})
        );
        let v = line(PeerEvent::Message {
            from: n("bob"),
            to: Target::Group(GroupName::new("#team").unwrap()),
            text: "x".into(),
        });
        assert_eq!(v["to"], "#team");
    }

    #[test]
    fn delivered_and_sent() {
        let v = line(PeerEvent::Delivered {
            to: Target::User(n("bob")),
            seq: 4,
        });
        assert_eq!(v, json!({"event": "delivered", "to": "bob", "seq": 4}));
        let v = line(PeerEvent::Sent {
            to: Target::User(n("bob")),
            seq: 5,
            queued: true,
        });
        assert_eq!(v["event"], "sent");
        assert_eq!(v["queued"], true);
    }

    #[test]
    fn file_offer() {
        let v = line(PeerEvent::FileOffer {
            id: RequestId(2),
            from: n("bob"),
            name: "big.iso".into(),
            size: 1 << 30,
            transfer: TransferId(4321),
        });
        assert_eq!(
            v,
            json!({"event": "file_offer", "id": 2, "from": "bob", "name": "big.iso", "size": 1u64 << 30, "transfer": 4321})
        );
    }

    #[test]
    fn transfer_progress_done_failed() {
        let v = line(PeerEvent::TransferProgress {
            id: TransferId(1),
            done: 10,
            total: 20,
            rate: 5,
            via: Via::Relay,
        });
        assert_eq!(v["event"], "transfer_progress");
        assert_eq!(v["via"], "relay");
        assert_eq!(
            (v["id"].clone(), v["done"].clone(), v["total"].clone()),
            (json!(1), json!(10), json!(20))
        );
        let v = line(PeerEvent::TransferDone {
            id: TransferId(1),
            direction: Direction::Receive,
            name: "f".into(),
            path: "/d/f".into(),
            md5: Md5::of(b""),
            folder: false,
            files: 1,
            size: 0,
            via: Via::Direct,
        });
        assert_eq!(
            v,
            json!({"event": "transfer_done", "id": 1, "direction": "receive", "name": "f", "path": "/d/f", "md5": "d41d8cd98f00b204e9800998ecf8427e", "kind": "file", "files": 1, "size": 0, "via": "direct"})
        );
        let v = line(PeerEvent::TransferFailed {
            id: TransferId(1),
            reason: "md5 mismatch".into(),
        });
        assert_eq!(
            v,
            json!({"event": "transfer_failed", "id": 1, "reason": "md5 mismatch"})
        );
        let v = line(PeerEvent::TransferPaused {
            id: TransferId(1),
            reason: "paused by bob".into(),
        });
        assert_eq!(
            v,
            json!({"event": "transfer_paused", "id": 1, "reason": "paused by bob"})
        );
    }

    #[test]
    fn transfers_friends_profile() {
        let v = line(PeerEvent::Transfers {
            transfers: vec![TransferStatus {
                id: TransferId(2),
                direction: Direction::Send,
                peer: n("bob"),
                name: "f".into(),
                done: 1,
                total: 2,
                rate: 0,
                state: "moving".into(),
                via: confab_engine::peer::Via::Direct,
            }],
        });
        assert_eq!(v["transfers"][0]["direction"], "send");
        assert_eq!(v["transfers"][0]["via"], "direct");
        let v = line(PeerEvent::Friends {
            friends: vec![FriendStatus {
                name: n("bob"),
                online: false,
                queued: 2,
            }],
        });
        assert_eq!(
            v["friends"][0],
            json!({"name": "bob", "online": false, "queued": 2})
        );
        let v = line(PeerEvent::Profile {
            profile: Default::default(),
        });
        assert_eq!(v["event"], "profile");
    }

    #[test]
    fn history() {
        let v = line(PeerEvent::History {
            with: Target::User(n("bob")),
            messages: vec![HistoryEntry {
                from: n("bob"),
                text: "hi".into(),
                at: 1_700_000_000_000,
            }],
        });
        assert_eq!(
            v,
            json!({"event": "history", "with": "bob", "messages": [{"from": "bob", "text": "hi", "at": 1_700_000_000_000u64}]})
        );
    }

    #[test]
    fn error_notice_registry_and_stopped() {
        let v = line(PeerEvent::Error {
            message: "no".into(),
        });
        assert_eq!(v, json!({"event": "error", "message": "no"}));
        assert_eq!(error("bad"), json!({"event": "error", "message": "bad"}));
        let v = line(PeerEvent::RegistryLost {
            reason: "reset".into(),
        });
        assert_eq!(v, json!({"event": "registry_lost", "reason": "reset"}));
        assert_eq!(
            line(PeerEvent::RegistryBack),
            json!({"event": "registry_back"})
        );
        let kept = PathBuf::from("/d/known_registries");
        let v = registry_key("10.0.0.1:7300".parse().unwrap(), "00ff", Some(&kept));
        assert_eq!(
            v,
            json!({"event": "registry_key", "registry": "10.0.0.1:7300", "fingerprint": "00ff", "file": "/d/known_registries"})
        );
        let v = line(PeerEvent::Stopped {
            code: ErrorCode::WrongPassword,
            reason: "wrong password for alice".into(),
        });
        assert_eq!(
            v,
            json!({"event": "stopped", "code": "WrongPassword", "reason": "wrong password for alice"})
        );
    }
}

#[cfg(test)]
mod doc;
