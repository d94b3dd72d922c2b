//! `cargo bench -p confab --bench lan [-- --runs 3] [-- --window 60] [-- --settle 15]`
//!
//! LAN discovery without a registry (issue 20) next to the registry path, on
//! a real (namespaced) LAN, in one run: three hosts on one bridge, each with
//! one `confab peer --json` (release build).
//!
//! - **discovery**: no registry, discovery on (the default). The three peers
//!   are started together; the figure is the time from the last process
//!   start (and from the last `ready`) until every peer has printed a
//!   `presence` `online` event for each of the other two: read from the
//!   events as they arrive, stamped by the harness's reader thread (so the
//!   resolution is the pipe's, well under a millisecond), not polled.
//! - **registry**: a fourth host runs `confab registry --password-cost fast
//!   --announce off`; the peers start with `--registry ADDR --discovery off`
//!   (CONFAB_PASSWORD set: a new account each). The figure is the time until
//!   every peer is `ready` and its `/who` lists the other two, `/who` asked
//!   again as soon as each answer comes (resolution: one `/who` round trip).
//! - **steady traffic**: after `--settle` seconds, what each host sends over
//!   `--window` seconds (env `CONFAB_LAN_BENCH_WINDOW` too), per minute, from
//!   the counters the kernel keeps in each namespace: the veth's transmitted
//!   packets and bytes (`ip -s link`: everything on the wire, IP and
//!   Ethernet headers, ARP and neighbour discovery included), UDP datagrams
//!   sent (`/proc/net/snmp` OutDatagrams plus `/proc/net/snmp6`
//!   Udp6OutDatagrams: the announcements, IPv4 and IPv6) and TCP segments
//!   sent (OutSegs: heartbeats to the registry and their acknowledgements).
//!
//! Needs root (namespaces) and `ip`; otherwise it prints why and exits 0.
//! Everything it makes lives in namespaces whose names are unique to the run,
//! removed when the run ends, passes or panics (the processes are killed
//! first). Nothing asserts on timing: it prints each run, the medians, and
//! one JSON line per run.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Proc, arg_value, netns};

/// The peers' TCP and UDP port (each in its own namespace).
const PORT: u16 = 7000;
/// The registry's port (on host `reg`).
const REGISTRY_PORT: u16 = 7300;
const NAMES: [&str; 3] = ["alice", "bob", "carol"];
/// The hosts' addresses, in order: the three peers, then the registry.
const ADDRS: [&str; 4] = ["10.77.9.1", "10.77.9.2", "10.77.9.3", "10.77.9.4"];

/// One path's figures in one run.
#[derive(Debug, Clone)]
struct Figures {
    /// From the last process start until every peer knows the other two.
    from_start: Duration,
    /// From the last `ready` until then.
    from_ready: Duration,
    /// Per-minute traffic each peer host sends (one entry per peer).
    peers: Vec<Traffic>,
    /// The registry host's, on the registry path.
    registry: Option<Traffic>,
}

/// Sent per minute by one host.
#[derive(Debug, Clone, Copy, Default)]
struct Traffic {
    packets: f64,
    bytes: f64,
    udp: f64,
    tcp: f64,
    icmp: f64,
}

