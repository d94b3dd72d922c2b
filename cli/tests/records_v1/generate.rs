//! How `tests/fixtures/v1` was made: real `confab` processes (a registry and
//! three `confab peer --json`) on 127.0.0.1, doing what people do, then
//! stopped cleanly; their data folders are what the fixture holds, byte for
//! byte as today's code wrote them.
//!
//! Run by hand only (`#[ignore]`, and it writes nowhere unless told where):
//!
//! ```text
//! CONFAB_FIXTURE_OUT=/tmp/v1 cargo test -p confab --test records_v1 -- --ignored --exact generate::write_the_v1_fixture
//! ```
//!
//! It refuses a folder that exists, and compacts each store it copies (redb
//! files only grow; compacted, each is some 40 KiB). The expected values in
//! `expected.rs` were read from the folder it made (salts, times, login
//! devices, the transfer key and the run's temporary folder are new each
//! run, so a new run needs new expectations).
//!
//! Regenerating `v1` after a change to the record format is NOT the fix for
//! a failing `records_v1` test: that test exists to catch exactly such a
//! change, since data folders written by released builds are on people's
//! disks. Make the new code read the old records (a new field goes last,
//! with `#[serde(default)]`; no field moves or changes type; no variant is
//! renamed), or write a migration. A new format version gets a new fixture
//! folder (`v2`) beside this one, which stays.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{Net, Proc, open_chat, quit};

/// The variable naming the folder to write the fixture into.
const OUT_VAR: &str = "CONFAB_FIXTURE_OUT";

/// Bytes of the offered folder's large file: large enough that a transfer
/// on loopback is seen in the middle (it is never committed).
const BIG: usize = 256 << 20;

/// Bytes a download saves its MD5 state after (`checkpoint_every`): the
/// transfer is stopped past the first, so the record holds one.
const CHECKPOINT: u64 = 64 << 20;

/// An 8x8 PNG header and a few bytes: an avatar is any small blob.
pub const AVATAR: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x08\0\0\0\x08\x08\x02\0\0\0";

/// Sends `text` from `from` to `to` (a name or `#group`) and waits until the
/// receivers have it and `from` saw it delivered (for a group, to every
/// member).
fn say(from: &mut Proc, to: &str, text: &str, receivers: &mut [&mut Proc]) {
    from.send(&format!("/msg {to} {text}"));
    let sent = from.expect(json!({"event": "sent", "to": to, "queued": false}));
    let me = from.name.clone();
    for r in receivers.iter_mut() {
        r.expect(json!({"event": "message", "from": me, "to": to, "text": text}));
    }
    from.expect(json!({"event": "delivered", "to": to, "seq": sent["seq"]}));
}

/// Invites `who` into `group` on behalf of `host` and waits until every
/// member in `others` heard of the newcomer.
fn invite(host: &mut Proc, group: &str, who: &mut Proc, others: &mut [&mut Proc]) {
    let name = who.name.clone();
    host.send(&format!("/invite {group} {name}"));
    let inv = who.expect(json!({"event": "group_invite", "from": host.name, "group": group}));
    who.send(&format!("/accept {}", inv["id"]));
    who.expect(json!({"event": "group_joined", "group": group}));
    host.expect(json!({"event": "member_joined", "group": group, "name": name}));
    for o in others.iter_mut() {
        o.expect(json!({"event": "member_joined", "group": group, "name": name}));
    }
}

/// Copies the folder `from` into `to`, sub-folders (`avatars/`) included.
pub fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Compacts the redb file at `path`: a store grows with every commit and
/// never shrinks (some 300 to 550 KiB here), compacted it holds the same
/// records in some 40 KiB.
fn compact(path: &Path) {
    let mut db = redb::Database::open(path).unwrap();
    while db.compact().unwrap() {}
}

