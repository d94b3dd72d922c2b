//! Regression tests of [`ReceiveTransfer`] against a real [`SendTransfer`],
//! messages delivered in order, file outputs answered at once.

use std::collections::VecDeque;
// The sans-IO scan (`tests/sans_io.rs`) skips what follows a `cfg(test)`
// attribute: this whole file is test code, which may read the clock.
#[cfg(test)]
use std::time::Instant;

use crate::api::{Output, TransferId};
use crate::testing::files::{MemFile, MemFiles};
use crate::transfer::{
    ReceiveTransfer, SendTransfer, TransferConfig, TransferEvent, TransferMachine,
};
use crate::wire::transfer::{TransferKey, TransferMessage};
use crate::wire::{FileName, Name};

const KEY: TransferKey = TransferKey(7);

fn cfg() -> TransferConfig {
    TransferConfig {
        chunk_size: 100,
        window: 2,
        ..TransferConfig::default()
    }
}

/// Carries out `t`'s file outputs on `files` (answering at once) and keeps
/// its events, until it has no more.
fn outputs<T: TransferMachine>(
    now: Instant,
    t: &mut T,
    files: &mut MemFiles,
    events: &mut Vec<TransferEvent>,
) -> bool {
    let mut any = false;
    while let Some(o) = t.poll_output() {
        any = true;
        match o {
            Output::Event(e) => events.push(e),
            o => {
                if let Some(a) = files.carry_out(o) {
                    t.handle_input(now, a.as_input());
                }
            }
        }
    }
    any
}

#[test]
fn a_get_answered_twice_after_a_crossed_dial_still_completes() {
    let now = Instant::now();
    let bytes: Vec<u8> = (0..450u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut sf = MemFiles::new();
    sf.put_shared("f", MemFile::from_bytes(&bytes));
    let mut rf = MemFiles::new();
    let (mut se, mut re) = (Vec::new(), Vec::new());
    let f = FileName::new("f").unwrap();

    // The receiver asks on a first connection, which is then replaced (a
    // crossed dial resolved), and asks again on the second.
    let mut r = ReceiveTransfer::fetch(
        now,
        TransferId(1),
        KEY,
        Name::new("s").unwrap(),
        f.clone(),
        cfg(),
    );
    r.handle_connected(now);
    assert!(matches!(
        r.poll_message(),
        Some(TransferMessage::Get { .. })
    ));
    r.handle_disconnected(now);
    r.handle_connected(now);
    // Both `Get`s reach the sender, which answers both on the live link.
    let mut s = SendTransfer::fetch(now, TransferId(9), KEY, Name::new("r").unwrap(), f, cfg());
    let mut to_r = VecDeque::new();
    let mut to_s: VecDeque<TransferMessage> = VecDeque::new();
    for _ in 0..10_000 {
        let mut moved = outputs(now, &mut s, &mut sf, &mut se);
        moved |= outputs(now, &mut r, &mut rf, &mut re);
        while let Some(m) = s.poll_message() {
            to_r.push_back(m);
        }
        while let Some(m) = r.poll_message() {
            to_s.push_back(m);
        }
        if let Some(m) = to_r.pop_front() {
            r.handle_message(now, m);
            moved = true;
        }
        if let Some(m) = to_s.pop_front() {
            s.handle_message(now, m);
            moved = true;
        }
        if !moved {
            break;
        }
    }
    assert!(
        matches!(re.last(), Some(TransferEvent::Done { .. })),
        "receiver: {re:?}"
    );
    assert!(
        matches!(se.last(), Some(TransferEvent::Done { .. })),
        "sender: {se:?}"
    );
    assert_eq!(rf.download("f").map(MemFile::bytes), Some(bytes));
}