/// The kernel's counters in one namespace at one instant.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    tx_packets: u64,
    tx_bytes: u64,
    udp_out: u64,
    tcp_out: u64,
    icmp_out: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(why) = netns::cannot_run(false) {
        println!("SKIPPED lan benchmark: {why}");
        return;
    }
    let secs = |flag: &str, env: Option<&str>, default: u64| -> u64 {
        arg_value(&args, flag)
            .or_else(|| env.and_then(|e| std::env::var(e).ok()))
            .map(|s| s.parse().unwrap_or_else(|_| panic!("bad {flag} {s:?}")))
            .unwrap_or(default)
    };
    let runs = secs("--runs", None, 3).max(1) as usize;
    let window = Duration::from_secs(secs("--window", Some("CONFAB_LAN_BENCH_WINDOW"), 60).max(1));
    let settle = Duration::from_secs(secs("--settle", None, 15));
    println!(
        "lan benchmark: 3 peers on one bridge (network namespaces), {runs} runs, \
         traffic over {}s after {}s settling; load average {}",
        window.as_secs(),
        settle.as_secs(),
        support::loadavg()
    );
    let mut all: Vec<(Figures, Figures)> = Vec::new();
    for run in 1..=runs {
        let load = support::loadavg();
        let lan = discovery(run, settle, window);
        let reg = registry(run, settle, window);
        println!("run {run} (load average {load}):");
        print_row("discovery", &lan);
        print_row("registry", &reg);
        println!("{}", json_line(run, &load, &lan, &reg));
        all.push((lan, reg));
    }
    println!("median of {runs} runs:");
    header();
    let lan: Vec<Figures> = all.iter().map(|(l, _)| l.clone()).collect();
    let reg: Vec<Figures> = all.iter().map(|(_, r)| r.clone()).collect();
    print_median("discovery", &lan);
    print_median("registry", &reg);
}

/// Discovery path: three peers, no registry.
fn discovery(run: usize, settle: Duration, window: Duration) -> Figures {
    let lab = Lab::new(run, 3);
    let home = tempfile::tempdir().expect("a temp folder");
    let mut peers: Vec<Proc> = (0..3)
        .map(|i| peer(&lab, home.path(), i, &[], &[]))
        .collect();
    let last_start = Instant::now();
    let mut ready = [None::<Instant>; 3];
    let mut known: Vec<Vec<(String, Instant)>> = vec![Vec::new(); 3];
    let done = |known: &Vec<Vec<(String, Instant)>>, ready: &[Option<Instant>; 3]| {
        ready.iter().all(Option::is_some) && known.iter().all(|k| k.len() == 2)
    };
    let deadline = Instant::now() + support::PATIENCE;
    while !done(&known, &ready) {
        assert!(Instant::now() < deadline, "discovery did not complete");
        for (i, p) in peers.iter_mut().enumerate() {
            let Some(line) = p.next(Duration::from_millis(1)) else {
                continue;
            };
            let v = &line.v;
            match v["event"].as_str() {
                Some("ready") => ready[i] = Some(line.at),
                Some("presence") if v["online"] == true => {
                    let name = v["name"].as_str().unwrap_or_default().to_owned();
                    if NAMES.contains(&name.as_str())
                        && name != NAMES[i]
                        && !known[i].iter().any(|(n, _)| *n == name)
                    {
                        known[i].push((name, line.at));
                    }
                }
                _ => {}
            }
        }
    }
    let all_known = known.iter().flatten().map(|(_, at)| *at).max().unwrap();
    let last_ready = ready.iter().flatten().max().copied().unwrap();
    // Sanity, not timed: they were found by their announcements.
    for p in &mut peers {
        p.send("/who");
        let found = p.wait_for("a found event", |v| v["event"] == "found");
        let peers = found["peers"].as_array().cloned().unwrap_or_default();
        assert!(
            peers.len() >= 2 && peers.iter().all(|f| f["by"] == "lan"),
            "{}: {peers:?}",
            p.name
        );
    }
    let (peers_traffic, _) = steady(&lab, &mut peers, None, settle, window);
    Figures {
        from_start: all_known.saturating_duration_since(last_start),
        from_ready: all_known.saturating_duration_since(last_ready),
        peers: peers_traffic,
        registry: None,
    }
}

