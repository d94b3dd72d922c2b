//! `cargo bench -p confab --bench chat [-- --rounds 300 --messages 3000 --payload 64]`
//!
//! Chat between two `confab peer --json` processes on 127.0.0.1, against
//! references written here, in the same run:
//!
//! - **round trip**: the bench writes `/msg b TEXT` to A's standard input;
//!   when B's `message` line is read, it writes `/msg a REPLY` to B's; the
//!   round trip ends when A's `message` line for the reply is read. Also
//!   `/msg` -> `delivered` on A (one message and its acknowledgement).
//! - **throughput**: N messages A -> B, written to A's standard input with at
//!   most [`WINDOW`] unacknowledged, timed from the first write to the
//!   `delivered` line of the last.
//!
//! References, so that the comparison is fair about what is measured:
//!
//! - **raw peers**: this same program started twice with `--raw-peer`: each
//!   reads the same `/msg NAME TEXT` lines on standard input, sends a frame
//!   (4-byte big-endian length + kind + seq + text) on one TCP connection,
//!   acknowledges each message frame with an ack frame, and prints the same
//!   JSON lines (`sent`, `message`, `delivered`) the same way confab does
//!   (`serde_json`, one flushed line each). The benchmark drives them with
//!   exactly the same code as the confab peers, so the pipes, the JSON
//!   printing and the benchmark's own parsing (a reader thread per child
//!   that stamps each line when read) cost both sides the same; what
//!   differs is what happens inside the peer: confab's engine, MessagePack,
//!   its durable history and outbox, its event loop.
//! - **raw peers with fsync**: the same raw peers, but the receiving one
//!   appends each message to a file and `fdatasync`s it before it shows and
//!   acknowledges it (one sync per message, as a naive durable chat would):
//!   the cost of durability on its own, on this disk.
//! - **raw TCP in-process**: a ping-pong of framed messages of the same
//!   payload between two threads of this program, and a framed one-way
//!   stream acknowledged frame by frame: the floor, with no processes,
//!   pipes or JSON at all.
//!
//! Nothing here asserts on timing: it prints a table, then one JSON line.

mod support;

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Net, Proc, arg_value, percentile};

