//! Every size limit of the confab protocol, in one place.
//!
//! Each limit is enforced where untrusted bytes are turned into values: a frame
//! length is checked against [`MAX_FRAME_LEN`] before its buffer is reserved, and
//! every string and list inside a message is checked against its limit by the
//! bounded wire types ([`crate::bounded`]) before anything is copied out of the
//! frame. Together they mean one frame never costs more memory than a small
//! multiple of [`MAX_FRAME_LEN`], whatever its contents claim.

/// Largest frame body, in bytes, that a connection accepts. A longer length
/// prefix closes the connection before anything is allocated.
///
/// Sized to carry the largest file chunk ([`MAX_CHUNK_LEN`]) plus its envelope,
/// and the largest single message of any other kind.
pub const MAX_FRAME_LEN: usize = MAX_CHUNK_LEN + 64 * 1024;

/// Bytes of the big-endian length that precedes every frame body.
pub const FRAME_HEADER_LEN: usize = 4;

/// Largest file chunk a transfer may use. The chunk size is configurable up to this.
pub const MAX_CHUNK_LEN: usize = 1024 * 1024;

/// Longest user name, in bytes. Names are ASCII (see [`crate::wire::Name`]), so
/// this is also their length in characters.
pub const MAX_NAME_LEN: usize = 32;

/// Longest group name, including its leading `#`.
pub const MAX_GROUP_NAME_LEN: usize = MAX_NAME_LEN + 1;

/// Longest password, in bytes. Long enough for any passphrase, short enough that
/// hashing cost is bounded by the hash parameters, not by the input.
pub const MAX_PASSWORD_LEN: usize = 256;

/// Longest chat message text, in bytes of UTF-8 (4 KiB: several paragraphs;
/// longer text belongs in a file transfer).
pub const MAX_MESSAGE_LEN: usize = 4096;

/// Longest nickname in a profile, in bytes of UTF-8.
pub const MAX_NICK_LEN: usize = 64;

/// Longest biography in a profile, in bytes of UTF-8.
pub const MAX_BIO_LEN: usize = 512;

/// Largest avatar image, in bytes (64 KiB: a small picture, not a photo album;
/// profiles travel with every look-up).
pub const MAX_AVATAR_LEN: usize = 64 * 1024;

/// Longest shared file name, in bytes (the common file-system limit).
pub const MAX_FILE_NAME_LEN: usize = 255;

/// Longest relative path inside an offered folder, in bytes.
pub const MAX_REL_PATH_LEN: usize = 1024;

/// Most files one peer may publish in its shared list, and most entries in one
/// offered folder. 2048 entries of the longest name still fit one frame.
pub const MAX_SHARED_FILES: usize = 2048;

/// Most entries in one page of a listing (who is online, search results, shared
/// files). Longer listings are paged with a cursor.
pub const MAX_LISTING_ENTRIES: usize = 1000;

/// Longest search text, in bytes.
pub const MAX_SEARCH_LEN: usize = MAX_NAME_LEN;

/// Longest human-readable reason in a refusal or goodbye, in bytes.
pub const MAX_REASON_LEN: usize = 512;

/// Most members of one group.
pub const MAX_GROUP_MEMBERS: usize = 64;

/// Longest socket address text, in bytes (`[ipv6%scope]:port` fits).
pub const MAX_ADDR_LEN: usize = 64;

/// Most messages a peer keeps in the history of one conversation; older ones
/// are forgotten (their records deleted) so a long-lived chat cannot fill the
/// disk. A thousand is far more than `/history` is ever asked to show.
pub const MAX_HISTORY_PER_CONVERSATION: usize = 1000;

/// Most pages a peer fetches for one `/who`, `/search` or `/files` answer
/// (so at most this times [`MAX_LISTING_ENTRIES`] entries); a longer listing
/// is cut and says so rather than flooding the user.
pub const MAX_LISTING_PAGES: usize = 20;

/// Most messages waiting (unacknowledged or queued for an offline friend)
/// from one peer to one other peer. Beyond it, `/msg` says to wait: the
/// durable outbox must not grow without bound while a friend is away.
pub const MAX_OUTBOX_PER_PEER: usize = 1000;
/// Most bytes of relative paths in one offered folder, all entries together.
/// With [`MAX_SHARED_FILES`] entries this keeps a folder's manifest inside one
/// frame ([`MAX_FRAME_LEN`]) whatever the path lengths: the sender refuses a
/// bigger folder up front, the receiver treats one as a protocol violation.
pub const MAX_FOLDER_PATH_BYTES: usize = 512 * 1024;

