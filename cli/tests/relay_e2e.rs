//! Relay through the registry on a real, if small, network (issue 19): the
//! test builds hosts of its own from Linux network namespaces (a bridge in
//! one, the registry and two peers in three others, joined by veth pairs),
//! puts both peers behind nftables firewalls that drop incoming
//! connections, and has them chat, fetch a 64 MiB file (MD5 checked) and
//! resume it after the sender is killed and restarted; then lifts one
//! firewall and sees the conversation move to a direct connection with
//! nothing lost or repeated.
//!
//! Needs root, `ip` and `nft` (the `nftables` package): otherwise it says why
//! and skips, never passes. Namespace names are unique per run, and a guard
//! removes every namespace (and with them every interface, address and
//! firewall rule) at the end, also on a panic.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use confab_engine::wire::Md5;
use serde_json::{Value, json};
use support::{CONFAB, Net, Proc, bytes, open_chat, password_of, peer_args, quit, registry_key_of};

const MIB: usize = 1 << 20;

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The namespaces of one run; dropping it removes them all (their
/// interfaces, addresses and firewalls go with them).
struct Hosts {
    tag: String,
    made: Vec<String>,
    /// `10.A.B.` of this run.
    prefix: String,
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for ns in self.made.iter().rev() {
            let _ = run(&["ip", "netns", "del", ns]);
        }
    }
}

impl Hosts {
    fn ns(&self, host: &str) -> String {
        format!("{}{host}", self.tag)
    }

    fn addr(&self, n: u8) -> String {
        format!("{}{n}", self.prefix)
    }

    fn exec(&self, host: &str, args: &[&str]) -> Result<(), String> {
        let ns = self.ns(host);
        let mut all = vec!["ip", "netns", "exec", ns.as_str()];
        all.extend_from_slice(args);
        run(&all)
    }

    /// A switch and three hosts: `r` (.1), `a` (.2), `b` (.3).
    fn build() -> Result<Self, String> {
        let pid = std::process::id();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tag = format!("cr{:x}", (pid ^ nanos) & 0xfffff);
        let mut hosts = Hosts {
            prefix: format!("10.{}.{}.", 100 + pid % 100, nanos % 250),
            tag,
            made: Vec::new(),
        };
        for h in ["s", "r", "a", "b"] {
            let ns = hosts.ns(h);
            run(&["ip", "netns", "add", &ns])?;
            hosts.made.push(ns);
            hosts.exec(h, &["ip", "link", "set", "lo", "up"])?;
        }
        hosts.exec("s", &["ip", "link", "add", "br0", "type", "bridge"])?;
        hosts.exec("s", &["ip", "link", "set", "br0", "up"])?;
        for (h, n) in [("r", 1), ("a", 2), ("b", 3)] {
            let (inner, outer) = (format!("{}{h}0", hosts.tag), format!("{}{h}1", hosts.tag));
            let ns = hosts.ns(h);
            let sw = hosts.ns("s");
            run(&[
                "ip", "link", "add", &inner, "netns", &ns, "type", "veth", "peer", "name", &outer,
                "netns", &sw,
            ])?;
            hosts.exec("s", &["ip", "link", "set", &outer, "master", "br0", "up"])?;
            let cidr = format!("{}/24", hosts.addr(n));
            hosts.exec(h, &["ip", "addr", "add", &cidr, "dev", &inner])?;
            hosts.exec(h, &["ip", "link", "set", &inner, "up"])?;
        }
        Ok(hosts)
    }

    /// A firewall on `host` that drops every incoming connection (what it
    /// dials itself still works).
    fn firewall(&self, host: &str) -> Result<(), String> {
        self.exec(host, &["nft", "add", "table", "inet", "confab_fw"])?;
        self.exec(
            host,
            &[
                "nft",
                "add chain inet confab_fw input { type filter hook input priority 0 ; policy accept ; }",
            ],
        )?;
        self.exec(
            host,
            &[
                "nft",
                "add rule inet confab_fw input meta l4proto tcp ct state new drop",
            ],
        )
    }

    fn lift_firewall(&self, host: &str) -> Result<(), String> {
        self.exec(host, &["nft", "delete", "table", "inet", "confab_fw"])
    }

