//! `arbitrary` generator types that always build a valid [`Message`].
//!
//! Raw bytes almost never decode, so an engine fed only raw bytes never gets
//! past its first frame. These types mirror the message enum, derive
//! `Arbitrary`, and [`Build`] a message that is valid by construction: names
//! obey the naming rules, texts and lists are cut to their limits. The engine
//! stays free of an `arbitrary` dependency.
//!
//! Names and passwords come mostly from small pools, so that a register, a
//! log-in and a look-up in one input are likely to be about the same account:
//! that is what reaches the interesting states (a session replaced by a second
//! log-in, a look-up of an online peer, a wrong password).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use arbitrary::Arbitrary;
use confab_engine::bounded::{Blob, List, Text};
use confab_engine::wire::peer::{Conv, Payload, PeerMessage};
use confab_engine::wire::registry::{
    FileCursor, FileEntry, LoginStamp, Password, PeerInfo, Presence, Profile, Reply, ReplyBody,
    Request, RequestBody, SharedFile, UserEntry,
};
use confab_engine::wire::transfer::{
    Manifest, ManifestEntry, RelPath, TransferKey, TransferMessage,
};
use confab_engine::wire::{
    ErrorCode, FileName, Goodbye, GroupName, Hello, Md5, Message, Name, PROTOCOL_VERSION, Refusal,
    Role,
};

/// Turns a generator value into the engine value it stands for.
pub trait Build {
    /// The engine type.
    type Out;
    /// The engine value; always valid.
    fn build(&self) -> Self::Out;
}

impl<T: Build> Build for Option<T> {
    type Out = Option<T::Out>;
    fn build(&self) -> Self::Out {
        self.as_ref().map(Build::build)
    }
}

/// Builds each element and keeps at most `MAX` of them.
fn list<G: Build, const MAX: usize>(items: &[G]) -> List<G::Out, MAX> {
    let items = items.iter().take(MAX).map(Build::build).collect();
    List::new(items).expect("cut to the limit")
}

/// User names the engine targets share, so operations collide on purpose.
pub const NAME_POOL: [&str; 5] = [
    "alice",
    "bob",
    "carol",
    "d",
    // The longest name allowed.
    "z0123456789.-_abcdefghijklmnopqr",
];

/// Passwords the engine targets share; the empty one is refused.
pub const PASSWORD_POOL: [&str; 3] = ["hunter2", "correct horse", ""];

/// File names the engine targets share, including the longest allowed.
pub const FILE_POOL: [&str; 4] = ["a.txt", "notes.md", "é.bin", ".hidden"];

/// Every error code, so a byte can pick one.
pub const ERROR_CODES: [ErrorCode; 17] = [
    ErrorCode::VersionMismatch,
    ErrorCode::ProtocolViolation,
    ErrorCode::InvalidName,
    ErrorCode::NameTaken,
    ErrorCode::UnknownName,
    ErrorCode::WrongPassword,
    ErrorCode::InvalidPassword,
    ErrorCode::NotLoggedIn,
    ErrorCode::AlreadyLoggedIn,
    ErrorCode::Busy,
    ErrorCode::InvalidRequest,
    ErrorCode::NotFound,
    ErrorCode::SessionReplaced,
    ErrorCode::TimedOut,
    ErrorCode::ShuttingDown,
    ErrorCode::Normal,
    ErrorCode::StaleLogin,
];

/// A user name: from the pool, or made from arbitrary text.
#[derive(Debug, Arbitrary)]
pub enum GName {
    Pool(u8),
    Made(String),
}

impl Build for GName {
    type Out = Name;
    fn build(&self) -> Name {
        match self {
            GName::Pool(i) => Name::new(NAME_POOL[*i as usize % NAME_POOL.len()]).expect("valid"),
            GName::Made(s) => {
                // Keep only what the rules allow; fall back to a pool name.
                let cleaned: String = s
                    .chars()
                    .map(|c| c.to_ascii_lowercase())
                    .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(*c))
                    .skip_while(|c| !c.is_ascii_alphanumeric())
                    .take(confab_engine::limits::MAX_NAME_LEN)
                    .collect();
                Name::new(&cleaned).unwrap_or_else(|_| Name::new(NAME_POOL[0]).expect("valid"))
            }
        }
    }
}

