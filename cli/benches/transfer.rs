//! `cargo bench -p confab --bench transfer [-- --size 256M] [-- --small 64M]`
//!
//! One file of `--size` bytes (default 1 GiB; seeded pseudo-random bytes,
//! written once into a temp folder) fetched with `/get` between two
//! `confab peer --json` processes on 127.0.0.1, verified (the MD5 that
//! `transfer_done` reports, then the received bytes against the original),
//! and, in the same run on the same file, the references users would pick or
//! that bound what is possible: `md5sum` (the hashing limit: confab hashes
//! every byte it sends and receives), `nc` into a file (the copy limit, with
//! no verification), `scp` to a local sshd, and magic-wormhole (skipped, see
//! [`wormhole`]). Also the peak memory of each peer (`VmHWM`) at this size and
//! at a smaller one (`--small`, default 64 MiB), and the latency of chat
//! messages sent behind the file while it moves.
//!
//! Throughput is bytes / seconds in MB/s (10^6 bytes); confab's time runs
//! from writing `/get` to the receiver's `transfer_done` line (verified and
//! renamed into place). Every reference runs on the file while it is in the
//! page cache, as confab's does. Nothing here asserts on timing: it prints a
//! table, then one JSON line.

mod support;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Guard, Net, Proc, arg_value, ensure, free_port, parse_size, percentile};

const MIB: u64 = 1 << 20;
const FILE: &str = "bench.bin";
/// Time between two chat probes sent while the file moves.
const PROBE_EVERY: Duration = Duration::from_millis(200);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let size = arg_value(&args, "--size")
        .map(|s| parse_size(&s).unwrap_or_else(|| panic!("bad --size {s:?} (e.g. 1G, 256M)")))
        .unwrap_or(1 << 30);
    let small = arg_value(&args, "--small")
        .map(|s| parse_size(&s).unwrap_or_else(|| panic!("bad --small {s:?}")))
        .unwrap_or(64 * MIB)
        .min(size / 4)
        .max(1);

    let work = tempfile::tempdir().expect("a temp folder");
    let load_before = support::loadavg();
    println!(
        "transfer benchmark: {size} bytes ({:.1} MiB), small run {small} bytes; load average {load_before}",
        size as f64 / MIB as f64,
    );
    let big_file = work.path().join(FILE);
    let small_file = work.path().join("small.bin");
    write_file(&big_file, size, 8);
    write_file(&small_file, small, 9);

    println!("measuring md5sum...");
    let (md5_secs, md5) = md5sum(&big_file);
    println!("measuring confab at the small size (memory)...");
    let small_run = confab_get(&small_file, small, 0);
    println!("measuring confab...");
    let run = confab_get(&big_file, size, 10);
    assert_eq!(
        run.md5, md5,
        "confab reported MD5 {} but md5sum says {md5}",
        run.md5
    );
    println!("measuring nc...");
    let nc_secs = nc(&big_file, work.path(), size);
    println!("measuring scp...");
    let scp_secs = scp(&big_file, work.path(), size);
    let wormhole = wormhole();
    let load_after = support::loadavg();

    let mb_s = |secs: Option<f64>| secs.map(|s| size as f64 / 1e6 / s);
    let confab = mb_s(Some(run.secs));
    let md5_mb = mb_s(Some(md5_secs));
    let nc_mb = mb_s(nc_secs);
    let scp_mb = mb_s(scp_secs);

    println!();
    println!(
        "## transfer of {size} bytes on 127.0.0.1 (MB = 10^6 bytes; ratio = confab / reference)"
    );
    println!(
        "{:<38} {:>9} {:>9} {:>9}  target",
        "", "seconds", "MB/s", "ratio"
    );
    let row = |name: &str, secs: Option<f64>, mb: Option<f64>, target: &str| match (secs, mb) {
        (Some(s), Some(m)) => println!(
            "{name:<38} {s:>9.3} {m:>9.1} {:>9}  {target}",
            support::ratio(confab, Some(m))
        ),
        _ => println!("{name:<38} {:>9} {:>9} {:>9}  {target}", "-", "-", "-"),
    };
    row("confab /get (MD5-verified)", Some(run.secs), confab, "");
    row(
        "md5sum (hashing limit)",
        Some(md5_secs),
        md5_mb,
        &target(confab, md5_mb, 0.8),
    );
    row("nc -> file (copy limit, unverified)", nc_secs, nc_mb, "");
    row(
        "scp to local sshd",
        scp_secs,
        scp_mb,
        &target(confab, scp_mb, 1.5),
    );
    println!("{:<38} skipped: {wormhole}", "magic-wormhole (local relay)");

    println!();
    println!("## peak resident memory of each peer (VmHWM, KiB)");
    println!("{:>14} {:>14} {:>14}", "file bytes", "sender", "receiver");
    for r in [&small_run, &run] {
        println!(
            "{:>14} {:>14} {:>14}",
            r.bytes,
            opt(r.rss_sender),
            opt(r.rss_receiver)
        );
    }

    println!();
    let mut chat = run.chat_ms.clone();
    chat.sort_by(f64::total_cmp);
    let chat_p50 = (!chat.is_empty()).then(|| percentile(&chat, 50.0));
    println!(
        "## chat during the transfer: {} messages sender -> receiver, behind the file data",
        chat.len()
    );
    if chat.is_empty() {
        println!("(the transfer ended before a message could be sent: use a larger --size)");
    } else {
        let list: Vec<String> = run.chat_ms.iter().map(|m| format!("{m:.1}")).collect();
        println!(
            "ms from /msg to the receiver's message line: p50 {:.1}, max {:.1}  [{}]",
            percentile(&chat, 50.0),
            chat[chat.len() - 1],
            list.join(", ")
        );
    }
    println!("load average before {load_before}, after {load_after}");

    let peak = run.rss_sender.max(run.rss_receiver);
    let peak_small = small_run.rss_sender.max(small_run.rss_receiver);
    let line = json!({
        "bench": "transfer",
        "bytes": size,
        "confab_mb_s": round(confab),
        "md5sum_mb_s": round(md5_mb),
        "nc_mb_s": round(nc_mb),
        "scp_mb_s": round(scp_mb),
        "wormhole_mb_s": Value::Null,
        "peer_peak_rss_kib": peak,
        "small_bytes": small,
        "peer_peak_rss_kib_small": peak_small,
        "chat_during_transfer_ms": chat_p50.map(|m| (m * 10.0).round() / 10.0),
        "chat_during_transfer_max_ms": chat.last().map(|m| (m * 10.0).round() / 10.0),
    });
    println!("{line}");
}

