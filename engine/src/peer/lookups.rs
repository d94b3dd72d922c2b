//! Registry look-ups ([`Query`]): why each request was made, what its
//! answer accumulates (listings paged up to [`MAX_LISTING_PAGES`]), and what
//! an answer, a refusal or a lost session means. A query owns its partial
//! result; it reports what is complete itself (`/who`, `/search`, `/whois`,
//! `/files`) and hands back as an [`Answer`] what concerns another room
//! (a dial, an identity check, presence, the profile).

use std::net::SocketAddr;

use crate::bounded::Text;
use crate::limits::{MAX_LISTING_PAGES, MAX_SEARCH_LEN};
use crate::peer::event::{PeerEvent, WhoisFrom};
use crate::peer::io::Io;
use crate::wire::registry::{
    FileCursor, FileEntry, PeerInfo, Profile, ReplyBody, RequestBody, UserEntry,
};
use crate::wire::{ErrorCode, Name, Refusal};

/// Why a registry request was made, with what its answer accumulates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Query {
    Who {
        users: Vec<UserEntry>,
        pages: usize,
    },
    Search {
        text: Text<MAX_SEARCH_LEN>,
        users: Vec<UserEntry>,
        pages: usize,
    },
    Files {
        owner: Option<Name>,
        files: Vec<FileEntry>,
        pages: usize,
    },
    Whois(Name),
    WhoisFiles {
        info: PeerInfo,
        files: Vec<FileEntry>,
        pages: usize,
    },
    /// Where to dial this peer.
    Dial(Name),
    /// This peer's own profile, when it has no local copy.
    OwnProfile,
    SetProfile,
    /// Who is online, for friends' presence.
    Roster {
        online: Vec<Name>,
        pages: usize,
    },
}

/// What an answer needs done outside the query.
#[derive(Debug)]
// Returned and consumed at once, never stored: boxing would only add an
// allocation per answer.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Answer {
    /// Nothing more (what was complete is reported).
    Done,
    /// Ask the registry for the next page.
    Next(Query, RequestBody),
    /// Where to dial `name`: at this address, or nowhere (it is offline).
    Dial(Name, Option<SocketAddr>),
    /// The registry does not know `name` (its message says so).
    Unknown(Name, String),
    /// The look-up for a dial failed for another reason: try again later.
    DialFailed(Name),
    /// This peer's own profile as the registry has it.
    OwnProfile(Profile),
    /// Everyone online.
    Roster(Vec<Name>),
}

impl Query {
    /// `/who`.
    pub fn who() -> (Self, RequestBody) {
        let q = Query::Who {
            users: Vec::new(),
            pages: 0,
        };
        (q, RequestBody::List { after: None })
    }

    /// `/search TEXT`.
    pub fn search(text: Text<MAX_SEARCH_LEN>) -> (Self, RequestBody) {
        let body = RequestBody::Search {
            text: text.clone(),
            after: None,
        };
        let q = Query::Search {
            text,
            users: Vec::new(),
            pages: 0,
        };
        (q, body)
    }

    /// `/files [NAME]`.
    pub fn files(owner: Option<Name>) -> (Self, RequestBody) {
        let body = RequestBody::Files {
            owner: owner.clone(),
            after: None,
        };
        let q = Query::Files {
            owner,
            files: Vec::new(),
            pages: 0,
        };
        (q, body)
    }

    /// Who is online (at every log-in).
    pub fn roster() -> (Self, RequestBody) {
        let q = Query::Roster {
            online: Vec::new(),
            pages: 0,
        };
        (q, RequestBody::List { after: None })
    }

    /// Where `name` is; `why` says what for.
    pub fn lookup(why: Self, name: &Name) -> (Self, RequestBody) {
        (why, RequestBody::Lookup { name: name.clone() })
    }