/// A password: from the pool, or arbitrary text cut to the limit.
#[derive(Debug, Arbitrary)]
pub enum GPassword {
    Pool(u8),
    Made(String),
}

impl Build for GPassword {
    type Out = Password;
    fn build(&self) -> Password {
        Password(match self {
            GPassword::Pool(i) => Text::truncate(PASSWORD_POOL[*i as usize % PASSWORD_POOL.len()]),
            GPassword::Made(s) => Text::truncate(s),
        })
    }
}

/// A file name: from the pool, or arbitrary text with what the rules forbid removed.
#[derive(Debug, Arbitrary)]
pub enum GFileName {
    Pool(u8),
    /// The longest name allowed, of this character.
    Longest(u8),
    Made(String),
}

impl Build for GFileName {
    type Out = FileName;
    fn build(&self) -> FileName {
        let fallback = || FileName::new(FILE_POOL[0]).expect("valid");
        match self {
            GFileName::Pool(i) => FileName::new(FILE_POOL[*i as usize % FILE_POOL.len()])
                .unwrap_or_else(|_| fallback()),
            GFileName::Longest(c) => {
                let c = char::from(b'a' + c % 26);
                FileName::new(
                    &c.to_string()
                        .repeat(confab_engine::limits::MAX_FILE_NAME_LEN),
                )
                .unwrap_or_else(|_| fallback())
            }
            GFileName::Made(s) => {
                let cleaned: String = s
                    .chars()
                    .filter(|c| !matches!(c, '/' | '\\') && !c.is_control())
                    .collect();
                let cut = Text::<{ confab_engine::limits::MAX_FILE_NAME_LEN }>::truncate(&cleaned);
                FileName::new(cut.as_str()).unwrap_or_else(|_| fallback())
            }
        }
    }
}

/// A socket address.
///
/// No IPv6 flow info or scope id: serde's binary form of `SocketAddrV6` (what
/// rmp-serde writes) carries only the address and the port, so those two
/// never travel (a scope id names an interface of the sender's host, which
/// would mean nothing to the receiver anyway).
#[derive(Debug, Arbitrary)]
pub enum GAddr {
    V4([u8; 4], u16),
    V6([u8; 16], u16),
}

impl Build for GAddr {
    type Out = SocketAddr;
    fn build(&self) -> SocketAddr {
        match self {
            GAddr::V4(ip, port) => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(*ip), *port)),
            GAddr::V6(ip, port) => {
                SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(*ip), *port, 0, 0))
            }
        }
    }
}

/// An error code, picked by index.
#[derive(Debug, Arbitrary)]
pub struct GCode(pub u8);

impl Build for GCode {
    type Out = ErrorCode;
    fn build(&self) -> ErrorCode {
        ERROR_CODES[self.0 as usize % ERROR_CODES.len()]
    }
}

/// A hello: mostly of this protocol version, so engines get past it.
#[derive(Debug, Arbitrary)]
pub struct GHello {
    pub other_version: Option<u16>,
    pub registry: bool,
    pub name: Option<GName>,
}

impl Build for GHello {
    type Out = Hello;
    fn build(&self) -> Hello {
        Hello {
            version: self.other_version.unwrap_or(PROTOCOL_VERSION),
            role: if self.registry {
                Role::Registry
            } else {
                Role::Peer
            },
            name: self.name.build(),
        }
    }
}

/// A refusal.
#[derive(Debug, Arbitrary)]
pub struct GRefusal {
    pub code: GCode,
    pub message: String,
}

impl Build for GRefusal {
    type Out = Refusal;
    fn build(&self) -> Refusal {
        Refusal::new(self.code.build(), &self.message)
    }
}

