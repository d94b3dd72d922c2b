//! End-to-end file sharing: `/files`, `/get`, offers, traversal attempts and
//! a sender killed in the middle of a transfer, between real `confab peer
//! --json` processes on 127.0.0.1. Files are seeded pseudo-random bytes, so a
//! byte in the wrong place changes the MD5 and the comparison on disk.

mod support;

use std::path::{Path, PathBuf};

use confab_engine::wire::Md5;
use serde_json::{Value, json};
use support::{Net, Proc, bytes};

const MIB: usize = 1 << 20;

/// Writes `data` as `dir/name` and returns its MD5 in hex.
fn put(dir: &Path, name: &str, data: &[u8]) -> String {
    std::fs::write(dir.join(name), data).unwrap();
    Md5::of(data).to_hex()
}

/// `len` bytes: one pseudo-random MiB repeated, with the offset written every
/// 4 KiB, so that no two aligned blocks are alike and a misplaced chunk shows.
fn big(seed: u64, len: usize) -> Vec<u8> {
    let block = bytes(seed, MIB);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let take = (len - out.len()).min(MIB);
        out.extend_from_slice(&block[..take]);
    }
    for at in (0..len.saturating_sub(8)).step_by(4096) {
        out[at..at + 8].copy_from_slice(&(at as u64).to_le_bytes());
    }
    out
}

/// Waits for the `transfer_done` of `p` in `direction` for `name` and checks
/// its MD5; returns the path it names.
fn done(p: &mut Proc, direction: &str, name: &str, md5: &str) -> PathBuf {
    let d = p.wait_for(&format!("transfer_done of {name} ({direction})"), |v| {
        v["event"] == "transfer_done" && v["direction"] == direction && v["name"] == name
            || v["event"] == "transfer_failed"
    });
    assert_eq!(d["event"], "transfer_done", "{}: {d}{}", p.name, p.report());
    assert_eq!(d["md5"], md5, "{d}");
    PathBuf::from(d["path"].as_str().unwrap())
}

/// Asserts that `path`, inside `downloads`, holds exactly `data`.
fn same_file(path: &Path, downloads: &Path, data: &[u8]) {
    assert!(
        path.starts_with(downloads),
        "{} is not in {}",
        path.display(),
        downloads.display()
    );
    let got = std::fs::read(path).unwrap();
    assert!(
        got.len() == data.len() && got == data,
        "{} differs",
        path.display()
    );
}

/// The files a `files` event lists, as (owner, name, size, md5).
fn listed(v: &Value) -> Vec<(String, String, u64, String)> {
    let mut out: Vec<_> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["owner"].as_str().unwrap().to_owned(),
                f["name"].as_str().unwrap().to_owned(),
                f["size"].as_u64().unwrap(),
                f["md5"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn files_lists_shared_files_with_their_md5() {
    let net = Net::new();
    let a = bytes(1, 300_000);
    let md5_a = put(&net.share("alice"), "report one.bin", &a);
    let md5_b = put(&net.share("bob"), "notes.txt", b"tea at five\n");
    // Not shared: an empty sub-folder, and a link to a folder outside
    // (shared sub-folders are share_e2e's).
    std::fs::create_dir_all(net.share("alice").join("empty")).unwrap();
    let outside = net.home("alice").join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("x"), b"x").unwrap();
    std::os::unix::fs::symlink(&outside, net.share("alice").join("sub")).unwrap();
    let _alice = net.peer("alice");
    let mut bob = net.peer("bob");

    bob.send("/files alice");
    let files = bob.expect(json!({"event": "files"}));
    assert_eq!(
        listed(&files),
        [(
            "alice".into(),
            "report one.bin".into(),
            a.len() as u64,
            md5_a.clone()
        )]
    );
    assert_eq!(md5_a.len(), 32);
    assert!(md5_a.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));

    bob.send("/files");
    let files = bob.expect(json!({"event": "files"}));
    assert_eq!(
        listed(&files),
        [
            (
                "alice".into(),
                "report one.bin".into(),
                a.len() as u64,
                md5_a.clone()
            ),
            ("bob".into(), "notes.txt".into(), 12, md5_b),
        ]
    );

    bob.send("/whois alice");
    let w = bob.expect(json!({"event": "whois", "name": "alice"}));
    assert!(
        support::matches(
            &w["files"],
            &json!([{"name": "report one.bin", "md5": md5_a}])
        ),
        "{w}"
    );
}

#[test]
fn get_of_a_multi_megabyte_file_is_verified_by_md5() {
    let net = Net::new();
    let data = bytes(2, 8 * MIB);
    let md5 = put(&net.share("alice"), "eight.bin", &data);
    let mut alice = net.peer("alice");
    let mut bob = net.peer("bob");

    bob.send("/get alice eight.bin");
    let path = done(&mut bob, "receive", "eight.bin", &md5);
    same_file(&path, &net.downloads("bob"), &data);
    done(&mut alice, "send", "eight.bin", &md5);
    let progress = bob.seen(&json!({"event": "transfer_progress", "total": data.len()}));
    for p in progress {
        assert!(p["done"].as_u64().unwrap() <= data.len() as u64, "{p}");
    }

    // A name nobody shares is refused, and nothing is written.
    bob.send("/get alice nothing-here.bin");
    bob.wait_for("a refusal", |v| {
        v["event"] == "error" || v["event"] == "transfer_failed"
    });
    assert!(!net.downloads("bob").join("nothing-here.bin").exists());
}

