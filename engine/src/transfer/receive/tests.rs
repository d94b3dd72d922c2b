//! Regression tests of [`ReceiveTransfer`] against a real [`SendTransfer`],
//! messages delivered in order, file outputs answered at once.

use std::collections::VecDeque;
// The sans-IO scan (`tests/all/sans_io.rs`) skips what follows a `cfg(test)`
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
    let get2 = r.poll_message().expect("asked again");
    // Both `Get`s reach the sender, which answers both on the live link.
    let mut s = SendTransfer::fetch(now, TransferId(9), KEY, Name::new("r").unwrap(), f, cfg());
    let mut link = Link::default();
    link.to_s.push_back(get2);
    link.settle(now, (&mut s, &mut sf, &mut se), (&mut r, &mut rf, &mut re));
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

#[test]
fn a_cancel_after_done_changes_nothing() {
    let now = Instant::now();
    let bytes = vec![5u8; 250];
    let mut sf = MemFiles::new();
    sf.put_shared("f", MemFile::from_bytes(&bytes));
    let mut rf = MemFiles::new();
    let (mut se, mut re) = (Vec::new(), Vec::new());
    let f = FileName::new("f").unwrap();
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
    let mut s = SendTransfer::fetch(now, TransferId(9), KEY, Name::new("r").unwrap(), f, cfg());
    // Everything but the receiver's `Complete`, which is held back.
    let mut link = Link {
        hold_complete: true,
        ..Link::default()
    };
    link.settle(now, (&mut s, &mut sf, &mut se), (&mut r, &mut rf, &mut re));
    assert!(
        matches!(re.last(), Some(TransferEvent::Done { .. })),
        "{re:?}"
    );
    r.cancel(now);
    link.hold_complete = false;
    link.settle(now, (&mut s, &mut sf, &mut se), (&mut r, &mut rf, &mut re));
    assert!(
        matches!(re.last(), Some(TransferEvent::Done { .. })),
        "{re:?}"
    );
    assert!(
        matches!(se.last(), Some(TransferEvent::Done { .. })),
        "{se:?}"
    );
    assert!(r.is_over() && s.is_over());
    assert_eq!(rf.download("f").map(MemFile::bytes), Some(bytes));
}

/// Messages in flight both ways, delivered in order.
#[derive(Default)]
struct Link {
    to_r: VecDeque<TransferMessage>,
    to_s: VecDeque<TransferMessage>,
    /// Keep the receiver's `Complete` from the sender.
    hold_complete: bool,
}

type End<'a, T> = (&'a mut T, &'a mut MemFiles, &'a mut Vec<TransferEvent>);

impl Link {
    /// Runs both sides until nothing moves.
    fn settle(
        &mut self,
        now: Instant,
        (s, sf, se): End<'_, SendTransfer>,
        (r, rf, re): End<'_, ReceiveTransfer>,
    ) {
        for _ in 0..10_000 {
            let mut moved = outputs(now, s, sf, se);
            moved |= outputs(now, r, rf, re);
            while let Some(m) = s.poll_message() {
                self.to_r.push_back(m);
            }
            while let Some(m) = r.poll_message() {
                self.to_s.push_back(m);
            }
            if let Some(m) = self.to_r.pop_front() {
                r.handle_message(now, m);
                moved = true;
            }
            let held = |m: &TransferMessage| matches!(m, TransferMessage::Complete { .. });
            if self
                .to_s
                .front()
                .is_some_and(|m| !(self.hold_complete && held(m)))
            {
                let m = self.to_s.pop_front().expect("just seen");
                s.handle_message(now, m);
                moved = true;
            }
            if !moved {
                return;
            }
        }
        panic!("no end in sight");
    }
}

/// The events `t` reported so far (its other outputs dropped).
fn events_of<T: TransferMachine>(t: &mut T) -> Vec<TransferEvent> {
    let mut events = Vec::new();
    while let Some(o) = t.poll_output() {
        if let Output::Event(e) = o {
            events.push(e);
        }
    }
    events
}

#[test]
fn a_pause_travels_as_its_own_message() {
    let now = Instant::now();
    let f = FileName::new("f").unwrap();
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
    r.pause(now).unwrap();
    assert_eq!(r.poll_message(), Some(TransferMessage::Pause { key: KEY }));
    assert!(r.is_over());

    let mut s = SendTransfer::fetch(now, TransferId(1), KEY, Name::new("r").unwrap(), f, cfg());
    s.handle_message(now, TransferMessage::Pause { key: KEY });
    assert!(s.is_over());
    let said = events_of(&mut s);
    assert!(
        matches!(said.last(), Some(TransferEvent::Paused { reason }) if reason == "paused by r"),
        "{said:?}"
    );
}

/// Only `Pause` pauses: a `Cancel` is a cancel, whatever its reason reads.
#[test]
fn a_cancel_reading_like_a_pause_is_a_cancel() {
    let now = Instant::now();
    let f = FileName::new("f").unwrap();
    let reason = crate::wire::Reason::truncate("paused by mallory");
    let cancel = TransferMessage::Cancel { key: KEY, reason };

    let mut r = ReceiveTransfer::fetch(
        now,
        TransferId(1),
        KEY,
        Name::new("s").unwrap(),
        f.clone(),
        cfg(),
    );
    r.handle_connected(now);
    r.handle_message(now, cancel.clone());
    let said = events_of(&mut r);
    assert!(
        matches!(said.last(), Some(TransferEvent::Failed { reason }) if reason.starts_with("s cancelled")),
        "{said:?}"
    );

    let mut s = SendTransfer::fetch(now, TransferId(1), KEY, Name::new("r").unwrap(), f, cfg());
    s.handle_message(now, cancel);
    let said = events_of(&mut s);
    assert!(
        matches!(said.last(), Some(TransferEvent::Failed { reason }) if reason.starts_with("r cancelled")),
        "{said:?}"
    );
}
