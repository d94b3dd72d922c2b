//! Data folders written by confab before the encrypted links are read as
//! before: a registry's accounts, and a peer's history, friends, groups,
//! queued messages, profile, log-in stamp and unfinished transfers.
//!
//! `tests/fixtures/v1` holds the data folders of a registry and of three
//! peers (alice, bob, carol) exactly as real `confab` processes of that
//! version left them (`records_v1/generate.rs` says how they were made, and
//! why regenerating them is not how a failure here is fixed). Every test
//! copies the fixture into a temporary folder first: the committed files are
//! never opened for writing (redb would otherwise rewrite them).
//!
//! Three levels, so a failure says where the break is:
//! - the stores, opened with today's [`Store`]: every record decodes (a
//!   record that does not is skipped by `load`, so it shows as a missing
//!   key) and equals, field by field, what `records_v1/expected.rs` says it
//!   held; each account's digest is derived from its password, so equal means
//!   "logs in with that password". Records are MessagePack with struct fields
//!   by position and enum variants by name: a field moved, retyped or
//!   inserted before the end, or a variant renamed, fails here (reordering
//!   variants changes nothing stored, and a field added last with
//!   `#[serde(default)]` still reads). Types of `wire` that records embed
//!   (`Profile`, `LoginStamp`, `Conv`, `Payload`, `Manifest`, `TransferKey`,
//!   ...) are record format too, and are checked the same way.
//! - the engines, built from those records the way the driver builds them:
//!   the peer answers `/history`, `/friends`, `/profile` and `/transfers`
//!   from them.
//! - the binary, on copies of the folders: the registry logs alice in with
//!   her password (not registering her again) and refuses a wrong one;
//!   alice's messages queued for bob reach him when he comes online, once,
//!   and nothing he already had comes again.
//!
//! These live in `cli` (not `io-mio`) because the data folder's layout
//! (`confab.redb`, `logged-in`, `avatars/`) and the real processes are
//! `cli`'s.

mod support;

#[path = "records_v1/expected.rs"]
mod expected;
#[path = "records_v1/generate.rs"]
mod generate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use confab_engine::api::{Engine, Output};
use confab_engine::ids::{Target, TransferId};
use confab_engine::password::PasswordWork;
use confab_engine::peer::{Direction, FriendStatus, HistoryEntry, TransferStatus};
use confab_engine::{Peer, PeerCommand, PeerConfig, PeerEvent, Record, Registry, RegistryConfig};
use confab_mio::Store;
use serde_json::{Value, json};

use expected::{keys, name, password, team};
use support::{Net, password_of, quit};

/// The committed fixture.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

/// A copy of the fixture in a temporary folder.
fn copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    generate::copy_folder(&fixture(), dir.path());
    dir
}

/// Every record of the store in `dir/who`, as today's code loads it.
fn load(dir: &Path, who: &str) -> Vec<Record> {
    let store = Store::open(&dir.join(who)).unwrap();
    store.load().unwrap()
}

/// `got` holds exactly the records of `want`: first the keys (a record that
/// no longer decodes is missing from `got`), then each record.
fn same_records(who: &str, got: &[Record], want: &[Record]) {
    assert_eq!(keys(got), keys(want), "{who}: the keys of the records read");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g, w, "{who}: record {}", w.key());
    }
}

#[test]
fn the_fixture_is_small_and_complete() {
    let mut files = Vec::new();
    let mut stack = vec![fixture()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let size = e.metadata().unwrap().len();
                assert!(size < 128 << 10, "{} is {size} bytes", e.path().display());
                let rel = e.path().strip_prefix(fixture()).unwrap().to_owned();
                files.push(rel.to_str().unwrap().to_owned());
            }
        }
    }
    files.sort();
    assert_eq!(
        files,
        [
            "alice/confab.redb",
            "alice/logged-in",
            "bob/avatars/alice.png",
            "bob/confab.redb",
            "bob/logged-in",
            "carol/confab.redb",
            "carol/logged-in",
            "registry/confab.redb",
        ]
    );
    let avatar = std::fs::read(fixture().join("bob/avatars/alice.png")).unwrap();
    assert_eq!(avatar, generate::AVATAR);
}

