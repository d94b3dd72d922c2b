//! `cargo bench -p confab --bench relay [-- --size 256M] [-- --pings 200]`
//!
//! The relay through the registry (issue 19) against the direct path, in one
//! run on 127.0.0.1, on the same file: a `/get` of `--size` bytes (default
//! 256 MiB, seeded pseudo-random, verified by MD5 and byte for byte) and the
//! chat round trip (a message and the `delivered` that answers it, `--pings`
//! of them, one at a time), once between two peers that connect directly and
//! once with both peers at `--listen off` (one that listens would be dialed
//! back directly: see README "When the relay is used"), so everything goes through
//! the registry (started with its caps off: `--relay-peer-rate 0
//! --relay-total-rate 0`). Also the registry's peak memory (`VmHWM`) after
//! each run: relaying must leave it flat (a bounded window per stream).
//!
//! The targets: relayed throughput at least 0.5 of direct, relayed
//! round trip p50 at most 2.5 times direct. Nothing here asserts on timing:
//! it prints a table, then one JSON line (`reference` is the direct path,
//! `ratio` relayed over direct).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Proc, arg_value, parse_size, peer_args, percentile, registry_key_of};

const MIB: u64 = 1 << 20;
const FILE: &str = "bench.bin";

struct Run {
    mb_s: f64,
    rtt_ms: Vec<f64>,
    registry_rss_kib: Option<u64>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let size = arg_value(&args, "--size")
        .map(|s| parse_size(&s).unwrap_or_else(|| panic!("bad --size {s:?}")))
        .unwrap_or(256 * MIB);
    let pings: usize = arg_value(&args, "--pings")
        .map(|s| s.parse().expect("a count"))
        .unwrap_or(200);
    let work = tempfile::tempdir().expect("a temp folder");
    let file = work.path().join(FILE);
    let data = bytes(21, size as usize);
    std::fs::write(&file, &data).expect("the bench file");
    println!(
        "relay benchmark: {size} bytes, {pings} pings; load average {}",
        support::loadavg()
    );
    println!("measuring direct...");
    let direct = run(&file, &data, pings, false);
    println!("measuring relayed...");
    let relayed = run(&file, &data, pings, true);

    let p50 = |r: &Run| percentile(&r.rtt_ms, 50.0);
    println!("{:<28} {:>10} {:>12}", "", "MB/s", "chat RTT p50");
    for (name, r) in [("direct", &direct), ("relayed", &relayed)] {
        println!("{name:<28} {:>10.1} {:>10.2} ms", r.mb_s, p50(r));
    }
    println!(
        "registry peak RSS: {} KiB after the direct run, {} KiB after the relayed run",
        opt(direct.registry_rss_kib),
        opt(relayed.registry_rss_kib)
    );
    let line = json!({
        "bench": "relay",
        "bytes": size,
        "reference": "direct",
        "direct_mb_s": round(direct.mb_s),
        "relayed_mb_s": round(relayed.mb_s),
        "throughput_ratio": round2(relayed.mb_s / direct.mb_s),
        "direct_rtt_p50_ms": round2(p50(&direct)),
        "relayed_rtt_p50_ms": round2(p50(&relayed)),
        "rtt_ratio": round2(p50(&relayed) / p50(&direct)),
        "registry_peak_rss_kib_direct": direct.registry_rss_kib,
        "registry_peak_rss_kib_relayed": relayed.registry_rss_kib,
    });
    println!("{line}");
}

/// `len` pseudo-random bytes from `seed` (xorshift64*).
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

fn round(v: f64) -> Value {
    json!((v * 10.0).round() / 10.0)
}

fn round2(v: f64) -> Value {
    json!((v * 100.0).round() / 100.0)
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

fn peer(name: &str, registry: std::net::SocketAddr, home: &Path, listen_off: bool) -> Proc {
    let share = home.join("share");
    let mut args = peer_args(name, Some(registry), home, &share);
    if listen_off {
        let i = args.iter().position(|a| a == "--listen").expect("--listen");
        args[i + 1] = "off".into();
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let pw = format!("bench-pw-{name}");
    let mut p = Proc::start(name, &args, &[("CONFAB_PASSWORD", &pw)]);
    p.grace = Duration::from_secs(2);
    p.event("ready", &[("name", Value::from(name))]);
    p
}

fn run(file: &Path, data: &[u8], pings: usize, relayed: bool) -> Run {
    let dir = tempfile::tempdir().expect("a temp folder");
    let reg_data = dir.path().join("registry");
    let mut registry = Proc::start(
        "registry",
        &[
            "registry",
            "--listen",
            "127.0.0.1:0",
            "--data",
            reg_data.to_str().unwrap(),
            "--relay-peer-rate",
            "0",
            "--relay-total-rate",
            "0",
        ],
        &[],
    );
    let line = registry.expect_line("listening on ");
    let addr = line
        .rsplit(' ')
        .next()
        .and_then(|a| a.parse().ok())
        .expect("the registry's address");
    let _ = registry_key_of(&mut registry);
    let (home_a, home_b) = (dir.path().join("alice"), dir.path().join("bob"));
    std::fs::create_dir_all(home_a.join("share")).unwrap();
    std::fs::hard_link(file, home_a.join("share").join(FILE))
        .or_else(|_| std::fs::copy(file, home_a.join("share").join(FILE)).map(drop))
        .expect("the file in alice's shared folder");
    let mut alice = peer("alice", addr, &home_a, relayed);
    // Both take no connections: with one listening, the other dials it back
    // directly and nothing would go through the relay.
    let mut bob = peer("bob", addr, &home_b, relayed);
    support::open_chat(&mut bob, &mut alice);
    let want = if relayed { "relay" } else { "direct" };
    bob.event("path", &[("with", json!("alice")), ("via", json!(want))]);

    // Chat round trips: bob's message to alice and alice's acknowledgement.
    let mut rtt_ms = Vec::with_capacity(pings);
    for i in 0..pings {
        let at = bob.send(&format!("/msg alice ping {i}"));
        let seq = (i + 1) as u64;
        let d = bob.event("delivered", &[("to", json!("alice")), ("seq", json!(seq))]);
        rtt_ms.push((d.at - at).as_secs_f64() * 1e3);
        while alice.next(Duration::ZERO).is_some() {}
    }
    rtt_ms.sort_by(f64::total_cmp);

    let start: Instant = bob.send(&format!("/get alice {FILE}"));
    let done = loop {
        while alice.next(Duration::ZERO).is_some() {}
        let Some(line) = bob.next(Duration::from_millis(5)) else {
            continue;
        };
        match line.v["event"].as_str() {
            Some("transfer_done") if line.v["direction"] == "receive" => break line,
            Some("transfer_failed") => panic!("transfer failed: {}{}", line.v, bob.report()),
            _ => {}
        }
    };
    let secs = (done.at - start).as_secs_f64();
    let path = done.v["path"].as_str().expect("a path").to_owned();
    let got = std::fs::read(&path).expect("the received file");
    assert!(got == data, "the received file differs");
    let registry_rss_kib = registry.peak_rss_kib();
    drop((alice, bob, registry));
    Run {
        mb_s: data.len() as f64 / 1e6 / secs,
        rtt_ms,
        registry_rss_kib,
    }
}