/// Most messages written ahead of the last `delivered` in the throughput
/// run (confab refuses `/msg` beyond 1000 unacknowledged per peer).
const WINDOW: u64 = 500;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--raw-peer") {
        raw_peer(&args);
        return;
    }
    let num = |flag: &str, default: usize| {
        arg_value(&args, flag).map_or(default, |v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{flag} wants a number, not {v:?}"))
        })
    };
    let rounds = num("--rounds", 300);
    let messages = num("--messages", 3000) as u64;
    let payload = num("--payload", 64).clamp(16, 4096);
    let warmup = (rounds / 10).max(5);
    let load_before = support::loadavg();
    println!(
        "chat benchmark: {rounds} round trips (+{warmup} warm-up), {messages} messages, \
         {payload}-byte texts; load average {load_before}"
    );

    println!("measuring confab...");
    let net = Net::new();
    let mut a = net.peer("a");
    let mut b = net.peer("b");
    support::open_chat(&mut a, &mut b);
    let confab = measure(&mut a, &mut b, rounds, warmup, messages, payload);
    drop((a, b, net));

    println!("measuring raw peers (same pipes and JSON)...");
    let (mut ra, mut rb) = raw_pair(None);
    let raw = measure(&mut ra, &mut rb, rounds, warmup, messages, payload);
    drop((ra, rb));

    println!("measuring raw peers with one fsync per message...");
    let keep = tempfile::tempdir().expect("a temp folder");
    let (mut ra, mut rb) = raw_pair(Some(keep.path()));
    let synced = measure(&mut ra, &mut rb, rounds, warmup, messages, payload);
    drop((ra, rb, keep));

    println!("measuring raw TCP in-process...");
    let tcp_rtt = tcp_ping_pong(rounds, warmup, payload);
    let tcp_rate = tcp_stream(messages, payload);
    let load_after = support::loadavg();

    let p = |v: &[f64], q| percentile(v, q);
    println!();
    println!(
        "## chat round trip on 127.0.0.1, {payload}-byte texts (ms; ratio = confab / reference)"
    );
    println!(
        "{:<46} {:>8} {:>8} {:>9}  target",
        "", "p50", "p99", "ratio p50"
    );
    let rtt_row = |name: &str, v: &[f64], confab_p50: Option<f64>, target: &str| {
        println!(
            "{name:<46} {:>8.3} {:>8.3} {:>9}  {target}",
            p(v, 50.0),
            p(v, 99.0),
            support::ratio(confab_p50, Some(p(v, 50.0)))
        );
    };
    let rtt50 = p(&confab.rtt, 50.0);
    let del50 = p(&confab.delivered, 50.0);
    let rtt_ratio = rtt50 / p(&raw.rtt, 50.0);
    rtt_row("confab: /msg, reply, message", &confab.rtt, None, "");
    rtt_row(
        "raw peers, same pipes and JSON",
        &raw.rtt,
        Some(rtt50),
        &format!(
            "<= 1.50x: {}",
            if rtt_ratio <= 1.5 { "met" } else { "MISSED" }
        ),
    );
    rtt_row(
        "raw peers, one fsync per message received",
        &synced.rtt,
        Some(rtt50),
        "",
    );
    rtt_row(
        "raw TCP ping-pong in-process (floor)",
        &tcp_rtt,
        Some(rtt50),
        "",
    );
    rtt_row(
        "confab: /msg -> delivered (one way + ack)",
        &confab.delivered,
        None,
        "",
    );
    rtt_row(
        "raw peers: /msg -> delivered",
        &raw.delivered,
        Some(del50),
        "",
    );
    rtt_row(
        "raw peers with fsync: /msg -> delivered",
        &synced.delivered,
        Some(del50),
        "",
    );

    println!();
    println!(
        "## one-way throughput with acknowledgements, {messages} messages (ratio = confab / reference)"
    );
    println!("{:<46} {:>10} {:>9}  target", "", "msgs/s", "ratio");
    let rate_row = |name: &str, rate: f64, target: &str| {
        println!(
            "{name:<46} {rate:>10.0} {:>9}  {target}",
            support::ratio(Some(confab.rate), Some(rate))
        );
    };
    println!(
        "{:<46} {:>10.0} {:>9}",
        "confab: /msg x N -> last delivered", confab.rate, ""
    );
    let rate_ratio = confab.rate / raw.rate;
    rate_row(
        "raw peers, same pipes and JSON",
        raw.rate,
        &format!(
            ">= 0.50x: {}",
            if rate_ratio >= 0.5 { "met" } else { "MISSED" }
        ),
    );
    rate_row("raw peers, one fsync per message received", synced.rate, "");
    rate_row("raw framed TCP stream in-process (floor)", tcp_rate, "");
    println!("load average before {load_before}, after {load_after}");

    let ms = |v: f64| (v * 1000.0).round() / 1000.0;
    let line = json!({
        "bench": "chat",
        "payload_bytes": payload,
        "rounds": rounds,
        "messages": messages,
        "confab_rtt_p50_ms": ms(p(&confab.rtt, 50.0)),
        "confab_rtt_p99_ms": ms(p(&confab.rtt, 99.0)),
        "confab_delivered_p50_ms": ms(p(&confab.delivered, 50.0)),
        "raw_rtt_p50_ms": ms(p(&raw.rtt, 50.0)),
        "raw_rtt_p99_ms": ms(p(&raw.rtt, 99.0)),
        "raw_fsync_rtt_p50_ms": ms(p(&synced.rtt, 50.0)),
        "raw_fsync_rtt_p99_ms": ms(p(&synced.rtt, 99.0)),
        "raw_fsync_delivered_p50_ms": ms(p(&synced.delivered, 50.0)),
        "confab_vs_raw_fsync_rtt_p50": (rtt50 / p(&synced.rtt, 50.0) * 100.0).round() / 100.0,
        "tcp_rtt_p50_ms": ms(p(&tcp_rtt, 50.0)),
        "tcp_rtt_p99_ms": ms(p(&tcp_rtt, 99.0)),
        "confab_msgs_per_s": confab.rate.round(),
        "raw_msgs_per_s": raw.rate.round(),
        "raw_fsync_msgs_per_s": synced.rate.round(),
        "confab_vs_raw_fsync_msgs": (confab.rate / synced.rate * 100.0).round() / 100.0,
        "tcp_framed_msgs_per_s": tcp_rate.round(),
    });
    println!("{line}");
}