#[test]
fn v1_accounts_read_as_before_and_check_their_passwords() {
    let dir = copy();
    let got = load(dir.path(), "registry");
    let want = expected::accounts();
    let records: Vec<Record> = want.iter().map(|(r, _)| r.clone()).collect();
    same_records("registry", &got, &records);
    for record in &got {
        let Record::Account(a) = record else {
            panic!("not an account: {record:?}")
        };
        let wrong = PasswordWork::new(password("pw-of-nobody"), a.salt, a.cost);
        assert!(
            !a.digest.matches(&wrong.run().unwrap()),
            "{}: a wrong password matches",
            a.name
        );
    }
    // The registry engine takes them as it does at start.
    let _registry = Registry::new(RegistryConfig::default(), got, Instant::now(), 1);
}

#[test]
fn v1_peer_records_read_as_before() {
    let dir = copy();
    same_records("alice", &load(dir.path(), "alice"), &expected::alice());
    same_records("bob", &load(dir.path(), "bob"), &expected::bob());
    same_records("carol", &load(dir.path(), "carol"), &expected::carol());
}

/// A peer built from `who`'s stored records, as `confab peer` builds it
/// (nothing is connected: the answers below come from the records alone).
fn peer_of(dir: &Path, who: &str) -> Peer {
    let addr = |port| SocketAddr::from(([127, 0, 0, 1], port));
    let config = PeerConfig::new(name(who), password(&password_of(who)), addr(9), addr(10));
    Peer::new(config, load(dir, who), Instant::now(), 7)
}