    /// `confab ARGS` inside `host`.
    fn start(&self, host: &str, name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let ns = self.ns(host);
        let mut all = vec!["netns", "exec", ns.as_str(), CONFAB];
        all.extend_from_slice(args);
        let mut env = env.to_vec();
        env.push(("RUST_LOG", "info"));
        Proc::spawn(name, Path::new("ip"), &all, &env)
    }
}

/// Why this test cannot run here, if it cannot.
fn cannot_run() -> Option<String> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        return Some("not root: network namespaces need root".into());
    }
    for tool in ["ip", "nft"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Some(format!("`{tool}` is missing (install iproute2 / nftables)"));
        }
    }
    None
}

fn messages(p: &Proc, from: &str) -> Vec<String> {
    p.log
        .iter()
        .filter(|v| v["event"] == "message" && v["from"] == from)
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect()
}

fn wait_texts(p: &mut Proc, from: &str, want: &[String]) {
    let last = want.last().cloned().unwrap_or_default();
    p.wait_for(&format!("{last:?} from {from}"), |v| {
        v["event"] == "message" && v["from"] == from && v["text"] == last.as_str()
    });
}

#[test]
fn peers_behind_firewalls_chat_and_fetch_through_the_relay_then_move_to_direct() {
    if let Some(why) = cannot_run() {
        eprintln!("SKIPPED relay_e2e: {why}");
        return;
    }
    let hosts = match Hosts::build() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("SKIPPED relay_e2e: cannot build network namespaces here: {e}");
            return;
        }
    };
    let dir = tempfile::tempdir().expect("a temp folder");
    let reg_addr = format!("{}:7000", hosts.addr(1));
    let reg_data = dir.path().join("registry");
    let mut registry = hosts.start(
        "r",
        "registry",
        &[
            "registry",
            "--listen",
            &reg_addr,
            "--data",
            reg_data.to_str().unwrap(),
        ],
        &[],
    );
    registry.expect_line("listening on ");
    let _key = registry_key_of(&mut registry);
    hosts.firewall("a").expect("firewall on a");
    hosts.firewall("b").expect("firewall on b");

    let data = {
        let block = bytes(19, MIB);
        let mut d = Vec::with_capacity(64 * MIB);
        while d.len() < 64 * MIB {
            d.extend_from_slice(&block);
        }
        for at in (0..d.len() - 8).step_by(4096) {
            d[at..at + 8].copy_from_slice(&(at as u64).to_le_bytes());
        }
        d
    };
    let md5 = Md5::of(&data).to_hex();
    let share_a = dir.path().join("alice").join("share");
    std::fs::create_dir_all(&share_a).unwrap();
    std::fs::write(share_a.join("big.bin"), &data).unwrap();

    let peer = |host: &str, name: &str, n: u8| -> Proc {
        let home = dir.path().join(name);
        let share = home.join("share");
        let mut args = peer_args(name, Some(reg_addr.parse().unwrap()), &home, &share);
        let listen = format!("{}:7000", hosts.addr(n));
        let i = args.iter().position(|a| a == "--listen").unwrap();
        args[i + 1] = listen;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let pw = password_of(name);
        let mut p = hosts.start(host, name, &args, &[("CONFAB_PASSWORD", &pw)]);
        p.expect(json!({"event": "ready", "name": name}));
        p
    };
    let mut alice = peer("a", "alice", 2);
    let mut bob = peer("b", "bob", 3);

    // Neither can reach the other: the chat goes through the relay.
    open_chat(&mut alice, &mut bob);
    alice.event("path", &[("with", json!("bob")), ("via", json!("relay"))]);
    bob.event("path", &[("with", json!("alice")), ("via", json!("relay"))]);
    let first: Vec<String> = (0..5).map(|i| format!("relayed {i}")).collect();
    for t in &first {
        alice.send(&format!("/msg bob {t}"));
    }
    wait_texts(&mut bob, "alice", &first);

    // A 64 MiB fetch through the relay; the sender is killed mid-way and
    // restarted, and the fetch resumes.
    bob.send("/get alice big.bin");
    let before = bob.wait_for("progress in the middle", |v| {
        v["event"] == "transfer_progress"
            && v["done"]
                .as_u64()
                .is_some_and(|d| d > 0 && d < data.len() as u64)
            || v["event"] == "transfer_done"
            || v["event"] == "transfer_failed"
    });
    assert_eq!(before["event"], "transfer_progress", "{before}");
    alice.kill();
    drop(alice);
    let mut alice = peer("a", "alice", 2);
    let done = bob.wait_for("transfer_done of big.bin", |v| {
        v["event"] == "transfer_done" && v["name"] == "big.bin" || v["event"] == "transfer_failed"
    });
    assert_eq!(done["event"], "transfer_done", "{done}{}", bob.report());
    assert_eq!(done["md5"], md5.as_str(), "{done}");
    assert_eq!(done["id"], before["id"], "the same transfer resumed");
    let got = std::fs::read(done["path"].as_str().unwrap()).unwrap();
    assert!(got == data, "the fetched file differs");

    // Lift bob's firewall: alice's next direct try reaches him, and the
    // conversation moves there, nothing lost or repeated.
    let more: Vec<String> = (0..5).map(|i| format!("before move {i}")).collect();
    for t in &more {
        alice.send(&format!("/msg bob {t}"));
    }
    hosts.lift_firewall("b").expect("lift the firewall on b");
    alice.wait_for("the direct path", |v| {
        v["event"] == "path" && v["with"] == "bob" && v["via"] == "direct"
    });
    let after: Vec<String> = (0..5).map(|i| format!("direct {i}")).collect();
    for t in &after {
        alice.send(&format!("/msg bob {t}"));
    }
    wait_texts(&mut bob, "alice", &after);
    let want: Vec<String> = first.iter().chain(&more).chain(&after).cloned().collect();
    assert_eq!(messages(&bob, "alice"), want, "lost, repeated or reordered");
    let ok: Value = json!({"event": "path", "with": "alice", "via": "direct"});
    assert!(!bob.seen(&ok).is_empty(), "bob never saw the direct path");
    drop(alice);
    drop(bob);
    drop(registry);
}

