//! Invariants of messages and frames, shared by every target.
//!
//! The bounded types promise "never more than the limit"; [`limits`] checks
//! each field against the constant in `limits.rs` directly, so a field given
//! the wrong bound (a nick typed with the bio's limit, say) is caught too, and
//! re-checks the naming rules on every name that was decoded.

use confab_engine::limits::MAX_RELAY_PIECE;
use confab_engine::limits::{
    FRAME_HEADER_LEN, MAX_ADDR_LEN, MAX_AVATAR_LEN, MAX_BIO_LEN, MAX_CHUNK_LEN,
    MAX_EXCHANGE_ENTRIES, MAX_FILE_NAME_LEN, MAX_FRAME_LEN, MAX_GROUP_MEMBERS, MAX_GROUP_NAME_LEN,
    MAX_LISTING_ENTRIES, MAX_MESSAGE_LEN, MAX_NICK_LEN, MAX_PASSWORD_LEN, MAX_REASON_LEN,
    MAX_REL_PATH_LEN, MAX_SEARCH_LEN, MAX_SHARED_FILES,
};
use confab_engine::wire::peer::{Conv, Payload, PeerMessage};
use confab_engine::wire::registry::{FileEntry, Profile, ReplyBody, RequestBody, SharedFile};
use confab_engine::wire::relay::RelayMessage;
use confab_engine::wire::transfer::{Manifest, RelPath, TransferMessage};
use confab_engine::wire::{FileName, GroupName, Message, Name, decode, encode};

fn name(n: &Name) {
    assert_eq!(
        Name::new(n.as_str()).as_ref(),
        Ok(n),
        "a decoded name breaks the rules"
    );
}

fn file_name(n: &FileName) {
    assert!(n.as_str().len() <= MAX_FILE_NAME_LEN);
    assert_eq!(
        FileName::new(n.as_str()).as_ref(),
        Ok(n),
        "a decoded file name breaks the rules"
    );
}

fn group(g: &GroupName) {
    assert!(g.as_str().len() <= MAX_GROUP_NAME_LEN);
    assert_eq!(
        GroupName::new(g.as_str()).as_ref(),
        Ok(g),
        "a decoded group name breaks the rules"
    );
}

fn rel_path(p: &RelPath) {
    assert!(p.as_str().len() <= MAX_REL_PATH_LEN);
    assert_eq!(
        RelPath::new(p.as_str()).as_ref(),
        Ok(p),
        "a decoded relative path breaks the rules"
    );
}

fn conv(c: &Conv) {
    if let Conv::Group(g) = c {
        group(g);
    }
}

fn members(m: &[Name]) {
    assert!(m.len() <= MAX_GROUP_MEMBERS, "too many group members");
    m.iter().for_each(name);
}

/// A manifest within its limits; whether it is *sound* ([`Manifest::check`])
/// is the receiver's business (a remote may send an unsound one).
fn manifest(m: &Manifest) {
    file_name(&m.name);
    assert!(
        m.entries.len() <= MAX_SHARED_FILES,
        "too many manifest entries"
    );
    m.entries.iter().for_each(|e| rel_path(&e.path));
}

fn peer(p: &PeerMessage) {
    match p {
        PeerMessage::Verified
        | PeerMessage::ChatRequest
        | PeerMessage::ChatAccept
        | PeerMessage::Session { .. }
        | PeerMessage::Ping
        | PeerMessage::Pong
        // Fixed-size fields only (the secret is exactly 32 bytes).
        | PeerMessage::CallRequest { .. }
        | PeerMessage::CallAccept { .. }
        | PeerMessage::CallReport { .. } => {}
        PeerMessage::CallEnd { reason, .. } => text(reason, MAX_REASON_LEN, "call end reason"),
        PeerMessage::ChatClose { reason } => text(reason, MAX_REASON_LEN, "chat close reason"),
        PeerMessage::Data {
            conv: c, payload, ..
        } => {
            conv(c);
            match payload {
                Payload::Text(t) => text(t, MAX_MESSAGE_LEN, "message"),
                Payload::Joined(n) => name(n),
                Payload::Left => {}
                Payload::Members(m) => members(m),
            }
        }
        PeerMessage::Ack { conv: c, .. } => conv(c),
        PeerMessage::GroupInvite {
            group: g,
            members: m,
        } => {
            group(g);
            members(m);
        }
        PeerMessage::GroupAnswer { group: g, .. } | PeerMessage::NotInGroup { group: g } => {
            group(g)
        }
        PeerMessage::GroupRefused { group: g, reason } => {
            group(g);
            text(reason, MAX_REASON_LEN, "group refusal reason");
        }
        PeerMessage::Known { entries } => {
            assert!(
                entries.len() <= MAX_EXCHANGE_ENTRIES,
                "too many exchange entries"
            );
            entries.iter().for_each(|p| name(&p.ann.body.name));
        }
        PeerMessage::FilesAsk => {}
        PeerMessage::FilesList { files } => {
            assert!(files.len() <= MAX_SHARED_FILES, "too many shared files");
            files.iter().for_each(shared_file);
        }
        PeerMessage::ProfileAsk => {}
        PeerMessage::ProfileAnswer { profile: p } => profile(p),
    }
}

fn transfer(t: &TransferMessage) {
    match t {
        TransferMessage::Get { name, .. } => file_name(name),
        TransferMessage::Offer { manifest: m, .. }
        | TransferMessage::Manifest { manifest: m, .. } => manifest(m),
        TransferMessage::Chunk { data, .. } => {
            assert!(data.len() <= MAX_CHUNK_LEN, "a chunk over the limit")
        }
        TransferMessage::Cancel { reason, .. } => text(reason, MAX_REASON_LEN, "cancel reason"),
        TransferMessage::Accept { .. }
        | TransferMessage::Resume { .. }
        | TransferMessage::Want { .. }
        | TransferMessage::Ack { .. }
        | TransferMessage::Complete { .. }
        | TransferMessage::Pause { .. } => {}
    }
}

