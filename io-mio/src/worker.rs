//! [`Worker`]: a thread that runs the engine's pure, slow work away from the
//! event loop, one job at a time in order, and wakes the loop with each
//! result. The driver has two: password work
//! ([`confab_engine::Output::DerivePassword`]), so one log-in never stalls
//! the loop, and the MD5 of received chunks
//! ([`confab_engine::Output::HashChunks`]), so a receiver decrypts the next
//! chunks while the last ones are hashed.
//!
//! The thread ends when the worker is dropped (its job channel closes).

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use mio::Waker;

/// The thread and the channels to and from it.
#[derive(Debug)]
pub(crate) struct Worker<J, R> {
    jobs: Sender<J>,
    /// Results, for the event loop to collect when woken.
    pub results: Receiver<R>,
}

impl<J: Send + 'static, R: Send + 'static> Worker<J, R> {
    /// Starts the thread `name`, which runs `work` on each job; `waker` is
    /// woken after each result.
    pub fn start(
        name: &str,
        waker: Arc<Waker>,
        mut work: impl FnMut(J) -> R + Send + 'static,
    ) -> std::io::Result<Self> {
        let (jobs, job_rx) = mpsc::channel::<J>();
        let (result_tx, results) = mpsc::channel();
        thread::Builder::new().name(name.into()).spawn(move || {
            for job in job_rx {
                if result_tx.send(work(job)).is_err() {
                    return;
                }
                if let Err(e) = waker.wake() {
                    tracing::error!("cannot wake the event loop: {e}");
                }
            }
        })?;
        Ok(Self { jobs, results })
    }

    /// Hands a job to the thread.
    pub fn submit(&self, job: J) {
        // The thread only ends when `self` is dropped, so this cannot fail.
        let _ = self.jobs.send(job);
    }
}
