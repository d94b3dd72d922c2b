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
use std::time::{Duration, Instant};

use serde_json::json;
use support::netns::{Lab, cannot_run};
use support::{Proc, open_chat};

/// The peers' TCP and UDP port (each in its own namespace).
const PORT: u16 = 7000;
/// The registry's.
const REGISTRY: &str = "10.78.1.10:7300";

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
    let mut all = vec!["--registry", "lan"];
    all.extend_from_slice(extra);
    let password = format!("pw-{name}-123");
    let env = [("CONFAB_PASSWORD", password.as_str())];
    lab.peer(home, (host, name), &format!("0.0.0.0:{PORT}"), &all, &env)
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
    if let Some(why) = cannot_run(false) {
        eprintln!("SKIPPED registry_lan_e2e: {why}");
        return;
    }
    let mut lab = Lab::new(format!("cr{}-", std::process::id() % 100_000));
    lab.switch("sw");
    for h in ["hr", "h1", "h2"] {
        lab.host(h);
    }
    lab.plug_v4(
        "hr",
        "eth0",
        "sw",
        "pr",
        REGISTRY.split(':').next().unwrap(),
        true,
    );
    lab.plug_v4("h1", "eth0", "sw", "p1", "10.78.1.1", true);
    lab.plug_v4("h2", "eth0", "sw", "p2", "10.78.1.2", true);

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