fn text(s: &str, max: usize, what: &str) {
    assert!(s.len() <= max, "{what} of {} bytes > {max}", s.len());
}

fn addr(a: &std::net::SocketAddr) {
    text(&a.to_string(), MAX_ADDR_LEN, "address text");
}

fn profile(p: &Profile) {
    text(&p.nick, MAX_NICK_LEN, "nick");
    text(&p.bio, MAX_BIO_LEN, "bio");
    assert!(p.avatar.len() <= MAX_AVATAR_LEN, "avatar over the limit");
}

fn shared_file(f: &SharedFile) {
    file_name(&f.name);
}

fn file_entry(e: &FileEntry) {
    name(&e.owner);
    shared_file(&e.file);
}

/// Checks every field of `msg` against its documented limit and rules.
///
/// Every message kind has an arm (the match is exhaustive, so a new kind
/// does not compile until it has one).
pub fn limits(msg: &Message) {
    match msg {
        Message::Hello(h) => {
            if let Some(n) = &h.name {
                name(n);
            }
        }
        Message::Goodbye(g) => text(&g.reason, MAX_REASON_LEN, "goodbye reason"),
        Message::Request(r) => match &r.body {
            RequestBody::Register { name: n, password } => {
                name(n);
                text(&password.0, MAX_PASSWORD_LEN, "password");
            }
            RequestBody::Login {
                name: n,
                password,
                listen,
                stamp: _,
            } => {
                name(n);
                text(&password.0, MAX_PASSWORD_LEN, "password");
                addr(listen);
            }
            RequestBody::Logout | RequestBody::Heartbeat | RequestBody::WatchPresence { .. } => {}
            RequestBody::List { after } => after.iter().for_each(name),
            RequestBody::Search { text: t, after } => {
                text(t, MAX_SEARCH_LEN, "search text");
                after.iter().for_each(name);
            }
            RequestBody::Lookup { name: n } => name(n),
            RequestBody::Publish { files } => {
                assert!(files.len() <= MAX_SHARED_FILES, "too many shared files");
                files.iter().for_each(shared_file);
            }
            RequestBody::SetProfile { profile: p } => profile(p),
            RequestBody::Files { owner, after } => {
                owner.iter().for_each(name);
                if let Some(c) = after {
                    name(&c.owner);
                    file_name(&c.name);
                }
            }
        },
        Message::Reply(r) => match &r.result {
            Err(refusal) => text(&refusal.message, MAX_REASON_LEN, "refusal message"),
            Ok(ReplyBody::Done) => {}
            Ok(ReplyBody::Users { users, .. }) => {
                assert!(users.len() <= MAX_LISTING_ENTRIES, "too many users");
                for u in users.iter() {
                    name(&u.name);
                    addr(&u.addr);
                }
            }
            Ok(ReplyBody::Certified(c)) => name(&c.body.name),
            Ok(ReplyBody::Peer(info)) => {
                name(&info.name);
                info.addr.iter().for_each(addr);
                profile(&info.profile);
            }
            Ok(ReplyBody::Files { files, .. }) => {
                assert!(files.len() <= MAX_LISTING_ENTRIES, "too many files");
                files.iter().for_each(file_entry);
            }
        },
        Message::Presence(p) => {
            name(&p.name);
            p.addr.iter().for_each(addr);
        }
        Message::Peer(p) => peer(p),
        Message::Transfer(t) => transfer(t),
        Message::Relay(r) => relay(r),
    }
}

fn relay(r: &RelayMessage) {
    match r {
        RelayMessage::Open { to, .. } => name(to),
        RelayMessage::Incoming { from, .. } => name(from),
        RelayMessage::DialMe { to } => name(to),
        RelayMessage::DialBack { from, addr: a } => {
            name(from);
            addr(a);
        }
        RelayMessage::Refused { reason, .. }
        | RelayMessage::Close { reason, .. }
        | RelayMessage::Capped { reason, .. } => text(reason, MAX_REASON_LEN, "relay reason"),
        RelayMessage::Data { bytes, .. } => assert!(
            bytes.len() <= MAX_RELAY_PIECE,
            "a relayed piece of {} bytes",
            bytes.len()
        ),
        RelayMessage::Opened { .. } | RelayMessage::Credit { .. } => {}
    }
}

/// Checks that `msg` encodes to one frame within the limit, whose header
/// tells its length, and that the frame decodes back to `msg`. Returns the frame.
pub fn round_trip(msg: &Message) -> Vec<u8> {
    let frame = encode(msg);
    let body = frame_body(&frame);
    let again = decode(body).unwrap_or_else(|e| panic!("{} re-encoded fails: {e}", msg.kind()));
    assert_eq!(&again, msg, "a message changed through encode and decode");
    frame
}

/// Checks one frame as the engine produced it (header and body, nothing else),
/// and returns its message.
pub fn frame(frame: &[u8]) -> Message {
    let msg = decode(frame_body(frame)).unwrap_or_else(|e| panic!("the engine sent {e}"));
    limits(&msg);
    msg
}

fn frame_body(frame: &[u8]) -> &[u8] {
    assert!(frame.len() >= FRAME_HEADER_LEN, "a frame without a header");
    let (header, body) = frame.split_at(FRAME_HEADER_LEN);
    let len = u32::from_be_bytes(header.try_into().expect("four bytes")) as usize;
    assert_eq!(len, body.len(), "a frame header disagrees with its body");
    assert!(
        len <= MAX_FRAME_LEN,
        "a frame of {len} bytes, over the limit"
    );
    body
}