/// A profile. The avatar is a byte count, not the bytes, so a maximal avatar
/// costs the fuzzer two input bytes rather than 64 KiB.
#[derive(Debug, Arbitrary)]
pub struct GProfile {
    pub nick: String,
    pub bio: String,
    pub avatar_len: u16,
    pub avatar_byte: u8,
}

impl Build for GProfile {
    type Out = Profile;
    fn build(&self) -> Profile {
        let len = (self.avatar_len as usize).min(confab_engine::limits::MAX_AVATAR_LEN);
        Profile {
            nick: Text::truncate(&self.nick),
            bio: Text::truncate(&self.bio),
            avatar: Blob::new(vec![self.avatar_byte; len]).expect("cut to the limit"),
        }
    }
}

/// A shared file.
#[derive(Debug, Arbitrary)]
pub struct GSharedFile {
    pub name: GFileName,
    pub size: u64,
    pub md5: [u8; 16],
}

impl Build for GSharedFile {
    type Out = SharedFile;
    fn build(&self) -> SharedFile {
        SharedFile {
            name: self.name.build(),
            size: self.size,
            md5: Md5(self.md5),
        }
    }
}

/// A cursor into a file listing.
#[derive(Debug, Arbitrary)]
pub struct GFileCursor {
    pub owner: GName,
    pub name: GFileName,
}

impl Build for GFileCursor {
    type Out = FileCursor;
    fn build(&self) -> FileCursor {
        FileCursor {
            owner: self.owner.build(),
            name: self.name.build(),
        }
    }
}

/// A request body, one variant per [`RequestBody`] variant.
#[derive(Debug, Arbitrary)]
pub enum GRequestBody {
    Register {
        name: GName,
        password: GPassword,
    },
    Login {
        name: GName,
        password: GPassword,
        listen: GAddr,
        device: u64,
        count: u64,
    },
    Logout,
    Heartbeat,
    List {
        after: Option<GName>,
    },
    Search {
        text: String,
        after: Option<GName>,
    },
    Lookup {
        name: GName,
    },
    Publish {
        files: Vec<GSharedFile>,
    },
    /// Publishes `count` files with distinct names: long lists are expensive
    /// to reach through `Vec<GSharedFile>`, and the listing pages need them.
    PublishMany {
        count: u16,
        md5: [u8; 16],
    },
    SetProfile {
        profile: GProfile,
    },
    Files {
        owner: Option<GName>,
        after: Option<GFileCursor>,
    },
    WatchPresence {
        on: bool,
    },
}

impl Build for GRequestBody {
    type Out = RequestBody;
    fn build(&self) -> RequestBody {
        use confab_engine::limits::{MAX_SEARCH_LEN, MAX_SHARED_FILES};
        match self {
            GRequestBody::Register { name, password } => RequestBody::Register {
                name: name.build(),
                password: password.build(),
            },
            GRequestBody::Login {
                name,
                password,
                listen,
                device,
                count,
            } => RequestBody::Login {
                name: name.build(),
                password: password.build(),
                listen: listen.build(),
                stamp: LoginStamp {
                    device: *device,
                    count: *count,
                },
            },
            GRequestBody::Logout => RequestBody::Logout,
            GRequestBody::Heartbeat => RequestBody::Heartbeat,
            GRequestBody::List { after } => RequestBody::List {
                after: after.build(),
            },
            GRequestBody::Search { text, after } => RequestBody::Search {
                text: Text::<MAX_SEARCH_LEN>::truncate(text),
                after: after.build(),
            },
            GRequestBody::Lookup { name } => RequestBody::Lookup { name: name.build() },
            GRequestBody::Publish { files } => RequestBody::Publish { files: list(files) },
            GRequestBody::PublishMany { count, md5 } => {
                let n = (*count as usize).min(MAX_SHARED_FILES);
                let files = (0..n)
                    .map(|i| SharedFile {
                        name: FileName::new(&format!("f{i:04}")).expect("valid"),
                        size: i as u64,
                        md5: Md5(*md5),
                    })
                    .collect();
                RequestBody::Publish {
                    files: List::new(files).expect("cut to the limit"),
                }
            }
            GRequestBody::SetProfile { profile } => RequestBody::SetProfile {
                profile: profile.build(),
            },
            GRequestBody::Files { owner, after } => RequestBody::Files {
                owner: owner.build(),
                after: after.build(),
            },
            GRequestBody::WatchPresence { on } => RequestBody::WatchPresence { on: *on },
        }
    }
}

