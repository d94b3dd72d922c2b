//! What a peer reports. Each variant that `docs/events.md` names maps
//! to one JSON event of that name; the driver prints them. Others are for
//! people (human output) or for tests.

use std::net::SocketAddr;

use crate::api::TransferId;
use crate::peer::command::{RequestId, Target};
pub use crate::record::peer::HistoryEntry;
pub use crate::transfer::status::{Direction, TransferStatus, Via};
use crate::wire::registry::{FileEntry, PeerInfo, Profile, SharedFile, UserEntry};
use crate::wire::{ErrorCode, GroupName, Md5, Name};

/// A friend and whether they are online.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendStatus {
    /// The friend.
    pub name: Name,
    /// Online now.
    pub online: bool,
    /// Messages waiting to be delivered to them.
    pub queued: usize,
}

/// A call's receiving side over the last second (`call_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallStats {
    /// Frames shown in the last second.
    pub fps: u32,
    /// Frames shown since the call started.
    pub frames: u64,
    /// Frames given up since the call started (missing, incomplete, late).
    pub lost: u64,
    /// Frames given up in the last second.
    pub period_lost: u64,
    /// The jitter estimate (RFC 3550, on whole frames).
    pub jitter_us: u64,
    /// Estimated capture-to-shown delay: half the round trip of the
    /// reports plus the time frames waited in the jitter buffer.
    pub latency_us: u64,
    /// Video received in the last second, in kilobits.
    pub kbps: u64,
}

/// How a peer was found (the `/who` "found by" column, issue 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FoundBy {
    /// The registry listed it.
    Registry,
    /// Its announcement was heard on the LAN.
    Lan,
    /// Another peer passed on its announcement.
    Exchange,
}

impl FoundBy {
    /// Its name, as `/who` and the JSON events show it.
    pub fn as_str(self) -> &'static str {
        match self {
            FoundBy::Registry => "registry",
            FoundBy::Lan => "lan",
            FoundBy::Exchange => "exchange",
        }
    }
}

/// One peer known without a registry (issue 20). Its `name` is only a
/// claim: `fingerprint` (of its Noise key) is who it is, and tells apart
/// two peers claiming one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPeer {
    /// The name it claims.
    pub name: Name,
    /// Its key's fingerprint.
    pub fingerprint: String,
    /// Where it listens.
    pub addr: SocketAddr,
    /// How it was found.
    pub by: FoundBy,
    /// Seconds since it was last heard of.
    pub age_s: u64,
    /// Another key claims the same name, or this name was known with
    /// another key before: never merged, shown apart.
    pub contested: bool,
}

/// Where a `/whois` answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhoisFrom {
    /// The registry's directory (its certificates name the key).
    Registry,
    /// Without a registry session (issue 20): the peer itself, over its
    /// link (which proved `info.key`). `by` is how it was found (`None`
    /// if no announcement of that key is held); `digest` compares the
    /// profile with the digest of the last announcement heard from it.
    Peer {
        by: Option<FoundBy>,
        digest: DigestCheck,
    },
}

/// A profile asked of the peer itself, against the digest of its last
/// announcement (issue 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestCheck {
    /// The profile is the one announced.
    Matches,
    /// It is not: changed after the announcement (the next one will
    /// match), or not what the peer announced.
    Differs,
    /// No announcement of that key is held to compare with.
    Unknown,
}

impl DigestCheck {
    /// Its name in the JSON events.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestCheck::Matches => "matches",
            DigestCheck::Differs => "differs",
            DigestCheck::Unknown => "unknown",
        }
    }
}