fn round(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |v| json!((v * 10.0).round() / 10.0))
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

fn target(confab: Option<f64>, reference: Option<f64>, want: f64) -> String {
    match (confab, reference) {
        (Some(c), Some(r)) if r > 0.0 => {
            let got = c / r;
            let verdict = if got >= want { "met" } else { "MISSED" };
            format!(">= {want:.2}x: {verdict}")
        }
        _ => format!(">= {want:.2}x: not measured"),
    }
}

/// Writes `len` seeded pseudo-random bytes (xorshift64*) to `path`.
fn write_file(path: &Path, len: u64, seed: u64) {
    let mut out = BufWriter::with_capacity(MIB as usize, File::create(path).unwrap());
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut block = vec![0u8; MIB as usize];
    let mut left = len;
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            word.copy_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
        }
        let take = left.min(MIB) as usize;
        out.write_all(&block[..take]).unwrap();
        left -= take as u64;
    }
    out.flush().unwrap();
}

/// `md5sum FILE`: seconds and the digest.
fn md5sum(path: &Path) -> (f64, String) {
    // A first pass only to be sure the file is in the page cache, like it
    // is for everything else measured here.
    let _ = Command::new("md5sum").arg(path).output();
    let t = Instant::now();
    let out = Command::new("md5sum")
        .arg(path)
        .output()
        .expect("md5sum runs");
    let secs = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "md5sum failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let digest = text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    (secs, digest)
}

