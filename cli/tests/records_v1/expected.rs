//! What the stores of `tests/fixtures/v1` hold, record by record, as read
//! from them when `generate.rs` wrote them (salts, times, the login devices
//! and the transfer key were drawn by that run). Built from today's types,
//! so a field that changes meaning or place fails the comparison, and one
//! renamed or retyped fails to compile here first.

use confab_engine::bounded::{Blob, List, Text};
use confab_engine::ids::{Target, TransferId};
use confab_engine::password::{PasswordCost, PasswordWork, Salt};
use confab_engine::record::AccountRecord;
use confab_engine::record::peer::{GroupRecord, HistoryEntry, OutItem, PeerRecord};
use confab_engine::record::transfer::{HashCheckpoint, Origin, SavedSide, TransferRecord};
use confab_engine::source::Source;
use confab_engine::wire::peer::{Conv, Payload};
use confab_engine::wire::registry::{LoginStamp, Password, Profile};
use confab_engine::wire::transfer::{Manifest, ManifestEntry, RelPath, TransferKey};
use confab_engine::wire::{FileName, GroupName, Md5, Name};
use confab_engine::{Record, RecordKey};

use crate::generate::AVATAR;

pub fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

pub fn team() -> GroupName {
    GroupName::new("#team").unwrap()
}

pub fn password(s: &str) -> Password {
    Password(Text::new(s).unwrap())
}

/// alice's profile, as her store and the registry keep it.
pub fn alice_profile() -> Profile {
    Profile {
        nick: Text::new("Alice Ångström").unwrap(),
        bio: Text::new("Écrit en français — 日本語も少し").unwrap(),
        avatar: Blob::new(AVATAR).unwrap(),
    }
}

/// bob's profile: a nick only.
pub fn bob_profile() -> Profile {
    Profile {
        nick: Text::new("Bob").unwrap(),
        ..Profile::default()
    }
}

/// The registry's accounts, each with the salt it was given; the digest is
/// derived here from the account's password, so a record equal to this one
/// logs in with that password.
pub fn accounts() -> Vec<(Record, &'static str)> {
    let account = |who: &str, salt: [u8; 16], profile: Profile| {
        let cost = PasswordCost {
            memory_kib: 19 * 1024,
            iterations: 2,
            lanes: 1,
        };
        let work = PasswordWork::new(password(&format!("pw-of-{who}")), Salt(salt), cost);
        Record::Account(AccountRecord {
            name: name(who),
            salt: Salt(salt),
            cost,
            digest: work.run().unwrap(),
            profile,
        })
    };
    vec![
        (
            account(
                "alice",
                [
                    56, 105, 58, 25, 159, 219, 42, 137, 79, 251, 203, 66, 7, 114, 227, 207,
                ],
                alice_profile(),
            ),
            "pw-of-alice",
        ),
        (
            account(
                "bob",
                [
                    202, 189, 153, 193, 198, 8, 77, 166, 184, 144, 187, 57, 149, 97, 50, 198,
                ],
                bob_profile(),
            ),
            "pw-of-bob",
        ),
        (
            account(
                "carol",
                [
                    86, 144, 166, 7, 156, 238, 31, 205, 174, 45, 35, 64, 197, 110, 199, 3,
                ],
                Profile::default(),
            ),
            "pw-of-carol",
        ),
    ]
}

/// One message of a history, as `/history` shows it.
pub fn entry(from: &str, text: &str, at: u64) -> HistoryEntry {
    HistoryEntry {
        from: name(from),
        text: text.to_owned(),
        at,
    }
}

/// alice's chat with bob, oldest first; the last one waits in her outbox.
pub fn alice_with_bob() -> Vec<HistoryEntry> {
    vec![
        entry("alice", "hello bob", 1796541872984),
        entry("bob", "grüß dich, Alice! ça va? 🙂", 1796541872990),
        entry("alice", "très bien — 日本語も大丈夫", 1796541873005),
        entry("bob", "Привет, до встречи", 1796541873024),
        entry("alice", "tu me manques — à bientôt", 1796541882588),
    ]
}

