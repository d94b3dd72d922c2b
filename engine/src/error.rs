//! Why a command was refused ([`CommandError`]): one variant per failure,
//! carrying the names and ids it is about, so callers and tests match on
//! what went wrong while people read the same words as ever (`Display`).
//! Below every role: touches only ids, names and limits.

use std::fmt;

use crate::ids::{RequestId, TransferId};
use crate::limits::{
    MAX_CALL_FRAME_LEN, MAX_CALLS, MAX_GROUP_MEMBERS, MAX_MESSAGE_LEN, MAX_OUTBOX_PER_PEER,
    MAX_SEARCH_LEN, MAX_TRANSFERS, MAX_TRANSFERS_PER_PEER,
};
use crate::wire::{FileName, GroupName, Name};

/// Something one can do to everyone but oneself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfAction {
    /// `/chat`.
    Chat,
    /// `/msg`.
    Message,
    /// `/friend add`.
    Befriend,
    /// `/get`.
    DownloadFrom,
    /// `/send`.
    SendFilesTo,
    /// `/call`.
    Call,
}

impl fmt::Display for SelfAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SelfAction::Chat => "chat with",
            SelfAction::Message => "message",
            SelfAction::Befriend => "befriend",
            SelfAction::DownloadFrom => "download from",
            SelfAction::SendFilesTo => "send files to",
            SelfAction::Call => "call",
        })
    }
}

/// A profile field with a size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileField {
    /// The nickname.
    Nick,
    /// The bio.
    Bio,
    /// The avatar.
    Avatar,
}

impl fmt::Display for ProfileField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProfileField::Nick => "nickname",
            ProfileField::Bio => "bio",
            ProfileField::Avatar => "avatar",
        })
    }
}

