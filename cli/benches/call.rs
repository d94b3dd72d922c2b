//! `cargo bench -p confab --bench call [-- --seconds 10 --runs 3 --fps 30 --sizes 640x480,1280x720]`
//!
//! A video call between two `confab peer --json` processes (and a registry)
//! on 127.0.0.1, both sending the numbered test pattern at each size and
//! rate, for `--seconds` of call (counted by the callee's once-a-second
//! `call_stats`), `--runs` times per size; the figures are the median of
//! the runs. Each peer runs with the hidden `--call-probe FILE`: its sending
//! thread marks when it captured frame N, and a decoding thread (the one the
//! full-screen interface uses) marks when it finished decoding a received
//! frame and read N back from its pixels. From those files:
//!
//! - **delivered**: of the frames captured after both sides had the call up
//!   and at least 300 ms before the hang-up (later ones may still be on
//!   their way), the share decoded on the other side, both directions
//!   together. A frame the engine skipped (adapting its rate), the network
//!   or the jitter buffer dropped, or the decoder had no time for, counts
//!   as not delivered.
//! - **latency**: capture to decoded, per frame (the wall clock both
//!   processes share): encoding, sealing, UDP, the jitter buffer's hold and
//!   decoding; p50 and p99.
//! - **CPU**: each process's `utime + stime` (`/proc/PID/stat`) over the
//!   measured seconds, in cores; each side both sends and receives.
//!
//! Targets (issue 21): delivered >= 99 %, p99 <= 50 ms, < 0.5 core a side.
//! The reference, in the same run: encoding and decoding the same pattern
//! at the same quality (80, where a call starts) in this process, one frame
//! after another, as cores at the call's rate: the codec's share of a side.
//! The busiest threads of each side are printed too (`/proc/PID/task`).
//! Nothing here asserts on timing: it prints tables, then one JSON line.

mod support;

#[path = "../src/peer/call/testsrc.rs"]
#[allow(dead_code, unused_imports)]
mod testsrc;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use support::{Net, arg_value, percentile};

/// Frames captured this close to the hang-up are not counted.
const TAIL: Duration = Duration::from_millis(300);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |flag: &str, default: u32| {
        arg_value(&args, flag).map_or(default, |v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{flag} wants a number, not {v:?}"))
        })
    };
    let seconds = num("--seconds", 10);
    let runs = num("--runs", 3).max(1);
    let fps = num("--fps", 30);
    let sizes: Vec<(u16, u16)> = arg_value(&args, "--sizes")
        .unwrap_or_else(|| "640x480,1280x720".into())
        .split(',')
        .map(|s| {
            let (w, h) = s.split_once('x').expect("--sizes WxH,WxH");
            (w.parse().expect("a width"), h.parse().expect("a height"))
        })
        .collect();
    let load_before = support::loadavg();
    println!(
        "call benchmark: test pattern at {fps} fps, {seconds} s of call, {runs} runs per size; \
         load average {load_before}"
    );

    let mut results = vec![];
    for &(w, h) in &sizes {
        let codec = codec_cores(w, h, fps);
        let mut all = vec![];
        for run in 1..=runs {
            let r = call_run(w, h, fps, seconds);
            println!(
                "  {w}x{h} run {run}: delivered {:.2} % ({} of {}), latency p50 {:.1} ms p99 {:.1} ms, \
                 CPU alice {:.3} bob {:.3} cores; load {}",
                r.delivered_pct, r.decoded, r.counted, r.p50, r.p99, r.cpu[0], r.cpu[1], r.load
            );
            for (side, threads) in ["alice", "bob"].iter().zip(&r.threads) {
                let busy: Vec<String> = threads
                    .iter()
                    .take(5)
                    .map(|(name, c)| format!("{name} {c:.3}"))
                    .collect();
                println!("    {side}'s threads (cores): {}", busy.join(", "));
            }
            all.push(r);
        }
        results.push(Summary::of(w, h, codec, &all));
    }
    let load_after = support::loadavg();

    println!();
    println!("## video call on 127.0.0.1, {fps} fps, median of {runs} runs of {seconds} s");
    println!(
        "{:<44} {:>10} {:>10} {:>7}  target",
        "", "figure", "target", "ratio"
    );
    for s in &results {
        let size = format!("{}x{}", s.w, s.h);
        let row = |what: &str, v: f64, target: f64, unit: &str, met: bool| {
            println!(
                "{:<44} {:>10} {:>10} {:>6.2}x  {}",
                format!("{size}: {what}"),
                format!("{v:.2}{unit}"),
                format!("{target}{unit}"),
                v / target,
                if met { "met" } else { "MISSED" }
            );
        };
        row(
            "frames delivered",
            s.delivered_pct,
            99.0,
            " %",
            s.delivered_pct >= 99.0,
        );
        row("capture to decoded p50", s.p50, 50.0, " ms", s.p50 <= 50.0);
        row("capture to decoded p99", s.p99, 50.0, " ms", s.p99 <= 50.0);
        row("CPU alice (caller)", s.cpu[0], 0.5, " core", s.cpu[0] < 0.5);
        row("CPU bob (callee)", s.cpu[1], 0.5, " core", s.cpu[1] < 0.5);
        println!(
            "{:<44} {:>10} {:>10} {:>6.2}x  (reference: encode + decode in-process; ratio = bob / it)",
            format!("{size}: JPEG encode + decode at {fps} fps"),
            format!("{:.3} core", s.codec),
            "",
            s.cpu[1] / s.codec
        );
    }
    println!("load average before {load_before}, after {load_after}");

    let r1 = |v: f64| (v * 10.0).round() / 10.0;
    let r3 = |v: f64| (v * 1000.0).round() / 1000.0;
    let line = json!({
        "bench": "call",
        "fps": fps,
        "seconds": seconds,
        "runs": runs,
        "sizes": results.iter().map(|s| json!({
            "size": format!("{}x{}", s.w, s.h),
            "delivered_pct": (s.delivered_pct * 100.0).round() / 100.0,
            "latency_p50_ms": r1(s.p50),
            "latency_p99_ms": r1(s.p99),
            "cpu_caller_cores": r3(s.cpu[0]),
            "cpu_callee_cores": r3(s.cpu[1]),
            "codec_cores": r3(s.codec),
        })).collect::<Vec<Value>>(),
        "load_before": load_before,
        "load_after": load_after,
    });
    println!("{line}");
}