/// What one pair of peers measured: sorted round trips and `/msg` ->
/// `delivered` times (ms), and messages per second.
struct Figures {
    rtt: Vec<f64>,
    delivered: Vec<f64>,
    rate: f64,
}

/// A text of exactly `len` bytes starting with `tag`.
fn text(tag: &str, len: usize) -> String {
    let mut t = format!("{tag}-");
    while t.len() < len {
        t.push('x');
    }
    t.truncate(len);
    t
}

/// Runs the round trips, then the throughput, between `a` and `b` (confab
/// peers or raw peers: the same lines in, the same lines out).
fn measure(
    a: &mut Proc,
    b: &mut Proc,
    rounds: usize,
    warmup: usize,
    messages: u64,
    payload: usize,
) -> Figures {
    let (an, bn) = (a.name.clone(), b.name.clone());
    let mut rtt = Vec::with_capacity(rounds);
    let mut delivered = Vec::with_capacity(rounds);
    for i in 0..warmup + rounds {
        let ping = text(&format!("ping{i}"), payload);
        let pong = text(&format!("pong{i}"), payload);
        let t0 = a.send(&format!("/msg {bn} {ping}"));
        b.wait_for("the ping", |v| {
            v["event"] == "message" && v["text"] == ping.as_str()
        });
        b.send(&format!("/msg {an} {pong}"));
        // The `delivered` line may come before `sent` (the raw peer's
        // reader thread can print the ack before its input thread prints
        // `sent`): keep every ack's time until the seq is known.
        let mut seq = None;
        let mut acks: Vec<(Value, Instant)> = Vec::new();
        let mut back_at = None;
        let ack_of = |seq: &Option<Value>, acks: &[(Value, Instant)]| {
            seq.as_ref()
                .and_then(|s| acks.iter().find(|(a, _)| a == s).map(|(_, at)| *at))
        };
        while ack_of(&seq, &acks).is_none() || back_at.is_none() {
            let l = a
                .next(support::PATIENCE)
                .unwrap_or_else(|| panic!("{an}: nothing in time{}", a.report()));
            match l.v["event"].as_str() {
                Some("sent") if seq.is_none() => seq = Some(l.v["seq"].clone()),
                Some("delivered") => acks.push((l.v["seq"].clone(), l.at)),
                Some("message") if l.v["text"] == pong.as_str() => back_at = Some(l.at),
                Some("error") => panic!("{an}: {}", l.v),
                _ => {}
            }
        }
        let ack_at = ack_of(&seq, &acks);
        if i >= warmup {
            rtt.push((back_at.unwrap() - t0).as_secs_f64() * 1e3);
            delivered.push((ack_at.unwrap() - t0).as_secs_f64() * 1e3);
        }
    }
    // B's own sent/delivered lines for its replies are not needed.
    b.clear();
    a.clear();
    rtt.sort_by(f64::total_cmp);
    delivered.sort_by(f64::total_cmp);

    // Throughput: the seq of the first message tells the seq of the last.
    let mut written = 0u64;
    let mut first_seq: Option<u64> = None;
    let mut acked: Option<u64> = None;
    let mut received = 0u64;
    let start = Instant::now();
    let end = loop {
        let ahead = match (first_seq, acked) {
            (Some(f), Some(d)) => written - (d + 1 - f),
            _ => written,
        };
        if written < messages && ahead < WINDOW {
            a.send(&format!(
                "/msg {bn} {}",
                text(&format!("m{written}"), payload)
            ));
            written += 1;
            continue;
        }
        while b.next(Duration::ZERO).is_some() {
            received += 1;
        }
        let Some(l) = a.next(Duration::from_millis(1)) else {
            continue;
        };
        match l.v["event"].as_str() {
            Some("sent") if first_seq.is_none() => first_seq = l.v["seq"].as_u64(),
            Some("delivered") => {
                let s = l.v["seq"].as_u64().expect("a numeric seq");
                acked = Some(acked.map_or(s, |d| d.max(s)));
                if first_seq.is_some_and(|f| s + 1 - f == messages) {
                    break l.at;
                }
            }
            Some("error") => panic!("{an}: {}", l.v),
            _ => {}
        }
    };
    let _ = received;
    let rate = messages as f64 / (end - start).as_secs_f64();
    Figures {
        rtt,
        delivered,
        rate,
    }
}

