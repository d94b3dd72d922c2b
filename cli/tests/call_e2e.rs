//! End-to-end: a video call between two `confab peer --json` processes on
//! 127.0.0.1 (issue 21). alice calls bob with the test pattern; after five
//! seconds of call (five `call_stats` from bob) alice hangs up; bob's
//! `--media-out` file holds the frames, each decodes, and the numbers the
//! pattern carries only grow. Chat keeps working during the call.

mod support;

use std::path::{Path, PathBuf};

use serde_json::json;
use support::{Net, Proc, open_chat, password_of, peer_args, quit};

/// `confab peer` for `name` with calls' flags added.
fn caller(net: &Net, name: &str, extra: &[&str]) -> Proc {
    let mut args = peer_args(name, Some(net.addr), &net.home(name), &net.share(name));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let pw = password_of(name);
    let mut p = Proc::start(name, &args, &[("CONFAB_PASSWORD", &pw)]);
    p.expect(json!({"event": "ready", "name": name}));
    p
}

/// The JPEG frames of an `.mjpeg` file: each ends at its EOI marker
/// (`FF D9`, which entropy-coded data never holds: an `FF` byte there is
/// always followed by `00`).
fn frames(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let mut out = vec![];
    let mut start = 0;
    for i in 1..bytes.len() {
        if bytes[i - 1] == 0xFF && bytes[i] == 0xD9 {
            out.push(bytes[start..=i].to_vec());
            start = i + 1;
        }
    }
    assert_eq!(start, bytes.len(), "trailing bytes after the last frame");
    out
}

/// The number the test pattern wrote in a decoded RGB frame's corner (see
/// `cli/src/peer/call/testsrc.rs`: 32 blocks of 16x16, 8 across).
fn number(rgb: &[u8], width: usize) -> u32 {
    let mut n = 0u32;
    for bit in 0..32 {
        let (bx, by) = ((bit % 8) * 16, (bit / 8) * 16);
        let mut sum = 0u32;
        for y in by + 4..by + 12 {
            for x in bx + 4..bx + 12 {
                sum += u32::from(rgb[(y * width + x) * 3 + 1]);
            }
        }
        let mean = sum / 64;
        assert!(!(64..192).contains(&mean), "bit {bit} unreadable: {mean}");
        n = n << 1 | u32::from(mean >= 128);
    }
    n
}

#[test]
fn a_five_second_call_is_saved_in_order_and_decodes() {
    let net = Net::new();
    let out = net.home("bob").join("calls");
    let out_s = out.to_str().unwrap().to_owned();
    let mut alice = caller(&net, "alice", &["--video", "testsrc:160x128@20"]);
    let mut bob = caller(
        &net,
        "bob",
        &["--media-out", &out_s, "--video", "testsrc:160x128@20"],
    );
    open_chat(&mut alice, &mut bob);

    alice.send("/call bob");
    let req = bob.expect(json!({"event": "call_request", "from": "alice"}));
    bob.send(&format!("/accept {}", req["id"]));
    alice.expect(json!({"event": "call_started", "with": "bob"}));
    bob.expect(json!({"event": "call_started", "with": "alice"}));

    // Chat during the call.
    alice.send("/msg bob hello during the call");
    bob.expect(json!({"event": "message", "from": "alice", "text": "hello during the call"}));

    // Five seconds of call, counted by bob's once-a-second stats.
    for _ in 0..5 {
        bob.expect(json!({"event": "call_stats", "with": "alice"}));
    }
    alice.send("/hangup");
    alice.expect(json!({"event": "call_ended", "with": "bob", "reason": "hung up"}));
    let end = bob.expect(json!({"event": "call_ended", "with": "alice"}));
    let path = PathBuf::from(end["path"].as_str().expect("bob saved the call"));
    assert!(path.starts_with(&out), "{path:?}");
    let received = end["frames_received"].as_u64().unwrap();
    // 20 frames a second for at least 5 s; loopback loses next to nothing.
    assert!(received >= 80, "only {received} frames received: {end}");

    let saved = frames(&path);
    assert_eq!(saved.len() as u64, received, "every frame shown is saved");
    let mut last = None;
    for jpeg in &saved {
        let mut d = zune_jpeg::JpegDecoder::new(std::io::Cursor::new(jpeg));
        let rgb = d.decode().expect("every saved frame decodes");
        let (w, h) = d.dimensions().unwrap();
        assert_eq!((w, h), (160, 128));
        let n = number(&rgb, w);
        assert!(last.is_none_or(|l| n > l), "frame {n} after {last:?}");
        last = Some(n);
    }
    quit(&mut alice);
    quit(&mut bob);
}
