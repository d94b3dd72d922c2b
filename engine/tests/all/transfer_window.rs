//! How the window and chunk size were chosen: the transfer pair over a
//! 1 Gb/s link at LAN and Wi-Fi latencies, throughput measured in virtual
//! time (`cargo test -p confab-engine --test all transfer_window -- --nocapture`
//! prints the table). Throughput is bounded by window × chunk / RTT, and the
//! longest a chat message waits behind a transfer is one window at link rate,
//! so the default is the smallest window that fills the link at LAN RTTs.

use std::time::Duration;

use confab_engine::limits::{DEFAULT_CHUNK_LEN, DEFAULT_WINDOW};
use confab_engine::testing::{MemFile, MemFiles};
use confab_engine::testing::{Pair, PairConfig};
use confab_engine::transfer::{TransferConfig, TransferEvent};
use confab_engine::wire::Md5;

const RATE: u64 = 125_000_000; // 1 Gb/s
const SIZE: u64 = 4 << 20;

/// Virtual time of one fetch of `size` bytes.
fn elapsed(size: u64, one_way_us: u64, chunk: u32, window: u32, md5: Md5) -> Duration {
    let mut s = MemFiles::new();
    s.put_shared_indexed("f", MemFile::sparse(size, &[]), md5);
    let t = TransferConfig {
        chunk_size: chunk,
        window,
        ..TransferConfig::default()
    };
    let cfg = PairConfig {
        latency: Duration::from_micros(one_way_us),
        rate: Some(RATE),
        io_latency: Duration::from_micros(50),
        split: false,
        framing: false,
        ..PairConfig::both(t)
    };
    let mut p = Pair::fetch(std::time::Instant::now(), 1, cfg, s, MemFiles::new(), "f");
    assert!(p.run(Duration::from_secs(3600), 10_000_000));
    assert!(matches!(
        p.receiver.outcome(),
        Some(TransferEvent::Done { .. })
    ));
    p.elapsed()
}

/// Steady-state throughput in MB/s: the time of a fetch of twice the size
/// minus that of one, so the set-up round trips do not count.
fn throughput(one_way_us: u64, chunk: u32, window: u32, md5s: (Md5, Md5)) -> f64 {
    let one = elapsed(SIZE, one_way_us, chunk, window, md5s.0);
    let two = elapsed(2 * SIZE, one_way_us, chunk, window, md5s.1);
    SIZE as f64 / (two - one).as_secs_f64() / 1e6
}

#[test]
fn window_and_chunk_measurement() {
    let md5 = (
        MemFile::sparse(SIZE, &[]).compute_md5(),
        MemFile::sparse(2 * SIZE, &[]).compute_md5(),
    );
    let latencies = [50u64, 250, 1000, 2500, 5000, 10_000];
    println!(
        "1 Gb/s link (125 MB/s); steady MB/s of a fetch; one-way latency in ms; chat wait = one window at link rate"
    );
    print!("{:>6} {:>7} {:>9}", "chunk", "window", "chat ms");
    for l in latencies {
        print!(" {:>7.2}", l as f64 / 1000.0);
    }
    println!();
    let mut at_default = Vec::new();
    for chunk in [16 * 1024u32, 64 * 1024, 256 * 1024] {
        for window in [4u32, 8, 16, 32, 64] {
            let wait = f64::from(chunk) * f64::from(window) / RATE as f64 * 1000.0;
            print!("{:>5}K {window:>7} {wait:>9.1}", chunk / 1024);
            for l in latencies {
                let mbs = throughput(l, chunk, window, md5);
                print!(" {mbs:>7.1}");
                if chunk == DEFAULT_CHUNK_LEN && window == DEFAULT_WINDOW {
                    at_default.push((l, mbs));
                }
            }
            println!();
        }
    }
    // The defaults fill at least 90 % of the link up to 2.5 ms one way
    // (5 ms RTT: any wired LAN, most Wi-Fi).
    for (l, mbs) in at_default {
        if l <= 2500 {
            assert!(mbs > 0.90 * RATE as f64 / 1e6, "{mbs} MB/s at {l} us");
        }
    }
}
