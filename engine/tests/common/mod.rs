//! Proptest strategies for wire values, shared by the property tests.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use confab_engine::bounded::{Blob, List, Text};
use confab_engine::wire::GroupName;
use confab_engine::wire::peer::{Conv, Payload, PeerMessage};
use confab_engine::wire::registry::{
    FileCursor, FileEntry, LoginStamp, Password, PeerInfo, Presence, Profile, Reply, ReplyBody,
    Request, RequestBody, ShareKind, SharedFile, UserEntry,
};
use confab_engine::wire::{ErrorCode, FileName, Goodbye, Hello, Md5, Message, Name, Refusal, Role};
use proptest::collection::vec;
use proptest::prelude::*;

pub fn name() -> impl Strategy<Value = Name> {
    "[a-z0-9][a-z0-9._-]{0,31}".prop_map(|s| Name::new(&s).unwrap())
}

pub fn file_name() -> impl Strategy<Value = FileName> {
    // Any printable text without separators, plus the edge lengths.
    prop_oneof!["[^/\\\\\\x00-\\x1f\\x7f]{1,40}", Just("x".repeat(255)),]
        .prop_filter_map("not a plain name", |s| FileName::new(&s).ok())
}

pub fn text<const N: usize>() -> impl Strategy<Value = Text<N>> {
    prop_oneof![
        ".{0,20}".prop_map(|s| Text::truncate(&s)),
        Just(Text::truncate(&"é".repeat(N))),
    ]
}

pub fn addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>())
            .prop_map(|(ip, p)| SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), p)),
        (any::<[u8; 16]>(), any::<u16>())
            .prop_map(|(ip, p)| SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), p)),
    ]
}

pub fn md5() -> impl Strategy<Value = Md5> {
    any::<[u8; 16]>().prop_map(Md5)
}

pub fn shared_file() -> impl Strategy<Value = SharedFile> {
    let kind = proptest::option::of(any::<u32>())
        .prop_map(|f| f.map_or(ShareKind::File, |files| ShareKind::Folder { files }));
    (file_name(), any::<u64>(), md5(), kind).prop_map(|(name, size, md5, kind)| SharedFile {
        name,
        size,
        md5,
        kind,
    })
}

pub fn profile() -> impl Strategy<Value = Profile> {
    (text(), text(), vec(any::<u8>(), 0..64)).prop_map(|(nick, bio, avatar)| Profile {
        nick,
        bio,
        avatar: Blob::new(avatar).unwrap(),
    })
}

pub fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        Just(ErrorCode::VersionMismatch),
        Just(ErrorCode::ProtocolViolation),
        Just(ErrorCode::InvalidName),
        Just(ErrorCode::NameTaken),
        Just(ErrorCode::UnknownName),
        Just(ErrorCode::WrongPassword),
        Just(ErrorCode::InvalidPassword),
        Just(ErrorCode::NotLoggedIn),
        Just(ErrorCode::AlreadyLoggedIn),
        Just(ErrorCode::Busy),
        Just(ErrorCode::InvalidRequest),
        Just(ErrorCode::NotFound),
        Just(ErrorCode::SessionReplaced),
        Just(ErrorCode::TimedOut),
        Just(ErrorCode::ShuttingDown),
        Just(ErrorCode::Normal),
        Just(ErrorCode::StaleLogin),
    ]
}

pub fn password() -> impl Strategy<Value = Password> {
    text().prop_map(Password)
}

pub fn request_body() -> impl Strategy<Value = RequestBody> {
    prop_oneof![
        (name(), password()).prop_map(|(name, password)| RequestBody::Register { name, password }),
        (name(), password(), addr(), any::<(u64, u64)>()).prop_map(
            |(name, password, listen, (device, count))| RequestBody::Login {
                name,
                password,
                listen,
                stamp: LoginStamp { device, count },
            }
        ),
        Just(RequestBody::Logout),
        Just(RequestBody::Heartbeat),
        proptest::option::of(name()).prop_map(|after| RequestBody::List { after }),
        (text(), proptest::option::of(name()))
            .prop_map(|(text, after)| RequestBody::Search { text, after }),
        name().prop_map(|name| RequestBody::Lookup { name }),
        vec(shared_file(), 0..5).prop_map(|f| RequestBody::Publish {
            files: List::new(f).unwrap()
        }),
        profile().prop_map(|profile| RequestBody::SetProfile { profile }),
        (
            proptest::option::of(name()),
            proptest::option::of((name(), file_name()))
        )
            .prop_map(|(owner, after)| RequestBody::Files {
                owner,
                after: after.map(|(owner, name)| FileCursor { owner, name })
            }),
        any::<bool>().prop_map(|on| RequestBody::WatchPresence { on }),
    ]
}

