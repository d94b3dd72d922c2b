//! One fixed, valid message of every kind (every variant of every enum inside
//! a message), including the largest each limit allows: the material of the
//! seed corpus and of the dictionary.

use std::net::SocketAddr;

use confab_engine::bounded::{Blob, List, Text};
use confab_engine::limits::MAX_RELAY_PIECE;
use confab_engine::limits::{
    MAX_AVATAR_LEN, MAX_BIO_LEN, MAX_FILE_NAME_LEN, MAX_LISTING_ENTRIES, MAX_NICK_LEN,
    MAX_PASSWORD_LEN, MAX_REASON_LEN, MAX_SEARCH_LEN, MAX_SHARED_FILES,
};
use confab_engine::limits::{MAX_CHUNK_LEN, MAX_GROUP_MEMBERS, MAX_MESSAGE_LEN, MAX_REL_PATH_LEN};
use confab_engine::wire::peer::{Conv, Payload, PeerMessage};
use confab_engine::wire::registry::{
    FileCursor, FileEntry, LoginStamp, Password, PeerInfo, Presence, Profile, Reply, ReplyBody,
    Request, RequestBody, SharedFile, UserEntry,
};
use confab_engine::wire::relay::RelayMessage;
use confab_engine::wire::transfer::{
    Manifest, ManifestEntry, RelPath, TransferKey, TransferMessage,
};
use confab_engine::wire::{
    FileName, Goodbye, GroupName, Hello, Md5, Message, Name, PROTOCOL_VERSION, Refusal, Role,
};

use confab_engine::secure::certificate;
use confab_engine::secure::claim;
use confab_engine::secure::{SigningSecret, StaticSecret};
use confab_engine::wire::discovery::{Announcement, AnnouncementBody, LAN_VERSION, Passed};
use confab_engine::wire::identity::{Certificate, KEY_LEN, PublicKey};

use crate::generate::{ERROR_CODES, NAME_POOL, PASSWORD_POOL, content, content_md5};

fn name(s: &str) -> Name {
    Name::new(s).expect("a valid sample name")
}

fn file(s: &str) -> FileName {
    FileName::new(s).expect("a valid sample file name")
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("a valid sample address")
}

fn password(s: &str) -> Password {
    Password(Text::new(s).expect("a sample password within the limit"))
}

/// A hello from a peer toward the registry, as a registry expects first.
pub fn hello() -> Message {
    Message::Hello(Hello {
        version: PROTOCOL_VERSION,
        role: Role::Peer,
        name: None,
    })
}

/// A request with id `id`.
pub fn request(id: u32, body: RequestBody) -> Message {
    Message::Request(Request { id, body })
}

/// A shared file named `n`.
pub fn shared(n: &str, size: u64) -> SharedFile {
    SharedFile {
        kind: Default::default(),
        name: file(n),
        size,
        md5: Md5::of(n.as_bytes()),
    }
}

fn full_profile() -> Profile {
    Profile {
        nick: Text::new("n".repeat(MAX_NICK_LEN)).expect("at the limit"),
        bio: Text::new("b".repeat(MAX_BIO_LEN)).expect("at the limit"),
        avatar: Blob::new(vec![0x89; MAX_AVATAR_LEN]).expect("at the limit"),
    }
}

/// Every request body, small.
pub fn request_bodies() -> Vec<RequestBody> {
    vec![
        RequestBody::Register {
            name: name("alice"),
            password: password(PASSWORD_POOL[0]),
        },
        RequestBody::Login {
            name: name("alice"),
            password: password(PASSWORD_POOL[0]),
            listen: addr("127.0.0.1:7001"),
            stamp: LoginStamp {
                device: 7,
                count: 3,
            },
        },
        RequestBody::Logout,
        RequestBody::Heartbeat,
        RequestBody::List { after: None },
        RequestBody::List {
            after: Some(name("bob")),
        },
        RequestBody::Search {
            text: Text::new("li").expect("short"),
            after: Some(name("a")),
        },
        RequestBody::Lookup { name: name("bob") },
        RequestBody::Publish {
            files: List::new(vec![shared("a.txt", 3), shared("b.bin", 1 << 40)]).expect("short"),
        },
        RequestBody::SetProfile {
            profile: Profile {
                nick: Text::new("Alice").expect("short"),
                bio: Text::new("hi, I'm Alice").expect("short"),
                avatar: Blob::new(vec![1, 2, 3]).expect("short"),
            },
        },
        RequestBody::Files {
            owner: None,
            after: None,
        },
        RequestBody::Files {
            owner: Some(name("bob")),
            after: Some(FileCursor {
                owner: name("bob"),
                name: file("a.txt"),
            }),
        },
        RequestBody::WatchPresence { on: true },
        RequestBody::WatchPresence { on: false },
    ]
}

