//! [`PasswordWorker`]: runs the engine's slow password work
//! ([`confab_engine::Output::DerivePassword`]) on its own thread, so one log-in
//! never stalls the event loop, and wakes the loop with each result.
//!
//! Jobs are done one at a time, in order. The thread ends when the worker is
//! dropped (its job channel closes).

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use confab_engine::JobId;
use confab_engine::password::{PasswordDigest, PasswordError, PasswordWork};
use mio::Waker;

/// A finished job.
pub(crate) type Derived = (JobId, Result<PasswordDigest, PasswordError>);

/// The worker thread and the channels to and from it.
#[derive(Debug)]
pub(crate) struct PasswordWorker {
    jobs: Sender<(JobId, PasswordWork)>,
    /// Results, for the event loop to collect when woken.
    pub results: Receiver<Derived>,
}

impl PasswordWorker {
    /// Starts the thread; `waker` is woken after each result.
    pub fn start(waker: Arc<Waker>) -> std::io::Result<Self> {
        let (jobs, job_rx) = mpsc::channel::<(JobId, PasswordWork)>();
        let (result_tx, results) = mpsc::channel();
        thread::Builder::new()
            .name("confab-password".into())
            .spawn(move || {
                for (job, work) in job_rx {
                    if result_tx.send((job, work.run())).is_err() {
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
    pub fn submit(&self, job: JobId, work: PasswordWork) {
        // The thread only ends when `self` is dropped, so this cannot fail.
        let _ = self.jobs.send((job, work));
    }
}
