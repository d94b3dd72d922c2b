//! A LAN with no registry (issue 20), for real: a small network built from
//! Linux network namespaces, with `confab peer --json` processes in them.
//!
//! ```text
//!  segment 1 (bridge in ns sw1, 10.77.1.0/24)   segment 2 (ns sw2, 10.77.2.0/24)
//!   alice 10.77.1.1   bob 10.77.1.2   carol 10.77.1.3 ── carol 10.77.2.3   dave 10.77.2.4
//! ```
//!
//! alice, bob and carol find each other by multicast, chat, and move a file
//! whose MD5 is checked; dave, on a segment multicast does not reach and
//! where only carol is (no routing between the segments), starts with
//! `--join 10.77.2.3:PORT` and finds all three through peer exchange.
//!
//! Needs root (to make namespaces) and `ip`; without them the test says why
//! and skips. Every name is unique to the run, everything lives in the
//! namespaces it makes, and a guard deletes them all when the test ends,
//! passes or panics.

mod support;

use std::path::Path;
use std::time::Instant;

use confab_engine::wire::Md5;
use serde_json::json;
use support::netns::{Lab, cannot_run, finds};
use support::{Proc, bytes, open_chat};

/// The peers' TCP and UDP port (each in its own namespace).
const PORT: u16 = 7000;

/// Starts `confab peer` as `name` inside `lab`'s namespace `host`,
/// listening on every IPv4 address of the host (carol is on two segments).
fn peer(lab: &Lab, home: &Path, host: &str, name: &str, extra: &[&str]) -> Proc {
    lab.peer(home, (host, name), &format!("0.0.0.0:{PORT}"), extra, &[])
}

#[test]
fn three_hosts_find_each_other_chat_and_move_a_file_and_a_fourth_joins() {
    if let Some(why) = cannot_run(false) {
        eprintln!("SKIPPED lan_e2e: {why}");
        return;
    }
    let mut lab = Lab::new(format!("cf{}-", std::process::id() % 100_000));
    lab.switch("sw1");
    lab.switch("sw2");
    for h in ["h1", "h2", "h3", "h4"] {
        lab.host(h);
    }
    lab.plug_v4("h1", "eth0", "sw1", "p1", "10.77.1.1", true);
    lab.plug_v4("h2", "eth0", "sw1", "p2", "10.77.1.2", true);
    lab.plug_v4("h3", "eth0", "sw1", "p3", "10.77.1.3", true);
    lab.plug_v4("h3", "eth1", "sw2", "p4", "10.77.2.3", false);
    lab.plug_v4("h4", "eth0", "sw2", "p5", "10.77.2.4", true);

    let home = tempfile::tempdir().unwrap();
    let mut alice = peer(&lab, home.path(), "h1", "alice", &[]);
    let mut bob = peer(&lab, home.path(), "h2", "bob", &[]);
    let mut carol = peer(&lab, home.path(), "h3", "carol", &[]);
    let started = Instant::now();

    // Discovered by multicast: no address was typed.
    for (p, others) in [
        (&mut alice, ["bob", "carol"]),
        (&mut bob, ["alice", "carol"]),
        (&mut carol, ["alice", "bob"]),
    ] {
        let peers = finds(p, &others);
        assert!(
            peers.iter().all(|f| f["by"] == "lan"),
            "{}: {peers:?}",
            p.name
        );
    }

    // The benchmark's figure for real namespaces (polled every 0.5 s).
    eprintln!(
        "lan_e2e: three hosts all knew each other {:?} after the third was ready",
        started.elapsed()
    );
    open_chat(&mut alice, &mut bob);
    alice.send("/msg bob hello across the bridge");
    bob.expect(json!({"event": "message", "from": "alice", "to": "bob",
        "text": "hello across the bridge"}));

    let data = bytes(20, 3 << 20);
    let md5 = Md5::of(&data).to_hex();
    let file = home.path().join("carol").join("report.bin");
    std::fs::write(&file, &data).unwrap();
    carol.send(&format!("/send alice {}", file.display()));
    let offer = alice.expect(json!({"event": "file_offer", "from": "carol", "name": "report.bin"}));
    alice.send(&format!("/accept {}", offer["id"]));
    let done = alice.expect(json!({"event": "transfer_done", "direction": "receive"}));
    assert_eq!(done["md5"], md5);
    let got = std::fs::read(done["path"].as_str().unwrap()).unwrap();
    assert_eq!(Md5::of(&got).to_hex(), md5, "the file on disk");

    // dave: another segment, only carol there; one address is enough.
    let join = format!("10.77.2.3:{PORT}");
    let mut dave = peer(&lab, home.path(), "h4", "dave", &["--join", &join]);
    let peers = finds(&mut dave, &["alice", "bob", "carol"]);
    let by = |n: &str| {
        peers
            .iter()
            .find(|p| p["name"] == n)
            .map(|p| p["by"].clone())
    };
    assert_eq!(by("alice"), Some(json!("exchange")), "{peers:?}");
    assert_eq!(by("bob"), Some(json!("exchange")), "{peers:?}");
    // And they learn of dave through carol.
    finds(&mut alice, &["dave"]);
}