/// The signing key of the samples' registry.
pub fn registry_signer() -> SigningSecret {
    SigningSecret::from_bytes([0x5a; KEY_LEN])
}

/// A certificate from [`registry_signer`] for `name` holding `key`, valid
/// for an hour from 2023-11-14.
pub fn certificate(n: &str, key: PublicKey) -> Certificate {
    certificate::issue(&registry_signer(), name(n), key, 1_700_000_000, 3600)
}

/// Every reply body, small.
pub fn reply_bodies() -> Vec<ReplyBody> {
    vec![
        ReplyBody::Done,
        ReplyBody::Users {
            users: List::new(vec![UserEntry {
                name: name("bob"),
                addr: addr("[fe80::1]:7000"),
            }])
            .expect("short"),
            more: true,
        },
        ReplyBody::Peer(PeerInfo {
            name: name("bob"),
            addr: Some(addr("10.0.0.2:7000")),
            profile: Profile::default(),
            key: Some(PublicKey([2; KEY_LEN])),
        }),
        ReplyBody::Peer(PeerInfo {
            name: name("carol"),
            addr: None,
            profile: Profile::default(),
            key: None,
        }),
        ReplyBody::Certified(certificate("bob", PublicKey([2; KEY_LEN]))),
        ReplyBody::Files {
            files: List::new(vec![FileEntry {
                owner: name("bob"),
                file: shared("notes.md", 12),
            }])
            .expect("short"),
            more: false,
        },
    ]
}

/// A hello from peer `name`, as on a direct connection.
pub fn peer_hello(n: &str) -> Message {
    Message::Hello(Hello {
        version: PROTOCOL_VERSION,
        role: Role::Peer,
        name: Some(name(n)),
    })
}

/// A group name.
pub fn group(s: &str) -> GroupName {
    GroupName::new(s).expect("a valid sample group name")
}

/// A single-file manifest of `size` bytes of [`content`].
pub fn single(n: &str, size: u64) -> Manifest {
    Manifest {
        name: file(n),
        folder: false,
        entries: List::new(vec![ManifestEntry {
            path: RelPath::new(n).expect("valid"),
            size,
            md5: content_md5(size),
        }])
        .expect("one"),
    }
}

/// Every peer-to-peer message, small.
pub fn peer_messages() -> Vec<PeerMessage> {
    let text = |s: &str| Payload::Text(Text::new(s).expect("short"));
    vec![
        PeerMessage::Verified,
        PeerMessage::Session { epoch: 7 },
        PeerMessage::Ping,
        PeerMessage::Pong,
        PeerMessage::ChatRequest,
        PeerMessage::ChatAccept,
        PeerMessage::ChatClose {
            reason: Text::new("bye").expect("short"),
        },
        PeerMessage::Data {
            conv: Conv::Direct,
            seq: 1,
            low: 1,
            payload: text("hi"),
        },
        PeerMessage::Data {
            conv: Conv::Group(group("#team")),
            seq: 2,
            low: 1,
            payload: Payload::Joined(name("carol")),
        },
        PeerMessage::Data {
            conv: Conv::Group(group("#team")),
            seq: 3,
            low: 0,
            payload: Payload::Left,
        },
        PeerMessage::Data {
            conv: Conv::Group(group("#team")),
            seq: 1,
            low: 0,
            payload: Payload::Members(List::new(vec![name("alice"), name("bob")]).expect("short")),
        },
        PeerMessage::Ack {
            conv: Conv::Direct,
            upto: 1,
        },
        PeerMessage::GroupInvite {
            group: group("#team"),
            members: List::new(vec![name("bob")]).expect("short"),
        },
        PeerMessage::GroupAnswer {
            group: group("#team"),
            accept: true,
        },
        PeerMessage::GroupRefused {
            group: group("#team"),
            reason: Text::new("no").expect("short"),
        },
        PeerMessage::NotInGroup {
            group: group("#team"),
        },
        PeerMessage::CallRequest {
            call: 7,
            port: 7000,
            secret: [1; 32],
        },
        PeerMessage::CallAccept {
            call: 7,
            port: 7001,
            secret: [2; 32],
        },
        PeerMessage::CallEnd {
            call: 7,
            reason: Text::new("hung up").expect("short"),
        },
        PeerMessage::CallReport {
            call: 7,
            report: confab_engine::wire::peer::CallReport {
                shown: 30,
                lost: 1,
                jitter_us: 900,
                sent_us: 1_000_000,
                echo_us: 990_000,
                held_us: 5_000,
            },
        },
        PeerMessage::Known {
            entries: List::new(vec![Passed {
                ann: lan_announcement(1, "bob", 1_700_000_000_000),
                addr: SocketAddr::from(([10, 0, 0, 2], 7000)),
                age_s: 3,
            }])
            .expect("one"),
        },
        PeerMessage::FilesAsk,
        PeerMessage::FilesList {
            files: List::new(vec![SharedFile {
                name: file("song.ogg"),
                size: 3,
                md5: content_md5(3),
                kind: Default::default(),
            }])
            .expect("one"),
        },
        PeerMessage::ProfileAsk,
        PeerMessage::ProfileAnswer {
            profile: Profile {
                nick: Text::new("Bob").expect("short"),
                bio: Text::new("builds boats").expect("short"),
                avatar: Blob::new(vec![4, 5, 6]).expect("short"),
            },
        },
    ]
}