/// Registry path: the same three peers and a registry on a fourth host.
fn registry(run: usize, settle: Duration, window: Duration) -> Figures {
    let lab = Lab::new(run, 4);
    let home = tempfile::tempdir().expect("a temp folder");
    let data = home.path().join("registry");
    let listen = format!("{}:{REGISTRY_PORT}", ADDRS[3]);
    let mut reg = Proc::spawn(
        "registry",
        Path::new("ip"),
        &[
            "netns",
            "exec",
            &lab.host(3),
            support::CONFAB,
            "registry",
            "--listen",
            &listen,
            "--data",
            data.to_str().unwrap(),
            "--password-cost",
            "fast",
            "--announce",
            "off",
        ],
        &[],
    );
    reg.expect_line("listening on ");
    let mut peers: Vec<Proc> = (0..3)
        .map(|i| {
            let pw = format!("bench-pw-{}", NAMES[i]);
            peer(
                &lab,
                home.path(),
                i,
                &["--registry", &listen, "--discovery", "off"],
                &[("CONFAB_PASSWORD", &pw)],
            )
        })
        .collect();
    let last_start = Instant::now();
    let mut last_ready = last_start;
    let mut all_known = last_start;
    for (i, p) in peers.iter_mut().enumerate() {
        let ready = p.event("ready", &[("name", json!(NAMES[i]))]);
        last_ready = last_ready.max(ready.at);
    }
    // Each peer in turn asks `/who` until the answer lists the other two; a
    // later peer's first answer may come one round trip after its list was
    // complete, never earlier than the true time.
    for (i, p) in peers.iter_mut().enumerate() {
        let deadline = Instant::now() + support::PATIENCE;
        loop {
            p.send("/who");
            let users = p.wait_line("a users event", |v| v["event"] == "users");
            let names: Vec<&str> = users.v["users"]
                .as_array()
                .map(|u| u.iter().filter_map(|u| u["name"].as_str()).collect())
                .unwrap_or_default();
            let others = NAMES.iter().filter(|n| **n != NAMES[i]);
            if others.clone().all(|n| names.contains(n)) {
                all_known = all_known.max(users.at);
                break;
            }
            assert!(Instant::now() < deadline, "{}: /who {names:?}", p.name);
        }
    }
    let (peers_traffic, reg_traffic) = steady(&lab, &mut peers, Some(&mut reg), settle, window);
    Figures {
        from_start: all_known.saturating_duration_since(last_start),
        from_ready: all_known.saturating_duration_since(last_ready),
        peers: peers_traffic,
        registry: reg_traffic,
    }
}

/// Waits `settle`, then reads every host's counters over `window`; returns
/// the peers' hosts' traffic per minute and the registry host's (host 3)
/// when there is a registry. The processes' output is read meanwhile by
/// the harness's threads; any exit fails the run.
fn steady(
    lab: &Lab,
    peers: &mut [Proc],
    mut registry: Option<&mut Proc>,
    settle: Duration,
    window: Duration,
) -> (Vec<Traffic>, Option<Traffic>) {
    // A fixed window of wall time is what is measured: nothing to await.
    std::thread::sleep(settle);
    let hosts = lab.hosts;
    let before: Vec<Counters> = (0..hosts).map(|h| lab.counters(h)).collect();
    let start = Instant::now();
    std::thread::sleep(window);
    let after: Vec<Counters> = (0..hosts).map(|h| lab.counters(h)).collect();
    let minutes = start.elapsed().as_secs_f64() / 60.0;
    for p in peers.iter_mut() {
        // Still running: `next` fails when its output has ended.
        while p.next(Duration::ZERO).is_some() {}
    }
    if let Some(r) = registry.as_mut() {
        while r.next(Duration::ZERO).is_some() {}
    }
    let per_min = |h: usize| {
        let (a, b) = (after[h], before[h]);
        Traffic {
            packets: (a.tx_packets - b.tx_packets) as f64 / minutes,
            bytes: (a.tx_bytes - b.tx_bytes) as f64 / minutes,
            udp: (a.udp_out - b.udp_out) as f64 / minutes,
            tcp: (a.tcp_out - b.tcp_out) as f64 / minutes,
            icmp: (a.icmp_out - b.icmp_out) as f64 / minutes,
        }
    };
    let peers = (0..3).map(per_min).collect();
    let reg = registry.map(|_| per_min(3));
    (peers, reg)
}