/// Something a peer has to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// `ready`: logged in and listening. `fingerprint` is this peer's key
    /// (what others see in `/whois`, to compare out of band).
    Ready {
        name: Name,
        listen: SocketAddr,
        fingerprint: String,
    },
    /// `users`: the answer to `/who` or `/search`.
    Users { users: Vec<UserEntry> },
    /// `files`: the answer to `/files`.
    Files { files: Vec<FileEntry> },
    /// The answer to `/whois`: from the registry, or (without a registry
    /// session) from the peer itself, `files` then empty (`/files NAME`
    /// asks for them) unless it is this peer's own.
    Whois {
        info: PeerInfo,
        files: Vec<SharedFile>,
        from: WhoisFrom,
    },
    /// `presence`: a peer came online or went offline.
    Presence { name: Name, online: bool },
    /// `chat_request`: someone asks for a chat.
    ChatRequest { id: RequestId, from: Name },
    /// `chat_opened`: a chat is open (either side); `via` is the path the
    /// connection to `with` takes now (`Direct` while none is open: the
    /// next one is tried directly first).
    ChatOpened { with: Name, via: Via },
    /// `path`: the connection to `with` opened, or moved: straight between
    /// the two peers, or through the registry's relay (still end-to-end
    /// encrypted). Chats and transfers with `with` take this path.
    Path { with: Name, via: Via },
    /// `chat_closed`: a chat ended (declined, expired, closed, or lost).
    ChatClosed { with: Name, reason: String },
    /// `group_invite`: an invitation into a group.
    GroupInvite {
        id: RequestId,
        from: Name,
        group: GroupName,
    },
    /// This peer is now in `group`, with these members (itself included).
    GroupJoined {
        group: GroupName,
        members: Vec<Name>,
    },
    /// Someone joined a group this peer is in.
    MemberJoined { group: GroupName, name: Name },
    /// Someone left a group this peer is in.
    MemberLeft { group: GroupName, name: Name },
    /// `message`: a message arrived; `to` is this peer's name or the group.
    Message {
        from: Name,
        to: Target,
        text: String,
    },
    /// `delivered`: the other side acknowledged message `seq` sent to `to`.
    Delivered { to: Target, seq: u64 },
    /// A message was accepted for sending (so the user knows its `seq`), or
    /// queued for an offline friend (`queued` true).
    Sent { to: Target, seq: u64, queued: bool },
    /// `file_offer`: someone offers a file (or folder). `id` is the
    /// question (`/accept ID`); `transfer` the transfer it becomes, under
    /// the same id as on the sender's side.
    FileOffer {
        id: RequestId,
        from: Name,
        name: String,
        size: u64,
        transfer: TransferId,
    },
    /// `transfer_progress`: bytes moved so far (at a bounded rate); `via`
    /// is the path they take now.
    TransferProgress {
        id: TransferId,
        done: u64,
        total: u64,
        rate: u64,
        via: Via,
    },
    /// `transfer_done`: finished and verified; `path` is where it was
    /// written (receiver) or read (sender). For a folder (`folder`), `name` and `path` are the
    /// folder's, `files` and `size` count every file in it, and `md5` is
    /// its [`crate::wire::folder_digest`]; for a file, `files` is 1. `via`
    /// is the path the last of its bytes took.
    TransferDone {
        id: TransferId,
        direction: Direction,
        name: String,
        path: String,
        md5: Md5,
        folder: bool,
        files: u64,
        size: u64,
        via: Via,
    },
    /// `transfer_failed`: ended without a verified file.
    TransferFailed { id: TransferId, reason: String },
    /// The answer to `/transfers`.
    Transfers { transfers: Vec<TransferStatus> },
    /// `history`: the answer to `/history`.
    History {
        with: Target,
        messages: Vec<HistoryEntry>,
    },
    /// The answer to `/friends`.
    Friends { friends: Vec<FriendStatus> },
    /// The answer to `/profile`.
    Profile { profile: Profile },
    /// The registry connection is lost; the peer keeps retrying.
    RegistryLost { reason: String },
    /// The registry connection is back and the session restored.
    RegistryBack,
    /// `key_changed`: `name` proved another key than the one it proved
    /// the last time this peer talked to it. Its registry certified the
    /// new key, so either `name` reinstalled (or moved to another machine),
    /// or the registry certified a key that is not `name`'s: compare
    /// fingerprints with `name` out of band.
    KeyChanged {
        name: Name,
        old: String,
        new: String,
    },
    /// `key_pinned`: `/trust NAME FINGERPRINT` pinned `name` to the key
    /// `new` (`/forget NAME`: `new` is `None`, and the next key to claim
    /// `name` is trusted on first use); `old` is the key pinned before, if
    /// any (both fingerprints).
    KeyPinned {
        name: Name,
        old: Option<String>,
        new: Option<String>,
    },
    /// `registry_key`: the registry at `registry` proved the signing key
    /// with this fingerprint, and no key was pinned for it: from now on
    /// this key is trusted (the driver keeps it, so that a later change is
    /// refused).
    RegistryKey {
        registry: std::net::SocketAddr,
        fingerprint: String,
    },
    /// `error`: a command could not be carried out.
    Error { message: String },
    /// Something worth telling a person that fits no other event.
    Notice { message: String },
    /// The peer has stopped: after `/quit` (`code` is `Normal`), or because it
    /// cannot go on (wrong password, name taken, replaced by a newer session).
    /// The driver exits, with a non-zero status unless `code` is `Normal`.
    Stopped { code: ErrorCode, reason: String },
    /// `transfer_paused`: `/pause` here or on the other side stopped it; a
    /// download kept its `.part` (`reason` says where and how to go on).
    TransferPaused { id: TransferId, reason: String },
    /// `call_request`: `from` asks for a video call (`/accept ID`).
    CallRequest { id: RequestId, from: Name },
    /// `call_started`: the call with `with` is up (either side).
    CallStarted { with: Name },
    /// `call_stats`: about once a second while a call is up.
    CallStats { with: Name, stats: CallStats },
    /// `call_ended`: the call is over (hung up, declined, not answered,
    /// timeout, ...), with what this side received.
    CallEnded {
        with: Name,
        reason: String,
        frames_received: u64,
        frames_lost: u64,
    },
    /// `call_frame`: a complete frame to show, in order (`frame` numbers
    /// only grow); `captured_us` is on the sender's timeline.
    CallFrame {
        with: Name,
        frame: u32,
        captured_us: u64,
        jpeg: Vec<u8>,
    },
    /// `registry_heard`: a registry announced itself on the LAN at
    /// `registry` with the signing key of this fingerprint (its signature
    /// checked). `used`: this peer (`--registry lan`) logs in to it now;
    /// else it is only said, once per key, with the command (for `name`)
    /// that would use it.
    RegistryHeard {
        name: Name,
        registry: SocketAddr,
        fingerprint: String,
        used: bool,
    },
    /// `found`: the answer to `/who`, `/search` or `/whois` without a
    /// registry: the peers heard on the LAN or through peer exchange.
    Found { peers: Vec<FoundPeer> },
    /// `call_adapt`: encode frames for `with` at this JPEG quality; frames
    /// over `fps` are skipped.
    CallAdapt { with: Name, quality: u8, fps: u32 },
}
