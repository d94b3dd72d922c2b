//! The requests a scripted client makes: [`Ask`] is what the workload can ask
//! for; `Kind` labels every request in flight so its reply is read right.

use confab_engine::bounded::{List, Text};
use confab_engine::wire::Name;
use confab_engine::wire::registry::{Profile, RequestBody, SharedFile};

/// A question or update the workload asks a logged-in client to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// Who is online (first page).
    List,
    /// Online names containing this text.
    Search(String),
    /// One name's address and profile.
    Lookup(Name),
    /// Replace the shared file list.
    Publish(Vec<SharedFile>),
    /// Shared files of everyone, or of one owner.
    Files(Option<Name>),
    /// Start or stop presence pushes.
    WatchPresence(bool),
    /// Replace the profile.
    SetProfile(Profile),
}

impl Ask {
    /// A short name for reports.
    pub fn label(&self) -> &'static str {
        self.kind().label()
    }

    fn kind(&self) -> Kind {
        match self {
            Ask::List => Kind::List,
            Ask::Search(_) => Kind::Search,
            Ask::Lookup(_) => Kind::Lookup,
            Ask::Publish(_) => Kind::Publish,
            Ask::Files(_) => Kind::Files,
            Ask::WatchPresence(_) => Kind::Watch,
            Ask::SetProfile(_) => Kind::SetProfile,
        }
    }

    /// The request to send.
    pub(super) fn into_request(self) -> (Kind, RequestBody) {
        let kind = self.kind();
        let body = match self {
            Ask::List => RequestBody::List { after: None },
            Ask::Search(text) => RequestBody::Search {
                text: Text::truncate(&text),
                after: None,
            },
            Ask::Lookup(name) => RequestBody::Lookup { name },
            Ask::Publish(files) => RequestBody::Publish {
                files: List::new(files).unwrap_or_default(),
            },
            Ask::Files(owner) => RequestBody::Files { owner, after: None },
            Ask::WatchPresence(on) => RequestBody::WatchPresence { on },
            Ask::SetProfile(profile) => RequestBody::SetProfile { profile },
        };
        (kind, body)
    }
}

/// Every kind of request a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Register,
    Login,
    Logout,
    Heartbeat,
    List,
    Search,
    Lookup,
    Publish,
    Files,
    Watch,
    SetProfile,
}

impl Kind {
    pub(super) fn label(self) -> &'static str {
        match self {
            Kind::Register => "register",
            Kind::Login => "login",
            Kind::Logout => "logout",
            Kind::Heartbeat => "heartbeat",
            Kind::List => "list",
            Kind::Search => "search",
            Kind::Lookup => "lookup",
            Kind::Publish => "publish",
            Kind::Files => "files",
            Kind::Watch => "watch",
            Kind::SetProfile => "set-profile",
        }
    }
}