/// `#team` as alice has it; the last one waits in her outbox.
pub fn alice_in_team() -> Vec<HistoryEntry> {
    vec![
        entry("alice", "hi team", 1796541873079),
        entry("carol", "salut l'équipe ✨", 1796541873091),
        entry("alice", "note for later: ☕ at 10", 1796541882590),
    ]
}

/// bob's chat with alice (he left before her last message).
pub fn bob_with_alice() -> Vec<HistoryEntry> {
    vec![
        entry("alice", "hello bob", 1796541872986),
        entry("bob", "grüß dich, Alice! ça va? 🙂", 1796541872988),
        entry("alice", "très bien — 日本語も大丈夫", 1796541873007),
        entry("bob", "Привет, до встречи", 1796541873021),
    ]
}

/// `#team` as bob has it.
pub fn bob_in_team() -> Vec<HistoryEntry> {
    vec![
        entry("alice", "hi team", 1796541873084),
        entry("carol", "salut l'équipe ✨", 1796541873091),
    ]
}

/// `#team` as carol has it.
pub fn carol_in_team() -> Vec<HistoryEntry> {
    vec![
        entry("alice", "hi team", 1796541873085),
        entry("carol", "salut l'équipe ✨", 1796541873090),
    ]
}

/// The size of the large file of the offered folder.
pub const BIG_SIZE: u64 = 256 << 20;

/// What alice offered carol: `album/` with a small and a large file.
pub fn album() -> Manifest {
    let file = |path: &str, size: u64, md5: &str| ManifestEntry {
        path: RelPath::new(path).unwrap(),
        size,
        md5: Md5::from_hex(md5).unwrap(),
    };
    Manifest {
        name: FileName::new("album").unwrap(),
        folder: true,
        entries: List::new(vec![
            file("album/a.txt", 28, "5f1bf062ca5861c18daf43b24a4e1af5"),
            file(
                "album/big.bin",
                BIG_SIZE,
                "38c391b8cbe2efc9509971c6e0666953",
            ),
        ])
        .unwrap(),
    }
}

/// The transfer's key on the wire, shared by both sides' records.
const ALBUM_KEY: TransferKey = TransferKey(0xd2c0_aa73_7c85_8928);

/// The temporary folder the generator ran in (it is in the records as the
/// offered path and where carol's first file went).
const RUN_DIR: &str = "/tmp/.tmpBsQeEg";

fn said(with: Target, n: u64, entry: HistoryEntry) -> Record {
    Record::Peer(PeerRecord::History { with, n, entry })
}

fn history(with: Target, entries: Vec<HistoryEntry>) -> Vec<Record> {
    entries
        .into_iter()
        .zip(0..)
        .map(|(e, n)| said(with.clone(), n, e))
        .collect()
}

fn peer(r: PeerRecord) -> Record {
    Record::Peer(r)
}

fn next_seq(to: &str, conv: Conv, next: u64) -> Record {
    peer(PeerRecord::NextSeq {
        to: name(to),
        conv,
        next,
    })
}

fn delivered(from: &str, conv: Conv, upto: u64) -> Record {
    peer(PeerRecord::Delivered {
        from: name(from),
        conv,
        upto,
    })
}

fn queued(to: &str, conv: Conv, seq: u64, user_seq: u64, text: &str) -> Record {
    peer(PeerRecord::Outbox(OutItem {
        to: name(to),
        conv,
        seq,
        user_seq,
        payload: Payload::Text(Text::new(text).unwrap()),
    }))
}

fn group(let_in: &[&str]) -> Record {
    peer(PeerRecord::Group(GroupRecord {
        group: team(),
        members: ["alice", "bob", "carol"].map(name).to_vec(),
        joining: None,
        let_in: let_in.iter().copied().map(name).collect(),
    }))
}

fn logins(device: u64) -> Record {
    peer(PeerRecord::Logins(LoginStamp { device, count: 2 }))
}

fn in_team() -> Conv {
    Conv::Group(team())
}

