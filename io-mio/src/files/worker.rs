//! [`SourceWorker`]: opens and hashes sources on a thread of its own, so a
//! 5 GiB file (or a folder of thousands) never stalls the event loop.
//!
//! Why a thread rather than hashing in bounded steps per loop turn: hashing
//! is plain sequential reading with no shared state, the cache lookups and
//! the walk are blocking calls too, and the loop already wakes for results
//! from the password worker the same way (a channel + the `mio::Waker`).
//!
//! Jobs run one at a time, in order; each report is followed by a wake-up.
//! Progress ([`Report::Hashing`]) is sent when hashing starts and then at
//! most every [`PROGRESS_EVERY`]. Dropping the worker cancels the job under
//! way (checked between reads) and joins the thread, so the store's
//! database is released when the driver ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use confab_engine::{Source, TransferId};
use mio::Waker;
use redb::Database;

use super::hash::Md5Cache;
use super::source::{Context, OpenedSource, ShareFolder, open_source};

/// Least time between two progress reports of one job.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A source to open.
pub struct Job {
    pub transfer: TransferId,
    /// Tells this job's answer from an earlier one for the same transfer.
    pub ticket: u64,
    pub source: Source,
    pub share: Option<Arc<ShareFolder>>,
    pub db: Option<Arc<Database>>,
}

/// What the worker says.
pub enum Report {
    Hashing {
        transfer: TransferId,
        ticket: u64,
        hashed: u64,
        total: u64,
    },
    Opened {
        transfer: TransferId,
        ticket: u64,
        result: Result<OpenedSource, String>,
    },
}

/// See the module documentation.
pub struct SourceWorker {
    jobs: Option<Sender<Job>>,
    pub reports: Receiver<Report>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SourceWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceWorker").finish_non_exhaustive()
    }
}

impl SourceWorker {
    /// Starts the thread; `waker` is woken after each report.
    pub fn start(waker: Arc<Waker>) -> std::io::Result<Self> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (report_tx, reports) = mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        let thread = thread::Builder::new()
            .name("confab-sources".into())
            .spawn(move || {
                let send = |r: Report| {
                    let sent = report_tx.send(r).is_ok();
                    if let Err(e) = waker.wake() {
                        tracing::error!("cannot wake the event loop: {e}");
                    }
                    sent
                };
                for job in job_rx {
                    if !send(run(job, &stop, &send)) {
                        return;
                    }
                }
            })?;
        Ok(Self {
            jobs: Some(jobs),
            reports,
            cancel,
            thread: Some(thread),
        })
    }

    /// Queues a job.
    pub fn submit(&self, job: Job) -> Result<(), String> {
        self.jobs
            .as_ref()
            .and_then(|j| j.send(job).ok())
            .ok_or_else(|| "the file worker has stopped; restart confab".to_owned())
    }
}

fn run(job: Job, cancel: &AtomicBool, send: &dyn Fn(Report) -> bool) -> Report {
    let Job {
        transfer,
        ticket,
        source,
        share,
        db,
    } = job;
    let cx = Context {
        share: share.as_deref(),
        cache: db.as_deref().map(Md5Cache::new),
        cancel,
    };
    let mut last: Option<Instant> = None;
    let mut progress = |hashed: u64, total: u64| {
        let now = Instant::now();
        if last.is_some_and(|l| now.duration_since(l) < PROGRESS_EVERY) {
            return;
        }
        last = Some(now);
        send(Report::Hashing {
            transfer,
            ticket,
            hashed,
            total,
        });
    };
    let result = open_source(&cx, &source, &mut progress);
    Report::Opened {
        transfer,
        ticket,
        result,
    }
}

impl Drop for SourceWorker {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
