//! [`ShareWatch`]: keeps a peer's shared list current while it runs. It
//! reads the share folder (never writes it), fills the MD5 cache in the
//! store, and hands each new list to a callback (the program passes it to
//! the engine as `PeerCommand::Publish` through a [`crate::DriverHandle`]).
//!
//! One thread owns the folder's state ([`folder::Folder`], which holds the
//! rules for what is listed). It wakes when:
//! - the file system reports a change (`notify`, through
//!   `notify-debouncer-full`, which also reports when the kernel's event
//!   queue overflowed), or reports an error: the folder is rescanned whole,
//!   so a lost or merged event costs nothing but a scan;
//! - a file that was being written should have become quiet;
//! - [`WatchConfig::rescan_every`] has passed: the fallback for file systems
//!   that give no events (network shares, some containers), and for a
//!   watcher that could not start at all;
//! - someone asks ([`ShareWatch::rescan`], `/share rescan`).
//!
//! Hashing runs on this thread, never on the driver's. Publishing is
//! coalesced: a changed list waits while other files are still settling
//! (up to [`WatchConfig::hold`]) and never goes out sooner than
//! [`WatchConfig::publish_gap`] after the last, so a thousand files copied
//! at once cause a handful of publishes.

mod folder;
mod status;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use confab_engine::wire::registry::SharedFile;
use notify_debouncer_full::notify::{self, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, RecommendedCache, new_debouncer_opt};
use redb::Database;

use self::folder::{Folder, Hashed};
pub use self::status::{EntryState, ShareEntry, ShareStatus};
use crate::files::Md5Cache;
use crate::{ShareError, Store};

/// Timings of a [`ShareWatch`].
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// How long a file must keep its size and modification time before it
    /// is hashed and listed.
    pub quiet: Duration,
    /// A full rescan at least this often, events or not.
    pub rescan_every: Duration,
    /// At least this long between two publishes.
    pub publish_gap: Duration,
    /// How long a changed list may wait for other files to settle.
    pub hold: Duration,
    /// How long the debouncer gathers file-system events.
    pub debounce: Duration,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            quiet: Duration::from_secs(1),
            rescan_every: Duration::from_secs(30),
            publish_gap: Duration::from_millis(500),
            hold: Duration::from_secs(1),
            debounce: Duration::from_millis(100),
        }
    }
}

enum Wake {
    Changed,
    Rescan,
    Stop,
}

/// The share folder, scanned once, before the watch starts. See the module
/// documentation.
#[derive(Debug)]
pub struct ShareScan {
    folder: Folder,
    db: Arc<Database>,
    config: WatchConfig,
}

impl ShareScan {
    /// Scans `dir` and hashes the files that are already quiet (from the
    /// cache in `store` where it can): the list to start the peer with.
    pub fn new(dir: &Path, store: &Store, config: WatchConfig) -> Result<Self, ShareError> {
        let unreadable = |e: std::io::Error| {
            ShareError(format!(
                "cannot read the share folder {}: {e}; create it or pick another with --share",
                dir.display()
            ))
        };
        let mut folder = Folder::new(dir, config.quiet).map_err(unreadable)?;
        let db = store.shared_database();
        let stop = AtomicBool::new(false);
        // A file written just before start is waited for (at most `quiet`),
        // so the first log-in already lists it; one still being written
        // after that is left for the watch.
        let give_up = Instant::now() + config.quiet;
        loop {
            let now = Instant::now();
            folder.scan(now, SystemTime::now()).map_err(unreadable)?;
            for key in folder.due(now) {
                let cache = Some(Md5Cache::new(&db));
                folder.hash(&key, now, cache, &stop, &mut |_, _| {});
            }
            match folder.next_quiet(Instant::now()) {
                Some(t) if t <= give_up => std::thread::sleep(t - Instant::now().min(t)),
                _ => break,
            }
        }
        Ok(Self { folder, db, config })
    }