/// Sorts records by key, the order a store lists them in.
fn by_key(mut records: Vec<Record>) -> Vec<Record> {
    records.sort_by_key(Record::key);
    records
}

/// Everything alice's store holds.
pub fn alice() -> Vec<Record> {
    let mut all = vec![
        peer(PeerRecord::Chat(name("bob"))),
        peer(PeerRecord::Friend(name("bob"))),
        group(&["bob", "carol"]),
        logins(1379137937575223842),
        queued("bob", in_team(), 4, 2, "note for later: ☕ at 10"),
        queued("bob", Conv::Direct, 3, 3, "tu me manques — à bientôt"),
        queued("carol", in_team(), 3, 2, "note for later: ☕ at 10"),
        peer(PeerRecord::Profile(alice_profile())),
        peer(PeerRecord::GroupSeq {
            group: team(),
            next: 3,
        }),
        delivered("bob", Conv::Direct, 2),
        delivered("carol", in_team(), 1),
        next_seq("bob", in_team(), 5),
        next_seq("bob", Conv::Direct, 4),
        next_seq("carol", in_team(), 4),
        Record::Transfer(TransferRecord {
            id: TransferId(1),
            key: ALBUM_KEY,
            peer: name("carol"),
            side: SavedSide::Send {
                source: Source::Local(format!("{RUN_DIR}/offer/album")),
                manifest: album(),
            },
        }),
    ];
    all.extend(history(Target::Group(team()), alice_in_team()));
    all.extend(history(Target::User(name("bob")), alice_with_bob()));
    by_key(all)
}

/// Everything bob's store holds.
pub fn bob() -> Vec<Record> {
    let mut all = vec![
        peer(PeerRecord::Chat(name("alice"))),
        peer(PeerRecord::Friend(name("alice"))),
        group(&[]),
        logins(4995341545273908139),
        peer(PeerRecord::Profile(bob_profile())),
        delivered("alice", in_team(), 3),
        delivered("alice", Conv::Direct, 2),
        delivered("carol", in_team(), 2),
        next_seq("alice", Conv::Direct, 3),
        next_seq("carol", in_team(), 2),
    ];
    all.extend(history(Target::Group(team()), bob_in_team()));
    all.extend(history(Target::User(name("alice")), bob_with_alice()));
    by_key(all)
}

/// The MD5 state of the first 64 MiB of `album/big.bin` (md-5's own
/// serialization: the four state words, the block count, the empty buffer).
fn checkpoint_state() -> Vec<u8> {
    let mut state = vec![
        163, 146, 5, 12, 159, 249, 82, 140, 150, 48, 215, 48, 231, 18, 103, 249, 0, 0, 16, 0,
    ];
    state.resize(88, 0);
    state
}

/// Everything carol's store holds.
pub fn carol() -> Vec<Record> {
    let mut all = vec![
        group(&[]),
        logins(2548563668926808155),
        peer(PeerRecord::GroupSeq {
            group: team(),
            next: 2,
        }),
        delivered("alice", in_team(), 2),
        delivered("bob", in_team(), 1),
        next_seq("alice", in_team(), 2),
        next_seq("bob", in_team(), 3),
        Record::Transfer(TransferRecord {
            id: TransferId(1),
            key: ALBUM_KEY,
            peer: name("alice"),
            side: SavedSide::Receive {
                origin: Origin::Offer,
                manifest: Some(album()),
                next_file: 1,
                first_path: Some(format!("{RUN_DIR}/carol/downloads/album/a.txt")),
                complete: false,
                checkpoint: Some(HashCheckpoint {
                    file: 1,
                    offset: 64 << 20,
                    size: BIG_SIZE,
                    md5: Md5::from_hex("38c391b8cbe2efc9509971c6e0666953").unwrap(),
                    state: checkpoint_state(),
                }),
                finishing: false,
                local_root: None,
                kept: None,
            },
        }),
    ];
    all.extend(history(Target::Group(team()), carol_in_team()));
    by_key(all)
}

/// The keys of `records`, in order.
pub fn keys(records: &[Record]) -> Vec<RecordKey> {
    records.iter().map(Record::key).collect()
}
