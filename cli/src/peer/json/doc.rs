//! Keeps `docs/events.md` true: every event and every field that
//! [`super::event`] and its siblings emit must be listed there, and every
//! event listed there must be one the code emits.
//!
//! A new [`PeerEvent`] variant fails to compile [`kind`] until it is named
//! there, which is where its sample below is added.

use std::collections::{BTreeMap, BTreeSet};

use confab_engine::TransferId;
use confab_engine::peer::{
    DigestCheck, Direction, FoundBy, FoundPeer, FriendStatus, HistoryEntry, PeerEvent, RequestId,
    Target, TransferStatus, WhoisFrom,
};
use confab_engine::wire::registry::{FileEntry, PeerInfo, Profile, SharedFile, UserEntry};
use confab_engine::wire::{ErrorCode, FileName, GroupName, Md5, Name};
use serde_json::Value;

/// The event's variant name; exhaustive on purpose (see the module doc).
fn kind(e: &PeerEvent) -> &'static str {
    match e {
        PeerEvent::Ready { .. } => "Ready",
        PeerEvent::Users { .. } => "Users",
        PeerEvent::Found { .. } => "Found",
        PeerEvent::Files { .. } => "Files",
        PeerEvent::Whois { .. } => "Whois",
        PeerEvent::Presence { .. } => "Presence",
        PeerEvent::ChatRequest { .. } => "ChatRequest",
        PeerEvent::ChatOpened { .. } => "ChatOpened",
        PeerEvent::Path { .. } => "Path",
        PeerEvent::ChatClosed { .. } => "ChatClosed",
        PeerEvent::GroupInvite { .. } => "GroupInvite",
        PeerEvent::GroupJoined { .. } => "GroupJoined",
        PeerEvent::MemberJoined { .. } => "MemberJoined",
        PeerEvent::MemberLeft { .. } => "MemberLeft",
        PeerEvent::Message { .. } => "Message",
        PeerEvent::Delivered { .. } => "Delivered",
        PeerEvent::Sent { .. } => "Sent",
        PeerEvent::FileOffer { .. } => "FileOffer",
        PeerEvent::TransferProgress { .. } => "TransferProgress",
        PeerEvent::TransferDone { .. } => "TransferDone",
        PeerEvent::TransferFailed { .. } => "TransferFailed",
        PeerEvent::Transfers { .. } => "Transfers",
        PeerEvent::History { .. } => "History",
        PeerEvent::Friends { .. } => "Friends",
        PeerEvent::Profile { .. } => "Profile",
        PeerEvent::RegistryLost { .. } => "RegistryLost",
        PeerEvent::RegistryBack => "RegistryBack",
        PeerEvent::RegistryKey { .. } => "RegistryKey",
        PeerEvent::RegistryHeard { .. } => "RegistryHeard",
        PeerEvent::KeyChanged { .. } => "KeyChanged",
        PeerEvent::KeyPinned { .. } => "KeyPinned",
        PeerEvent::Error { .. } => "Error",
        PeerEvent::Notice { .. } => "Notice",
        PeerEvent::Stopped { .. } => "Stopped",
        PeerEvent::TransferPaused { .. } => "TransferPaused",
        PeerEvent::CallRequest { .. } => "CallRequest",
        PeerEvent::CallStarted { .. } => "CallStarted",
        PeerEvent::CallStats { .. } => "CallStats",
        PeerEvent::CallEnded { .. } => "CallEnded",
        PeerEvent::CallFrame { .. } => "CallFrame",
        PeerEvent::CallAdapt { .. } => "CallAdapt",
    }
}

fn shared_sample() -> SharedFile {
    SharedFile {
        kind: Default::default(),
        name: FileName::new("a.txt").unwrap(),
        size: 1,
        md5: Md5::of(b""),
    }
}

/// A `/share` answer with an entry in every state.
fn share_sample() -> confab_mio::ShareStatus {
    use confab_mio::{EntryState, ShareEntry};
    let states = [
        EntryState::Settling,
        EntryState::Hashing { done: 1 },
        EntryState::Listed { md5: Md5::of(b"") },
        EntryState::Skipped {
            why: "a link".into(),
        },
    ];
    confab_mio::ShareStatus {
        dir: "/s".into(),
        entries: states
            .into_iter()
            .map(|state| ShareEntry {
                name: "x".into(),
                size: 1,
                state,
                files: Some(1),
            })
            .collect(),
        publishes: 1,
        degraded: Some("no events".into()),
    }
}

fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

/// One event of every variant, with every list holding one item so that the
/// fields of list items are seen too.
fn samples() -> Vec<PeerEvent> {
    let md5 = Md5::of(b"");
    let shared = SharedFile {
        kind: Default::default(),
        name: FileName::new("a.txt").unwrap(),
        size: 1,
        md5,
    };
    let profile = Profile::default();
    let group = GroupName::new("#team").unwrap();
    vec![
        PeerEvent::Ready {
            name: n("alice"),
            listen: "127.0.0.1:1".parse().unwrap(),
            fingerprint: "00".repeat(16),
        },
        PeerEvent::Users {
            users: vec![UserEntry {
                name: n("bob"),
                addr: "127.0.0.1:2".parse().unwrap(),
            }],
        },
        PeerEvent::Found {
            peers: vec![FoundPeer {
                name: n("bob"),
                fingerprint: "00".repeat(16),
                addr: "127.0.0.1:2".parse().unwrap(),
                by: FoundBy::Lan,
                age_s: 3,
                contested: false,
            }],
        },
        PeerEvent::Files {
            files: vec![FileEntry {
                owner: n("bob"),
                file: shared.clone(),
            }],
        },
        PeerEvent::Whois {
            info: PeerInfo {
                name: n("bob"),
                addr: None,
                profile: profile.clone(),
                key: Some(confab_engine::wire::identity::PublicKey([1; 32])),
            },
            files: vec![shared],
            from: WhoisFrom::Peer {
                by: Some(FoundBy::Lan),
                digest: DigestCheck::Matches,
            },
        },
        PeerEvent::Presence {
            name: n("bob"),
            online: true,
        },
        PeerEvent::ChatRequest {
            id: RequestId(1),
            from: n("bob"),
        },
        PeerEvent::ChatOpened {
            with: n("bob"),
            via: confab_engine::peer::Via::Relay,
        },
        PeerEvent::Path {
            with: n("bob"),
            via: confab_engine::peer::Via::Relay,
        },
        PeerEvent::ChatClosed {
            with: n("bob"),
            reason: "declined".into(),
        },
        PeerEvent::GroupInvite {
            id: RequestId(2),
            from: n("bob"),
            group: group.clone(),
        },
        PeerEvent::GroupJoined {
            group: group.clone(),
            members: vec![n("bob")],
        },
        PeerEvent::MemberJoined {
            group: group.clone(),
            name: n("carol"),
        },
        PeerEvent::MemberLeft {
            group: group.clone(),
            name: n("carol"),
        },
        PeerEvent::Message {
            from: n("bob"),
            to: Target::Group(group),
            text: "hi".into(),
        },
        PeerEvent::Delivered {
            to: Target::User(n("bob")),
            seq: 1,
        },
        PeerEvent::Sent {
            to: Target::User(n("bob")),
            seq: 1,
            queued: false,
        },
        PeerEvent::FileOffer {
            id: RequestId(3),
            from: n("bob"),
            name: "a.txt".into(),
            size: 1,
            transfer: TransferId(4321),
        },
        PeerEvent::TransferProgress {
            id: TransferId(1),
            done: 0,
            total: 1,
            rate: 0,
            via: confab_engine::peer::Via::Relay,
        },
        PeerEvent::TransferDone {
            id: TransferId(1),
            direction: Direction::Receive,
            name: "a.txt".into(),
            path: "/d/a.txt".into(),
            md5,
            folder: false,
            files: 1,
            size: 1,
            via: confab_engine::peer::Via::Direct,
        },
        PeerEvent::TransferFailed {
            id: TransferId(1),
            reason: "cancelled".into(),
        },
        PeerEvent::TransferPaused {
            id: TransferId(1),
            reason: "paused".into(),
        },
        PeerEvent::CallRequest {
            id: RequestId(1),
            from: n("bob"),
        },
        PeerEvent::CallStarted { with: n("bob") },
        PeerEvent::CallStats {
            with: n("bob"),
            stats: Default::default(),
        },
        PeerEvent::CallEnded {
            with: n("bob"),
            reason: "hung up".into(),
            frames_received: 1,
            frames_lost: 0,
        },
        PeerEvent::CallFrame {
            with: n("bob"),
            frame: 0,
            captured_us: 0,
            jpeg: vec![],
        },
        PeerEvent::CallAdapt {
            with: n("bob"),
            quality: 80,
            fps: 30,
        },
        PeerEvent::Transfers {
            transfers: vec![TransferStatus {
                id: TransferId(1),
                direction: Direction::Send,
                peer: n("bob"),
                name: "a.txt".into(),
                done: 0,
                total: 1,
                rate: 0,
                state: "sending".into(),
                via: confab_engine::peer::Via::Direct,
            }],
        },
        PeerEvent::History {
            with: Target::User(n("bob")),
            messages: vec![HistoryEntry {
                from: n("bob"),
                text: "hi".into(),
                at: 0,
            }],
        },
        PeerEvent::Friends {
            friends: vec![FriendStatus {
                name: n("bob"),
                online: true,
                queued: 0,
            }],
        },
        PeerEvent::Profile { profile },
        PeerEvent::RegistryLost {
            reason: "closed".into(),
        },
        PeerEvent::RegistryBack,
        PeerEvent::RegistryKey {
            registry: "127.0.0.1:7300".parse().unwrap(),
            fingerprint: "00".repeat(16),
        },
        PeerEvent::RegistryHeard {
            name: Name::new("alice").unwrap(),
            registry: "10.0.0.1:7300".parse().unwrap(),
            fingerprint: "00".repeat(16),
            used: false,
        },
        PeerEvent::KeyChanged {
            name: Name::new("bob").unwrap(),
            old: "00".repeat(16),
            new: "11".repeat(16),
        },
        PeerEvent::KeyPinned {
            name: Name::new("bob").unwrap(),
            old: Some("00".repeat(16)),
            new: None,
        },
        PeerEvent::Error {
            message: "no".into(),
        },
        PeerEvent::Notice {
            message: "so".into(),
        },
        PeerEvent::Stopped {
            code: ErrorCode::Busy,
            reason: "bye".into(),
        },
    ]
}

