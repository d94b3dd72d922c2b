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
use std::process::Command;
use std::time::{Duration, Instant};

use confab_engine::wire::Md5;
use serde_json::{Value, json};
use support::{Proc, bytes, open_chat};

/// The peers' TCP and UDP port (each in its own namespace).
const PORT: u16 = 7000;

/// The namespaces and processes of one run; dropping it removes them.
struct Lab {
    /// Prefix of every namespace name of this run.
    tag: String,
    namespaces: Vec<String>,
}

impl Lab {
    fn ns(&self, name: &str) -> String {
        format!("{}{name}", self.tag)
    }

    /// Runs `ip ARGS`, panicking with its error.
    fn ip(&self, args: &[&str]) {
        let out = Command::new("ip").args(args).output().expect("run ip");
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `ip ARGS` inside namespace `ns`.
    fn ip_in(&self, ns: &str, args: &[&str]) {
        let mut all = vec!["-n", ns];
        all.extend_from_slice(args);
        self.ip(&all);
    }

    fn add_ns(&mut self, name: &str) -> String {
        let ns = self.ns(name);
        self.ip(&["netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        self.ip_in(&ns, &["link", "set", "lo", "up"]);
        ns
    }

    /// A switch: a namespace holding one bridge.
    fn switch(&mut self, name: &str) -> String {
        let ns = self.add_ns(name);
        self.ip_in(&ns, &["link", "add", "br0", "type", "bridge"]);
        // Multicast floods to every port (no snooping to learn first).
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

    /// Plugs `host` into `switch` as interface `dev` with address `addr`
    /// (/24); `multicast`: the group's route goes out this interface.
    fn plug(&self, host: &str, dev: &str, switch: &str, port: &str, addr: &str, multicast: bool) {
        let (h, s) = (self.ns(host), self.ns(switch));
        // Made in the switch, one end moved to the host.
        self.ip_in(
            &s,
            &["link", "add", port, "type", "veth", "peer", "name", dev],
        );
        self.ip_in(&s, &["link", "set", dev, "netns", &h]);
        self.ip_in(&s, &["link", "set", port, "master", "br0", "up"]);
        self.ip_in(&h, &["addr", "add", &format!("{addr}/24"), "dev", dev]);
        self.ip_in(&h, &["link", "set", dev, "up", "multicast", "on"]);
        if multicast {
            self.ip_in(&h, &["route", "add", "224.0.0.0/4", "dev", dev]);
        }
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
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "`ip netns` does not work here: {}",
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Some(format!("no `ip` command: {e}")),
    }
}

/// Starts `confab peer` as `name` inside `lab`'s namespace `host`,
/// listening on every address of the host (carol is on two segments).
fn peer(lab: &Lab, home: &Path, host: &str, name: &str, extra: &[&str]) -> Proc {
    let dir = home.join(name);
    let share = dir.join("share");
    std::fs::create_dir_all(&share).unwrap();
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let listen = format!("0.0.0.0:{PORT}");
    let ns = lab.ns(host);
    let mut args: Vec<String> = vec![
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
    args.extend(extra.iter().map(|s| s.to_string()));
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

#[test]
fn three_hosts_find_each_other_chat_and_move_a_file_and_a_fourth_joins() {
    if let Some(why) = cannot_run() {
        eprintln!("SKIPPED lan_e2e: {why}");
        return;
    }
    let mut lab = Lab {
        tag: format!("cf{}-", std::process::id() % 100_000),
        namespaces: Vec::new(),
    };
    lab.switch("sw1");
    lab.switch("sw2");
    for h in ["h1", "h2", "h3", "h4"] {
        lab.add_ns(h);
    }
    lab.plug("h1", "eth0", "sw1", "p1", "10.77.1.1", true);
    lab.plug("h2", "eth0", "sw1", "p2", "10.77.1.2", true);
    lab.plug("h3", "eth0", "sw1", "p3", "10.77.1.3", true);
    lab.plug("h3", "eth1", "sw2", "p4", "10.77.2.3", false);
    lab.plug("h4", "eth0", "sw2", "p5", "10.77.2.4", true);

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