#[test]
#[ignore = "writes the v1 fixture; run by hand, see the module documentation"]
fn write_the_v1_fixture() {
    let Some(out) = std::env::var_os(OUT_VAR) else {
        eprintln!("skipped: set {OUT_VAR} to a folder that does not exist yet");
        return;
    };
    let out = Path::new(&out).to_owned();
    assert!(
        !out.exists(),
        "{} exists; the fixture is never written over",
        out.display()
    );

    let mut net = Net::new();
    std::fs::write(net.share("alice").join("readme.txt"), "shared by alice\n").unwrap();
    let mut alice = net.peer("alice");
    let mut bob = net.peer("bob");
    let mut carol = net.peer("carol");

    // Profiles: alice sets all three parts, bob only a nick.
    alice.send("/profile nick Alice Ångström");
    alice.expect(json!({"event": "profile", "nick": "Alice Ångström"}));
    alice.send("/profile bio Écrit en français — 日本語も少し");
    alice.expect(json!({"event": "profile", "bio": "Écrit en français — 日本語も少し"}));
    let avatar = net.dir.path().join("avatar.png");
    std::fs::write(&avatar, AVATAR).unwrap();
    alice.send(&format!("/profile avatar {}", avatar.display()));
    alice.expect(json!({"event": "profile", "avatar_size": AVATAR.len()}));
    bob.send("/profile nick Bob");
    bob.expect(json!({"event": "profile", "nick": "Bob"}));
    // bob keeps a copy of alice's avatar in his data folder.
    bob.send("/avatar alice");
    bob.expect(json!({"event": "avatar", "name": "alice", "size": AVATAR.len()}));

    // A chat, both ways, not only ASCII.
    open_chat(&mut alice, &mut bob);
    say(&mut alice, "bob", "hello bob", &mut [&mut bob]);
    say(
        &mut bob,
        "alice",
        "grüß dich, Alice! ça va? 🙂",
        &mut [&mut alice],
    );
    say(
        &mut alice,
        "bob",
        "très bien — 日本語も大丈夫",
        &mut [&mut bob],
    );
    say(&mut bob, "alice", "Привет, до встречи", &mut [&mut alice]);

    // Friends (after the chat: between friends a chat opens without asking).
    alice.send("/friend add bob");
    alice.expect(json!({"event": "friends"}));
    bob.send("/friend add alice");
    bob.expect(json!({"event": "friends"}));

    // A group of three.
    alice.send("/group create #team");
    alice.expect(json!({"event": "group_joined", "group": "#team"}));
    invite(&mut alice, "#team", &mut bob, &mut []);
    invite(&mut alice, "#team", &mut carol, &mut [&mut bob]);
    say(&mut alice, "#team", "hi team", &mut [&mut bob, &mut carol]);
    say(
        &mut carol,
        "#team",
        "salut l'équipe ✨",
        &mut [&mut alice, &mut bob],
    );

    // A folder offered by alice to carol, left in the middle: the small file
    // is in, the large one past its first checkpoint. alice is frozen so that no more bytes
    // move, carol stops, alice goes on: both keep their transfer record.
    let album = net.dir.path().join("offer").join("album");
    std::fs::create_dir_all(&album).unwrap();
    std::fs::write(album.join("a.txt"), "the small file of the album\n").unwrap();
    std::fs::write(album.join("big.bin"), crate::support::bytes(7, BIG)).unwrap();
    alice.send(&format!("/send carol {}", album.display()));
    let offer = carol.expect(json!({"event": "file_offer", "from": "alice", "name": "album"}));
    carol.send(&format!("/accept {}", offer["id"]));
    let moving = carol.wait_for("progress past the first checkpoint", |v: &Value| {
        v["event"] == "transfer_progress"
            && v["done"]
                .as_u64()
                .is_some_and(|d| d > CHECKPOINT + (8 << 20) && d < BIG as u64)
            || v["event"] == "transfer_done"
            || v["event"] == "transfer_failed"
    });
    assert_eq!(
        moving["event"], "transfer_progress",
        "the transfer ended before alice could be stopped; make BIG larger: {moving}"
    );
    alice.signal(libc::SIGSTOP);
    quit(&mut carol);
    alice.signal(libc::SIGCONT);
    alice.expect(json!({"event": "presence", "name": "carol", "online": false}));

    // bob leaves; what alice writes now waits in her outbox.
    quit(&mut bob);
    alice.expect(json!({"event": "presence", "name": "bob", "online": false}));
    alice.send("/msg bob tu me manques — à bientôt");
    alice.expect(json!({"event": "sent", "to": "bob", "queued": true}));
    alice.send("/msg #team note for later: ☕ at 10");
    alice.expect(json!({"event": "sent", "to": "#team"}));
    alice.send("/friends");
    alice.expect(
        json!({"event": "friends", "friends": [{"name": "bob", "online": false, "queued": 1}]}),
    );
    quit(&mut alice);

    let mut registry = net.registry.take().unwrap();
    registry.signal(libc::SIGTERM);
    registry.expect_line("registry stopped");
    assert!(registry.wait_exit().success(), "{}", registry.report());

    copy_folder(&net.dir.path().join("registry"), &out.join("registry"));
    for name in ["alice", "bob", "carol"] {
        copy_folder(&net.home(name).join("data"), &out.join(name));
    }
    for name in ["registry", "alice", "bob", "carol"] {
        compact(&out.join(name).join(confab_mio::STORE_FILE));
    }
    eprintln!("wrote {}", out.display());
}
