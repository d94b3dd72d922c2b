//! Call datagrams under fuzzing (issue 21), two ways from one input:
//!
//! 1. the bytes as a datagram from anyone: [`Header::parse`] and an
//!    [`Opener`] that does not hold their key must refuse them without
//!    panicking (a forgery never authenticates);
//! 2. the bytes as a script of plaintexts that a real peer seals: each is
//!    opened (it must open, once, and equal what was sealed), parsed as a
//!    fragment, and pushed into a [`Receiver`] at a time the script moves
//!    on; whatever the fragments claim, frames leave in strictly increasing
//!    numbers, each within [`MAX_CALL_FRAME_LEN`], and a replayed datagram
//!    is refused.

use std::time::{Duration, Instant};

use confab_engine::call::datagram::{Fragment, Header};
use confab_engine::call::jitter::Receiver;
use confab_engine::call::keys::{Opener, Refused, Sealer, Way};
use confab_engine::limits::{MAX_CALL_FRAME_LEN, MAX_DATAGRAM_LEN};

/// Runs both checks on `data`.
pub fn run(data: &[u8]) {
    stranger(data);
    let _ = script(data);
}

fn stranger(data: &[u8]) {
    let Some(h) = Header::parse(data) else {
        return;
    };
    let mut o = Opener::new(h.call, &[3; 32], &[4; 32], Way::CallerToCallee);
    let mut buf = [0u8; MAX_DATAGRAM_LEN];
    assert!(o.open(h, data, &mut buf).is_err(), "a forgery opened");
}

/// Plays the script; returns how many frames were shown.
fn script(mut data: &[u8]) -> usize {
    let (a, b) = ([1u8; 32], [2u8; 32]);
    let mut sealer = Sealer::new(9, &a, &b, Way::CallerToCallee);
    let mut opener = Opener::new(9, &a, &b, Way::CallerToCallee);
    let t0 = Instant::now();
    let mut now = t0;
    let mut r = Receiver::new(t0);
    let mut last: Option<u32> = None;
    let mut buf = [0u8; MAX_DATAGRAM_LEN];
    let mut count = 0;
    // Each step: a 16-bit length, a time step in ms, the plaintext.
    while data.len() >= 3 {
        let len = (usize::from(u16::from_be_bytes([data[0], data[1]]))).min(data.len() - 3);
        now += Duration::from_millis(u64::from(data[2]));
        let plain = &data[3..3 + len];
        data = &data[3 + len..];
        let Some(d) = sealer.seal(plain) else {
            continue; // too long for one datagram
        };
        let h = Header::parse(&d).expect("a sealed datagram parses");
        let opened = opener
            .open(h, &d, &mut buf)
            .expect("a sealed datagram opens");
        assert_eq!(opened, plain);
        if let Some(f) = Fragment::parse(opened) {
            r.push(now, f);
        }
        assert_eq!(opener.open(h, &d, &mut buf), Err(Refused::Replay));
        for shown in r.poll(now) {
            assert!(last.is_none_or(|l| shown.frame > l), "out of order");
            assert!(shown.jpeg.len() <= MAX_CALL_FRAME_LEN);
            last = Some(shown.frame);
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_engine::call::fragment::split;

    #[test]
    fn hostile_and_scripted_inputs_hold() {
        run(&[]);
        run(&[0xC1; 40]);
        run(&vec![0xFF; 5000]);
        // A script of real fragments, out of order, with a duplicate.
        let jpeg = vec![7u8; 3000];
        let mut script_bytes = vec![];
        let mut parts: Vec<Vec<u8>> = split(0, 0, &jpeg)
            .unwrap()
            .iter()
            .map(|f| {
                let mut p = vec![];
                f.write(&mut p);
                p
            })
            .collect();
        parts.swap(0, 2);
        parts.push(parts[1].clone());
        for p in parts {
            script_bytes.extend_from_slice(&(p.len() as u16).to_be_bytes());
            script_bytes.push(1);
            script_bytes.extend_from_slice(&p);
        }
        run(&script_bytes);
        assert_eq!(script(&script_bytes), 1, "the frame is shown once");
    }
}