    /// The files to publish (for `PeerConfig::shared`).
    pub fn files(&self) -> Vec<SharedFile> {
        self.folder.listed()
    }

    /// Every entry and its state.
    pub fn status(&self) -> ShareStatus {
        ShareStatus {
            dir: self.folder.dir().to_owned(),
            entries: self.folder.entries(None),
            ..ShareStatus::default()
        }
    }

    /// Starts watching. `publish` gets every new list (the first differs
    /// from [`Self::files`]); when it returns `false` (the driver is gone)
    /// the watch ends.
    pub fn watch(
        self,
        publish: impl FnMut(&[SharedFile]) -> bool + Send + 'static,
    ) -> std::io::Result<ShareWatch> {
        let (tx, rx) = mpsc::channel();
        let status = Arc::new(Mutex::new(self.status()));
        let stop = Arc::new(AtomicBool::new(false));
        let events = tx.clone();
        // Recursive, for sub-folders; links are never followed (a watch on
        // a link's target would report changes outside the share folder).
        let notify_config = notify::Config::default().with_follow_symlinks(false);
        let on_event = move |r: DebounceEventResult| {
            if let Err(errors) = &r {
                tracing::warn!(?errors, "watching the share folder; rescanning it");
            }
            let _ = events.send(if r.is_ok() {
                Wake::Changed
            } else {
                Wake::Rescan
            });
        };
        let debouncer = new_debouncer_opt::<_, notify::RecommendedWatcher, _>(
            self.config.debounce,
            None,
            on_event,
            RecommendedCache::new(),
            notify_config,
        )
        .and_then(|mut d| {
            d.watch(self.folder.dir(), RecursiveMode::Recursive)?;
            Ok(d)
        });
        let degraded = match &debouncer {
            Ok(_) => None,
            Err(e) => {
                let every = self.config.rescan_every.as_secs();
                tracing::warn!("cannot watch the share folder ({e}); rescanning every {every} s");
                Some(format!(
                    "cannot watch for changes ({e}); the folder is rescanned every {every} s"
                ))
            }
        };
        lock(&status).degraded = degraded;
        let mut run = Runner {
            published: self.folder.listed(),
            folder: self.folder,
            db: self.db,
            config: self.config,
            status: status.clone(),
            stop: stop.clone(),
            pending_since: None,
            last_publish: None,
        };
        std::thread::Builder::new()
            .name("confab-share".into())
            .spawn(move || {
                // Dropped (and so stopped) when the loop ends.
                let _debouncer = debouncer.ok();
                run.run(&rx, publish);
            })?;
        Ok(ShareWatch { tx, status, stop })
    }
}

/// A running watch; cheap to clone. See the module documentation.
#[derive(Debug, Clone)]
pub struct ShareWatch {
    tx: Sender<Wake>,
    status: Arc<Mutex<ShareStatus>>,
    stop: Arc<AtomicBool>,
}

impl ShareWatch {
    /// The folder, its entries and their state, as of now.
    pub fn status(&self) -> ShareStatus {
        lock(&self.status).clone()
    }

    /// Scans the folder again now (hashing what changed).
    pub fn rescan(&self) {
        let _ = self.tx.send(Wake::Rescan);
    }

    /// Ends the watch (a hash in progress stops at its next piece).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.tx.send(Wake::Stop);
    }
}

fn lock(status: &Mutex<ShareStatus>) -> std::sync::MutexGuard<'_, ShareStatus> {
    status.lock().unwrap_or_else(|p| p.into_inner())
}

/// What [`Runner::maybe_publish`] did.
enum Publish {
    /// Published, or nothing to publish.
    Done,
    /// A change waits until then.
    Later(Instant),
    /// The callback says the driver is gone.
    Gone,
}

/// The watch thread's state.
struct Runner {
    folder: Folder,
    db: Arc<Database>,
    config: WatchConfig,
    status: Arc<Mutex<ShareStatus>>,
    stop: Arc<AtomicBool>,
    /// The last list handed out.
    published: Vec<SharedFile>,
    /// Since when the list has differed from `published`.
    pending_since: Option<Instant>,
    last_publish: Option<Instant>,
}