/// Default bytes per file chunk (see `transfer` for the measurement).
pub const DEFAULT_CHUNK_LEN: u32 = 64 * 1024;

/// Default unacknowledged chunks in flight per transfer (see `transfer` for
/// the measurement behind it).
pub const DEFAULT_WINDOW: u32 = 16;

/// Most unacknowledged chunks in flight per transfer, whatever either side
/// configures: with [`MAX_CHUNK_LEN`] this bounds one transfer's bytes in
/// flight (and a receiver's writes pending) to 64 MiB.
pub const MAX_WINDOW: u32 = 64;

/// Most transfers (both directions, offers awaiting an answer included) a
/// peer runs with one other peer at once. Beyond it a `/get` or `/send` is
/// refused, and a remote's `Get` or `Offer` is answered with `Cancel`.
/// Every transfer sharing a connection may put one window ahead of a chat
/// message, so this also bounds how long chat waits behind files: 8 windows
/// of the defaults are 8 MiB, about 67 ms at 1 Gb/s.
pub const MAX_TRANSFERS_PER_PEER: usize = 8;

/// Most group invitations one remote may have waiting for this peer's answer
/// at once. Each holds a member list (up to [`MAX_GROUP_MEMBERS`] names) until
/// it expires, so without a cap a remote could fill memory with invitations
/// to ever-new group names; beyond it an invitation is refused at once.
pub const MAX_PENDING_INVITES_PER_PEER: usize = 8;

/// Most transfers a peer runs at once, with everyone together. Each holds
/// at most one window of chunks in memory (1 MiB with the defaults), so
/// this bounds a peer's transfer memory to 32 MiB at the defaults, whatever
/// its remotes ask for.
pub const MAX_TRANSFERS: usize = 32;

/// Most (account, address) pairs the registry remembers wrong passwords for
/// (see `registry::guard`). Each is a few dozen bytes; beyond the cap the
/// entry whose lockout ends first is forgotten, so a flood of guesses from
/// many addresses costs bounded memory.
pub const MAX_LOGIN_GUARDS: usize = 4096;

/// A `/cancel`led download whose `.part` holds at least this many bytes
/// keeps it (and says so); a second `/cancel` of the same id deletes it.
pub const KEEP_PART_FROM: u64 = 1024 * 1024;

/// Longest first frame of a connection (the plaintext [`crate::wire::Hello`]
/// that says which protocol follows), in bytes of body. A hello of any
/// version is a few dozen bytes; anything longer is not confab.
pub const MAX_PREAMBLE_LEN: usize = 256;

/// Longest Noise handshake message, in bytes. Ours carry two keys, a tag and
/// a certificate of a few hundred bytes; a longer length prefix closes the
/// connection before anything is allocated.
pub const MAX_HANDSHAKE_LEN: usize = 2048;

/// Longest Noise message of the encrypted stream (Noise's own limit), in
/// bytes, tag included. A record carries at most this minus the tag and one
/// byte of record kind.
pub const MAX_RECORD_LEN: usize = 65_535;

/// Most plaintext a connection holds back while its handshake is still under
/// way (the hellos its owner queued). Only a few small messages are ever sent
/// before the handshake ends; more is a bug in confab and closes the
/// connection rather than growing.
pub const MAX_HELD_PLAINTEXT: usize = 1024 * 1024;

/// Largest UDP datagram of a call, header and tag included: under every
/// usual path MTU (1,280 for IPv6 minus headers), so a datagram is never
/// fragmented by IP. A longer datagram is dropped before anything is done
/// with it.
pub const MAX_DATAGRAM_LEN: usize = 1200;

/// Largest encoded video frame a call sends or reassembles, in bytes. A
/// 1280x720 JPEG of fair quality is 60-150 KiB; a fragment claiming a frame
/// of more fragments than this allows is dropped.
pub const MAX_CALL_FRAME_LEN: usize = 512 * 1024;

