//! What a person (through the command line, or a test) can ask of a peer.
//! One variant per command of README's command table; answers and
//! everything else the peer has to say come back as [`super::PeerEvent`]s.

use crate::ids::TransferId;
pub use crate::ids::{RequestId, Target};
use crate::wire::identity::Fingerprint;
use crate::wire::registry::{Profile, SharedFile};
use crate::wire::{FileName, GroupName, Name};

/// A change to this peer's own profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileChange {
    /// `/profile nick TEXT`.
    Nick(String),
    /// `/profile bio TEXT`.
    Bio(String),
    /// `/profile avatar PATH`: the driver reads the file and passes its bytes.
    Avatar(Vec<u8>),
}

/// A command. README's command table gives the line each maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerCommand {
    /// `/who`: who is online.
    Who,
    /// `/whois NAME`: address, profile, shared files.
    Whois(Name),
    /// `/search TEXT`: online names containing TEXT.
    Search(String),
    /// `/files [NAME]`: shared files of everyone, or of NAME.
    Files(Option<Name>),
    /// `/chat NAME`: ask NAME for a chat.
    Chat(Name),
    /// `/accept [ID]`: the oldest waiting question if no id.
    Accept(Option<RequestId>),
    /// `/decline [ID]`.
    Decline(Option<RequestId>),
    /// `/msg NAME TEXT`, `/msg #GROUP TEXT`, or plain text to the current
    /// conversation (the driver knows which that is).
    Message { to: Target, text: String },
    /// `/close NAME`: end the chat with NAME.
    CloseChat(Name),
    /// `/group create #G`.
    GroupCreate(GroupName),
    /// `/invite #G NAME`.
    Invite { group: GroupName, name: Name },
    /// `/leave #G`.
    Leave(GroupName),
    /// `/send NAME PATH`: offer a file or folder (PATH as the user typed it;
    /// the driver resolves it).
    SendFile { to: Name, path: String },
    /// `/get NAME FILE`: download FILE from NAME's shared folder.
    Get { from: Name, file: FileName },
    /// `/transfers`.
    Transfers,
    /// `/cancel ID`.
    Cancel(TransferId),
    /// `/friends`.
    Friends,
    /// `/friend add NAME`.
    FriendAdd(Name),
    /// `/friend remove NAME`.
    FriendRemove(Name),
    /// `/history NAME [N]`: the last N messages with NAME or #GROUP.
    History { with: Target, last: usize },
    /// `/profile`: show this peer's own profile.
    ShowProfile,
    /// `/profile nick|bio|avatar ...`.
    SetProfile(ProfileChange),
    /// `/quit`: log out and leave. The peer reports [`super::PeerEvent::Stopped`]
    /// when it is done.
    Quit,
    /// Not typed by a person: the driver saw the shared folder change. The
    /// list replaces the one from [`super::PeerConfig::shared`] and is
    /// published to the registry now if logged in, else at the next log-in.
    Publish(Vec<SharedFile>),
    /// `/pause ID`: stop a transfer on both sides; a download keeps its
    /// `.part`, and `/resume ID` or `/get` continues from it.
    Pause(TransferId),
    /// `/resume ID`: ask again for a paused (or kept) download.
    Resume(TransferId),
    /// `/call NAME`: ask NAME for a video call.
    Call(Name),
    /// `/hangup [NAME]`: end the call with NAME (or the only one).
    Hangup(Option<Name>),
    /// Not typed by a person: the driver's next encoded frame for the call
    /// with `with`, captured at `captured` (the engine never encodes or
    /// reads a camera). Frames over the current rate are skipped.
    CallFrame {
        with: Name,
        jpeg: Vec<u8>,
        captured: std::time::Instant,
    },
    /// `/forget NAME`: forget the key pinned for NAME, so that the next key
    /// to claim it is trusted on first use (issue 20).
    Forget(Name),
    /// `/trust NAME FINGERPRINT`: pin NAME to the key with this fingerprint,
    /// one heard claiming NAME (a reinstalled peer's new key).
    Trust {
        name: Name,
        fingerprint: Fingerprint,
    },
}

/// The profile as shown by `/profile`.
pub type OwnProfile = Profile;