/// Two raw peers ("a" listening, "b" connected to it), started from this
/// very program with `--raw-peer`; with `keep`, each appends what it
/// receives to a file there and syncs it before showing and acknowledging.
fn raw_pair(keep: Option<&Path>) -> (Proc, Proc) {
    let me = std::env::current_exe().expect("this program's path");
    let me = Path::new(&me);
    let file = |name: &str| keep.map(|d| d.join(name).display().to_string());
    let (fa, fb) = (file("a.log"), file("b.log"));
    let with_keep = |mut args: Vec<&'static str>, f: &Option<String>| -> Vec<String> {
        let mut out: Vec<String> = args.drain(..).map(String::from).collect();
        if let Some(f) = f {
            out.push("--fsync".into());
            out.push(f.clone());
        }
        out
    };
    let args_a = with_keep(
        vec![
            "--raw-peer",
            "--name",
            "a",
            "--peer",
            "b",
            "--listen",
            "127.0.0.1:0",
        ],
        &fa,
    );
    let args_a: Vec<&str> = args_a.iter().map(String::as_str).collect();
    let mut a = Proc::spawn("a", me, &args_a, &[]);
    let ready = a.event("ready", &[]);
    let addr = ready.v["listen"].as_str().expect("an address").to_owned();
    let mut args_b = with_keep(
        vec!["--raw-peer", "--name", "b", "--peer", "a", "--connect"],
        &fb,
    );
    args_b.insert(6, addr);
    let args_b: Vec<&str> = args_b.iter().map(String::as_str).collect();
    let mut b = Proc::spawn("b", me, &args_b, &[]);
    b.event("ready", &[]);
    a.event("chat_opened", &[]);
    (a, b)
}

/// Prints one JSON line the way confab's `--json` printer does.
fn emit(v: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

const MSG: u8 = 0;
const ACK: u8 = 1;

/// Writes one frame: 4-byte big-endian length, kind, 8-byte seq, text.
fn write_frame(w: &mut impl Write, kind: u8, seq: u64, text: &[u8]) -> std::io::Result<()> {
    let len = (1 + 8 + text.len()) as u32;
    let mut f = Vec::with_capacity(4 + len as usize);
    f.extend_from_slice(&len.to_be_bytes());
    f.push(kind);
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(text);
    w.write_all(&f)
}

/// Reads one frame; `None` at the end of the stream.
fn read_frame(r: &mut impl Read) -> Option<(u8, u64, Vec<u8>)> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).ok()?;
    let len = u32::from_be_bytes(len) as usize;
    if !(9..=1 << 20).contains(&len) {
        return None;
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    let seq = u64::from_be_bytes(body[1..9].try_into().unwrap());
    Some((body[0], seq, body[9..].to_vec()))
}