/// What one confab `/get` measured.
struct Run {
    bytes: u64,
    secs: f64,
    md5: String,
    rss_sender: Option<u64>,
    rss_receiver: Option<u64>,
    chat_ms: Vec<f64>,
}

/// A registry, a sender "alice" sharing `file`, a receiver "bob"; bob
/// `/get`s it. With `probes` > 0, alice sends chat messages to bob while the
/// file moves (one every [`PROBE_EVERY`], each after the last arrived, at most
/// `probes`), timed to bob's `message` line.
fn confab_get(file: &Path, size: u64, probes: usize) -> Run {
    let net = Net::new();
    let shared = net.share("alice").join(FILE);
    std::fs::hard_link(file, &shared)
        .or_else(|_| std::fs::copy(file, &shared).map(drop))
        .expect("the file in alice's shared folder");
    let mut alice = net.peer("alice");
    let mut bob = net.peer("bob");
    open_chat_with_probes(&mut alice, &mut bob);

    let start = bob.send(&format!("/get alice {FILE}"));
    let mut chat_ms = Vec::new();
    let mut probe: Option<(usize, Instant)> = None;
    let mut next_probe_at = start + PROBE_EVERY;
    let mut sent = 0;
    let done = loop {
        let now = Instant::now();
        if probe.is_none() && sent < probes && now >= next_probe_at {
            let at = alice.send(&format!("/msg bob probe {sent}"));
            probe = Some((sent, at));
            sent += 1;
        }
        // alice's lines are read (and stamped) by her reader thread; drop them.
        while alice.next(Duration::ZERO).is_some() {}
        let Some(line) = bob.next(Duration::from_millis(2)) else {
            continue;
        };
        match line.v["event"].as_str() {
            Some("message") => {
                if let Some((n, at)) = probe
                    && line.v["text"] == format!("probe {n}").as_str()
                {
                    chat_ms.push((line.at - at).as_secs_f64() * 1e3);
                    probe = None;
                    next_probe_at = line.at + PROBE_EVERY;
                }
            }
            Some("transfer_done") if line.v["direction"] == "receive" => break line,
            Some("transfer_failed") => panic!("transfer failed: {}{}", line.v, bob.report()),
            _ => {}
        }
    };
    let secs = (done.at - start).as_secs_f64();
    let rss_sender = alice.peak_rss_kib();
    let rss_receiver = bob.peak_rss_kib();
    let md5 = done.v["md5"].as_str().unwrap_or_default().to_owned();
    let path = PathBuf::from(done.v["path"].as_str().expect("a path"));
    assert!(
        path.starts_with(net.downloads("bob")),
        "received outside the downloads folder: {}",
        path.display()
    );
    assert!(same_bytes(file, &path), "{} differs", path.display());
    let _ = std::fs::remove_file(&path);
    drop((alice, bob));
    Run {
        bytes: size,
        secs,
        md5,
        rss_sender,
        rss_receiver,
        chat_ms,
    }
}

/// bob asks alice for a chat, alice accepts (the probes go alice -> bob).
fn open_chat_with_probes(alice: &mut Proc, bob: &mut Proc) {
    support::open_chat(bob, alice);
}

