//! The registry side of the role machine: what the peer does with what its
//! [`RegistryLink`](super::registry_link::RegistryLink) reports: the session
//! coming up (re-publish the profile, refresh presence, resume dials and
//! identity checks) or going down, presence pushes, and the answers to
//! `/who`, `/search`, `/whois`, `/files`, paged up to [`MAX_LISTING_PAGES`].

use crate::limits::MAX_LISTING_PAGES;
use crate::peer::io::Timer;
use crate::peer::registry_link::RegOut;
use crate::peer::{Peer, PeerEvent, Query};
use crate::wire::registry::{FileCursor, ReplyBody, RequestBody};
use crate::wire::{ErrorCode, Refusal};

impl Peer {
    pub(crate) fn on_registry(&mut self, outs: Vec<RegOut<Query>>) {
        for out in outs {
            match out {
                RegOut::Up { first } => self.registry_up(first),
                RegOut::Down { reason, abandoned } => {
                    for q in abandoned {
                        self.abandoned(q);
                    }
                    self.io.event(PeerEvent::RegistryLost { reason });
                }
                RegOut::Stopped { code, reason } => self.stop(code, reason),
                RegOut::Reply(q, result) => self.on_reply(q, result),
                RegOut::Presence(p) => {
                    if p.online {
                        self.online.insert(p.name.clone());
                    } else {
                        self.online.remove(&p.name);
                    }
                    self.io.event(PeerEvent::Presence {
                        name: p.name.clone(),
                        online: p.online,
                    });
                    if p.online && self.wants(&p.name) && !self.links.is_underway(&p.name) {
                        // Whatever backoff there was, now is the time.
                        self.io.timers.cancel(&Timer::Dial(p.name.clone()));
                        self.ensure_link(&p.name);
                    }
                }
            }
        }
    }

    fn registry_up(&mut self, first: bool) {
        let me = self.me().clone();
        if first {
            self.io.event(PeerEvent::Ready {
                name: me.clone(),
                listen: self.config.listen,
            });
        } else {
            self.io.event(PeerEvent::RegistryBack);
        }
        match self.profile.clone() {
            Some(profile) => {
                let body = RequestBody::SetProfile { profile };
                self.reg.request(&mut self.io, Query::SetProfile, body);
            }
            None => {
                let body = RequestBody::Lookup { name: me };
                self.reg.request(&mut self.io, Query::OwnProfile, body);
            }
        }
        let body = RequestBody::List { after: None };
        let q = Query::Roster {
            online: Vec::new(),
            pages: 0,
        };
        self.reg.request(&mut self.io, q, body);
        for (conn, name) in self.links.verifying() {
            let body = RequestBody::Lookup { name: name.clone() };
            self.reg
                .request(&mut self.io, Query::Verify(conn, name), body);
        }
        for name in self.wanted() {
            self.ensure_link(&name);
        }
    }

    fn abandoned(&mut self, q: Query) {
        match q {
            Query::Who { .. } | Query::Search { .. } | Query::Files { .. } | Query::Whois(_) => {
                self.io
                    .error("the registry connection was lost; try again when it is back")
            }
            Query::WhoisFiles { .. } => self
                .io
                .error("the registry connection was lost; try again when it is back"),
            Query::Dial(name) => self.links.set_looking_up(&name, false),
            // Asked again when the registry is back.
            Query::Verify(..) | Query::OwnProfile | Query::SetProfile | Query::Roster { .. } => {}
        }
    }