/// A command the caller could not have meant: the engine's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// The engine has stopped (after `/quit`, or for good).
    Stopped,
    /// The command names this peer itself.
    Yourself(SelfAction),
    /// `/search` text over [`MAX_SEARCH_LEN`] bytes.
    SearchTooLong { len: usize, max: usize },
    /// A profile field over its limit.
    ProfileTooLong {
        field: ProfileField,
        len: usize,
        max: usize,
    },
    /// `/accept` or `/decline` with nothing waiting.
    NothingWaiting,
    /// `/accept ID` or `/decline ID` of no waiting question.
    NoSuchQuestion(RequestId),
    /// `/close` of a chat that does not exist.
    NoChat(Name),
    /// `/msg` to someone with no chat (and not a friend).
    NoChatAskFirst(Name),
    /// `/msg` to someone whose chat request is still unanswered here.
    AnswerFirst { name: Name, id: RequestId },
    /// An empty message.
    EmptyMessage,
    /// A message over [`MAX_MESSAGE_LEN`] bytes.
    MessageTooLong { len: usize },
    /// [`MAX_OUTBOX_PER_PEER`] messages already wait for this peer.
    OutboxFull(Name),
    /// `/friend remove` of someone not on the list.
    NotAFriend(Name),
    /// `/group create` of a group this peer is already in.
    AlreadyInGroup(GroupName),
    /// A group command for a group this peer is not in.
    NotInGroup(GroupName),
    /// `/invite` of someone already in the group.
    AlreadyMember { name: Name, group: GroupName },
    /// `/invite` into a group of [`MAX_GROUP_MEMBERS`].
    GroupFull(GroupName),
    /// [`MAX_TRANSFERS`] transfers are under way.
    TooManyTransfers,
    /// [`MAX_TRANSFERS_PER_PEER`] transfers with this peer are under way.
    TooManyTransfersWith(Name),
    /// `/get` of a file another download is writing.
    AlreadyDownloading { file: FileName, id: TransferId },
    /// `/send` with nothing to send.
    NothingToSend,
    /// `/cancel` of no live transfer.
    NoSuchTransfer(TransferId),
    /// `/pause` of a transfer that cannot be paused now.
    CannotPause { id: TransferId, why: String },
    /// `/resume` of a transfer that cannot be resumed.
    CannotResume { id: TransferId, why: String },
    /// `/hangup` (or a frame) with no call up with this peer.
    NoCall(Name),
    /// `/hangup` with no name while no call, or several, are up.
    WhichCall,
    /// `/call` of a peer a call with is already ringing or up.
    AlreadyInCall(Name),
    /// [`MAX_CALLS`] calls are ringing or up.
    TooManyCalls,
    /// A video frame over [`MAX_CALL_FRAME_LEN`] bytes (or empty).
    FrameSize { len: usize },
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Stopped => f.write_str("this peer has stopped"),
            CommandError::Yourself(what) => write!(f, "you cannot {what} yourself"),
            CommandError::SearchTooLong { len, max } => write!(
                f,
                "search text is at most {MAX_SEARCH_LEN} bytes: {len} bytes is over the limit of {max}"
            ),
            CommandError::ProfileTooLong { field, len, max } => {
                write!(f, "a {field} is at most {max} bytes, not {len}")
            }
            CommandError::NothingWaiting => f.write_str("nothing is waiting for an answer"),
            CommandError::NoSuchQuestion(id) => {
                write!(f, "no question {id} is waiting (answered or expired?)")
            }
            CommandError::NoChat(name) => write!(f, "there is no chat with {name}"),
            CommandError::NoChatAskFirst(name) => {
                write!(
                    f,
                    "there is no chat with {name}; ask first with /chat {name}"
                )
            }
            CommandError::AnswerFirst { name, id } => {
                write!(f, "{name} asked for a chat: /accept {id} first")
            }
            CommandError::EmptyMessage => f.write_str("an empty message is not sent"),
            CommandError::MessageTooLong { len } => write!(
                f,
                "a message is at most {MAX_MESSAGE_LEN} bytes, this one is {len}; send long text as a file"
            ),
            CommandError::OutboxFull(name) => write!(
                f,
                "{MAX_OUTBOX_PER_PEER} messages already wait for {name}; wait for them to be delivered"
            ),
            CommandError::NotAFriend(name) => write!(f, "{name} is not on your friends list"),
            CommandError::AlreadyInGroup(group) => write!(f, "you are already in {group}"),
            CommandError::NotInGroup(group) => write!(f, "you are not in {group}"),
            CommandError::AlreadyMember { name, group } => {
                write!(f, "{name} is already in {group}")
            }
            CommandError::GroupFull(group) => write!(
                f,
                "{group} is full: a group has at most {MAX_GROUP_MEMBERS} members"
            ),
            CommandError::TooManyTransfers => write!(
                f,
                "{MAX_TRANSFERS} transfers are already under way; wait for one to end or /cancel one"
            ),
            CommandError::TooManyTransfersWith(name) => write!(
                f,
                "{MAX_TRANSFERS_PER_PEER} transfers with {name} are already under way; wait for one to end or /cancel one"
            ),
            CommandError::AlreadyDownloading { file, id } => write!(
                f,
                "{file} is already being downloaded ({id}); see /transfers"
            ),
            CommandError::NothingToSend => f.write_str("/send needs a file or folder to send"),
            CommandError::NoSuchTransfer(id) => write!(
                f,
                "there is no transfer {id} (finished already?); see /transfers"
            ),
            CommandError::CannotPause { id, why } => write!(f, "cannot pause {id}: {why}"),
            CommandError::CannotResume { id, why } => write!(f, "cannot resume {id}: {why}"),
            CommandError::NoCall(name) => write!(f, "there is no call with {name}"),
            CommandError::WhichCall => f.write_str("name the call to end: /hangup NAME"),
            CommandError::AlreadyInCall(name) => {
                write!(f, "a call with {name} is already ringing or up")
            }
            CommandError::TooManyCalls => {
                write!(
                    f,
                    "{MAX_CALLS} calls are already ringing or up; /hangup one first"
                )
            }
            CommandError::FrameSize { len } => write!(
                f,
                "a video frame is 1 to {MAX_CALL_FRAME_LEN} bytes of JPEG, not {len}"
            ),
        }
    }
}

impl std::error::Error for CommandError {}