/// A LAN announcement (issue 20) of `name`, signed by the identity of the
/// Noise key drawn from `seed`, as signed at `at_ms`.
pub fn lan_announcement(seed: u8, name: &str, at_ms: u64) -> Announcement {
    let noise = StaticSecret::from_bytes([seed; KEY_LEN]);
    let identity = claim::identity_of(&noise);
    let key = noise.public();
    let body = AnnouncementBody {
        version: LAN_VERSION,
        key,
        identity: identity.public(),
        binding: claim::bind(&identity, &key),
        name: Name::new(name).expect("valid"),
        port: 7000,
        digest: 0,
        at_ms,
    };
    claim::sign_announcement(&identity, body)
}

/// A registry's LAN announcement (issue 20), its keys drawn from `seed`,
/// listening on 7300, as signed at `at_ms`.
pub fn registry_announcement(
    seed: u8,
    at_ms: u64,
) -> confab_engine::wire::discovery::RegistryAnnouncement {
    let signing = confab_engine::secure::SigningSecret::from_bytes([seed; KEY_LEN]);
    let noise = StaticSecret::from_bytes([seed ^ 0x55; KEY_LEN]);
    confab_engine::secure::registry_claim::sign(&signing, &noise, 7300, at_ms)
}

/// Every transfer message, small.
pub fn transfer_messages() -> Vec<TransferMessage> {
    let key = TransferKey(1);
    let folder = Manifest {
        name: file("d"),
        folder: true,
        entries: List::new(vec![
            ManifestEntry {
                path: RelPath::new("d/a.txt").expect("valid"),
                size: 3,
                md5: content_md5(3),
            },
            ManifestEntry {
                path: RelPath::new("d/sub/b").expect("valid"),
                size: 0,
                md5: content_md5(0),
            },
        ])
        .expect("short"),
    };
    vec![
        TransferMessage::Get {
            key,
            name: file("a.txt"),
        },
        TransferMessage::Offer {
            key,
            manifest: single("a.txt", 200),
        },
        TransferMessage::Offer {
            key: TransferKey(2),
            manifest: folder.clone(),
        },
        TransferMessage::Accept { key },
        TransferMessage::Resume { key },
        TransferMessage::Manifest {
            key,
            manifest: folder,
        },
        TransferMessage::Want {
            key,
            round: 1,
            file: 0,
            offset: 0,
            chunk: 64,
            window: 4,
        },
        TransferMessage::Chunk {
            key,
            round: 1,
            file: 0,
            offset: 64,
            data: Blob::new(content(64, 64)).expect("short"),
        },
        TransferMessage::Ack {
            key,
            round: 1,
            file: 0,
            upto: 128,
        },
        TransferMessage::Complete { key },
        TransferMessage::Pause { key },
        TransferMessage::Cancel {
            key,
            reason: Text::new("cancelled").expect("short"),
        },
    ]
}