/// One call's figures.
struct Run {
    counted: usize,
    decoded: usize,
    delivered_pct: f64,
    p50: f64,
    p99: f64,
    cpu: [f64; 2],
    threads: [Vec<(String, f64)>; 2],
    load: String,
}

/// The medians of a size's runs.
struct Summary {
    w: u16,
    h: u16,
    codec: f64,
    delivered_pct: f64,
    p50: f64,
    p99: f64,
    cpu: [f64; 2],
}

impl Summary {
    fn of(w: u16, h: u16, codec: f64, runs: &[Run]) -> Self {
        let med = |f: &dyn Fn(&Run) -> f64| {
            let mut v: Vec<f64> = runs.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        Self {
            w,
            h,
            codec,
            delivered_pct: med(&|r| r.delivered_pct),
            p50: med(&|r| r.p50),
            p99: med(&|r| r.p99),
            cpu: [med(&|r| r.cpu[0]), med(&|r| r.cpu[1])],
        }
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// One call of `seconds` between alice and bob, both sending `w`x`h` at `fps`.
fn call_run(w: u16, h: u16, fps: u32, seconds: u32) -> Run {
    let net = Net::new();
    let video = format!("testsrc:{w}x{h}@{fps}");
    let probe = |name: &str| net.dir.path().join(format!("{name}.probe"));
    let (pa, pb) = (probe("alice"), probe("bob"));
    let peer = |name: &str, p: &Path| {
        net.peer_with(
            name,
            &["--video", &video, "--call-probe", p.to_str().unwrap()],
        )
    };
    let mut alice = peer("alice", &pa);
    let mut bob = peer("bob", &pb);
    support::open_chat(&mut alice, &mut bob);

    alice.send("/call bob");
    let req = bob.event("call_request", &[("from", Value::from("alice"))]);
    bob.send(&format!("/accept {}", req.v["id"]));
    bob.event("call_started", &[("with", Value::from("alice"))]);
    alice.event("call_started", &[("with", Value::from("bob"))]);
    let from_us = now_us();
    let load = support::loadavg();
    let pids = [alice.pid(), bob.pid()];
    let before = pids.map(threads_ticks);
    let t0 = Instant::now();
    for _ in 0..seconds {
        bob.event("call_stats", &[("with", Value::from("alice"))]);
    }
    let after = pids.map(threads_ticks);
    let wall = t0.elapsed().as_secs_f64();
    let until_us = now_us() - TAIL.as_micros() as u64;
    alice.send("/hangup");
    alice.event("call_ended", &[("with", Value::from("bob"))]);
    bob.event("call_ended", &[("with", Value::from("alice"))]);
    let (sa, da) = (marks(&pa, "sent"), marks(&pa, "shown"));
    let (sb, db) = (marks(&pb, "sent"), marks(&pb, "shown"));
    drop((alice, bob, net));

    let tick = clock_tick();
    let cores = |i: usize| {
        let total = |m: &BTreeMap<u32, (String, u64)>| m.values().map(|(_, t)| t).sum::<u64>();
        (total(&after[i]).saturating_sub(total(&before[i]))) as f64 / tick / wall
    };
    let threads = |i: usize| {
        let mut named: BTreeMap<String, f64> = BTreeMap::new();
        for (tid, (name, t)) in &after[i] {
            let t0 = before[i].get(tid).map_or(0, |(_, t)| *t);
            *named.entry(name.clone()).or_default() += t.saturating_sub(t0) as f64 / tick / wall;
        }
        let mut v: Vec<(String, f64)> = named.into_iter().filter(|(_, c)| *c > 0.0).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    };

    let mut lat = vec![];
    let mut counted = 0;
    let mut missing = vec![];
    for (sent, shown) in [(&sa, &db), (&sb, &da)] {
        for (n, at) in sent {
            if *at < from_us || *at > until_us {
                continue;
            }
            counted += 1;
            if let Some(done) = shown.get(n) {
                lat.push(done.saturating_sub(*at) as f64 / 1000.0);
            } else {
                // How long after the frame before it this one was captured.
                let gap = n
                    .checked_sub(1)
                    .and_then(|p| sent.get(&p))
                    .map_or(0, |p| at.saturating_sub(*p) / 1000);
                missing.push(format!("{n} ({gap} ms)"));
            }
        }
    }
    if !missing.is_empty() {
        println!(
            "    not decoded (frame, ms since the frame before it was captured): {}",
            missing.join(", ")
        );
    }
    lat.sort_by(f64::total_cmp);
    Run {
        counted,
        decoded: lat.len(),
        delivered_pct: 100.0 * lat.len() as f64 / counted.max(1) as f64,
        p50: percentile(&lat, 50.0),
        p99: percentile(&lat, 99.0),
        cpu: [cores(0), cores(1)],
        threads: [threads(0), threads(1)],
        load,
    }
}

/// `what N US` lines of a probe file: N -> the first US.
fn marks(path: &Path, what: &str) -> BTreeMap<u32, u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        if w.next() != Some(what) {
            continue;
        }
        if let (Some(Ok(n)), Some(Ok(us))) = (w.next().map(str::parse), w.next().map(str::parse)) {
            m.entry(n).or_insert(us);
        }
    }
    m
}

/// Each thread of `pid`: its name and `utime + stime`, in clock ticks.
fn threads_ticks(pid: u32) -> BTreeMap<u32, (String, u64)> {
    let mut m = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return m;
    };
    for e in dir.flatten() {
        let Some(tid) = e.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // `PID (COMM) STATE ...`: COMM may hold spaces, so split at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let field = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        // Fields 14 and 15 of stat(5); `rest` starts at field 3.
        m.insert(tid, (name, field(11) + field(12)));
    }
    m
}

fn clock_tick() -> f64 {
    // SAFETY: sysconf has no preconditions and touches no memory.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// The reference: encoding (quality 80) and decoding `fps` frames of the
/// pattern in this process, in cores at `fps` frames a second.
fn codec_cores(w: u16, h: u16, fps: u32) -> f64 {
    let frames: Vec<Vec<u8>> = (0..fps).map(|n| testsrc::frame(n, w, h)).collect();
    let mut busy = Duration::ZERO;
    for (n, rgb) in frames.iter().enumerate() {
        let t = Instant::now();
        let mut jpeg = Vec::with_capacity(rgb.len() / 8);
        jpeg_encoder::Encoder::new(&mut jpeg, 80)
            .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
            .expect("the pattern encodes");
        let mut d = zune_jpeg::JpegDecoder::new(std::io::Cursor::new(&jpeg));
        let out = d.decode().expect("the pattern decodes");
        busy += t.elapsed();
        assert_eq!(
            testsrc::read_number(&out, w as usize, 3),
            Some(n as u32),
            "the pattern's number survives"
        );
    }
    busy.as_secs_f64()
}