/// A user entry of a listing.
#[derive(Debug, Arbitrary)]
pub struct GUserEntry {
    pub name: GName,
    pub addr: GAddr,
}

impl Build for GUserEntry {
    type Out = UserEntry;
    fn build(&self) -> UserEntry {
        UserEntry {
            name: self.name.build(),
            addr: self.addr.build(),
        }
    }
}

/// A file entry of a listing.
#[derive(Debug, Arbitrary)]
pub struct GFileEntry {
    pub owner: GName,
    pub file: GSharedFile,
}

impl Build for GFileEntry {
    type Out = FileEntry;
    fn build(&self) -> FileEntry {
        FileEntry {
            owner: self.owner.build(),
            file: self.file.build(),
        }
    }
}

/// A reply body, one variant per [`ReplyBody`] variant.
#[derive(Debug, Arbitrary)]
pub enum GReplyBody {
    Done,
    Users {
        users: Vec<GUserEntry>,
        more: bool,
    },
    Peer {
        name: GName,
        addr: Option<GAddr>,
        profile: GProfile,
    },
    Files {
        files: Vec<GFileEntry>,
        more: bool,
    },
}

impl Build for GReplyBody {
    type Out = ReplyBody;
    fn build(&self) -> ReplyBody {
        match self {
            GReplyBody::Done => ReplyBody::Done,
            GReplyBody::Users { users, more } => ReplyBody::Users {
                users: list(users),
                more: *more,
            },
            GReplyBody::Peer {
                name,
                addr,
                profile,
            } => ReplyBody::Peer(PeerInfo {
                name: name.build(),
                addr: addr.build(),
                profile: profile.build(),
            }),
            GReplyBody::Files { files, more } => ReplyBody::Files {
                files: list(files),
                more: *more,
            },
        }
    }
}

/// A message, one variant per [`Message`] variant.
#[derive(Debug, Arbitrary)]
pub enum GMessage {
    Hello(GHello),
    Goodbye {
        code: GCode,
        reason: String,
    },
    Request {
        id: u32,
        body: GRequestBody,
    },
    Reply {
        id: u32,
        result: Result<GReplyBody, GRefusal>,
    },
    Presence {
        name: GName,
        online: bool,
        addr: Option<GAddr>,
    },
    Peer(GPeerMessage),
    Transfer(GTransferMessage),
}

impl Build for GMessage {
    type Out = Message;
    fn build(&self) -> Message {
        match self {
            GMessage::Hello(h) => Message::Hello(h.build()),
            GMessage::Goodbye { code, reason } => Message::Goodbye(Goodbye {
                code: code.build(),
                reason: Text::truncate(reason),
            }),
            GMessage::Request { id, body } => Message::Request(Request {
                id: *id,
                body: body.build(),
            }),
            GMessage::Reply { id, result } => Message::Reply(Reply {
                id: *id,
                result: match result {
                    Ok(body) => Ok(body.build()),
                    Err(refusal) => Err(refusal.build()),
                },
            }),
            GMessage::Presence { name, online, addr } => Message::Presence(Presence {
                name: name.build(),
                online: *online,
                addr: addr.build(),
            }),
            GMessage::Peer(p) => Message::Peer(p.build()),
            GMessage::Transfer(t) => Message::Transfer(t.build()),
        }
    }
}

/// Group names the peer target shares.
pub const GROUP_POOL: [&str; 3] = ["#team", "#g", "#z0123456789.-_abcdefghijklmnopqr"];

