//! The directory of online sessions: who is logged in, where they listen,
//! what they share, and who wants presence pushes; and the paged listings
//! built from it.
//!
//! Invariants: a name has at most one session and a connection at most one;
//! the two maps `by_name` and `by_conn` always mirror each other. Listings are
//! in name order (then file name) and paged with a cursor, so every page is at
//! most [`MAX_LISTING_ENTRIES`] long whatever the number of peers.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Bound;
use std::time::Instant;

use crate::api::ConnId;
use crate::bounded::List;
use crate::limits::MAX_LISTING_ENTRIES;
use crate::wire::Name;
use crate::wire::identity::PublicKey;
use crate::wire::registry::{FileCursor, FileEntry, LoginStamp, SharedFile, UserEntry};

/// One logged-in peer.
#[derive(Debug, Clone)]
pub struct Session {
    /// The connection it is logged in on.
    pub conn: ConnId,
    /// Where it listens for other peers.
    pub listen: SocketAddr,
    /// Which log-in started it.
    pub stamp: LoginStamp,
    /// What it shares, sorted by name, names unique.
    pub files: Vec<SharedFile>,
    /// Whether it wants presence pushes.
    pub watching: bool,
    /// When it last sent anything.
    pub last_seen: Instant,
    /// The Noise static key its connection proved (what its certificate
    /// binds the name to).
    pub key: Option<PublicKey>,
    /// The end of its certificate's validity (Unix seconds).
    pub certified_until: u64,
}

/// All online sessions.
#[derive(Debug, Default)]
pub struct Directory {
    by_name: BTreeMap<Name, Session>,
    by_conn: BTreeMap<ConnId, Name>,
}

impl Directory {
    /// Starts a session, replacing any earlier one of the same name, which is
    /// returned so the caller can tell it why it ended.
    pub fn start(&mut self, name: Name, session: Session) -> Option<Session> {
        self.by_conn.insert(session.conn, name.clone());
        let old = self.by_name.insert(name, session);
        if let Some(old) = &old {
            self.by_conn.remove(&old.conn);
        }
        old
    }

    /// Ends the session on `conn`, if any.
    pub fn end_by_conn(&mut self, conn: ConnId) -> Option<(Name, Session)> {
        let name = self.by_conn.remove(&conn)?;
        let session = self.by_name.remove(&name)?;
        Some((name, session))
    }

    /// The name logged in on `conn`.
    pub fn name_of(&self, conn: ConnId) -> Option<&Name> {
        self.by_conn.get(&conn)
    }

    /// The session of `name`.
    pub fn get(&self, name: &Name) -> Option<&Session> {
        self.by_name.get(name)
    }

    /// The session on `conn`, for changes.
    pub fn get_mut_by_conn(&mut self, conn: ConnId) -> Option<&mut Session> {
        let name = self.by_conn.get(&conn)?;
        self.by_name.get_mut(name)
    }

    /// All sessions in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&Name, &Session)> {
        self.by_name.iter()
    }

    /// How many are online.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether nobody is online.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Connections of sessions that want presence pushes, except `except`.
    pub fn watchers(&self, except: Option<ConnId>) -> Vec<ConnId> {
        self.by_name
            .values()
            .filter(|s| s.watching && Some(s.conn) != except)
            .map(|s| s.conn)
            .collect()
    }

    /// One page of online users whose names contain `filter`, after `after`.
    pub fn users_page(
        &self,
        after: Option<&Name>,
        filter: Option<&str>,
    ) -> (List<UserEntry, MAX_LISTING_ENTRIES>, bool) {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut matching = self
            .by_name
            .range::<Name, _>((start, Bound::Unbounded))
            .filter(|(name, _)| filter.is_none_or(|f| name.as_str().contains(f)))
            .map(|(name, s)| UserEntry {
                name: name.clone(),
                addr: s.listen,
            });
        let page: Vec<_> = matching.by_ref().take(MAX_LISTING_ENTRIES).collect();
        let more = matching.next().is_some();
        (List::new(page).unwrap_or_default(), more)
    }

    /// One page of shared files (of everyone, or of `owner`), after `after`.
    pub fn files_page(
        &self,
        owner: Option<&Name>,
        after: Option<&FileCursor>,
    ) -> (List<FileEntry, MAX_LISTING_ENTRIES>, bool) {
        let start = after.map_or(Bound::Unbounded, |c| Bound::Included(&c.owner));
        let mut entries = self
            .by_name
            .range::<Name, _>((start, Bound::Unbounded))
            .filter(|(name, _)| owner.is_none_or(|o| o == *name))
            .flat_map(|(name, s)| {
                s.files.iter().map(move |f| FileEntry {
                    owner: name.clone(),
                    file: f.clone(),
                })
            })
            .filter(|e| after.is_none_or(|c| (&e.owner, &e.file.name) > (&c.owner, &c.name)));
        let page: Vec<_> = entries.by_ref().take(MAX_LISTING_ENTRIES).collect();
        let more = entries.next().is_some();
        (List::new(page).unwrap_or_default(), more)
    }
}