/// Starts `confab peer --json` as `NAMES[i]` on host `i`, not waiting for it.
fn peer(lab: &Lab, home: &Path, i: usize, extra: &[&str], env: &[(&str, &str)]) -> Proc {
    let host = format!("h{i}");
    let listen = format!("{}:{PORT}", ADDRS[i]);
    lab.net
        .spawn_peer(home, (&host, NAMES[i]), &listen, extra, env)
}

/// One bridge (in namespace `sw`) and `hosts` hosts plugged into it, each a
/// namespace with one veth `eth0` at `ADDRS[i]/24` and the multicast route
/// out of it; dropping it deletes them all (with their interfaces).
struct Lab {
    net: netns::Lab,
    hosts: usize,
}

impl Lab {
    fn new(run: usize, hosts: usize) -> Self {
        let tag = format!("lb{}r{run}h{hosts}-", std::process::id() % 100_000);
        let mut net = netns::Lab::new(tag);
        net.switch("sw");
        for (i, addr) in ADDRS.iter().enumerate().take(hosts) {
            let h = format!("h{i}");
            net.host(&h);
            net.plug_v4(&h, "eth0", "sw", &format!("p{i}"), addr, true);
        }
        Self { net, hosts }
    }

    /// Host `i`'s namespace.
    fn host(&self, i: usize) -> String {
        self.net.ns(&format!("h{i}"))
    }

    /// Host `i`'s counters: its veth's transmitted packets and bytes, and
    /// the UDP datagrams (IPv4 and IPv6) and TCP segments it sent.
    fn counters(&self, i: usize) -> Counters {
        let ns = self.host(i);
        let link = self
            .net
            .ip_in(&ns, &["-s", "-j", "link", "show", "dev", "eth0"]);
        let link: Value = serde_json::from_str(&link).expect("ip -j output");
        let tx = &link[0]["stats64"]["tx"];
        let snmp = netns::run(
            "ip",
            &[
                "netns",
                "exec",
                &ns,
                "cat",
                "/proc/net/snmp",
                "/proc/net/snmp6",
            ],
        );
        Counters {
            tx_packets: tx["packets"].as_u64().expect("tx packets"),
            tx_bytes: tx["bytes"].as_u64().expect("tx bytes"),
            udp_out: snmp_field(&snmp, "Udp:", "OutDatagrams")
                + snmp6_field(&snmp, "Udp6OutDatagrams"),
            tcp_out: snmp_field(&snmp, "Tcp:", "OutSegs"),
            icmp_out: snmp_field(&snmp, "Icmp:", "OutMsgs") + snmp6_field(&snmp, "Icmp6OutMsgs"),
        }
    }
}

/// `field` of the `prefix` table of /proc/net/snmp (a header line, then a
/// line of values).
fn snmp_field(snmp: &str, prefix: &str, field: &str) -> u64 {
    let mut rows = snmp.lines().filter(|l| l.starts_with(prefix));
    let (names, values) = (rows.next(), rows.next());
    let (Some(names), Some(values)) = (names, values) else {
        panic!("no {prefix} table in /proc/net/snmp");
    };
    let at = names
        .split_whitespace()
        .position(|n| n == field)
        .unwrap_or_else(|| panic!("no {prefix} {field}"));
    values
        .split_whitespace()
        .nth(at)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no value for {prefix} {field}"))
}

/// `field` of /proc/net/snmp6 (one `NAME VALUE` a line); 0 without IPv6.
fn snmp6_field(snmp: &str, field: &str) -> u64 {
    snmp.lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(field)).then(|| w.next()?.parse().ok())?
        })
        .unwrap_or(0)
}

fn header() {
    println!(
        "  {:<10} {:>12} {:>12} {:>13} {:>14} {:>12} {:>12} {:>13}",
        "path",
        "from start",
        "from ready",
        "pkts/peer/min",
        "bytes/peer/min",
        "udp/peer/min",
        "tcp/peer/min",
        "icmp/peer/min"
    );
}