pub fn reply_body() -> impl Strategy<Value = ReplyBody> {
    prop_oneof![
        Just(ReplyBody::Done),
        (vec((name(), addr()), 0..5), any::<bool>()).prop_map(|(u, more)| ReplyBody::Users {
            users: List::new(
                u.into_iter()
                    .map(|(name, addr)| UserEntry { name, addr })
                    .collect()
            )
            .unwrap(),
            more
        }),
        (
            name(),
            proptest::option::of(addr()),
            profile(),
            proptest::option::of(any::<[u8; 32]>())
        )
            .prop_map(|(name, addr, profile, key)| {
                ReplyBody::Peer(PeerInfo {
                    name,
                    addr,
                    profile,
                    key: key.map(confab_engine::wire::identity::PublicKey),
                })
            }),
        (vec((name(), shared_file()), 0..5), any::<bool>()).prop_map(|(f, more)| {
            ReplyBody::Files {
                files: List::new(
                    f.into_iter()
                        .map(|(owner, file)| FileEntry { owner, file })
                        .collect(),
                )
                .unwrap(),
                more,
            }
        }),
    ]
}

pub fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (
            any::<u16>(),
            prop_oneof![Just(Role::Peer), Just(Role::Registry)],
            proptest::option::of(name())
        )
            .prop_map(|(version, role, name)| Message::Hello(Hello {
                version,
                role,
                name
            })),
        (error_code(), text())
            .prop_map(|(code, reason)| Message::Goodbye(Goodbye { code, reason })),
        (any::<u32>(), request_body())
            .prop_map(|(id, body)| Message::Request(Request { id, body })),
        (
            any::<u32>(),
            prop_oneof![
                reply_body().prop_map(Ok),
                (error_code(), text()).prop_map(|(code, message)| Err(Refusal { code, message })),
            ]
        )
            .prop_map(|(id, result)| Message::Reply(Reply { id, result })),
        (name(), any::<bool>(), proptest::option::of(addr()))
            .prop_map(|(name, online, addr)| Message::Presence(Presence { name, online, addr })),
    ]
}

pub fn group() -> impl Strategy<Value = GroupName> {
    name().prop_map(|n| GroupName::new(&format!("#{n}")).unwrap())
}

pub fn conv() -> impl Strategy<Value = Conv> {
    prop_oneof![Just(Conv::Direct), group().prop_map(Conv::Group)]
}

pub fn members() -> impl Strategy<Value = List<Name, { confab_engine::limits::MAX_GROUP_MEMBERS }>>
{
    vec(name(), 0..5).prop_map(|m| List::new(m).unwrap())
}

pub fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        text().prop_map(Payload::Text),
        name().prop_map(Payload::Joined),
        Just(Payload::Left),
        members().prop_map(Payload::Members),
    ]
}

pub fn peer_message() -> impl Strategy<Value = PeerMessage> {
    prop_oneof![
        Just(PeerMessage::Verified),
        Just(PeerMessage::ChatRequest),
        Just(PeerMessage::ChatAccept),
        text().prop_map(|reason| PeerMessage::ChatClose { reason }),
        (conv(), any::<u64>(), any::<u64>(), payload()).prop_map(|(conv, seq, low, payload)| {
            PeerMessage::Data {
                conv,
                seq,
                low,
                payload,
            }
        }),
        (conv(), any::<u64>()).prop_map(|(conv, upto)| PeerMessage::Ack { conv, upto }),
        (group(), members())
            .prop_map(|(group, members)| PeerMessage::GroupInvite { group, members }),
        (group(), any::<bool>())
            .prop_map(|(group, accept)| PeerMessage::GroupAnswer { group, accept }),
        (group(), text()).prop_map(|(group, reason)| PeerMessage::GroupRefused { group, reason }),
        any::<u64>().prop_map(|epoch| PeerMessage::Session { epoch }),
        Just(PeerMessage::Ping),
        Just(PeerMessage::Pong),
        group().prop_map(|group| PeerMessage::NotInGroup { group }),
    ]
}

/// Every message of every family.
pub fn any_message() -> impl Strategy<Value = Message> {
    prop_oneof![message(), peer_message().prop_map(Message::Peer)]
}