    /// The registry answered.
    pub fn on_reply(self, io: &mut Io, result: Result<ReplyBody, Refusal>) -> Answer {
        let result = match result {
            Ok(body) => body,
            Err(refusal) => return self.on_refusal(io, refusal),
        };
        match (self, result) {
            (Query::Who { mut users, pages }, ReplyBody::Users { users: page, more }) => {
                match next_page(io, &mut users, page.into_vec(), more, pages, |u| {
                    u.name.clone()
                }) {
                    Some(after) => Answer::Next(
                        Query::Who {
                            users,
                            pages: pages + 1,
                        },
                        RequestBody::List { after },
                    ),
                    None => done(io, PeerEvent::Users { users }),
                }
            }
            (
                Query::Search {
                    text,
                    mut users,
                    pages,
                },
                ReplyBody::Users { users: page, more },
            ) => match next_page(io, &mut users, page.into_vec(), more, pages, |u| {
                u.name.clone()
            }) {
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
                    Answer::Next(q, body)
                }
                None => done(io, PeerEvent::Users { users }),
            },
            (
                Query::Files {
                    owner,
                    mut files,
                    pages,
                },
                ReplyBody::Files { files: page, more },
            ) => match next_page(io, &mut files, page.into_vec(), more, pages, cursor) {
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
                    Answer::Next(q, body)
                }
                None => done(io, PeerEvent::Files { files }),
            },
            (Query::Whois(_), ReplyBody::Peer(info)) => {
                if info.addr.is_none() {
                    let files = Vec::new();
                    return done(
                        io,
                        PeerEvent::Whois {
                            info,
                            files,
                            from: WhoisFrom::Registry,
                        },
                    );
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
                Answer::Next(q, body)
            }
            (
                Query::WhoisFiles {
                    info,
                    mut files,
                    pages,
                },
                ReplyBody::Files { files: page, more },
            ) => match next_page(io, &mut files, page.into_vec(), more, pages, cursor) {
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
                    Answer::Next(q, body)
                }
                None => {
                    let files = files.into_iter().map(|f| f.file).collect();
                    done(
                        io,
                        PeerEvent::Whois {
                            info,
                            files,
                            from: WhoisFrom::Registry,
                        },
                    )
                }
            },
            (Query::Dial(name), ReplyBody::Peer(info)) => Answer::Dial(name, info.addr),
            (Query::OwnProfile, ReplyBody::Peer(info)) => Answer::OwnProfile(info.profile),
            (Query::SetProfile, _) => Answer::Done,
            (Query::Roster { mut online, pages }, ReplyBody::Users { users, more }) => {
                let page = users.into_vec().into_iter().map(|u| u.name).collect();
                match next_page(io, &mut online, page, more, pages, Name::clone) {
                    Some(after) => Answer::Next(
                        Query::Roster {
                            online,
                            pages: pages + 1,
                        },
                        RequestBody::List { after },
                    ),
                    None => Answer::Roster(online),
                }
            }
            (q, body) => {
                // The registry answered with the wrong kind of reply: a bug
                // there; say so rather than guess.
                io.notice(format!(
                    "the registry answered {q:?} with an unexpected {body:?}"
                ));
                Answer::Done
            }
        }
    }

    fn on_refusal(self, io: &mut Io, refusal: Refusal) -> Answer {
        match self {
            Query::Who { .. }
            | Query::Search { .. }
            | Query::Files { .. }
            | Query::Whois(_)
            | Query::WhoisFiles { .. } => io.error(refusal.message.to_string()),
            Query::Dial(name) if refusal.code == ErrorCode::UnknownName => {
                return Answer::Unknown(name, refusal.message.to_string());
            }
            Query::Dial(name) => return Answer::DialFailed(name),
            Query::SetProfile => io.error(format!("the registry refused the profile: {refusal}")),
            Query::OwnProfile | Query::Roster { .. } => {}
        }
        Answer::Done
    }

    /// The session was lost before the answer came. `Some(name)`: the
    /// look-up for a dial of `name` is dropped.
    pub fn abandoned(self, io: &mut Io) -> Option<Name> {
        match self {
            Query::Who { .. }
            | Query::Search { .. }
            | Query::Files { .. }
            | Query::Whois(_)
            | Query::WhoisFiles { .. } => {
                io.error("the registry connection was lost; try again when it is back")
            }
            Query::Dial(name) => return Some(name),
            // Asked again when the registry is back.
            Query::OwnProfile | Query::SetProfile | Query::Roster { .. } => {}
        }
        None
    }
}

fn done(io: &mut Io, e: PeerEvent) -> Answer {
    io.event(e);
    Answer::Done
}

fn cursor(f: &FileEntry) -> FileCursor {
    FileCursor {
        owner: f.owner.clone(),
        name: f.file.name.clone(),
    }
}

/// Adds `page` to `acc`; the cursor for the next page, or `None` when the
/// listing is complete (or long enough: then the user is told it was cut).
fn next_page<T, C>(
    io: &mut Io,
    acc: &mut Vec<T>,
    page: Vec<T>,
    more: bool,
    pages: usize,
    cursor: impl Fn(&T) -> C,
) -> Option<Option<C>> {
    acc.extend(page);
    if !more {
        return None;
    }
    if pages + 1 >= MAX_LISTING_PAGES {
        io.notice(format!(
            "the listing is longer than {MAX_LISTING_PAGES} pages; showing the first ones"
        ));
        return None;
    }
    acc.last().map(|last| Some(cursor(last)))
}