/// A group name: from the pool, or `#` and a generated user name.
#[derive(Debug, Arbitrary)]
pub enum GGroupName {
    Pool(u8),
    Made(GName),
}

impl Build for GGroupName {
    type Out = GroupName;
    fn build(&self) -> GroupName {
        match self {
            GGroupName::Pool(i) => {
                GroupName::new(GROUP_POOL[*i as usize % GROUP_POOL.len()]).expect("valid")
            }
            GGroupName::Made(n) => GroupName::new(&format!("#{}", n.build()))
                .unwrap_or_else(|_| GroupName::new(GROUP_POOL[0]).expect("valid")),
        }
    }
}

/// A conversation.
#[derive(Debug, Arbitrary)]
pub enum GConv {
    Direct,
    Group(GGroupName),
}

impl Build for GConv {
    type Out = Conv;
    fn build(&self) -> Conv {
        match self {
            GConv::Direct => Conv::Direct,
            GConv::Group(g) => Conv::Group(g.build()),
        }
    }
}

/// A stream item.
#[derive(Debug, Arbitrary)]
pub enum GPayload {
    Text(String),
    /// The longest text allowed, of this character.
    Longest(u8),
    Joined(GName),
    Left,
    Members(Vec<GName>),
}

impl Build for GPayload {
    type Out = Payload;
    fn build(&self) -> Payload {
        use confab_engine::limits::MAX_MESSAGE_LEN;
        match self {
            GPayload::Text(s) => Payload::Text(Text::truncate(s)),
            GPayload::Longest(c) => Payload::Text(
                Text::new(
                    char::from(b'a' + c % 26)
                        .to_string()
                        .repeat(MAX_MESSAGE_LEN),
                )
                .expect("at the limit"),
            ),
            GPayload::Joined(n) => Payload::Joined(n.build()),
            GPayload::Left => Payload::Left,
            GPayload::Members(m) => Payload::Members(list(m)),
        }
    }
}

/// A peer-to-peer message, one variant per [`PeerMessage`] variant.
#[derive(Debug, Arbitrary)]
pub enum GPeerMessage {
    Verified,
    Session {
        epoch: u64,
    },
    Ping,
    Pong,
    ChatRequest,
    ChatAccept,
    ChatClose {
        reason: String,
    },
    Data {
        conv: GConv,
        /// Small sequence numbers mostly, so data lines up with what was delivered.
        seq: u8,
        low: u8,
        payload: GPayload,
    },
    /// Sequence numbers anywhere.
    DataFar {
        conv: GConv,
        seq: u64,
        low: u64,
        payload: GPayload,
    },
    Ack {
        conv: GConv,
        upto: u64,
    },
    GroupInvite {
        group: GGroupName,
        members: Vec<GName>,
    },
    GroupAnswer {
        group: GGroupName,
        accept: bool,
    },
    GroupRefused {
        group: GGroupName,
        reason: String,
    },
    NotInGroup {
        group: GGroupName,
    },
}

impl Build for GPeerMessage {
    type Out = PeerMessage;
    fn build(&self) -> PeerMessage {
        match self {
            GPeerMessage::Verified => PeerMessage::Verified,
            GPeerMessage::Session { epoch } => PeerMessage::Session { epoch: *epoch },
            GPeerMessage::Ping => PeerMessage::Ping,
            GPeerMessage::Pong => PeerMessage::Pong,
            GPeerMessage::ChatRequest => PeerMessage::ChatRequest,
            GPeerMessage::ChatAccept => PeerMessage::ChatAccept,
            GPeerMessage::ChatClose { reason } => PeerMessage::ChatClose {
                reason: Text::truncate(reason),
            },
            GPeerMessage::Data {
                conv,
                seq,
                low,
                payload,
            } => PeerMessage::Data {
                conv: conv.build(),
                seq: (*seq).into(),
                low: (*low).into(),
                payload: payload.build(),
            },
            GPeerMessage::DataFar {
                conv,
                seq,
                low,
                payload,
            } => PeerMessage::Data {
                conv: conv.build(),
                seq: *seq,
                low: *low,
                payload: payload.build(),
            },
            GPeerMessage::Ack { conv, upto } => PeerMessage::Ack {
                conv: conv.build(),
                upto: *upto,
            },
            GPeerMessage::GroupInvite { group, members } => PeerMessage::GroupInvite {
                group: group.build(),
                members: list(members),
            },
            GPeerMessage::GroupAnswer { group, accept } => PeerMessage::GroupAnswer {
                group: group.build(),
                accept: *accept,
            },
            GPeerMessage::GroupRefused { group, reason } => PeerMessage::GroupRefused {
                group: group.build(),
                reason: Text::truncate(reason),
            },
            GPeerMessage::NotInGroup { group } => PeerMessage::NotInGroup {
                group: group.build(),
            },
        }
    }
}

