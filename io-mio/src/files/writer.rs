//! [`ChunkWriter`]: writes received chunks to their `.part` on a thread of its
//! own, so the event loop hashes the next chunk while the kernel copies the
//! last one into the page cache.
//!
//! Why a thread: on the receiver the loop's own work per byte is the socket
//! read and the MD5 (in the engine); the `pwrite` is as much work again for
//! the kernel, and nothing about it needs the loop. The engine already allows
//! it: `WriteChunk` is answered (`ChunkWritten`) only once the write returned,
//! and the engine acknowledges a chunk only after that answer, so nothing is
//! acknowledged before it is written.
//!
//! Order: jobs run one at a time, in the order submitted, so one transfer's
//! writes keep their order. Before any other file output of a transfer is
//! carried out, [`super::TransferFiles::wait_writes`] waits for that
//! transfer's writes to finish (a `DiscardPart`, a truncating `OpenPart`, a
//! `FinishFile` or a re-read never overtakes a write asked for before it).
//!
//! Memory: a job holds its chunk until written; the engine never has more
//! than one window of writes unanswered per transfer.
//!
//! Each answer is followed by a wake-up of the loop. Dropping the writer
//! finishes the jobs already queued and joins the thread.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};

use confab_engine::TransferId;
use mio::Waker;

use super::sys;

/// A chunk to write.
pub struct WriteJob {
    pub transfer: TransferId,
    pub file: u32,
    pub offset: u64,
    pub data: Vec<u8>,
    /// The `.part`, shared with its [`super::part::Part`].
    pub part: Arc<File>,
    /// Its path as the user sees it, for an error message.
    pub shown: PathBuf,
    /// Start writeback after this write (see [`super::part::Part::wrote`]).
    pub writeback: bool,
}

/// A write done (or failed, with what to tell the user).
#[derive(Debug)]
pub struct Written {
    pub transfer: TransferId,
    pub file: u32,
    pub offset: u64,
    pub result: Result<(), String>,
}

/// See the module documentation.
pub struct ChunkWriter {
    jobs: Option<Sender<WriteJob>>,
    pub done: Receiver<Written>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ChunkWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkWriter").finish_non_exhaustive()
    }
}

impl ChunkWriter {
    /// Starts the thread; `waker` is woken after each answer.
    pub fn start(waker: Arc<Waker>) -> std::io::Result<Self> {
        let (jobs, job_rx) = mpsc::channel::<WriteJob>();
        let (done_tx, done) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("confab-writer".into())
            .spawn(move || {
                for job in job_rx {
                    let written = write(job);
                    if done_tx.send(written).is_err() {
                        return;
                    }
                    if let Err(e) = waker.wake() {
                        tracing::error!("cannot wake the event loop: {e}");
                    }
                }
            })?;
        Ok(Self {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
        })
    }

    /// Queues a job; `Err` (with the job back) if the thread has stopped.
    pub fn submit(&self, job: WriteJob) -> Result<(), Box<WriteJob>> {
        match &self.jobs {
            Some(jobs) => jobs.send(job).map_err(|e| Box::new(e.0)),
            None => Err(Box::new(job)),
        }
    }
}

fn write(job: WriteJob) -> Written {
    let WriteJob {
        transfer,
        file,
        offset,
        data,
        part,
        shown,
        writeback,
    } = job;
    let result = part.write_all_at(&data, offset).map_err(|e| {
        let why = match e.raw_os_error() {
            Some(libc::ENOSPC) => "the disk is full".to_owned(),
            _ => e.to_string(),
        };
        format!("cannot write {}.part: {why}", shown.display())
    });
    if result.is_ok() && writeback {
        sys::start_writeback(&part);
    }
    Written {
        transfer,
        file,
        offset,
        result,
    }
}

impl Drop for ChunkWriter {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