    fn on_reply(&mut self, q: Query, result: Result<ReplyBody, Refusal>) {
        let result = match result {
            Ok(body) => body,
            Err(refusal) => return self.on_refusal(q, refusal),
        };
        match (q, result) {
            (Query::Who { mut users, pages }, ReplyBody::Users { users: page, more }) => {
                users.extend(page.into_vec());
                match self.next_page(more, pages, users.last().map(|u| u.name.clone())) {
                    Some(after) => {
                        let q = Query::Who {
                            users,
                            pages: pages + 1,
                        };
                        self.reg
                            .request(&mut self.io, q, RequestBody::List { after });
                    }
                    None => self.io.event(PeerEvent::Users { users }),
                }
            }
            (
                Query::Search {
                    text,
                    mut users,
                    pages,
                },
                ReplyBody::Users { users: page, more },
            ) => {
                users.extend(page.into_vec());
                match self.next_page(more, pages, users.last().map(|u| u.name.clone())) {
                    Some(after) => {
                        let body = RequestBody::Search {
                            text: text.clone(),
                            after,
                        };
                        let q = Query::Search {
                            text,
                            users,
                            pages: pages + 1,
                        };
                        self.reg.request(&mut self.io, q, body);
                    }
                    None => self.io.event(PeerEvent::Users { users }),
                }
            }
            (
                Query::Files {
                    owner,
                    mut files,
                    pages,
                },
                ReplyBody::Files { files: page, more },
            ) => {
                files.extend(page.into_vec());
                let cursor = files.last().map(|f| FileCursor {
                    owner: f.owner.clone(),
                    name: f.file.name.clone(),
                });
                match self.next_page(more, pages, cursor) {
                    Some(after) => {
                        let body = RequestBody::Files {
                            owner: owner.clone(),
                            after,
                        };
                        let q = Query::Files {
                            owner,
                            files,
                            pages: pages + 1,
                        };
                        self.reg.request(&mut self.io, q, body);
                    }
                    None => self.io.event(PeerEvent::Files { files }),
                }
            }
            (Query::Whois(_), ReplyBody::Peer(info)) => {
                if info.addr.is_none() {
                    return self.io.event(PeerEvent::Whois {
                        info,
                        files: Vec::new(),
                    });
                }
                let body = RequestBody::Files {
                    owner: Some(info.name.clone()),
                    after: None,
                };
                let q = Query::WhoisFiles {
                    info,
                    files: Vec::new(),
                    pages: 0,
                };
                self.reg.request(&mut self.io, q, body);
            }
            (
                Query::WhoisFiles {
                    info,
                    mut files,
                    pages,
                },
                ReplyBody::Files { files: page, more },
            ) => {
                files.extend(page.into_vec());
                let cursor = files.last().map(|f| FileCursor {
                    owner: f.owner.clone(),
                    name: f.file.name.clone(),
                });
                match self.next_page(more, pages, cursor) {
                    Some(after) => {
                        let body = RequestBody::Files {
                            owner: Some(info.name.clone()),
                            after,
                        };
                        let q = Query::WhoisFiles {
                            info,
                            files,
                            pages: pages + 1,
                        };
                        self.reg.request(&mut self.io, q, body);
                    }
                    None => {
                        let files = files.into_iter().map(|f| f.file).collect();
                        self.io.event(PeerEvent::Whois { info, files })
                    }
                }
            }
            (Query::Dial(name), ReplyBody::Peer(info)) => match info.addr {
                Some(addr) if self.wants(&name) => self.links.dial(&mut self.io, name, addr),
                Some(_) => self.links.set_looking_up(&name, false),
                None => {
                    self.links.set_looking_up(&name, false);
                    self.peer_offline(&name);
                    self.transfers_offline(&name);
                }
            },
            (Query::Verify(conn, _), ReplyBody::Peer(info)) => {
                let outs = self.links.verified(&mut self.io, conn, Ok(info.addr));
                self.on_link(outs);
            }
            (Query::OwnProfile, ReplyBody::Peer(info)) => {
                if self.profile.is_none() {
                    self.profile = Some(info.profile);
                }
            }
            (Query::SetProfile, _) => {}
            (Query::Roster { mut online, pages }, ReplyBody::Users { users, more }) => {
                online.extend(users.into_vec().into_iter().map(|u| u.name));
                match self.next_page(more, pages, online.last().cloned()) {
                    Some(after) => {
                        let q = Query::Roster {
                            online,
                            pages: pages + 1,
                        };
                        self.reg
                            .request(&mut self.io, q, RequestBody::List { after });
                    }
                    None => self.online = online.into_iter().collect(),
                }
            }
            (q, body) => {
                // The registry answered with the wrong kind of reply: a bug
                // there; say so rather than guess.
                self.io.notice(format!(
                    "the registry answered {q:?} with an unexpected {body:?}"
                ));
            }
        }
    }

    /// The cursor for the next page, or `None` when the listing is complete
    /// (or long enough: then the user is told it was cut).
    fn next_page<C>(&mut self, more: bool, pages: usize, last: Option<C>) -> Option<Option<C>> {
        if !more {
            return None;
        }
        if pages + 1 >= MAX_LISTING_PAGES {
            self.io.notice(format!(
                "the listing is longer than {MAX_LISTING_PAGES} pages; showing the first ones"
            ));
            return None;
        }
        last.map(Some)
    }

    fn on_refusal(&mut self, q: Query, refusal: Refusal) {
        match q {
            Query::Who { .. }
            | Query::Search { .. }
            | Query::Files { .. }
            | Query::Whois(_)
            | Query::WhoisFiles { .. } => self.io.error(refusal.message.to_string()),
            Query::Dial(name) => {
                if refusal.code == ErrorCode::UnknownName {
                    self.links.set_looking_up(&name, false);
                    self.peer_unknown(&name, refusal.message.as_str());
                    self.transfers_unknown(&name, refusal.message.as_str());
                } else {
                    self.links.lookup_failed(&mut self.io, &name);
                }
            }
            Query::Verify(conn, _) => {
                let outs = self.links.verified(&mut self.io, conn, Err(refusal));
                self.on_link(outs);
            }
            Query::SetProfile => self
                .io
                .error(format!("the registry refused the profile: {refusal}")),
            Query::OwnProfile | Query::Roster { .. } => {}
        }
    }
}