/// The events `peer` has to say now.
fn events(peer: &mut Peer) -> Vec<PeerEvent> {
    std::iter::from_fn(|| peer.poll_output())
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// The one answer `cmd` gets, picked out by `pick`.
fn answer<T>(peer: &mut Peer, cmd: PeerCommand, pick: impl Fn(PeerEvent) -> Option<T>) -> T {
    events(peer);
    peer.handle_command(Instant::now(), cmd.clone()).unwrap();
    let mut answers: Vec<T> = events(peer).into_iter().filter_map(pick).collect();
    assert_eq!(answers.len(), 1, "one answer to {cmd:?}");
    answers.pop().unwrap()
}

fn history(peer: &mut Peer, with: Target) -> Vec<HistoryEntry> {
    let cmd = PeerCommand::History {
        with: with.clone(),
        last: 100,
    };
    answer(peer, cmd, |e| match e {
        PeerEvent::History { with: w, messages } if w == with => Some(messages),
        _ => None,
    })
}

fn transfers(peer: &mut Peer) -> Vec<TransferStatus> {
    answer(peer, PeerCommand::Transfers, |e| match e {
        PeerEvent::Transfers { transfers } => Some(transfers),
        _ => None,
    })
}

#[test]
fn peers_built_from_v1_records_answer_as_before() {
    let dir = copy();
    let bob = Target::User(name("bob"));
    let in_team = Target::Group(team());

    let mut alice = peer_of(dir.path(), "alice");
    assert_eq!(history(&mut alice, bob), expected::alice_with_bob());
    assert_eq!(
        history(&mut alice, in_team.clone()),
        expected::alice_in_team()
    );
    let friends = answer(&mut alice, PeerCommand::Friends, |e| match e {
        PeerEvent::Friends { friends } => Some(friends),
        _ => None,
    });
    // The message to bob is still queued: it goes when he is reachable.
    assert_eq!(
        friends,
        [FriendStatus {
            name: name("bob"),
            online: false,
            queued: 1
        }]
    );
    let profile = answer(&mut alice, PeerCommand::ShowProfile, |e| match e {
        PeerEvent::Profile { profile } => Some(profile),
        _ => None,
    });
    assert_eq!(profile, expected::alice_profile());
    let t = transfers(&mut alice);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(
        (t[0].id, t[0].direction, &t[0].peer, t[0].name.as_str()),
        (TransferId(1), Direction::Send, &name("carol"), "album")
    );
    assert_eq!(t[0].total, 28 + expected::BIG_SIZE);

    let mut bob = peer_of(dir.path(), "bob");
    assert_eq!(
        history(&mut bob, Target::User(name("alice"))),
        expected::bob_with_alice()
    );
    assert_eq!(history(&mut bob, in_team.clone()), expected::bob_in_team());

    let mut carol = peer_of(dir.path(), "carol");
    assert_eq!(history(&mut carol, in_team), expected::carol_in_team());
    let t = transfers(&mut carol);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(
        (t[0].id, t[0].direction, &t[0].peer, t[0].name.as_str()),
        (TransferId(1), Direction::Receive, &name("alice"), "album")
    );
    assert_eq!(t[0].total, 28 + expected::BIG_SIZE);
}

/// `entries` as the `messages` of a `history` event.
fn as_json(entries: &[HistoryEntry]) -> Value {
    entries
        .iter()
        .map(|e| json!({"from": e.from.as_str(), "text": e.text, "at": e.at}))
        .collect()
}

/// Asks `p` for `/history WITH` and checks every message, time included.
fn history_is(p: &mut support::Proc, with: &str, want: &[HistoryEntry]) {
    p.send(&format!("/history {with}"));
    let h = p.expect(json!({"event": "history", "with": with}));
    assert_eq!(h["messages"], as_json(want), "{}: /history {with}", p.name);
}

#[test]
fn a_v1_registry_and_peers_run_as_before() {
    // The folders where `Net` and the peers' flags look for them.
    let dir = copy();
    for who in ["alice", "bob", "carol"] {
        let home = dir.path().join(format!("home-{who}"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::rename(dir.path().join(who), home.join("data")).unwrap();
        std::fs::rename(&home, dir.path().join(who)).unwrap();
    }
    // The v1 registry folder has no key yet: it makes one, as an upgraded
    // registry does on its first start.
    let mut net = Net {
        dir,
        registry: None,
        addr: "127.0.0.1:0".parse().unwrap(),
        key: String::new(),
    };
    net.start_registry();

    // The registry kept bob's password: a guess is refused.
    let mut impostor = net.start_peer_in("bob", "guess", "impostor");
    impostor.expect(json!({"event": "stopped", "code": "WrongPassword"}));
    assert!(!impostor.wait_exit().success());

    // alice logs in to her account (it is not registered again).
    let mut alice = net.peer("alice");
    assert!(
        alice
            .seen(&json!({"event": "notice", "message": "registered the name alice"}))
            .is_empty(),
        "alice was registered again"
    );
    history_is(&mut alice, "bob", &expected::alice_with_bob());
    history_is(&mut alice, "#team", &expected::alice_in_team());
    alice.send("/friends");
    alice.expect(
        json!({"event": "friends", "friends": [{"name": "bob", "online": false, "queued": 1}]}),
    );
    alice.send("/profile");
    alice.expect(json!({"event": "profile", "nick": "Alice Ångström", "bio": "Écrit en français — 日本語も少し", "avatar_size": generate::AVATAR.len()}));

    // bob comes online: what alice queued for him arrives, once each.
    let mut bob = net.peer("bob");
    bob.expect(json!({"event": "message", "from": "alice", "to": "bob", "text": "tu me manques — à bientôt"}));
    bob.expect(json!({"event": "message", "from": "alice", "to": "#team", "text": "note for later: ☕ at 10"}));
    alice.expect(json!({"event": "delivered", "to": "bob", "seq": 3}));
    // bob's history goes on from where it was, without anything twice.
    bob.send("/history alice");
    let h = bob.expect(json!({"event": "history", "with": "alice"}));
    let mut want = as_json(&expected::bob_with_alice());
    let msgs = h["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 5, "{h}");
    assert_eq!(msgs[..4], want.as_array_mut().unwrap()[..], "{h}");
    assert!(support::matches(
        &msgs[4],
        &json!({"from": "alice", "text": "tu me manques — à bientôt"})
    ));
    bob.send("/history #team");
    let h = bob.expect(json!({"event": "history", "with": "#team"}));
    let msgs = h["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3, "{h}");
    assert_eq!(
        msgs[..2],
        as_json(&expected::bob_in_team()).as_array().unwrap()[..]
    );
    assert_eq!(msgs[2]["text"], "note for later: ☕ at 10");
    quit(&mut bob);
    assert_eq!(
        bob.seen(&json!({"event": "message"})).len(),
        2,
        "bob heard only what was queued"
    );
    quit(&mut alice);
}
