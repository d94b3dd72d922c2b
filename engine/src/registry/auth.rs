//! Log-in and registration: the password work they wait for, and the
//! session a right password starts.
//!
//! [`AuthJobs`](super::jobs::AuthJobs) owns the outstanding password jobs. A request starts one
//! (`start_register`, `start_login`) after the cheap refusals, marks its
//! connection `auth_pending` so that the connection's later messages wait
//! unread, and asks the driver for [`Output::DerivePassword`]; the answer
//! (`handle_password`) creates the account or starts the session. Touches the
//! accounts, the login guard, the directory and the Silence timers; the
//! connection's own state only through `auth_pending`.

use std::net::SocketAddr;
use std::time::Instant;

use super::jobs::AuthJob;
use super::{OfflineReason, Registry, RegistryEvent, Session, Timer};
use crate::api::{ConnId, JobId, Output};
use crate::password::{PasswordDigest, PasswordError, PasswordWork, SALT_LEN, Salt};
use crate::record::Record;
use crate::wire::registry::{LoginStamp, Password, Presence, ReplyBody};
use crate::wire::{ErrorCode, Goodbye, Message, Name, Refusal};

impl Registry {
    fn begin_auth(&mut self, conn: ConnId, password: &Password) -> Result<(), Refusal> {
        let Some(c) = self.conns.get_mut(&conn) else {
            return Err(Refusal::new(ErrorCode::Busy, "connection closing"));
        };
        if c.auth_pending {
            return Err(Refusal::new(
                ErrorCode::Busy,
                "a log-in or registration is already under way",
            ));
        }
        if self.jobs.outstanding() >= self.config.max_password_jobs {
            return Err(Refusal::new(
                ErrorCode::Busy,
                "the registry is busy checking passwords; try again in a moment",
            ));
        }
        if password.0.is_empty() {
            return Err(Refusal::new(
                ErrorCode::InvalidPassword,
                "the password must not be empty",
            ));
        }
        c.auth_pending = true;
        Ok(())
    }

    pub(super) fn start_register(&mut self, conn: ConnId, id: u32, name: Name, password: Password) {
        if self.accounts.is_taken(&name) {
            let why =
                format!("the name {name} is taken; log in with its password or pick another name");
            return self.reply(conn, id, Err(Refusal::new(ErrorCode::NameTaken, &why)));
        }
        if let Err(refusal) = self.begin_auth(conn, &password) {
            return self.reply(conn, id, Err(refusal));
        }
        let mut salt = [0u8; SALT_LEN];
        self.rng.fill(&mut salt);
        let salt = Salt(salt);
        let cost = self.config.password_cost;
        self.accounts.reserve(name.clone());
        let job = self.jobs.start(AuthJob::Register {
            conn,
            id,
            name,
            salt,
            cost,
        });
        self.out.push_back(Output::DerivePassword {
            job,
            work: PasswordWork::new(password, salt, cost),
        });
    }

    pub(super) fn start_login(
        &mut self,
        now: Instant,
        conn: ConnId,
        id: u32,
        name: Name,
        password: Password,
        (listen, stamp): (SocketAddr, LoginStamp),
    ) {
        let Some(account) = self.accounts.get(&name) else {
            let why = format!("there is no account called {name}; register it first");
            return self.reply(conn, id, Err(Refusal::new(ErrorCode::UnknownName, &why)));
        };
        let (salt, cost, digest) = (account.salt, account.cost, account.digest);
        let ip = self.conns.get(&conn).map(|c| c.remote.ip());
        if let Some(Err(wait)) = ip.map(|ip| self.guard.check(now, &name, ip)) {
            let why = format!(
                "too many wrong passwords for {name} from this address; try again in {} s",
                wait.as_secs_f64().ceil()
            );
            return self.reply(conn, id, Err(Refusal::new(ErrorCode::Busy, &why)));
        }
        if let Err(refusal) = self.begin_auth(conn, &password) {
            return self.reply(conn, id, Err(refusal));
        }
        let job = self.jobs.start(AuthJob::Login {
            conn,
            id,
            name,
            listen,
            stamp,
            digest,
        });
        self.out.push_back(Output::DerivePassword {
            job,
            work: PasswordWork::new(password, salt, cost),
        });
    }

