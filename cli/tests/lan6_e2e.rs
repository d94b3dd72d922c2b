//! LAN discovery over IPv6 and on every interface (issue 20), for real: a
//! small network of Linux network namespaces with no IPv4 address at all,
//! and `confab peer --json` processes in them, with the default
//! `--listen` (`[::]`, dual-stack) and the default discovery groups.
//!
//! ```text
//!  segment 1 (bridge in ns sw1)                 segment 2 (bridge in ns sw2)
//!   alice h1   bob h2   carol h3 eth0 ────── carol h3 eth1   dave h4
//!   (IPv6 only: link-local + fd77:N::H/64, no IPv4 anywhere)
//! ```
//!
//! alice, bob and carol find each other over the IPv6 group (the IPv4
//! group cannot be joined there: a warning, not a failure), at link-local
//! addresses whose scope id is kept from the datagram to the dial; they
//! chat and move a file whose MD5 is checked. carol, on both segments,
//! joins and announces on both interfaces: dave, on segment 2 only, hears
//! her by multicast with no `--join`, and she hears him; and as she is on
//! two segments she passes on what she heard on each, so dave lists alice
//! and bob, and alice lists dave.
//!
//! Needs root (to make namespaces) and `ip`; without them the test says why
//! and skips. Every name is unique to the run, everything lives in the
//! namespaces it makes, and a guard deletes them all when the test ends,
//! passes or panics.

mod support;

use std::path::Path;
use std::time::Instant;

use confab_engine::wire::Md5;
use serde_json::{Value, json};
use support::netns::{Lab, cannot_run, finds};
use support::{Proc, bytes, open_chat};

/// The peers' TCP and UDP port (each in its own namespace).
const PORT: u16 = 7000;

/// Starts `confab peer` as `name` inside `lab`'s namespace `host`, with
/// the default listen address and discovery groups.
fn peer(lab: &Lab, home: &Path, host: &str, name: &str) -> Proc {
    lab.peer(home, (host, name), &format!("[::]:{PORT}"), &[], &[])
}

/// Waits until `host`'s IPv6 addresses are usable, and checks it has no
/// IPv4 address but the loopback's.
fn settled(lab: &Lab, host: &str) {
    lab.settled_v6(host);
    let v4 = lab.ip_in(&lab.ns(host), &["-4", "addr", "show", "scope", "global"]);
    assert!(v4.trim().is_empty(), "{host} has IPv4: {v4}");
}

/// `peers`' entry for `name`.
fn entry<'a>(peers: &'a [Value], name: &str) -> &'a Value {
    peers
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {peers:?}"))
}

#[test]
fn ipv6_only_hosts_find_each_other_on_every_interface_chat_and_move_a_file() {
    if let Some(why) = cannot_run(true) {
        eprintln!("SKIPPED lan6_e2e: {why}");
        return;
    }
    let mut lab = Lab::new(format!("c6{}-", std::process::id() % 100_000));
    lab.switch("sw1");
    lab.switch("sw2");
    for h in ["h1", "h2", "h3", "h4"] {
        lab.host(h);
    }
    lab.plug_v6("h1", "eth0", "sw1", "p1", "fd77:1::1");
    lab.plug_v6("h2", "eth0", "sw1", "p2", "fd77:1::2");
    lab.plug_v6("h3", "eth0", "sw1", "p3", "fd77:1::3");
    lab.plug_v6("h3", "eth1", "sw2", "p4", "fd77:2::3");
    lab.plug_v6("h4", "eth0", "sw2", "p5", "fd77:2::4");
    for h in ["h1", "h2", "h3", "h4"] {
        settled(&lab, h);
    }

    let home = tempfile::tempdir().unwrap();
    let mut alice = peer(&lab, home.path(), "h1", "alice");
    let mut bob = peer(&lab, home.path(), "h2", "bob");
    let mut carol = peer(&lab, home.path(), "h3", "carol");
    let mut dave = peer(&lab, home.path(), "h4", "dave");
    let started = Instant::now();

    // Discovered by multicast over IPv6: no address typed, no IPv4 at all.
    for (p, others) in [
        (&mut alice, &["bob", "carol"][..]),
        (&mut bob, &["alice", "carol"][..]),
        (&mut carol, &["alice", "bob", "dave"][..]),
        (&mut dave, &["carol"][..]),
    ] {
        let peers = finds(p, others);
        for o in others {
            let e = entry(&peers, o);
            assert_eq!(e["by"], "lan", "{}: {peers:?}", p.name);
            // Heard from a link-local source: its scope id (the interface)
            // is kept, or it could not be dialed.
            let addr = e["addr"].as_str().unwrap_or_default();
            assert!(
                addr.starts_with("[fe80::") && addr.contains('%'),
                "{} has {o} at {addr}",
                p.name
            );
            assert!(addr.ends_with(&format!("]:{PORT}")), "{addr}");
        }
    }
    eprintln!(
        "lan6_e2e: four hosts knew their segments' peers {:?} after the last was ready",
        started.elapsed()
    );

    // carol bridges the segments: at her announce tick she passes on what
    // she heard by multicast, so each side lists the other (no --join),
    // before anyone talked (links would tell them by peer exchange).
    let peers = finds(&mut dave, &["alice", "bob"]);
    assert_eq!(entry(&peers, "alice")["by"], "exchange", "{peers:?}");
    assert_eq!(entry(&peers, "bob")["by"], "exchange", "{peers:?}");
    let peers = finds(&mut alice, &["dave"]);
    assert_eq!(entry(&peers, "dave")["by"], "exchange", "{peers:?}");
    eprintln!(
        "lan6_e2e: the two segments listed each other {:?} after the last peer was ready",
        started.elapsed()
    );

    open_chat(&mut alice, &mut bob);
    alice.send("/msg bob hello over ipv6");
    bob.expect(json!({"event": "message", "from": "alice", "to": "bob",
        "text": "hello over ipv6"}));

    let data = bytes(21, 3 << 20);
    let md5 = Md5::of(&data).to_hex();
    let file = home.path().join("carol").join("report6.bin");
    std::fs::write(&file, &data).unwrap();
    carol.send(&format!("/send alice {}", file.display()));
    let offer =
        alice.expect(json!({"event": "file_offer", "from": "carol", "name": "report6.bin"}));
    alice.send(&format!("/accept {}", offer["id"]));
    let done = alice.expect(json!({"event": "transfer_done", "direction": "receive"}));
    assert_eq!(done["md5"], md5);
    let got = std::fs::read(done["path"].as_str().unwrap()).unwrap();
    assert_eq!(Md5::of(&got).to_hex(), md5, "the file on disk");

    // carol, heard on segment 2 only through her second interface, is
    // reachable there too: dave and she talk.
    open_chat(&mut dave, &mut carol);
    dave.send("/msg carol hello from segment 2");
    carol.expect(json!({"event": "message", "from": "dave", "to": "carol",
        "text": "hello from segment 2"}));
}
