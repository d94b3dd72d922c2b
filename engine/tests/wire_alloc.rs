//! Hostile bytes never make the decoder allocate much beyond the frame limit.
//!
//! This test binary counts every allocation with a wrapping global allocator
//! and records the peak of live bytes while decoding adversarial inputs:
//! MessagePack length prefixes claiming huge strings, binaries, arrays and
//! maps, at every nesting the message types allow. It holds a single test so
//! no other test thread disturbs the count.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use confab_engine::limits::MAX_FRAME_LEN;
use confab_engine::wire::{Deframer, decode, encode};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                - layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Peak extra bytes allocated while `f` runs.
fn peak_during(f: impl FnOnce()) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    f();
    PEAK.load(Ordering::Relaxed) - base
}

/// MessagePack headers that claim large sizes.
fn liar() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![0xdb, 0xff, 0xff, 0xff, 0xff]), // str32, 4 GiB
        Just(vec![0xc6, 0xff, 0xff, 0xff, 0xff]), // bin32
        Just(vec![0xdd, 0xff, 0xff, 0xff, 0xff]), // array32
        Just(vec![0xdf, 0xff, 0xff, 0xff, 0xff]), // map32
        Just(vec![0xdc, 0xff, 0xff]),             // array16
        Just(vec![0xde, 0xff, 0xff]),             // map16
        Just(vec![0x91]),                         // fixarray 1
        Just(vec![0x81]),                         // fixmap 1
        (0u8..32).prop_map(|i| vec![i]),          // variant / field indices
        "[A-Z][a-z]{2,10}".prop_map(|s| {
            let mut v = vec![0xa0 | s.len() as u8];
            v.extend(s.bytes());
            v
        }),
    ]
}

#[test]
fn decoding_hostile_bytes_stays_within_the_frame_limit() {
    // Inputs here are at most a few KiB, so anything near serde's default
    // 1 MiB pre-allocation for a claimed length is a finding.
    let small_bound = 64 * 1024;
    let bound = 2 * MAX_FRAME_LEN;
    let worst = std::cell::Cell::new(0usize);
    let mut runner = TestRunner::new(ProptestConfig::with_cases(4000));
    runner
        .run(
            &(vec(liar(), 1..24), vec(any::<u8>(), 0..64)),
            |(parts, tail)| {
                let mut body: Vec<u8> = parts.concat();
                body.extend(tail);
                let peak = peak_during(|| {
                    let _ = decode(&body);
                });
                worst.set(worst.get().max(peak));
                prop_assert!(
                    peak <= small_bound,
                    "decoding {} bytes allocated {peak} at peak",
                    body.len()
                );
                Ok(())
            },
        )
        .unwrap();

    // Valid messages cut short at any point, with lying headers spliced in,
    // so the lies land inside nested lists, strings and blobs.
    let mut runner = TestRunner::new(ProptestConfig::with_cases(4000));
    runner
        .run(
            &(common::any_message(), any::<usize>(), vec(liar(), 1..6)),
            |(msg, cut, parts)| {
                let frame = encode(&msg);
                let body = &frame[4..];
                let mut hostile = body[..cut % (body.len() + 1)].to_vec();
                hostile.extend(parts.concat());
                let peak = peak_during(|| {
                    let _ = decode(&hostile);
                });
                worst.set(worst.get().max(peak));
                prop_assert!(
                    peak <= small_bound,
                    "decoding {} bytes allocated {peak} at peak",
                    hostile.len()
                );
                Ok(())
            },
        )
        .unwrap();

    // A deframer fed a maximal frame in small pieces holds about one frame.
    let mut frame = (MAX_FRAME_LEN as u32).to_be_bytes().to_vec();
    frame.extend(std::iter::repeat_n(0xc0u8, MAX_FRAME_LEN));
    let peak = peak_during(|| {
        let mut d = Deframer::new();
        for piece in frame.chunks(64 * 1024) {
            d.push(piece);
            let _ = d.next_message();
        }
    });
    assert!(
        peak <= bound,
        "deframing one maximal frame peaked at {peak}"
    );
    println!("worst decode peak {} bytes;", worst.get());
    println!(" maximal frame peak {peak} bytes; bound {bound}");
}