impl Runner {
    fn run(&mut self, rx: &Receiver<Wake>, mut publish: impl FnMut(&[SharedFile]) -> bool) {
        let mut next_rescan = Instant::now() + self.config.rescan_every;
        let mut scan = false;
        loop {
            let now = Instant::now();
            // A file due for hashing is looked at once more first: quiet means
            // seen unchanged across the whole wait.
            if scan || now >= next_rescan || !self.folder.due(now).is_empty() {
                if let Err(e) = self.folder.scan(now, SystemTime::now()) {
                    tracing::warn!(dir = %self.folder.dir().display(), "cannot read the share folder: {e}");
                }
                next_rescan = now + self.config.rescan_every;
                scan = false;
            }
            if !self.hash_due() {
                return;
            }
            let now = Instant::now();
            let deadline = match self.maybe_publish(now, &mut publish) {
                Publish::Gone => return,
                Publish::Done => None,
                Publish::Later(t) => Some(t),
            };
            self.show(None);
            let wake = [Some(next_rescan), self.folder.next_quiet(now), deadline]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(next_rescan);
            match rx.recv_timeout(wake.saturating_duration_since(now)) {
                Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Wake::Changed | Wake::Rescan) => scan = true,
                Err(RecvTimeoutError::Timeout) => {}
            }
            // Whatever else came meanwhile is covered by the same scan.
            while let Ok(w) = rx.try_recv() {
                if matches!(w, Wake::Stop) {
                    return;
                }
            }
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
        }
    }

    /// Hashes every file that is quiet; `false` if told to stop.
    fn hash_due(&mut self) -> bool {
        let now = Instant::now();
        for key in self.folder.due(now) {
            let status = self.status.clone();
            let mut last = Instant::now();
            let mut progress = |done: u64, _total: u64| {
                // Enough for `/share` to show progress, not a lock per piece.
                if last.elapsed() >= Duration::from_millis(200) {
                    last = Instant::now();
                    let mut s = lock(&status);
                    if let Some(e) = s.entries.iter_mut().find(|e| e.name == key) {
                        e.state = EntryState::Hashing { done };
                    }
                }
            };
            self.show(Some((&key, 0)));
            let cache = Some(Md5Cache::new(&self.db));
            let outcome = self
                .folder
                .hash(&key, Instant::now(), cache, &self.stop, &mut progress);
            if outcome == Hashed::Stopped || self.stop.load(Ordering::SeqCst) {
                return false;
            }
        }
        true
    }

    /// Publishes if the list changed and the coalescing rules allow.
    fn maybe_publish(
        &mut self,
        now: Instant,
        publish: &mut impl FnMut(&[SharedFile]) -> bool,
    ) -> Publish {
        let list = self.folder.listed();
        if list == self.published {
            self.pending_since = None;
            return Publish::Done;
        }
        let since = *self.pending_since.get_or_insert(now);
        let gap_ends = self
            .last_publish
            .map_or(now, |t| t + self.config.publish_gap);
        let hold_ends = since + self.config.hold;
        // Other files about to become quiet join this publish, unless the
        // change has waited long enough already.
        let settled = !self.folder.settling(now) || now >= hold_ends;
        if now < gap_ends || !settled {
            return Publish::Later(if settled {
                gap_ends
            } else {
                gap_ends.max(hold_ends)
            });
        }
        tracing::debug!(files = list.len(), "publishing the shared list");
        lock(&self.status).publishes += 1;
        if !publish(&list) {
            return Publish::Gone;
        }
        self.published = list;
        self.pending_since = None;
        self.last_publish = Some(now);
        Publish::Done
    }

    fn show(&self, hashing: Option<(&str, u64)>) {
        let entries = self.folder.entries(hashing);
        lock(&self.status).entries = entries;
    }
}

#[cfg(test)]
mod tests;