/// True when both files hold the same bytes.
fn same_bytes(a: &Path, b: &Path) -> bool {
    let (Ok(fa), Ok(fb)) = (File::open(a), File::open(b)) else {
        return false;
    };
    let (mut fa, mut fb) = (
        std::io::BufReader::with_capacity(MIB as usize, fa),
        std::io::BufReader::with_capacity(MIB as usize, fb),
    );
    let (mut ba, mut bb) = (vec![0u8; MIB as usize], vec![0u8; MIB as usize]);
    loop {
        let na = read_full(&mut fa, &mut ba);
        let nb = read_full(&mut fb, &mut bb);
        if na != nb || ba[..na] != bb[..nb] {
            return false;
        }
        if na == 0 {
            return true;
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

/// `nc -l` into a file, `nc -N` from the file; seconds until both exit.
fn nc(file: &Path, dir: &Path, size: u64) -> Option<f64> {
    let nc = ensure("nc", &["netcat-openbsd"])?;
    let out = dir.join("nc.out");
    let port = free_port().port().to_string();
    let mut result = None;
    for _attempt in 0..20 {
        let recv = Command::new(&nc)
            .args(["-l", "-d", "-N", "127.0.0.1", &port])
            .stdin(Stdio::null())
            .stdout(File::create(&out).unwrap())
            .stderr(Stdio::null())
            .spawn();
        let Ok(recv) = recv else {
            println!("  nc: cannot start; skipped");
            return None;
        };
        let mut recv = Guard(recv);
        std::thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        let sent = Command::new(&nc)
            .args(["-N", "127.0.0.1", &port])
            .stdin(File::open(file).unwrap())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !sent.is_ok_and(|s| s.success()) {
            // The listener was not up yet: try again.
            continue;
        }
        let ok = recv.0.wait().is_ok_and(|s| s.success());
        let secs = t.elapsed().as_secs_f64();
        let len = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        if ok && len == size {
            result = Some(secs);
        } else {
            println!("  nc: copied {len} of {size} bytes; skipped");
        }
        break;
    }
    let _ = std::fs::remove_file(&out);
    if result.is_none() {
        println!("  nc: did not complete; skipped");
    }
    result
}

/// `scp` to an sshd of our own on 127.0.0.1 (host and user keys made for the
/// run in a temp folder); seconds for the copy.
fn scp(file: &Path, dir: &Path, size: u64) -> Option<f64> {
    let sshd = ensure("sshd", &["openssh-server"])?;
    let scp = ensure("scp", &["openssh-client"])?;
    let keygen = ensure("ssh-keygen", &["openssh-client"])?;
    let ssh_dir = dir.join("ssh");
    std::fs::create_dir_all(&ssh_dir).ok()?;
    for key in ["host_key", "user_key"] {
        let ok = Command::new(&keygen)
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(ssh_dir.join(key))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            println!("  scp: ssh-keygen failed; skipped");
            return None;
        }
    }
    std::fs::copy(
        ssh_dir.join("user_key.pub"),
        ssh_dir.join("authorized_keys"),
    )
    .ok()?;
    // sshd wants its privilege separation folder.
    let _ = std::fs::create_dir_all("/run/sshd");
    let port = free_port().port();
    let config = ssh_dir.join("sshd_config");
    let d = ssh_dir.display();
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPubkeyAuthentication yes\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n\
             Subsystem sftp internal-sftp\n"
        ),
    )
    .ok()?;
    let log = ssh_dir.join("sshd.log");
    let child = Command::new(&sshd)
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log).ok()?)
        .spawn();
    let Ok(child) = child else {
        println!("  scp: cannot start sshd; skipped");
        return None;
    };
    let _sshd = Guard(child);
    if !support::wait_listening(port, Duration::from_secs(10)) {
        println!(
            "  scp: sshd did not listen; skipped ({})",
            std::fs::read_to_string(&log).unwrap_or_default().trim()
        );
        return None;
    }
    let user = Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())?;
    let dest = ssh_dir.join("scp.out");
    let t = Instant::now();
    let out = Command::new(&scp)
        .arg("-q")
        .args(["-P", &port.to_string(), "-i"])
        .arg(ssh_dir.join("user_key"))
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
        ])
        .arg(file)
        .arg(format!("{user}@127.0.0.1:{}", dest.display()))
        .stdin(Stdio::null())
        .output();
    let secs = t.elapsed().as_secs_f64();
    let len = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&dest);
    match out {
        Ok(o) if o.status.success() && len == size => Some(secs),
        Ok(o) => {
            println!(
                "  scp: failed ({}; copied {len} of {size} bytes); skipped",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            None
        }
        Err(e) => {
            println!("  scp: cannot run: {e}; skipped");
            None
        }
    }
}

/// Why magic-wormhole is not measured.
fn wormhole() -> String {
    println!(
        "  magic-wormhole: skipped: a local run needs a mailbox (rendezvous) server as well as \
         a transit relay; Debian 12 packages the client and the transit relay but not the \
         mailbox server, and without one the client would use the public server on the internet"
    );
    "no local mailbox server (see above)".to_owned()
}