#[test]
fn an_offer_accepted_arrives_and_one_declined_does_not() {
    let net = Net::new();
    let outside = net.home("alice").join("outbox");
    std::fs::create_dir_all(&outside).unwrap();
    let yes = bytes(3, 2 * MIB + 12345);
    let md5_yes = put(&outside, "yes please.bin", &yes);
    let no = bytes(4, 100_000);
    put(&outside, "no thanks.bin", &no);
    let mut alice = net.peer("alice");
    let mut bob = net.peer("bob");

    alice.send(&format!(
        "/send bob {}",
        outside.join("yes please.bin").display()
    ));
    let offer =
        bob.expect(json!({"event": "file_offer", "from": "alice", "name": "yes please.bin"}));
    assert_eq!(offer["size"], yes.len());
    bob.send(&format!("/accept {}", offer["id"]));
    let path = done(&mut bob, "receive", "yes please.bin", &md5_yes);
    same_file(&path, &net.downloads("bob"), &yes);
    done(&mut alice, "send", "yes please.bin", &md5_yes);

    alice.send(&format!(
        "/send bob {}",
        outside.join("no thanks.bin").display()
    ));
    let offer =
        bob.expect(json!({"event": "file_offer", "from": "alice", "name": "no thanks.bin"}));
    bob.send(&format!("/decline {}", offer["id"]));
    let failed = alice.expect(json!({"event": "transfer_failed"}));
    assert!(!failed["reason"].as_str().unwrap().is_empty(), "{failed}");
    assert!(
        bob.seen(&json!({"event": "transfer_done", "name": "no thanks.bin"}))
            .is_empty()
    );
    let names: Vec<_> = std::fs::read_dir(net.downloads("bob"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.contains("no thanks")), "{names:?}");
}

#[test]
fn traversal_attempts_are_refused() {
    let net = Net::new();
    let share = net.share("alice");
    put(&share, "ok.txt", b"fine\n");
    // Files that exist near the share folder but are not shared, one
    // behind a link in the share folder that looks like a shared folder.
    std::fs::write(net.home("alice").join("secret"), b"do not leak").unwrap();
    let private = net.home("alice").join("private");
    std::fs::create_dir_all(&private).unwrap();
    std::fs::write(private.join("x"), b"nested").unwrap();
    std::os::unix::fs::symlink(&private, share.join("sub")).unwrap();
    let _alice = net.peer("alice");
    let mut bob = net.peer("bob");

    // The same peer gets a shared file...
    bob.send("/get alice ok.txt");
    done(&mut bob, "receive", "ok.txt", &Md5::of(b"fine\n").to_hex());
    // ...and nothing outside the shared names: each attempt is refused
    // (sent one after the other, so each refusal is the answer to its line).
    for line in [
        "/get alice secret",
        "/get alice sub",
        "/get alice sub/",
        "/get alice ../secret",
        "/get alice /etc/passwd",
        "/get alice sub/x",
        "/get alice ..",
    ] {
        bob.send(line);
        let refusal = bob.wait_for(&format!("a refusal of {line:?}"), |v| {
            v["event"] == "error"
                || v["event"] == "transfer_failed"
                || v["event"] == "transfer_done"
        });
        assert_ne!(refusal["event"], "transfer_done", "{line}: {refusal}");
    }
    // Nothing of what is not shared reached bob's disk, under any name.
    for entry in std::fs::read_dir(net.downloads("bob")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !["secret", "x", "passwd", "sub"].contains(&name.as_str()),
            "{name} was written"
        );
        if path.is_file() {
            let got = std::fs::read(&path).unwrap();
            assert!(got != b"do not leak" && got != b"nested", "{name} leaked");
        }
    }
    assert!(bob.seen(&json!({"event": "transfer_done"})).len() == 1);
}

#[test]
fn a_sender_killed_mid_transfer_resumes_after_a_restart() {
    const SIZE: usize = 192 * MIB;
    let net = Net::new();
    let data = big(5, SIZE);
    let md5 = put(&net.share("alice"), "large.bin", &data);
    let mut alice = net.peer("alice");
    let mut bob = net.peer("bob");

    bob.send("/get alice large.bin");
    // Some bytes have moved, not all of them: kill the sender there.
    let before = bob.wait_for("progress in the middle", |v| {
        v["event"] == "transfer_progress"
            && v["done"].as_u64().is_some_and(|d| d > 0 && d < SIZE as u64)
            || v["event"] == "transfer_done"
            || v["event"] == "transfer_failed"
    });
    assert_eq!(
        before["event"], "transfer_progress",
        "the transfer ended before the sender could be killed; make SIZE larger: {before}"
    );
    alice.kill();
    let id = before["id"].clone();
    let mut high = before["done"].as_u64().unwrap();
    // What bob reported until he noticed is still his.
    bob.expect(json!({"event": "presence", "name": "alice", "online": false}));
    for p in bob.seen(&json!({"event": "transfer_progress", "id": id})) {
        high = high.max(p["done"].as_u64().unwrap());
    }
    let reported_before = bob.log.len();

    let alice = net.peer("alice");
    let path = done(&mut bob, "receive", "large.bin", &md5);
    let d = bob.seen(&json!({"event": "transfer_done", "name": "large.bin"}));
    assert_eq!(d[0]["id"], id, "the same transfer finished, not a new one");
    // It never went back below what was already there.
    let after: Vec<u64> = bob.log[reported_before..]
        .iter()
        .filter(|v| matches!(v["event"].as_str(), Some("transfer_progress")) && v["id"] == id)
        .map(|v| v["done"].as_u64().unwrap())
        .collect();
    eprintln!("sender killed at {high} of {SIZE} bytes; progress after its restart: {after:?}");
    assert!(
        after.first().is_some_and(|d| *d >= high) && after.iter().all(|d| *d >= high),
        "progress did not resume at or above {high}: {after:?}"
    );
    same_file(&path, &net.downloads("bob"), &data);
    drop(alice);
}