/// Messages at the limits: the longest of every bounded field.
pub fn largest() -> Vec<Message> {
    let long_name = name(NAME_POOL[4]);
    let long_file = |i: usize| {
        let mut s = format!("{i:04}");
        s.push_str(&"x".repeat(MAX_FILE_NAME_LEN - s.len()));
        file(&s)
    };
    vec![
        request(
            u32::MAX,
            RequestBody::Register {
                name: long_name.clone(),
                password: password(&"p".repeat(MAX_PASSWORD_LEN)),
            },
        ),
        request(
            1,
            RequestBody::Search {
                text: Text::new("s".repeat(MAX_SEARCH_LEN)).expect("at the limit"),
                after: Some(long_name.clone()),
            },
        ),
        request(
            2,
            RequestBody::SetProfile {
                profile: full_profile(),
            },
        ),
        request(
            3,
            RequestBody::Publish {
                files: List::new(
                    (0..MAX_SHARED_FILES)
                        .map(|i| SharedFile {
                            kind: Default::default(),
                            name: long_file(i),
                            size: u64::MAX,
                            md5: Md5([0xff; 16]),
                        })
                        .collect(),
                )
                .expect("at the limit"),
            },
        ),
        Message::Reply(Reply {
            id: 4,
            result: Ok(ReplyBody::Files {
                files: List::new(
                    (0..MAX_LISTING_ENTRIES)
                        .map(|i| FileEntry {
                            owner: long_name.clone(),
                            file: SharedFile {
                                kind: Default::default(),
                                name: long_file(i),
                                size: u64::MAX,
                                md5: Md5([0xff; 16]),
                            },
                        })
                        .collect(),
                )
                .expect("at the limit"),
                more: true,
            }),
        }),
        Message::Reply(Reply {
            id: 5,
            result: Ok(ReplyBody::Peer(PeerInfo {
                name: long_name.clone(),
                addr: Some(addr("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")),
                profile: full_profile(),
                key: Some(PublicKey([0xff; KEY_LEN])),
            })),
        }),
        Message::Goodbye(Goodbye {
            code: ERROR_CODES[0],
            reason: Text::new("r".repeat(MAX_REASON_LEN)).expect("at the limit"),
        }),
        Message::Peer(PeerMessage::Data {
            conv: Conv::Group(group(&format!("#{}", NAME_POOL[4]))),
            seq: u64::MAX,
            low: u64::MAX,
            payload: Payload::Text(Text::new("m".repeat(MAX_MESSAGE_LEN)).expect("at the limit")),
        }),
        Message::Peer(PeerMessage::ProfileAnswer {
            profile: full_profile(),
        }),
        Message::Peer(PeerMessage::GroupInvite {
            group: group(&format!("#{}", NAME_POOL[4])),
            members: List::new(
                (0..MAX_GROUP_MEMBERS)
                    .map(|i| name(&format!("member{i:02}")))
                    .collect(),
            )
            .expect("at the limit"),
        }),
        Message::Transfer(TransferMessage::Offer {
            key: TransferKey(u64::MAX),
            manifest: Manifest {
                name: file("d"),
                folder: true,
                entries: List::new(
                    (0..MAX_SHARED_FILES)
                        .map(|i| {
                            // 2048 paths of 256 bytes: the folder path budget.
                            let mut p = format!("d/{i:04}");
                            p.push_str(&"p".repeat(256 - p.len()));
                            ManifestEntry {
                                path: RelPath::new(&p).expect("valid"),
                                size: u64::MAX / MAX_SHARED_FILES as u64,
                                md5: Md5([0xff; 16]),
                            }
                        })
                        .collect(),
                )
                .expect("at the limit"),
            },
        }),
        Message::Transfer(TransferMessage::Offer {
            key: TransferKey(7),
            manifest: {
                // The longest relative path: components of 255 bytes.
                let c = "c".repeat(MAX_FILE_NAME_LEN);
                let mut p = format!("d/{c}/{c}/{c}/");
                p.push_str(&"e".repeat(MAX_REL_PATH_LEN - p.len()));
                Manifest {
                    name: file("d"),
                    folder: true,
                    entries: List::new(vec![ManifestEntry {
                        path: RelPath::new(&p).expect("valid"),
                        size: 1,
                        md5: Md5([0; 16]),
                    }])
                    .expect("one"),
                }
            },
        }),
        Message::Transfer(TransferMessage::Chunk {
            key: TransferKey(u64::MAX),
            round: u32::MAX,
            file: u32::MAX,
            offset: u64::MAX,
            data: Blob::new(vec![0xcd; MAX_CHUNK_LEN]).expect("at the limit"),
        }),
    ]
}