    pub(super) fn handle_password(
        &mut self,
        now: Instant,
        job: JobId,
        result: Result<PasswordDigest, PasswordError>,
    ) {
        let Some(job) = self.jobs.take(job) else {
            return;
        };
        let conn = job.conn();
        if let Some(c) = self.conns.get_mut(&conn) {
            c.auth_pending = false;
        }
        let connected = self.conns.contains_key(&conn);
        match (job, result) {
            (AuthJob::Register { id, name, .. }, Err(e))
            | (AuthJob::Login { id, name, .. }, Err(e)) => {
                self.accounts.unreserve(&name);
                if connected {
                    let why = format!("the registry could not check the password: {e}");
                    self.reply(conn, id, Err(Refusal::new(ErrorCode::Busy, &why)));
                }
            }
            (
                AuthJob::Register {
                    id,
                    name,
                    salt,
                    cost,
                    ..
                },
                Ok(digest),
            ) => {
                let record = self.accounts.create(name.clone(), salt, cost, digest);
                self.out.push_back(Output::Persist(Record::Account(record)));
                self.out
                    .push_back(Output::Event(RegistryEvent::Registered { name }));
                if connected {
                    self.reply(conn, id, Ok(ReplyBody::Done));
                }
            }
            (
                AuthJob::Login {
                    id,
                    name,
                    listen,
                    stamp,
                    digest,
                    ..
                },
                Ok(got),
            ) => {
                if !connected {
                    return;
                }
                let ip = self.conns.get(&conn).map(|c| c.remote.ip());
                if !digest.matches(&got) {
                    if let Some(ip) = ip {
                        self.guard.failed(now, &name, ip);
                    }
                    let why = format!("wrong password for {name}");
                    return self.reply(conn, id, Err(Refusal::new(ErrorCode::WrongPassword, &why)));
                }
                if let Some(ip) = ip {
                    self.guard.succeeded(&name, ip);
                }
                if self.directory.name_of(conn).is_some() {
                    let why = "this connection logged in meanwhile; log out first";
                    return self.reply(
                        conn,
                        id,
                        Err(Refusal::new(ErrorCode::AlreadyLoggedIn, why)),
                    );
                }
                if let Some(current) = self.directory.get(&name)
                    && stamp.is_older_than(&current.stamp)
                {
                    let why = format!(
                        "{name} has logged in again since this log-in was sent; it is not taken"
                    );
                    return self.reply(conn, id, Err(Refusal::new(ErrorCode::StaleLogin, &why)));
                }
                self.start_session(now, conn, id, name, (listen, stamp));
            }
        }
    }

    fn start_session(
        &mut self,
        now: Instant,
        conn: ConnId,
        id: u32,
        name: Name,
        (listen, stamp): (SocketAddr, LoginStamp),
    ) {
        let key = self.conns.get(&conn).and_then(|c| c.key);
        let certificate = key.map(|k| self.keys.certify(name.clone(), k, now));
        let session = Session {
            conn,
            listen,
            stamp,
            files: Vec::new(),
            watching: false,
            last_seen: now,
            key,
            certified_until: certificate.as_ref().map_or(0, |c| c.body.not_after),
        };
        if let Some(old) = self.directory.start(name.clone(), session) {
            let remote = self.conns.get(&conn).map(|c| c.remote);
            let from = remote.map_or_else(String::new, |r| format!(" from {r}"));
            let why = format!("{name} logged in again{from}; this session is over");
            // The old connection loses its session quietly: the name stays online.
            self.timers.cancel(&Timer::Silence(old.conn));
            self.relay_end_conn(old.conn);
            if self.conns.remove(&old.conn).is_some() {
                let goodbye = Goodbye {
                    code: ErrorCode::SessionReplaced,
                    reason: crate::bounded::Text::truncate(&why),
                };
                self.send(old.conn, &Message::Goodbye(goodbye));
                self.out.push_back(Output::Close { conn: old.conn });
            }
            self.out.push_back(Output::Event(RegistryEvent::Offline {
                name: name.clone(),
                reason: OfflineReason::Replaced,
            }));
        }
        self.timers
            .set(Timer::Silence(conn), now + self.config.heartbeat_timeout);
        let body = certificate.map_or(ReplyBody::Done, ReplyBody::Certified);
        self.reply(conn, id, Ok(body));
        let push = Message::Presence(Presence {
            name: name.clone(),
            online: true,
            addr: Some(listen),
        });
        for watcher in self.directory.watchers(Some(conn)) {
            self.send(watcher, &push);
        }
        self.out.push_back(Output::Event(RegistryEvent::Online {
            name,
            addr: listen,
            conn,
        }));
    }
}