/// Transfer keys: a few small ones (so an offer and its chunks agree), or any.
#[derive(Debug, Arbitrary)]
pub enum GKey {
    Small(u8),
    Any(u64),
}

impl Build for GKey {
    type Out = TransferKey;
    fn build(&self) -> TransferKey {
        match self {
            GKey::Small(k) => TransferKey(u64::from(k % 4)),
            GKey::Any(k) => TransferKey(*k),
        }
    }
}

/// The bytes of every file in the peer target, as a function of the offset:
/// both the remote senders and the driver's storage hold these, so a
/// transfer that moves them verifies.
pub fn content(offset: u64, len: usize) -> Vec<u8> {
    (0..len as u64)
        .map(|i| {
            let x = offset.wrapping_add(i);
            (x ^ (x >> 8) ^ (x >> 16)).wrapping_mul(31) as u8
        })
        .collect()
}

/// The MD5 of the first `size` bytes of [`content`] (for sizes the fuzzer
/// can afford to hash; others get a made-up digest).
pub fn content_md5(size: u64) -> Md5 {
    if size <= 1 << 20 {
        Md5::of(&content(0, size as usize))
    } else {
        Md5([0x5a; 16])
    }
}

/// File sizes around the chunk sizes the peer target uses (see
/// `crate::peer::CHUNK`), and one too big to move.
pub const SIZE_POOL: [u64; 8] = [0, 1, 63, 64, 65, 200, 1000, 1 << 40];

/// One file of a manifest.
#[derive(Debug, Arbitrary)]
pub struct GEntry {
    pub name: GFileName,
    pub size: u8,
    /// A made-up digest instead of that of [`content`].
    pub md5: Option<[u8; 16]>,
}

/// A manifest: mostly valid (a single file named like the manifest, or a
/// folder whose entries lie under it), sometimes not (the engine must refuse it).
#[derive(Debug, Arbitrary)]
pub enum GManifest {
    Single(GEntry),
    Folder {
        name: GFileName,
        entries: Vec<GEntry>,
    },
    Raw {
        name: GFileName,
        folder: bool,
        entries: Vec<(GFileName, u64, [u8; 16])>,
    },
}

impl GEntry {
    fn entry(&self, prefix: Option<&FileName>) -> ManifestEntry {
        let size = SIZE_POOL[self.size as usize % SIZE_POOL.len()];
        let name = self.name.build();
        let path = match prefix {
            Some(p) => format!("{p}/{name}"),
            None => name.to_string(),
        };
        ManifestEntry {
            path: RelPath::new(&path).unwrap_or_else(|_| RelPath::new("x").expect("valid")),
            size,
            md5: self.md5.map_or_else(|| content_md5(size), Md5),
        }
    }
}

