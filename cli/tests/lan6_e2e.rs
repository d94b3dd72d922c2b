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
use std::process::Command;
use std::time::{Duration, Instant};

use confab_engine::wire::Md5;
use serde_json::{Value, json};
use support::{Proc, bytes, open_chat};

/// The peers' TCP and UDP port (each in its own namespace).
const PORT: u16 = 7000;

/// The namespaces of one run; dropping it removes them.
struct Lab {
    /// Prefix of every namespace name of this run.
    tag: String,
    namespaces: Vec<String>,
}

/// Runs `program ARGS`, panicking with its error; returns its output.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Lab {
    fn ns(&self, name: &str) -> String {
        format!("{}{name}", self.tag)
    }

    /// `ip ARGS` inside namespace `ns`.
    fn ip_in(&self, ns: &str, args: &[&str]) -> String {
        let mut all = vec!["-n", ns];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    fn add_ns(&mut self, name: &str) -> String {
        let ns = self.ns(name);
        run("ip", &["netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        self.ip_in(&ns, &["link", "set", "lo", "up"]);
        // No duplicate address detection: addresses usable at once.
        for conf in ["all", "default"] {
            let key = format!("net.ipv6.conf.{conf}.accept_dad=0");
            run("ip", &["netns", "exec", &ns, "sysctl", "-qw", &key]);
        }
        ns
    }

    /// A switch: a namespace holding one bridge that floods multicast.
    fn switch(&mut self, name: &str) -> String {
        let ns = self.add_ns(name);
        self.ip_in(&ns, &["link", "add", "br0", "type", "bridge"]);
        self.ip_in(
            &ns,
            &[
                "link",
                "set",
                "br0",
                "type",
                "bridge",
                "mcast_snooping",
                "0",
            ],
        );
        self.ip_in(&ns, &["link", "set", "br0", "up"]);
        ns
    }

    /// Plugs `host` into `switch` as interface `dev` with IPv6 address
    /// `addr` (/64) besides its link-local one, and no IPv4 address.
    fn plug(&self, host: &str, dev: &str, switch: &str, port: &str, addr: &str) {
        let (h, s) = (self.ns(host), self.ns(switch));
        self.ip_in(
            &s,
            &["link", "add", port, "type", "veth", "peer", "name", dev],
        );
        self.ip_in(&s, &["link", "set", dev, "netns", &h]);
        self.ip_in(&s, &["link", "set", port, "master", "br0", "up"]);
        let sysctl = format!("net.ipv6.conf.{dev}.accept_dad=0");
        run("ip", &["netns", "exec", &h, "sysctl", "-qw", &sysctl]);
        let with_len = format!("{addr}/64");
        self.ip_in(&h, &["addr", "add", &with_len, "dev", dev, "nodad"]);
        self.ip_in(&h, &["link", "set", dev, "up", "multicast", "on"]);
    }

    /// Waits until no address of `host` is tentative (link-local ones
    /// appear when a link comes up) and none is IPv4 but the loopback's.
    fn settled(&self, host: &str) {
        let ns = self.ns(host);
        let deadline = Instant::now() + support::PATIENCE;
        loop {
            let tentative = self.ip_in(&ns, &["-6", "addr", "show", "tentative"]);
            let link = self.ip_in(&ns, &["-6", "addr", "show", "scope", "link"]);
            if tentative.trim().is_empty() && link.contains("fe80::") {
                break;
            }
            assert!(Instant::now() < deadline, "{host}: {tentative} {link}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let v4 = self.ip_in(&ns, &["-4", "addr", "show", "scope", "global"]);
        assert!(v4.trim().is_empty(), "{host} has IPv4: {v4}");
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Deleting a namespace deletes its interfaces and bridge with it.
        for ns in self.namespaces.drain(..).rev() {
            let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        }
    }
}

/// Why this machine cannot run the test, if it cannot.
fn cannot_run() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: network namespaces need root".into());
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return Some(format!(
                "`ip netns` does not work here: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        Err(e) => return Some(format!("no `ip` command: {e}")),
    }
    if !Path::new("/proc/sys/net/ipv6").exists() {
        return Some("IPv6 is disabled in this kernel".into());
    }
    None
}

/// Starts `confab peer` as `name` inside `lab`'s namespace `host`, with
/// the default listen address and discovery groups.
fn peer(lab: &Lab, home: &Path, host: &str, name: &str) -> Proc {
    let dir = home.join(name);
    let share = dir.join("share");
    std::fs::create_dir_all(&share).unwrap();
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let listen = format!("[::]:{PORT}");
    let ns = lab.ns(host);
    let args: Vec<String> = vec![
        "netns".into(),
        "exec".into(),
        ns,
        support::CONFAB.into(),
        "peer".into(),
        "--name".into(),
        name.into(),
        "--listen".into(),
        listen,
        "--share".into(),
        path(&share),
        "--downloads".into(),
        path(&dir.join("downloads")),
        "--data".into(),
        path(&dir.join("data")),
        "--json".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut p = Proc::spawn(name, Path::new("ip"), &args, &[("RUST_LOG", "info")]);
    p.expect(json!({"event": "ready", "name": name}));
    p
}

/// Asks `/who` until the `found` answer names everyone in `want`; returns
/// that answer's peers.
fn finds(p: &mut Proc, want: &[&str]) -> Vec<Value> {
    let deadline = Instant::now() + support::PATIENCE;
    loop {
        p.send("/who");
        let found = p.wait_for("a found event", |v| v["event"] == "found");
        let peers = found["peers"].as_array().cloned().unwrap_or_default();
        let names: Vec<&str> = peers.iter().filter_map(|p| p["name"].as_str()).collect();
        if want.iter().all(|w| names.contains(w)) {
            return peers;
        }
        assert!(
            Instant::now() < deadline,
            "{} found only {names:?}, not all of {want:?}",
            p.name
        );
        std::thread::sleep(Duration::from_millis(500));
    }
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
    if let Some(why) = cannot_run() {
        eprintln!("SKIPPED lan6_e2e: {why}");
        return;
    }
    let mut lab = Lab {
        tag: format!("c6{}-", std::process::id() % 100_000),
        namespaces: Vec::new(),
    };
    lab.switch("sw1");
    lab.switch("sw2");
    for h in ["h1", "h2", "h3", "h4"] {
        lab.add_ns(h);
    }
    lab.plug("h1", "eth0", "sw1", "p1", "fd77:1::1");
    lab.plug("h2", "eth0", "sw1", "p2", "fd77:1::2");
    lab.plug("h3", "eth0", "sw1", "p3", "fd77:1::3");
    lab.plug("h3", "eth1", "sw2", "p4", "fd77:2::3");
    lab.plug("h4", "eth0", "sw2", "p5", "fd77:2::4");
    for h in ["h1", "h2", "h3", "h4"] {
        lab.settled(h);
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
