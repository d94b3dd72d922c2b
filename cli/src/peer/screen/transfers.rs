//! [`Transfers`]: the rows of the transfers panel, built from the events
//! (offers, progress, the end of each transfer) and from `/transfers`
//! answers, which name a transfer the events only number (a `/get` or
//! `/send` started here). Rate and time left come from the same
//! [`Rates`] as the line interface's bars, so both show one figure. Pure
//! state; the caller passes the time.
//!
//! Every name stored here was made safe for a terminal when it was stored.

use std::collections::BTreeMap;
use std::time::Instant;

use confab_engine::TransferId;
use confab_engine::peer::{Direction, TransferStatus};
use confab_engine::wire::Name;

use indicatif::HumanBytes;

use crate::peer::rate::Rates;
use crate::safe::Shown;

/// Finished rows kept on show, the newest.
const FINISHED_SHOWN: usize = 3;

/// How the bytes travel: the engine's latest `path` event for the peer
/// (direct until one says otherwise).
pub use confab_engine::peer::Via;

/// Where a transfer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Moving,
    Done,
    Failed,
    Paused,
}

/// One row.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: TransferId,
    /// Safe for a terminal; `None` until an offer or `/transfers` names it.
    pub name: Option<String>,
    pub direction: Option<Direction>,
    pub peer: Option<Name>,
    pub done: u64,
    pub total: u64,
    pub stage: Stage,
    pub via: Via,
    /// Rate and time left as shown, e.g. `1.50 MiB/s ETA 3s`.
    pub speed: String,
    /// Bytes have moved (an offer not yet accepted is not shown).
    pub started: bool,
    /// Order of the last change, to keep the newest finished rows.
    touched: u64,
}

/// What a finished transfer reports of itself.
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    pub name: &'a str,
    pub direction: Direction,
    pub size: u64,
}

/// `secs` as `42s`, `3m05s` or `2h10m`.
pub fn short(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    }
}

#[derive(Debug, Default)]
pub struct Transfers {
    rows: BTreeMap<TransferId, Row>,
    /// The path to each peer, from the latest `path` event.
    paths: BTreeMap<Name, Via>,
    rates: Rates,
    clock: u64,
}

impl Transfers {
    fn row(&mut self, id: TransferId) -> &mut Row {
        self.clock += 1;
        let touched = self.clock;
        let row = self.rows.entry(id).or_insert_with(|| Row {
            id,
            name: None,
            direction: None,
            peer: None,
            done: 0,
            total: 0,
            stage: Stage::Moving,
            via: Via::Direct,
            speed: String::new(),
            started: false,
            touched,
        });
        row.touched = touched;
        row
    }

    /// The measured speeds, for the line interface's wording.
    /// The connection to `with` opened or moved (`path` event).
    pub fn path(&mut self, with: &Name, via: Via) {
        self.paths.insert(with.clone(), via);
        for row in self.rows.values_mut() {
            if row.peer.as_ref() == Some(with) {
                row.via = via;
            }
        }
    }

    pub fn rates(&self) -> &Rates {
        &self.rates
    }

    /// Whether `id` has a row that does not know its name yet.
    pub fn unnamed(&self, id: TransferId) -> bool {
        self.rows.get(&id).is_none_or(|r| r.name.is_none())
    }

    /// An offer this peer received: the transfer it becomes, if accepted.
    pub fn offered(&mut self, id: TransferId, from: &Name, name: &str, size: u64) {
        let via = self.paths.get(from).copied().unwrap_or(Via::Direct);
        let row = self.row(id);
        row.name = Some(Shown(name).to_string());
        row.via = via;
        row.peer = Some(from.clone());
        row.direction = Some(Direction::Receive);
        row.total = size;
    }

    /// An offer declined or not taken: no transfer will come of it.
    pub fn forget(&mut self, id: TransferId) {
        if self.rows.get(&id).is_some_and(|r| r.done == 0) {
            self.rows.remove(&id);
        }
    }

