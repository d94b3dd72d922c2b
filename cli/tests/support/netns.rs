//! A small real network for end-to-end tests, built from Linux network
//! namespaces (issues 19 and 20): "switches" (a namespace holding one
//! bridge that floods multicast) and "hosts" plugged into them by veth
//! pairs, each host with the addresses its test gives.
//!
//! Every namespace name starts with the run's tag (unique per run), nothing
//! is made outside the namespaces, and dropping the [`Lab`] deletes them all
//! (and with them their interfaces and bridges), whether the test passed or
//! panicked. [`cannot_run`] says why a machine cannot run such a test, so
//! the test can skip with that reason instead of passing.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{CONFAB, PATIENCE, Proc};

// Shared with the benchmarks (`cli/benches/support` includes this file).

/// Runs `program ARGS`, panicking with its error; returns its output.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Why this machine cannot run a namespace test, if it cannot (`ipv6`: the
/// test needs IPv6 too).
pub fn cannot_run(ipv6: bool) -> Option<String> {
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
    if ipv6 && !Path::new("/proc/sys/net/ipv6").exists() {
        return Some("IPv6 is disabled in this kernel".into());
    }
    None
}

/// The namespaces of one run; dropping it removes them.
pub struct Lab {
    /// Prefix of every namespace name of this run.
    tag: String,
    namespaces: Vec<String>,
}

impl Lab {
    /// A lab whose namespaces are all named `TAG...` (keep it short: an
    /// interface name may not exceed 15 bytes, a namespace's is free).
    pub fn new(tag: String) -> Self {
        Self {
            tag,
            namespaces: Vec::new(),
        }
    }

    /// The full name of this run's namespace `name`.
    pub fn ns(&self, name: &str) -> String {
        format!("{}{name}", self.tag)
    }

    /// `ip ARGS` inside namespace `ns` (a full name); returns its output.
    pub fn ip_in(&self, ns: &str, args: &[&str]) -> String {
        let mut all = vec!["-n", ns];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// A host: a namespace with its loopback up and no IPv6 duplicate
    /// address detection (addresses usable at once; skipped where the
    /// kernel has no IPv6). Returns its full name.
    pub fn host(&mut self, name: &str) -> String {
        let ns = self.ns(name);
        run("ip", &["netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        self.ip_in(&ns, &["link", "set", "lo", "up"]);
        if Path::new("/proc/sys/net/ipv6").exists() {
            for conf in ["all", "default"] {
                let key = format!("net.ipv6.conf.{conf}.accept_dad=0");
                run("ip", &["netns", "exec", &ns, "sysctl", "-qw", &key]);
            }
        }
        ns
    }

    /// A switch: a namespace holding one bridge, `br0`, that floods
    /// multicast to every port (no snooping to learn first).
    pub fn switch(&mut self, name: &str) -> String {
        let ns = self.host(name);
        self.ip_in(&ns, &["link", "add", "br0", "type", "bridge"]);
        let snooping_off = [
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ];
        self.ip_in(&ns, &snooping_off);
        self.ip_in(&ns, &["link", "set", "br0", "up"]);
        ns
    }

    /// Plugs `host` into `switch` as interface `dev` (bridge port `port`),
    /// up and multicast-capable, with no address yet.
    pub fn plug(&self, host: &str, dev: &str, switch: &str, port: &str) {
        let (h, s) = (self.ns(host), self.ns(switch));
        // Made in the switch, one end moved to the host.
        self.ip_in(
            &s,
            &["link", "add", port, "type", "veth", "peer", "name", dev],
        );
        self.ip_in(&s, &["link", "set", dev, "netns", &h]);
        self.ip_in(&s, &["link", "set", port, "master", "br0", "up"]);
        if Path::new("/proc/sys/net/ipv6").exists() {
            let key = format!("net.ipv6.conf.{dev}.accept_dad=0");
            run("ip", &["netns", "exec", &h, "sysctl", "-qw", &key]);
        }
        self.ip_in(&h, &["link", "set", dev, "up", "multicast", "on"]);
    }

    /// [`plug`](Self::plug) with IPv4 address `addr` (/24); `multicast`:
    /// the IPv4 multicast route goes out this interface.
    pub fn plug_v4(
        &self,
        host: &str,
        dev: &str,
        switch: &str,
        port: &str,
        addr: &str,
        multicast: bool,
    ) {
        self.plug(host, dev, switch, port);
        let h = self.ns(host);
        self.ip_in(&h, &["addr", "add", &format!("{addr}/24"), "dev", dev]);
        if multicast {
            self.ip_in(&h, &["route", "add", "224.0.0.0/4", "dev", dev]);
        }
    }

    /// [`plug`](Self::plug) with IPv6 address `addr` (/64) besides the
    /// link-local one, and no IPv4 address.
    pub fn plug_v6(&self, host: &str, dev: &str, switch: &str, port: &str, addr: &str) {
        self.plug(host, dev, switch, port);
        let with_len = format!("{addr}/64");
        self.ip_in(
            &self.ns(host),
            &["addr", "add", &with_len, "dev", dev, "nodad"],
        );
    }

    /// Waits until no address of `host` is tentative and it has a
    /// link-local one (they appear when a link comes up).
    pub fn settled_v6(&self, host: &str) {
        let ns = self.ns(host);
        let deadline = Instant::now() + PATIENCE;
        loop {
            let tentative = self.ip_in(&ns, &["-6", "addr", "show", "tentative"]);
            let link = self.ip_in(&ns, &["-6", "addr", "show", "scope", "link"]);
            if tentative.trim().is_empty() && link.contains("fe80::") {
                return;
            }
            assert!(Instant::now() < deadline, "{host}: {tentative} {link}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts `confab peer --json` as `name` in namespace `host`, listening
    /// on `listen`, with its folders under `home/NAME`, `extra` arguments
    /// and `env`; waits for `ready`.
    pub fn peer(
        &self,
        home: &Path,
        (host, name): (&str, &str),
        listen: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Proc {
        let mut p = self.spawn_peer(home, (host, name), listen, extra, env);
        p.expect(json!({"event": "ready", "name": name}));
        p
    }

    /// [`peer`](Self::peer) without waiting for `ready` (a benchmark
    /// times it).
    pub fn spawn_peer(
        &self,
        home: &Path,
        (host, name): (&str, &str),
        listen: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Proc {
        let dir = home.join(name);
        let share = dir.join("share");
        std::fs::create_dir_all(&share).unwrap();
        let path = |p: &Path| p.to_str().unwrap().to_owned();
        let mut args: Vec<String> = vec![
            "netns".into(),
            "exec".into(),
            self.ns(host),
            CONFAB.into(),
            "peer".into(),
            "--name".into(),
            name.into(),
            "--listen".into(),
            listen.into(),
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
        let mut all_env = vec![("RUST_LOG", "info")];
        all_env.extend_from_slice(env);
        Proc::spawn(name, Path::new("ip"), &args, &all_env)
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

/// Asks `/who` until the `found` answer (discovery's) names everyone in
/// `want`; returns that answer's peers.
pub fn finds(p: &mut Proc, want: &[&str]) -> Vec<Value> {
    let deadline = Instant::now() + PATIENCE;
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
