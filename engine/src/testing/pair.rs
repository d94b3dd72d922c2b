//! [`Pair`]: a sender and a receiver sub-machine joined by a simulated
//! connection, each with a [`MemFiles`] store, for tests (after quinn-proto's
//! `Pair`). It plays the peer role's part: it routes messages, makes the
//! sub-machine a `Get` or `Offer` calls for, answers unknown keys with
//! `Cancel`, keeps records, reconnects, and restarts either side from its
//! records. A virtual clock jumps to the next thing due. Test harness only
//! (feature `testing`): it drives the sub-machines through their public API.
//!
//! The link has a one-way latency and optionally a rate (bytes per second),
//! messages are framed and deframed exactly as on a real connection (frames
//! split at random bytes when `split` is on), and file answers come back
//! after an I/O latency. Every random choice comes from the seed.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::api::{Output, TransferId};
use crate::record::{Record, RecordKey};
use crate::rng::Rng;
use crate::testing::files::{FileAnswer, MemFiles};
use crate::transfer::{
    ReceiveTransfer, SendTransfer, TransferConfig, TransferEvent, TransferRecord,
};
use crate::wire::transfer::{TransferKey, TransferMessage};
use crate::wire::{Deframer, FileName, Message, Name, Reason, encode};

/// How the pair's link and disks behave.
#[derive(Debug, Clone)]
pub struct PairConfig {
    /// One-way latency of the link.
    pub latency: Duration,
    /// Link rate in bytes per second (`None`: unlimited).
    pub rate: Option<u64>,
    /// Time a file output takes to be answered.
    pub io_latency: Duration,
    /// Split frames at random byte boundaries.
    pub split: bool,
    /// Encode and decode frames (off only for huge-file tests, where copying
    /// gigabytes through the codec in a debug build costs time and proves
    /// nothing the other tests do not).
    pub framing: bool,
    /// The sender's transfer settings.
    pub sender: TransferConfig,
    /// The receiver's transfer settings.
    pub receiver: TransferConfig,
    /// Answer an offer at once: `Some(true)` accept, `Some(false)` decline,
    /// `None` leave it to the test.
    pub answer: Option<bool>,
    /// How long after a drop the connection comes back.
    pub reconnect_after: Duration,
}

impl Default for PairConfig {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(1),
            rate: None,
            io_latency: Duration::from_micros(100),
            split: true,
            framing: true,
            sender: TransferConfig::default(),
            receiver: TransferConfig::default(),
            answer: Some(true),
            reconnect_after: Duration::from_millis(50),
        }
    }
}

impl PairConfig {
    /// The default link and disks, with both sides using `transfer`.
    pub fn both(transfer: TransferConfig) -> Self {
        Self {
            sender: transfer.clone(),
            receiver: transfer,
            ..Self::default()
        }
    }

    /// The default link and disks, with both sides moving `chunk`-byte
    /// chunks, at most `window` of them unacknowledged.
    pub fn windowed(chunk: u32, window: u32) -> Self {
        Self::both(TransferConfig {
            chunk_size: chunk,
            window,
            ..TransferConfig::default()
        })
    }
}

/// One side: its machine (none before it is made, or while crashed), its
/// disk, its records and what it reported.
pub struct Side<T> {
    /// The sub-machine.
    pub machine: Option<T>,
    /// Its files.
    pub files: MemFiles,
    /// Its persisted records.
    pub records: BTreeMap<RecordKey, Record>,
    /// Everything it reported, with when.
    pub events: Vec<(Instant, TransferEvent)>,
    io: BTreeMap<(Instant, u64), FileAnswer>,
    deframer: Deframer,
    next_id: u64,
}

impl<T> Side<T> {
    fn new(files: MemFiles) -> Self {
        Self {
            machine: None,
            files,
            records: BTreeMap::new(),
            events: Vec::new(),
            io: BTreeMap::new(),
            deframer: Deframer::new(),
            next_id: 1,
        }
    }

    /// The last `Done` or `Failed` it reported.
    pub fn outcome(&self) -> Option<&TransferEvent> {
        self.events
            .iter()
            .rev()
            .map(|(_, e)| e)
            .find(|e| matches!(e, TransferEvent::Done { .. } | TransferEvent::Failed { .. }))
    }

