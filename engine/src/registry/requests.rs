//! Answering a greeted connection's requests: every request except log-in
//! and registration is answered here at once, from the directory and the
//! accounts.
//!
//! Touches the directory (sign of life, log-out, publish, watching) and an
//! account's profile; log-in and registration go on to [`super::auth`],
//! which owns the password work.

use crate::wire::Name;
use std::time::Instant;

use super::{OfflineReason, Registry, Timer};
use crate::api::{ConnId, Output};
use crate::record::Record;
use crate::wire::registry::{PeerInfo, ReplyBody, Request, RequestBody, SharedFile};
use crate::wire::{ErrorCode, Refusal};

impl Registry {
    /// The answer to a heartbeat: a new certificate once the session's is
    /// past half its life, so that a long session never runs on an expired
    /// one; else `Done`.
    fn renewal(&mut self, now: Instant, name: &Name) -> ReplyBody {
        let Some(s) = self.directory.get(name) else {
            return ReplyBody::Done;
        };
        let Some(key) = s.key else {
            return ReplyBody::Done;
        };
        if !self.keys.due_for_renewal(s.certified_until, now) {
            return ReplyBody::Done;
        }
        let cert = self.keys.certify(name.clone(), key, now);
        if let Some(s) = self.directory.get_mut_by_conn(s.conn) {
            s.certified_until = cert.body.not_after;
        }
        ReplyBody::Certified(cert)
    }

    pub(super) fn handle_request(&mut self, now: Instant, conn: ConnId, req: Request) {
        let Request { id, body } = req;
        // Any request from a session is a sign of life.
        if let Some(s) = self.directory.get_mut_by_conn(conn) {
            s.last_seen = now;
            self.timers
                .set(Timer::Silence(conn), now + self.config.heartbeat_timeout);
        }
        let session = self.directory.name_of(conn).cloned();
        let result = match (body, session) {
            (RequestBody::Register { name, password }, _) => {
                return self.start_register(conn, id, name, password);
            }
            (
                RequestBody::Login {
                    name,
                    password,
                    listen,
                    stamp,
                },
                None,
            ) => {
                return self.start_login(now, conn, id, name, password, (listen, stamp));
            }
            (RequestBody::Login { .. }, Some(current)) => Err(Refusal::new(
                ErrorCode::AlreadyLoggedIn,
                &format!("this connection is already logged in as {current}; log out first"),
            )),
            (_, None) => Err(Refusal::new(ErrorCode::NotLoggedIn, "log in first")),
            (RequestBody::Logout, Some(_)) => {
                self.timers.cancel(&Timer::Silence(conn));
                self.relay_end_conn(conn);
                if let Some((name, _)) = self.directory.end_by_conn(conn) {
                    self.announce_offline(name, OfflineReason::LoggedOut);
                }
                Ok(ReplyBody::Done)
            }
            (RequestBody::Heartbeat, Some(name)) => Ok(self.renewal(now, &name)),
            (RequestBody::List { after }, Some(_)) => {
                let (users, more) = self.directory.users_page(after.as_ref(), None);
                Ok(ReplyBody::Users { users, more })
            }
            (RequestBody::Search { text, after }, Some(_)) => {
                let needle = text.to_lowercase();
                let (users, more) = self.directory.users_page(after.as_ref(), Some(&needle));
                Ok(ReplyBody::Users { users, more })
            }
            (RequestBody::Lookup { name }, Some(_)) => match self.accounts.get(&name) {
                Some(account) => Ok(ReplyBody::Peer(PeerInfo {
                    name: name.clone(),
                    addr: self.directory.get(&name).map(|s| s.listen),
                    profile: account.profile.clone(),
                    key: self.directory.get(&name).and_then(|s| s.key),
                })),
                None => Err(Refusal::new(
                    ErrorCode::UnknownName,
                    &format!("nobody is called {name}"),
                )),
            },
            (RequestBody::Publish { files }, Some(_)) => self.publish(conn, files.into_vec()),
            (RequestBody::SetProfile { profile }, Some(name)) => {
                if let Some(record) = self.accounts.set_profile(&name, profile) {
                    self.out.push_back(Output::Persist(Record::Account(record)));
                }
                Ok(ReplyBody::Done)
            }
            (RequestBody::Files { owner, after }, Some(_)) => {
                if let Some(o) = &owner
                    && self.directory.get(o).is_none()
                {
                    let why =
                        format!("{o} is not online; files are listed only while their owner is");
                    return self.reply(conn, id, Err(Refusal::new(ErrorCode::NotFound, &why)));
                }
                let (files, more) = self.directory.files_page(owner.as_ref(), after.as_ref());
                Ok(ReplyBody::Files { files, more })
            }
            (RequestBody::WatchPresence { on }, Some(_)) => {
                if let Some(s) = self.directory.get_mut_by_conn(conn) {
                    s.watching = on;
                }
                Ok(ReplyBody::Done)
            }
        };
        self.reply(conn, id, result);
    }

    fn publish(&mut self, conn: ConnId, mut files: Vec<SharedFile>) -> Result<ReplyBody, Refusal> {
        files.sort();
        if let Some(w) = files.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(Refusal::new(
                ErrorCode::InvalidRequest,
                &format!(
                    "{} is listed twice; shared file names must be unique",
                    w[0].name
                ),
            ));
        }
        if let Some(s) = self.directory.get_mut_by_conn(conn) {
            s.files = files;
        }
        Ok(ReplyBody::Done)
    }
}