/// Starts `name` on `net`'s registry at `--listen off`: it takes no
/// connections, so two of them can only talk through the relay.
fn listening_off(net: &Net, name: &str) -> Proc {
    let home = net.home(name);
    let mut args = peer_args(name, Some(net.addr), &home, &net.share(name));
    let i = args.iter().position(|a| a == "--listen").unwrap();
    args[i + 1] = "off".into();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let pw = password_of(name);
    let mut p = Proc::start(name, &args, &[("CONFAB_PASSWORD", &pw)]);
    p.expect(json!({"event": "ready", "name": name}));
    p
}

/// On loopback (no namespaces needed): two peers at `--listen off` chat
/// through the relay; `chat_opened` says `via` `relay` on both sides,
/// `/who` says neither listens, and the registry's operator, typing
/// `status`, sees the stream, its two ends and its bytes.
#[test]
fn relayed_chat_says_via_relay_and_the_operator_sees_the_stream() {
    let mut net = Net::new();
    let mut alice = listening_off(&net, "alice");
    let mut bob = listening_off(&net, "bob");
    alice.send("/who");
    let users = alice.event("users", &[]);
    let listens: Vec<(String, bool)> = users.v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_owned(),
                u["listens"] == json!(true),
            )
        })
        .collect();
    assert!(listens.iter().all(|(_, l)| !l), "{listens:?}");
    assert_eq!(listens.len(), 2, "{listens:?}");

    alice.send("/chat bob");
    let req = bob.event("chat_request", &[("from", json!("alice"))]);
    bob.send(&format!("/accept {}", req.v["id"]));
    bob.event(
        "chat_opened",
        &[("with", json!("alice")), ("via", json!("relay"))],
    );
    alice.event(
        "chat_opened",
        &[("with", json!("bob")), ("via", json!("relay"))],
    );
    let texts: Vec<String> = (0..3).map(|i| format!("through the relay {i}")).collect();
    for t in &texts {
        alice.send(&format!("/msg bob {t}"));
    }
    wait_texts(&mut bob, "alice", &texts);

    let registry = net.registry.as_mut().unwrap();
    registry.send("status");
    let counts = registry.expect_line("relay: 1 stream(s) open");
    assert!(counts.contains("1 opened since start"), "{counts}");
    let stream = registry.expect_line("  relay ");
    assert!(
        stream.contains("alice <-> bob") || stream.contains("bob <-> alice"),
        "{stream}"
    );
    registry.send("what");
    registry.expect_line("unknown command");
    quit(&mut alice);
    quit(&mut bob);
}