/// `--raw-peer`: the smallest chat peer with the same lines in and out as
/// `confab peer --json` for `/msg`: `sent`, `message`, `delivered`.
fn raw_peer(args: &[String]) {
    let name = arg_value(args, "--name").expect("--name");
    let peer = arg_value(args, "--peer").expect("--peer");
    let stream = if let Some(listen) = arg_value(args, "--listen") {
        let l = TcpListener::bind(&listen).expect("bind");
        emit(
            json!({"event": "ready", "name": name, "listen": l.local_addr().unwrap().to_string()}),
        );
        l.accept().expect("accept").0
    } else {
        let addr = arg_value(args, "--connect").expect("--listen or --connect");
        let s = TcpStream::connect(addr).expect("connect");
        emit(json!({"event": "ready", "name": name}));
        s
    };
    stream.set_nodelay(true).unwrap();
    emit(json!({"event": "chat_opened", "with": peer}));
    let writer = Arc::new(Mutex::new(stream.try_clone().unwrap()));
    let acks = writer.clone();
    let (me, other) = (name.clone(), peer.clone());
    let mut keep = arg_value(args, "--fsync").map(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("the --fsync file")
    });
    std::thread::spawn(move || {
        let mut r = BufReader::new(stream);
        while let Some((kind, seq, text)) = read_frame(&mut r) {
            if kind == MSG {
                if let Some(f) = keep.as_mut() {
                    // Kept before it is shown or acknowledged.
                    f.write_all(&text)
                        .and_then(|()| f.sync_data())
                        .expect("keeping");
                }
                let text = String::from_utf8_lossy(&text);
                emit(json!({"event": "message", "from": other, "to": me, "text": text}));
                let mut w = acks.lock().unwrap();
                if write_frame(&mut *w, ACK, seq, b"").is_err() {
                    break;
                }
            } else {
                emit(json!({"event": "delivered", "to": other, "seq": seq}));
            }
        }
        std::process::exit(0);
    });
    let mut seq = 0u64;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let Some(rest) = line.strip_prefix("/msg ") else {
            emit(json!({"event": "error", "message": "raw peer: /msg only"}));
            continue;
        };
        let text = rest.split_once(' ').map_or("", |(_, t)| t);
        seq += 1;
        if write_frame(&mut *writer.lock().unwrap(), MSG, seq, text.as_bytes()).is_err() {
            break;
        }
        emit(json!({"event": "sent", "to": peer, "seq": seq, "queued": false}));
    }
}

/// Framed ping-pong between two threads over loopback TCP: round trips (ms),
/// sorted.
fn tcp_ping_pong(rounds: usize, warmup: usize, payload: usize) -> Vec<f64> {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let echo = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        s.set_nodelay(true).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        while let Some((_, seq, text)) = read_frame(&mut r) {
            if write_frame(&mut w, MSG, seq, &text).is_err() {
                break;
            }
        }
    });
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let body = text("ping", payload);
    let mut out = Vec::with_capacity(rounds);
    for i in 0..warmup + rounds {
        let t = Instant::now();
        write_frame(&mut w, MSG, i as u64, body.as_bytes()).unwrap();
        read_frame(&mut r).expect("the echo");
        if i >= warmup {
            out.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    drop((w, r));
    let _ = echo.join();
    out.sort_by(f64::total_cmp);
    out
}

/// A framed one-way stream of `messages` frames, each acknowledged by the
/// receiving thread (acks batched per read, as a good implementation
/// would); messages per second until the last ack is read.
fn tcp_stream(messages: u64, payload: usize) -> f64 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let sink = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        s.set_nodelay(true).unwrap();
        let mut w = BufWriter::new(s.try_clone().unwrap());
        let mut r = BufReader::new(s);
        while let Some((_, seq, _)) = read_frame(&mut r) {
            if write_frame(&mut w, ACK, seq, b"").is_err() {
                break;
            }
            if r.buffer().is_empty() && w.flush().is_err() {
                break;
            }
        }
    });
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let body = text("m", payload);
    let start = Instant::now();
    let writer = std::thread::spawn(move || {
        let mut w = BufWriter::new(s);
        for seq in 0..messages {
            write_frame(&mut w, MSG, seq, body.as_bytes()).unwrap();
        }
        w.flush().unwrap();
        w
    });
    loop {
        let (_, seq, _) = read_frame(&mut r).expect("an ack");
        if seq + 1 == messages {
            break;
        }
    }
    let rate = messages as f64 / start.elapsed().as_secs_f64();
    drop(writer.join());
    drop(r);
    let _ = sink.join();
    rate
}