/// Every relayed-stream message (`wire::relay`), the largest piece among them.
pub fn relay_messages() -> Vec<RelayMessage> {
    vec![
        RelayMessage::Open {
            ask: 1,
            to: name("bob"),
        },
        RelayMessage::Opened { ask: 1, stream: 7 },
        RelayMessage::Refused {
            ask: 2,
            reason: Text::new("bob is not online").expect("short"),
        },
        RelayMessage::Incoming {
            stream: 7,
            from: name("alice"),
        },
        RelayMessage::Data {
            stream: 7,
            bytes: Blob::new(vec![0x5a; 16]).expect("small"),
        },
        RelayMessage::Data {
            stream: u64::MAX,
            bytes: Blob::new(vec![0xa5; MAX_RELAY_PIECE]).expect("at the limit"),
        },
        RelayMessage::Credit {
            stream: 7,
            bytes: 512 * 1024,
        },
        RelayMessage::Close {
            stream: 7,
            reason: Text::new("closed").expect("short"),
        },
        RelayMessage::Capped {
            stream: 7,
            reason: Text::new("capped at 16 MiB/s").expect("short"),
        },
        RelayMessage::DialMe { to: name("bob") },
        RelayMessage::DialBack {
            from: name("alice"),
            addr: addr("10.0.0.2:7000"),
        },
    ]
}

/// One message of every kind: every message, request, reply and error code
/// variant, then the largest ones.
pub fn all() -> Vec<Message> {
    let mut out = vec![
        hello(),
        Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            role: Role::Registry,
            name: None,
        }),
        Message::Hello(Hello {
            version: PROTOCOL_VERSION + 1,
            role: Role::Peer,
            name: Some(name("alice")),
        }),
        Message::Presence(Presence {
            name: name("bob"),
            online: true,
            addr: Some(addr("10.0.0.2:7000")),
        }),
        Message::Presence(Presence {
            name: name("bob"),
            online: false,
            addr: None,
        }),
    ];
    out.extend(ERROR_CODES.iter().map(|&code| {
        Message::Goodbye(Goodbye {
            code,
            reason: Text::new("bye").expect("short"),
        })
    }));
    out.extend(
        request_bodies()
            .into_iter()
            .enumerate()
            .map(|(i, body)| request(i as u32, body)),
    );
    out.extend(reply_bodies().into_iter().enumerate().map(|(i, body)| {
        Message::Reply(Reply {
            id: i as u32,
            result: Ok(body),
        })
    }));
    out.extend(ERROR_CODES.iter().map(|&code| {
        Message::Reply(Reply {
            id: 7,
            result: Err(Refusal::new(code, "no")),
        })
    }));
    out.extend(peer_messages().into_iter().map(Message::Peer));
    out.extend(transfer_messages().into_iter().map(Message::Transfer));
    out.extend(relay_messages().into_iter().map(Message::Relay));
    out.extend(largest());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check;

    #[test]
    fn every_sample_is_valid_and_survives_the_round_trip() {
        for msg in all() {
            check::limits(&msg);
            check::round_trip(&msg);
        }
    }

    #[test]
    fn the_dictionary_names_every_variant_in_the_samples() {
        // A fixstr token for every variant name the samples encode, so a new
        // message kind without dictionary entries is noticed.
        let dict = include_str!("../dict/confab.dict");
        for msg in all() {
            let mut kinds = vec![msg.kind()];
            if let Message::Transfer(t) = &msg {
                kinds.push(t.kind());
            }
            if let Message::Peer(_) = &msg {
                kinds.push("Peer");
            }
            if let Message::Relay(r) = &msg {
                kinds.push(r.kind());
            }
            for kind in kinds {
                let token = format!("\\x{:02x}{kind}\"", 0xa0 | kind.len());
                assert!(dict.contains(&token), "the dictionary lacks {kind}");
            }
        }
        for extra in ["Direct", "Group", "Text", "Joined", "Left", "Members"] {
            let token = format!("\\x{:02x}{extra}\"", 0xa0 | extra.len());
            assert!(dict.contains(&token), "the dictionary lacks {extra}");
        }
        for code in crate::generate::ERROR_CODES {
            let name = format!("{code:?}");
            assert!(dict.contains(&name), "the dictionary lacks {name}");
        }
    }
}
