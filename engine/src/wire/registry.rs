//! Messages between a peer and the registry.
//!
//! A peer sends [`Request`]s carrying an id of its choosing; the registry answers
//! each with exactly one [`Reply`] of the same id, in order. The registry also
//! pushes [`Presence`] to sessions that asked for it with
//! [`RequestBody::WatchPresence`].

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::bounded::{Blob, List, Text};
use crate::limits::{
    MAX_AVATAR_LEN, MAX_BIO_LEN, MAX_LISTING_ENTRIES, MAX_NICK_LEN, MAX_PASSWORD_LEN,
    MAX_SEARCH_LEN, MAX_SHARED_FILES,
};
use crate::wire::common::Refusal;
use crate::wire::identity::{Certificate, PublicKey};
use crate::wire::md5::Md5;
use crate::wire::names::{FileName, Name};

/// A password as it travels to the registry. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Password(pub Text<MAX_PASSWORD_LEN>);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Which log-in this is, so the registry can tell a log-in overtaken on
/// the way (sent by a peer that has since restarted and logged in again)
/// from the newest one: an older log-in from the same installation must not
/// end the session of a newer one. `device` is drawn once per peer data
/// folder; `count` grows by one with every log-in from it. A client that
/// keeps no state sends the default (device 0, count 0), which never
/// counts as older.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginStamp {
    /// The installation.
    pub device: u64,
    /// Log-ins from it so far, this one included.
    pub count: u64,
}

impl LoginStamp {
    /// Whether a log-in stamped `self` was overtaken by the session stamped
    /// `current`: same installation, and that one logged in later.
    pub fn is_older_than(&self, current: &LoginStamp) -> bool {
        self.device == current.device && self.count < current.count
    }
}

/// A request from a peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the peer; echoed in the reply.
    pub id: u32,
    /// What is asked.
    pub body: RequestBody,
}

/// What a peer can ask the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RequestBody {
    /// Create an account. Answered with [`ReplyBody::Done`] or `NameTaken`.
    Register { name: Name, password: Password },
    /// Start a session on this connection, reachable for chats at `listen`.
    /// Answered with [`ReplyBody::Done`].
    Login {
        name: Name,
        password: Password,
        listen: SocketAddr,
        /// Which log-in of which installation this is (see [`LoginStamp`]).
        stamp: LoginStamp,
    },
    /// End the session (the connection stays open).
    Logout,
    /// Proof of life; any request counts as one.
    Heartbeat,
    /// Who is online, by name, from after `after`.
    List { after: Option<Name> },
    /// Online names containing `text`, by name, from after `after`.
    Search {
        text: Text<MAX_SEARCH_LEN>,
        after: Option<Name>,
    },
    /// One peer's address (if online) and profile.
    Lookup { name: Name },
    /// Replace the list of files this session shares.
    Publish {
        files: List<SharedFile, MAX_SHARED_FILES>,
    },
    /// Replace this account's profile.
    SetProfile { profile: Profile },
    /// Files shared by online peers (all, or one `owner`'s), by owner then name,
    /// from after `after`.
    Files {
        owner: Option<Name>,
        after: Option<FileCursor>,
    },
    /// Start or stop presence pushes to this session.
    WatchPresence { on: bool },
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The id of the request answered.
    pub id: u32,
    /// The answer, or why there is none.
    pub result: Result<ReplyBody, Refusal>,
}

/// What the registry answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReplyBody {
    /// Done, nothing to tell.
    Done,
    /// A page of online peers; `more` says a next page exists.
    Users {
        users: List<UserEntry, MAX_LISTING_ENTRIES>,
        more: bool,
    },
    /// One peer.
    Peer(PeerInfo),
    /// A page of shared files; `more` says a next page exists.
    Files {
        files: List<FileEntry, MAX_LISTING_ENTRIES>,
        more: bool,
    },
    /// A log-in succeeded (or, answering a heartbeat, the certificate was
    /// renewed): the certificate binding the name to this connection's
    /// Noise key, for the peer to show other peers.
    Certified(Certificate),
}

/// A pushed presence change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// Who.
    pub name: Name,
    /// Online now, or gone.
    pub online: bool,
    /// Where they listen, when online.
    pub addr: Option<SocketAddr>,
}

/// An online peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEntry {
    /// Their name.
    pub name: Name,
    /// Where they listen for peers.
    pub addr: SocketAddr,
}

/// What a look-up tells about one peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Their name.
    pub name: Name,
    /// Where they listen, if online.
    pub addr: Option<SocketAddr>,
    /// Their profile (kept while they are offline too).
    pub profile: Profile,
    /// Its Noise static key, as the registry saw it at log-in (`None` when
    /// offline).
    pub key: Option<PublicKey>,
}

/// Nickname, biography and avatar, all optional and bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// A display name; any UTF-8.
    pub nick: Text<MAX_NICK_LEN>,
    /// A few words about the person.
    pub bio: Text<MAX_BIO_LEN>,
    /// A small image, in whatever format the sender chose.
    pub avatar: Blob<MAX_AVATAR_LEN>,
}

/// One file or folder a peer shares.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SharedFile {
    /// Its plain name in the shared folder.
    pub name: FileName,
    /// Its size in bytes (a folder: the total of its files).
    pub size: u64,
    /// Its MD5 (a folder: [`crate::wire::md5::folder_digest`] of its files).
    pub md5: Md5,
    /// A file or a folder.
    #[serde(default)]
    pub kind: ShareKind,
}

impl SharedFile {
    /// A plain file.
    pub fn file(name: FileName, size: u64, md5: Md5) -> Self {
        Self {
            name,
            size,
            md5,
            kind: ShareKind::File,
        }
    }

    /// The number of files it stands for: 1 for a file.
    pub fn files(&self) -> u64 {
        match self.kind {
            ShareKind::File => 1,
            ShareKind::Folder { files } => u64::from(files),
        }
    }
}

/// What a [`SharedFile`] is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum ShareKind {
    /// A regular file directly in the share folder.
    #[default]
    File,
    /// A folder directly in the share folder, holding `files` regular files
    /// (at any depth); fetched whole, as a folder transfer.
    Folder { files: u32 },
}

/// A shared file and who shares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Who shares it.
    pub owner: Name,
    /// The file.
    pub file: SharedFile,
}

/// Where the previous page of a file listing ended.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileCursor {
    /// Owner of the last entry seen.
    pub owner: Name,
    /// Name of the last entry seen.
    pub name: FileName,
}