/// The mean over the peers of one path's traffic.
fn mean(peers: &[Traffic]) -> Traffic {
    let n = peers.len().max(1) as f64;
    let sum = |f: fn(&Traffic) -> f64| peers.iter().map(f).sum::<f64>() / n;
    Traffic {
        packets: sum(|t| t.packets),
        bytes: sum(|t| t.bytes),
        udp: sum(|t| t.udp),
        tcp: sum(|t| t.tcp),
        icmp: sum(|t| t.icmp),
    }
}

fn row(path: &str, from_start: f64, from_ready: f64, t: Traffic) {
    println!(
        "  {path:<10} {:>9.1} ms {:>9.1} ms {:>13.1} {:>14.0} {:>12.1} {:>12.1} {:>13.1}",
        from_start, from_ready, t.packets, t.bytes, t.udp, t.tcp, t.icmp
    );
}

fn print_row(path: &str, f: &Figures) {
    header();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    row(path, ms(f.from_start), ms(f.from_ready), mean(&f.peers));
    for (i, t) in f.peers.iter().enumerate() {
        host_line(NAMES[i], t);
    }
    if let Some(t) = &f.registry {
        host_line("registry", t);
    }
}

/// One host's traffic per minute, under a path's row.
fn host_line(host: &str, t: &Traffic) {
    println!(
        "    {host:<8} {:>9.1} pkts {:>8.0} B {:>6.1} udp {:>6.1} tcp {:>6.1} icmp /min",
        t.packets, t.bytes, t.udp, t.tcp, t.icmp
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn print_median(path: &str, runs: &[Figures]) {
    let ms = |f: fn(&Figures) -> Duration| {
        median(runs.iter().map(|r| f(r).as_secs_f64() * 1e3).collect())
    };
    let t = |f: fn(&Traffic) -> f64| median(runs.iter().map(|r| f(&mean(&r.peers))).collect());
    row(
        path,
        ms(|f| f.from_start),
        ms(|f| f.from_ready),
        Traffic {
            packets: t(|t| t.packets),
            bytes: t(|t| t.bytes),
            udp: t(|t| t.udp),
            tcp: t(|t| t.tcp),
            icmp: t(|t| t.icmp),
        },
    );
    if runs.iter().any(|r| r.registry.is_some()) {
        let r = |f: fn(&Traffic) -> f64| {
            median(
                runs.iter()
                    .filter_map(|r| r.registry.as_ref())
                    .map(f)
                    .collect(),
            )
        };
        let t = Traffic {
            packets: r(|t| t.packets),
            bytes: r(|t| t.bytes),
            udp: r(|t| t.udp),
            tcp: r(|t| t.tcp),
            icmp: r(|t| t.icmp),
        };
        host_line("registry", &t);
    }
}

fn json_line(run: usize, load: &str, lan: &Figures, reg: &Figures) -> Value {
    let ms = |d: Duration| (d.as_secs_f64() * 1e4).round() / 10.0;
    let traffic = |t: &Traffic| {
        json!({
            "packets_min": (t.packets * 10.0).round() / 10.0,
            "bytes_min": t.bytes.round(),
            "udp_min": (t.udp * 10.0).round() / 10.0,
            "tcp_min": (t.tcp * 10.0).round() / 10.0,
            "icmp_min": (t.icmp * 10.0).round() / 10.0,
        })
    };
    let path = |f: &Figures| {
        json!({
            "all_know_all_from_start_ms": ms(f.from_start),
            "all_know_all_from_ready_ms": ms(f.from_ready),
            "per_peer": traffic(&mean(&f.peers)),
            "registry_host": f.registry.as_ref().map(traffic),
        })
    };
    json!({
        "bench": "lan",
        "run": run,
        "load": load,
        "discovery": path(lan),
        "registry": path(reg),
    })
}