impl Build for GManifest {
    type Out = Manifest;
    fn build(&self) -> Manifest {
        use confab_engine::limits::MAX_SHARED_FILES;
        match self {
            GManifest::Single(e) => {
                let entry = e.entry(None);
                Manifest {
                    name: FileName::new(entry.path.as_str()).expect("a file name"),
                    folder: false,
                    entries: List::new(vec![entry]).expect("one"),
                }
            }
            GManifest::Folder { name, entries } => {
                let name = name.build();
                let entries = entries
                    .iter()
                    .take(MAX_SHARED_FILES)
                    .map(|e| e.entry(Some(&name)))
                    .collect();
                Manifest {
                    name,
                    folder: true,
                    entries: List::new(entries).expect("cut to the limit"),
                }
            }
            GManifest::Raw {
                name,
                folder,
                entries,
            } => Manifest {
                name: name.build(),
                folder: *folder,
                entries: List::new(
                    entries
                        .iter()
                        .take(MAX_SHARED_FILES)
                        .map(|(n, size, md5)| ManifestEntry {
                            path: RelPath::new(n.build().as_str()).expect("a file name"),
                            size: *size,
                            md5: Md5(*md5),
                        })
                        .collect(),
                )
                .expect("cut to the limit"),
            },
        }
    }
}

/// Chunk bytes: [`content`] at the offset (what a real sender sends), or junk.
#[derive(Debug, Arbitrary)]
pub enum GChunkData {
    Content { len: u16 },
    Junk(Vec<u8>),
}

/// A transfer message, one variant per [`TransferMessage`] variant.
#[derive(Debug, Arbitrary)]
pub enum GTransferMessage {
    Get {
        key: GKey,
        name: GFileName,
    },
    Offer {
        key: GKey,
        manifest: GManifest,
    },
    Accept {
        key: GKey,
    },
    Resume {
        key: GKey,
    },
    Manifest {
        key: GKey,
        manifest: GManifest,
    },
    Want {
        key: GKey,
        round: u32,
        file: u32,
        offset: u64,
        chunk: u32,
        window: u32,
    },
    Chunk {
        key: GKey,
        round: u32,
        file: u32,
        offset: u64,
        data: GChunkData,
    },
    Ack {
        key: GKey,
        round: u32,
        file: u32,
        upto: u64,
    },
    Complete {
        key: GKey,
    },
    Cancel {
        key: GKey,
        reason: String,
    },
}

impl Build for GTransferMessage {
    type Out = TransferMessage;
    fn build(&self) -> TransferMessage {
        use confab_engine::limits::MAX_CHUNK_LEN;
        match self {
            GTransferMessage::Get { key, name } => TransferMessage::Get {
                key: key.build(),
                name: name.build(),
            },
            GTransferMessage::Offer { key, manifest } => TransferMessage::Offer {
                key: key.build(),
                manifest: manifest.build(),
            },
            GTransferMessage::Accept { key } => TransferMessage::Accept { key: key.build() },
            GTransferMessage::Resume { key } => TransferMessage::Resume { key: key.build() },
            GTransferMessage::Manifest { key, manifest } => TransferMessage::Manifest {
                key: key.build(),
                manifest: manifest.build(),
            },
            GTransferMessage::Want {
                key,
                round,
                file,
                offset,
                chunk,
                window,
            } => TransferMessage::Want {
                key: key.build(),
                round: *round,
                file: *file,
                offset: *offset,
                chunk: *chunk,
                window: *window,
            },
            GTransferMessage::Chunk {
                key,
                round,
                file,
                offset,
                data,
            } => {
                let data = match data {
                    GChunkData::Content { len } => content(*offset, usize::from(*len)),
                    GChunkData::Junk(b) => b.iter().copied().take(MAX_CHUNK_LEN).collect(),
                };
                TransferMessage::Chunk {
                    key: key.build(),
                    round: *round,
                    file: *file,
                    offset: *offset,
                    data: Blob::new(data).expect("cut to the limit"),
                }
            }
            GTransferMessage::Ack {
                key,
                round,
                file,
                upto,
            } => TransferMessage::Ack {
                key: key.build(),
                round: *round,
                file: *file,
                upto: *upto,
            },
            GTransferMessage::Complete { key } => TransferMessage::Complete { key: key.build() },
            GTransferMessage::Cancel { key, reason } => TransferMessage::Cancel {
                key: key.build(),
                reason: Text::truncate(reason),
            },
        }
    }
}