    /// The notices it reported.
    pub fn notices(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                TransferEvent::Notice(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }
}

/// See the module documentation.
pub struct Pair {
    /// The settings.
    pub config: PairConfig,
    /// Virtual time.
    pub now: Instant,
    start: Instant,
    rng: Rng,
    seq: u64,
    /// The sending side.
    pub sender: Side<SendTransfer>,
    /// The receiving side.
    pub receiver: Side<ReceiveTransfer>,
    /// Frames in flight: toward the receiver (0) and the sender (1).
    wire: [VecDeque<(Instant, Frame)>; 2],
    link_free: [Instant; 2],
    connected: bool,
    reconnect_at: Option<Instant>,
    key: TransferKey,
    /// Bytes carried each way.
    pub carried: [u64; 2],
}

fn peer_name(s: &str) -> Name {
    Name::new(s).expect("a valid name")
}

/// What travels on the simulated link.
enum Frame {
    /// Bytes of frames, split anywhere.
    Bytes(Vec<u8>),
    /// A whole message, unframed (`framing` off).
    Message(TransferMessage),
}

impl Pair {
    fn new(start: Instant, seed: u64, config: PairConfig, s: MemFiles, r: MemFiles) -> Self {
        let now = start;
        Self {
            config,
            now,
            start: now,
            rng: Rng::new(seed),
            seq: 0,
            sender: Side::new(s),
            receiver: Side::new(r),
            wire: Default::default(),
            link_free: [now; 2],
            connected: false,
            reconnect_at: None,
            key: TransferKey(seed ^ 0x5eed),
            carried: [0; 2],
        }
    }

    /// A `/get name` of the receiver from the sender's shared folder.
    pub fn fetch(
        start: Instant,
        seed: u64,
        config: PairConfig,
        s: MemFiles,
        r: MemFiles,
        name: &str,
    ) -> Self {
        let mut p = Self::new(start, seed, config, s, r);
        let name = FileName::new(name).expect("a valid file name");
        let id = p.mint_receiver_id();
        let t = ReceiveTransfer::fetch(
            p.now,
            id,
            p.key,
            peer_name("sender"),
            name,
            p.config.receiver.clone(),
        );
        p.receiver.machine = Some(t);
        p.connect();
        p
    }

    /// A `/send path` of the sender to the receiver.
    pub fn offer(
        start: Instant,
        seed: u64,
        config: PairConfig,
        s: MemFiles,
        r: MemFiles,
        path: &str,
    ) -> Self {
        let mut p = Self::new(start, seed, config, s, r);
        let id = TransferId(p.sender.next_id);
        p.sender.next_id += 1;
        let t = SendTransfer::offer(
            p.now,
            id,
            p.key,
            peer_name("receiver"),
            path.into(),
            p.config.sender.clone(),
        );
        p.sender.machine = Some(t);
        p.connect();
        p
    }