/// Every key of `v`, and of objects inside its lists, at any depth.
fn keys(v: &Value, into: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map {
                into.insert(k.clone());
                keys(inner, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| keys(i, into)),
        _ => {}
    }
}

/// The table of `docs/events.md`: event name to the words in backticks of
/// its fields column.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let page = include_str!("../../../../docs/events.md");
    let mut table = BTreeMap::new();
    for line in page.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`').to_string();
        let fields = cells[2]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        table.insert(name, fields);
    }
    table
}

#[test]
fn every_event_and_field_is_documented() {
    let docs = documented();
    let samples = samples();
    let kinds: BTreeSet<&str> = samples.iter().map(kind).collect();
    assert_eq!(kinds.len(), samples.len(), "one sample per variant");

    let avatar = std::path::Path::new("/data/avatars/bob.png");
    let mut emitted = vec![
        super::help("text"),
        super::avatar(&n("bob"), 3, Some(avatar)),
    ];
    emitted.push(super::share_updated(
        std::path::Path::new("/s"),
        &[shared_sample()],
    ));
    emitted.push(super::share(&share_sample()));
    let kept = std::path::PathBuf::from("/data/known_registries");
    emitted.push(super::registry_key(
        "127.0.0.1:7300".parse().unwrap(),
        "00",
        Some(&kept),
    ));
    emitted.extend(samples.iter().map(super::event));
    let mut seen = BTreeSet::new();
    for value in emitted {
        let name = value["event"].as_str().expect("every event has a name");
        seen.insert(name.to_string());
        let Some(fields) = docs.get(name) else {
            panic!("docs/events.md does not list the event `{name}`: {value}");
        };
        let mut all = BTreeSet::new();
        keys(&value, &mut all);
        all.remove("event");
        for field in all {
            assert!(
                fields.contains(&field),
                "docs/events.md does not list the field `{field}` of `{name}`: {value}"
            );
        }
    }
    for name in docs.keys() {
        assert!(
            seen.contains(name),
            "docs/events.md lists `{name}`, which the code never emits"
        );
    }
}