/// Most frames a call's receiver holds while they are incomplete or wait
/// their turn (its jitter buffer). With [`MAX_CALL_FRAME_LEN`] this bounds
/// one call's reassembly memory to 8 MiB; beyond it the oldest is dropped.
pub const MAX_JITTER_FRAMES: usize = 16;

/// Most calls a peer holds at once (ringing, asked or up). Each costs its
/// jitter buffer; beyond it a `/call` is refused and a request declined.
pub const MAX_CALLS: usize = 4;

/// Most bytes of a LAN discovery datagram (issue 20). An announcement is
/// about 250 bytes (two keys, two signatures, a name); the limit leaves room
/// and stays far under one Ethernet frame, so none is ever fragmented.
pub const MAX_LAN_DATAGRAM_LEN: usize = 512;

/// Most peers one peer keeps heard announcements for (LAN and exchange
/// together): a hostile segment flooding fresh keys fills this and no more;
/// the entry heard longest ago makes room.
pub const MAX_LAN_PEERS: usize = 1024;

/// Most registries one peer keeps the last signing time of (issue 20,
/// registries announced on the LAN: a replayed announcement is refused
/// against it). A segment flooding fresh registry keys fills this and no
/// more; the one signed longest ago makes room.
pub const MAX_LAN_REGISTRIES: usize = 64;

/// Most announcements in one peer-exchange message (issue 20). Each is
/// about 300 bytes, so one list is under 64 KiB.
pub const MAX_EXCHANGE_ENTRIES: usize = 200;

/// Most announcements a peer passes on to its segment per announce tick
/// (those it learned over links, freshest first).
pub const MAX_RELAYS_PER_TICK: usize = 64;

/// Most strangers (peers learned by exchange, not on the LAN, not wanted
/// for anything else) a peer dials per minute because others named them:
/// what others say can never make it dial in bulk.
pub const MAX_STRANGER_DIALS_PER_MINUTE: u32 = 10;

/// Most LAN queries a peer answers per second. An answer (an
/// announcement, ~250 bytes) goes to the query's source, which could be
/// forged: this bounds what a forger can make a peer send anyone.
pub const MAX_QUERY_ANSWERS_PER_SECOND: u32 = 20;

/// Largest piece of a relayed stream in one [`crate::wire::relay::RelayMessage::Data`],
/// in bytes: a peer cuts its sealed bytes into pieces of at most this, so a
/// relayed frame stays far below [`MAX_FRAME_LEN`] and one piece never makes
/// chat wait long behind a file through the registry.
pub const MAX_RELAY_PIECE: usize = 64 * 1024;

/// Bytes of one relayed stream in flight through the registry, per
/// direction: sent by one peer and not yet credited back by the other. The
/// registry never holds more than this per stream and direction (a peer
/// that sends beyond its credit is closed as a violation), so a slow
/// receiver stalls its sender, not the registry's memory. 2 MiB keeps a
/// loopback transfer fast (two windows of 64 KiB chunks) and a registry
/// with [`MAX_RELAY_STREAMS`] streams under a few hundred MiB at worst.
pub const RELAY_WINDOW: u64 = 2 * 1024 * 1024;

/// Sealed bytes one relayed stream of a peer holds waiting for the other
/// side's credit before the layers above stall. At this many, the peer's
/// transfers with the other end keep their next messages (and so, their
/// windows full, read no more of the file) until credit lets the waiting
/// bytes out; nothing is dropped. Chat messages and acknowledgements still
/// go (they are small and bounded by [`MAX_OUTBOX_PER_PEER`]), so a bulk
/// transfer never makes them wait behind more than this. A stream goes
/// beyond it by at most one transfer message (a chunk: at most
/// [`MAX_CHUNK_LEN`] and its framing) and those small messages.
pub const MAX_RELAY_WAITING: u64 = 1024 * 1024;

/// Most relayed streams one peer may have open at once through the
/// registry (one per other peer is all it needs; a few spare for a stream
/// being replaced).
pub const MAX_RELAY_STREAMS_PER_PEER: usize = 32;

/// Most relayed streams a registry carries at once, all peers together;
/// with [`RELAY_WINDOW`] this bounds what relaying can ever cost its memory.
pub const MAX_RELAY_STREAMS: usize = 256;