    pub fn progress(&mut self, id: TransferId, done: u64, total: u64, now: Instant) {
        self.rates.record(id, now, done);
        let speed = match self.rates.rate(id, now) {
            None => "-- B/s".to_owned(),
            Some(0) if done < total => "stalled".to_owned(),
            Some(r) if done < total => format!(
                "{}/s ETA {}",
                HumanBytes(r),
                short((total - done).div_ceil(r))
            ),
            Some(r) => format!("{}/s", HumanBytes(r)),
        };
        let row = self.row(id);
        row.done = done;
        row.total = total;
        row.stage = Stage::Moving;
        row.speed = speed;
        row.started = true;
    }

    /// The transfer ended (`stage`); a finished one says what it was.
    pub fn ended(&mut self, id: TransferId, stage: Stage, done: Option<Finished<'_>>) {
        self.rates.forget(id);
        let row = self.row(id);
        if let Some(f) = done {
            row.name = Some(Shown(f.name).to_string());
            row.direction = Some(f.direction);
            row.total = f.size.max(row.total);
            row.done = row.total;
        }
        row.started = true;
        row.stage = stage;
        row.speed.clear();
        self.trim();
    }

    /// A `/transfers` answer: names, peers and directions of the rows.
    pub fn listed(&mut self, list: &[TransferStatus]) {
        for t in list {
            let over = t.state == "over";
            if over && !self.rows.contains_key(&t.id) {
                continue;
            }
            let via = self.paths.get(&t.peer).copied().unwrap_or(Via::Direct);
            let row = self.row(t.id);
            row.started = true;
            row.name = Some(Shown(&t.name).to_string());
            row.via = via;
            row.peer = Some(t.peer.clone());
            row.direction = Some(t.direction);
            if !over {
                row.done = t.done;
                row.total = t.total;
            }
        }
    }

    /// Drops all but the newest finished rows.
    fn trim(&mut self) {
        let mut finished: Vec<(u64, TransferId)> = self
            .rows
            .values()
            .filter(|r| r.stage != Stage::Moving)
            .map(|r| (r.touched, r.id))
            .collect();
        finished.sort_unstable();
        let extra = finished.len().saturating_sub(FINISHED_SHOWN);
        for (_, id) in &finished[..extra] {
            self.rows.remove(id);
        }
    }

    /// The rows to show: under way first (oldest first), then finished.
    pub fn rows(&self) -> Vec<&Row> {
        let mut rows: Vec<&Row> = self.rows.values().filter(|r| r.started).collect();
        rows.sort_by_key(|r| (r.stage != Stage::Moving, r.id));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rows_learn_names_and_keep_few_finished() {
        let mut t = Transfers::default();
        let t0 = Instant::now();
        t.progress(TransferId(9), 10, 100, t0);
        assert!(t.unnamed(TransferId(9)));
        t.listed(&[TransferStatus {
            id: TransferId(9),
            direction: Direction::Send,
            peer: Name::new("bob").unwrap(),
            name: "a\u{202E}.txt".into(),
            done: 20,
            total: 100,
            rate: 0,
            state: "sending".into(),
            via: confab_engine::peer::Via::Direct,
        }]);
        assert!(!t.unnamed(TransferId(9)));
        assert_eq!(t.rows()[0].name.as_deref(), Some("aU+202E.txt"));
        t.progress(TransferId(9), 60, 100, t0 + Duration::from_secs(1));
        assert!(t.rows()[0].speed.contains("ETA"), "{}", t.rows()[0].speed);
        for id in 1..=5 {
            t.progress(TransferId(id), 1, 2, t0);
            let f = Finished {
                name: "f",
                direction: Direction::Send,
                size: 2,
            };
            t.ended(TransferId(id), Stage::Done, Some(f));
        }
        t.offered(TransferId(99), &Name::new("bob").unwrap(), "x", 5);
        assert!(
            t.rows().iter().all(|r| r.id != TransferId(99)),
            "not accepted yet"
        );
        let rows = t.rows();
        assert_eq!(rows.len(), 1 + FINISHED_SHOWN);
        assert_eq!(rows[0].id, TransferId(9), "under way first");
        assert_eq!(rows[1].done, 2, "a finished file is all there");
        assert_eq!(short(59), "59s");
        assert_eq!(short(185), "3m05s");
        assert_eq!(short(7800), "2h10m");
    }
}