    fn mint_receiver_id(&mut self) -> TransferId {
        let id = TransferId(self.receiver.next_id);
        self.receiver.next_id += 1;
        id
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Whether both sides are over (or gone) and nothing is in flight.
    pub fn settled(&self) -> bool {
        let over = |m: Option<bool>| m.unwrap_or(true);
        over(self.sender.machine.as_ref().map(|m| m.is_over()))
            && over(self.receiver.machine.as_ref().map(|m| m.is_over()))
            && self.wire.iter().all(|w| w.is_empty())
            && self.receiver.io.is_empty()
    }

    // ---- faults --------------------------------------------------------

    /// Drops the connection now; it comes back after `reconnect_after`.
    pub fn disconnect(&mut self) {
        if !self.connected {
            return;
        }
        self.connected = false;
        self.wire = Default::default();
        self.sender.deframer = Deframer::new();
        self.receiver.deframer = Deframer::new();
        let now = self.now;
        if let Some(m) = self.sender.machine.as_mut() {
            m.handle_disconnected(now);
        }
        if let Some(m) = self.receiver.machine.as_mut() {
            m.handle_disconnected(now);
        }
        self.reconnect_at = Some(now + self.config.reconnect_after);
        self.pump();
    }

    fn connect(&mut self) {
        self.connected = true;
        self.reconnect_at = None;
        let now = self.now;
        if let Some(m) = self.receiver.machine.as_mut() {
            m.handle_connected(now);
        }
        if let Some(m) = self.sender.machine.as_mut() {
            m.handle_connected(now);
        }
        self.pump();
    }

    /// Crashes the sender and starts it again from its records.
    pub fn restart_sender(&mut self) {
        self.disconnect();
        self.sender.machine = None;
        self.sender.io.clear();
        self.sender.files.crash();
        let cfg = self.config.sender.clone();
        for r in self.sender.records.values() {
            if let Record::Transfer(t) = r {
                self.sender.machine = SendTransfer::restore(self.now, t.clone(), cfg.clone());
            }
        }
        self.pump();
    }

    /// Crashes the receiver and starts it again from its records.
    pub fn restart_receiver(&mut self) {
        self.disconnect();
        self.receiver.machine = None;
        self.receiver.io.clear();
        self.receiver.files.crash();
        let cfg = self.config.receiver.clone();
        for r in self.receiver.records.values() {
            if let Record::Transfer(t) = r {
                self.receiver.machine = ReceiveTransfer::restore(self.now, t.clone(), cfg.clone());
            }
        }
        self.pump();
    }

    /// The user of the sender cancels.
    pub fn cancel_sender(&mut self) {
        if let Some(m) = self.sender.machine.as_mut() {
            m.cancel(self.now);
        }
        self.pump();
    }

    /// The user of the receiver cancels.
    pub fn cancel_receiver(&mut self) {
        if let Some(m) = self.receiver.machine.as_mut() {
            m.cancel(self.now);
        }
        self.pump();
    }

    /// The receiver's user answers a pending offer.
    pub fn answer(&mut self, accept: bool) {
        let now = self.now;
        if let Some(m) = self.receiver.machine.as_mut() {
            if accept {
                m.accept(now);
            } else {
                m.decline(now);
            }
        }
        self.pump();
    }

    // ---- running ---------------------------------------------------------

    /// Steps until the receiver's download `name` (a `.part`, say) holds at
    /// least `len` bytes; panics if the pair settles first.
    pub fn step_until_download(&mut self, name: &str, len: u64) {
        while self
            .receiver
            .files
            .download(name)
            .is_none_or(|f| f.len() < len)
        {
            assert!(self.step(), "settled before {name} held {len} bytes");
        }
    }

    /// Does the next thing due; `false` if nothing is left to do.
    pub fn step(&mut self) -> bool {
        let mut next: Option<(Instant, u8)> = None;
        let mut consider = |t: Option<Instant>, what: u8| {
            if let Some(t) = t.filter(|t| next.is_none_or(|(n, _)| *t < n)) {
                next = Some((t, what));
            }
        };
        consider(self.wire[0].front().map(|w| w.0), 0);
        consider(self.wire[1].front().map(|w| w.0), 1);
        consider(self.sender.io.keys().next().map(|k| k.0), 2);
        consider(self.receiver.io.keys().next().map(|k| k.0), 3);
        consider(
            self.sender.machine.as_ref().and_then(|m| m.poll_timeout()),
            4,
        );
        consider(
            self.receiver
                .machine
                .as_ref()
                .and_then(|m| m.poll_timeout()),
            5,
        );
        consider(self.reconnect_at, 6);
        let Some((at, what)) = next else {
            return false;
        };
        self.now = self.now.max(at);
        let now = self.now;
        match what {
            0 | 1 => {
                let Some((_, frame)) = self.wire[what as usize].pop_front() else {
                    return true;
                };
                self.deliver(what == 0, frame);
            }
            2 => {
                let answer = self.sender.io.pop_first();
                if let (Some((_, a)), Some(m)) = (answer, self.sender.machine.as_mut()) {
                    m.handle_input(now, a.as_input());
                }
            }
            3 => {
                let answer = self.receiver.io.pop_first();
                if let (Some((_, a)), Some(m)) = (answer, self.receiver.machine.as_mut()) {
                    m.handle_input(now, a.as_input());
                }
            }
            4 => {
                if let Some(m) = self.sender.machine.as_mut() {
                    m.handle_timeout(now);
                }
            }
            5 => {
                if let Some(m) = self.receiver.machine.as_mut() {
                    m.handle_timeout(now);
                }
            }
            _ => self.connect(),
        }
        self.pump();
        true
    }

    /// Runs until settled or `max` of virtual time or `max_steps` steps;
    /// returns whether it settled.
    pub fn run(&mut self, max: Duration, max_steps: u64) -> bool {
        let limit = self.now + max;
        for _ in 0..max_steps {
            if self.settled() {
                return true;
            }
            if self.now > limit || !self.step() {
                return self.settled();
            }
        }
        self.settled()
    }

    fn deliver(&mut self, to_receiver: bool, frame: Frame) {
        let msgs: Vec<TransferMessage> = match frame {
            Frame::Bytes(bytes) => {
                let d = if to_receiver {
                    &mut self.receiver.deframer
                } else {
                    &mut self.sender.deframer
                };
                d.push(&bytes);
                let mut out = Vec::new();
                loop {
                    match d.next_message() {
                        Ok(Some(Message::Transfer(m))) => out.push(m),
                        Ok(Some(other)) => panic!("unexpected {}", other.kind()),
                        Ok(None) => break,
                        Err(e) => panic!("bad frame: {e}"),
                    }
                }
                out
            }
            Frame::Message(m) => vec![m],
        };
        for m in msgs {
            self.route(to_receiver, m);
        }
    }

    /// What the peer role does with a transfer message.
    fn route(&mut self, to_receiver: bool, msg: TransferMessage) {
        let now = self.now;
        if to_receiver {
            if self.receiver.machine.is_none() {
                if let TransferMessage::Offer { key, manifest } = msg {
                    let id = self.mint_receiver_id();
                    let t = ReceiveTransfer::offered(
                        now,
                        id,
                        key,
                        peer_name("sender"),
                        manifest,
                        self.config.receiver.clone(),
                    );
                    self.receiver.machine = Some(t);
                    if let Some(a) = self.config.answer {
                        self.pump();
                        self.answer(a);
                    }
                } else if !matches!(msg, TransferMessage::Cancel { .. }) {
                    self.reply_unknown(false, msg.key());
                }
                return;
            }
            if let Some(m) = self.receiver.machine.as_mut() {
                m.handle_message(now, msg);
            }
        } else {
            let live = self.sender.machine.as_ref().is_some_and(|m| !m.is_over());
            if !live {
                if let TransferMessage::Get { key, name } = msg {
                    let id = TransferId(self.sender.next_id);
                    self.sender.next_id += 1;
                    let t = SendTransfer::fetch(
                        now,
                        id,
                        key,
                        peer_name("receiver"),
                        name,
                        self.config.sender.clone(),
                    );
                    self.sender.machine = Some(t);
                } else if !matches!(msg, TransferMessage::Cancel { .. }) {
                    self.reply_unknown(true, msg.key());
                }
                return;
            }
            if let Some(m) = self.sender.machine.as_mut() {
                m.handle_message(now, msg);
            }
        }
    }

    fn reply_unknown(&mut self, from_sender: bool, key: TransferKey) {
        let msg = TransferMessage::Cancel {
            key,
            reason: Reason::truncate("unknown transfer"),
        };
        self.transmit(if from_sender { 0 } else { 1 }, msg);
    }

    fn transmit(&mut self, dir: usize, msg: TransferMessage) {
        if !self.connected {
            return;
        }
        let len = match &msg {
            TransferMessage::Chunk { data, .. } => data.len() as u64 + 32,
            _ => 64,
        };
        self.carried[dir] += len;
        let start = self.now.max(self.link_free[dir]);
        let busy = match self.config.rate {
            Some(r) => Duration::from_nanos(len.saturating_mul(1_000_000_000) / r.max(1)),
            None => Duration::ZERO,
        };
        self.link_free[dir] = start + busy;
        let at = start + busy + self.config.latency;
        if !self.config.framing {
            self.wire[dir].push_back((at, Frame::Message(msg)));
            return;
        }
        let bytes = encode(&Message::Transfer(msg));
        if self.config.split && bytes.len() > 1 {
            let cut = 1 + self.rng.below(bytes.len() as u64 - 1) as usize;
            self.wire[dir].push_back((at, Frame::Bytes(bytes[..cut].to_vec())));
            self.wire[dir].push_back((at, Frame::Bytes(bytes[cut..].to_vec())));
        } else {
            self.wire[dir].push_back((at, Frame::Bytes(bytes)));
        }
    }

    /// Carries out everything both sides asked for.
    pub fn pump(&mut self) {
        loop {
            let mut any = false;
            while let Some(out) = self.sender.machine.as_mut().and_then(|m| m.poll_output()) {
                any = true;
                let at = self.now + self.config.io_latency;
                self.seq += 1;
                Self::carry_out(&mut self.sender, out, at, self.seq);
            }
            while let Some(msg) = self.sender.machine.as_mut().and_then(|m| m.poll_message()) {
                any = true;
                self.transmit(0, msg);
            }
            while let Some(out) = self.receiver.machine.as_mut().and_then(|m| m.poll_output()) {
                any = true;
                let at = self.now + self.config.io_latency;
                self.seq += 1;
                Self::carry_out(&mut self.receiver, out, at, self.seq);
            }
            while let Some(msg) = self
                .receiver
                .machine
                .as_mut()
                .and_then(|m| m.poll_message())
            {
                any = true;
                self.transmit(1, msg);
            }
            if !any {
                return;
            }
        }
    }

    fn carry_out<T>(side: &mut Side<T>, out: Output<TransferEvent>, at: Instant, seq: u64) {
        match out {
            Output::Persist(r) => {
                side.records.insert(r.key(), r);
            }
            Output::Forget(k) => {
                side.records.remove(&k);
            }
            Output::Event(e) => side.events.push((at, e)),
            other => {
                if let Some(a) = side.files.carry_out(other) {
                    side.io.insert((at, seq), a);
                }
            }
        }
    }

    /// The receiver's record, if it has one.
    pub fn receiver_record(&self) -> Option<&TransferRecord> {
        self.receiver.records.values().find_map(|r| match r {
            Record::Transfer(t) => Some(t),
            _ => None,
        })
    }
}
