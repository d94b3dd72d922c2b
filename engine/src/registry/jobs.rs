//! [`AuthJobs`]: the password checks the registry has asked its driver for
//! and not yet heard back about, each with what its answer is for. Plain
//! bookkeeping below the registry and its log-in flow (`auth`), so that
//! neither imports the other for it. Ids are minted here, never reused.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::api::{ConnId, JobId};
use crate::password::{PasswordCost, PasswordDigest, Salt};
use crate::wire::Name;
use crate::wire::registry::LoginStamp;

/// A password check under way, and what to do with its answer.
#[derive(Debug)]
pub(super) enum AuthJob {
    Register {
        conn: ConnId,
        id: u32,
        name: Name,
        salt: Salt,
        cost: PasswordCost,
    },
    Login {
        conn: ConnId,
        id: u32,
        name: Name,
        listen: SocketAddr,
        stamp: LoginStamp,
        digest: PasswordDigest,
    },
}

impl AuthJob {
    /// The connection that asked.
    pub(super) fn conn(&self) -> ConnId {
        match self {
            AuthJob::Register { conn, .. } | AuthJob::Login { conn, .. } => *conn,
        }
    }
}

/// The outstanding password jobs, by the [`JobId`] the driver answers with.
#[derive(Debug, Default)]
pub(super) struct AuthJobs {
    next: u64,
    jobs: BTreeMap<JobId, AuthJob>,
}

impl AuthJobs {
    /// Files `job` under a new id.
    pub(super) fn start(&mut self, job: AuthJob) -> JobId {
        self.next += 1;
        let id = JobId(self.next);
        self.jobs.insert(id, job);
        id
    }

    /// Removes and returns the job `id`, if it is outstanding.
    pub(super) fn take(&mut self, id: JobId) -> Option<AuthJob> {
        self.jobs.remove(&id)
    }

    /// The connection job `id` belongs to, if it is outstanding.
    pub(super) fn conn_of(&self, id: JobId) -> Option<ConnId> {
        self.jobs.get(&id).map(AuthJob::conn)
    }

    pub(super) fn outstanding(&self) -> usize {
        self.jobs.len()
    }
}
