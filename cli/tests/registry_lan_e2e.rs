//! A registry found on the LAN (issue 20), for real: a small network built
//! from Linux network namespaces, a `confab registry` announcing itself on
//! it, and two `confab peer --registry lan --json` processes that were
//! given no address.
//!
//! ```text
//!  one segment (bridge in ns sw, 10.78.1.0/24)
//!   registry 10.78.1.10:7300   alice 10.78.1.1   bob 10.78.1.2
//! ```
//!
//! alice trusts the registry's key on first use (and keeps it); bob gives
//! `--registry-key` and is held to it. Both log in, `/who` lists both from
//! the registry, and they chat.
//!
//! Needs root (to make namespaces) and `ip`; without them the test says why
//! and skips. Every name is unique to the run, everything lives in the
//! namespaces it makes, and a guard deletes them all when the test ends,
//! passes or panics.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Proc, open_chat};

/// The peers' TCP and UDP port (each in its own namespace).
const PORT: u16 = 7000;
/// The registry's.
const REGISTRY: &str = "10.78.1.10:7300";

/// The namespaces of one run; dropping it removes them.
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

    /// A switch: a namespace holding one bridge that floods multicast.
    fn switch(&mut self, name: &str) {
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
    }

    /// Plugs `host` into `switch` with address `addr` (/24); the multicast
    /// group's route goes out that interface.
    fn plug(&self, host: &str, switch: &str, port: &str, addr: &str) {
        let (h, s) = (self.ns(host), self.ns(switch));
        self.ip_in(
            &s,
            &["link", "add", port, "type", "veth", "peer", "name", "eth0"],
        );
        self.ip_in(&s, &["link", "set", "eth0", "netns", &h]);
        self.ip_in(&s, &["link", "set", port, "master", "br0", "up"]);
        self.ip_in(&h, &["addr", "add", &format!("{addr}/24"), "dev", "eth0"]);
        self.ip_in(&h, &["link", "set", "eth0", "up", "multicast", "on"]);
        self.ip_in(&h, &["route", "add", "224.0.0.0/4", "dev", "eth0"]);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
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

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// `confab registry` in namespace `host`; returns it and its fingerprint.
fn registry(lab: &Lab, home: &Path, host: &str) -> (Proc, String) {
    let data = home.join("registry");
    let listen = format!("0.0.0.0:{}", REGISTRY.rsplit(':').next().unwrap());
    let args = [
        "netns",
        "exec",
        &lab.ns(host),
        support::CONFAB,
        "registry",
        "--listen",
        &listen,
        "--data",
        &path(&data),
        "--password-cost",
        "fast",
    ];
    let mut r = Proc::spawn("registry", Path::new("ip"), &args, &[("RUST_LOG", "info")]);
    let line = r.expect_line("registry key fingerprint ");
    let key = line
        .split_whitespace()
        .nth(3)
        .filter(|k| k.len() == 32)
        .unwrap_or_else(|| panic!("no fingerprint in {line:?}"))
        .to_owned();
    r.expect_line("announced on the LAN");
    (r, key)
}

/// `confab peer --registry lan` as `name` in namespace `host`.
fn peer(lab: &Lab, home: &Path, host: &str, name: &str, extra: &[&str]) -> Proc {
    let dir = home.join(name);
    let share = dir.join("share");
    std::fs::create_dir_all(&share).unwrap();
    let ns = lab.ns(host);
    let mut args: Vec<String> = vec![
        "netns".into(),
        "exec".into(),
        ns,
        support::CONFAB.into(),
        "peer".into(),
        "--name".into(),
        name.into(),
        "--registry".into(),
        "lan".into(),
        "--listen".into(),
        format!("0.0.0.0:{PORT}"),
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
    let password = format!("pw-{name}-123");
    let env = [("RUST_LOG", "info"), ("CONFAB_PASSWORD", password.as_str())];
    let mut p = Proc::spawn(name, Path::new("ip"), &args, &env);
    p.expect(json!({"event": "ready", "name": name}));
    p
}

/// Asks `/who` until the registry's answer names everyone in `want`.
fn lists(p: &mut Proc, want: &[&str]) {
    let deadline = Instant::now() + support::PATIENCE;
    loop {
        p.send("/who");
        let v = p.wait_for("a users or found event", |v| {
            v["event"] == "users" || v["event"] == "found"
        });
        let users = v["users"].as_array().cloned().unwrap_or_default();
        let names: Vec<&str> = users.iter().filter_map(|u| u["name"].as_str()).collect();
        if v["event"] == "users" && want.iter().all(|w| names.contains(w)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: /who gave {v}, not the registry's list of {want:?}",
            p.name
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn two_peers_find_the_registry_on_the_lan_log_in_and_list_each_other() {
    if let Some(why) = cannot_run() {
        eprintln!("SKIPPED registry_lan_e2e: {why}");
        return;
    }
    let mut lab = Lab {
        tag: format!("cr{}-", std::process::id() % 100_000),
        namespaces: Vec::new(),
    };
    lab.switch("sw");
    for h in ["hr", "h1", "h2"] {
        lab.add_ns(h);
    }
    lab.plug("hr", "sw", "pr", REGISTRY.split(':').next().unwrap());
    lab.plug("h1", "sw", "p1", "10.78.1.1");
    lab.plug("h2", "sw", "p2", "10.78.1.2");

    let home = tempfile::tempdir().unwrap();
    let (_registry, key) = registry(&lab, home.path(), "hr");
    let mut alice = peer(&lab, home.path(), "h1", "alice", &[]);
    let mut bob = peer(&lab, home.path(), "h2", "bob", &["--registry-key", &key]);

    for p in [&mut alice, &mut bob] {
        p.expect(json!({"event": "registry_heard", "registry": REGISTRY,
            "fingerprint": key, "used": true}));
        p.expect(json!({"event": "registry_back"}));
    }
    // alice trusted it on first use, and kept it by the address announced.
    alice.expect(json!({"event": "registry_key", "registry": REGISTRY, "fingerprint": key}));
    let known = std::fs::read_to_string(home.path().join("alice/data/known_registries")).unwrap();
    assert!(known.contains(&format!("{REGISTRY} {key}")), "{known}");
    // bob was held to --registry-key: no first contact to report.
    assert!(bob.seen(&json!({"event": "registry_key"})).is_empty());

    lists(&mut alice, &["alice", "bob"]);
    lists(&mut bob, &["alice", "bob"]);

    open_chat(&mut alice, &mut bob);
    alice.send("/msg bob found through the announced registry");
    bob.expect(json!({"event": "message", "from": "alice", "to": "bob",
        "text": "found through the announced registry"}));
}
