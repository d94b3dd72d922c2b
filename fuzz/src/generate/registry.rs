//! Generators of the registry protocol: request and reply bodies.

use arbitrary::Arbitrary;
use confab_engine::bounded::{List, Text};
use confab_engine::wire::identity::{
    Certificate, CertificateBody, KEY_LEN, PublicKey, SIGNATURE_LEN, Signature,
};
use confab_engine::wire::registry::{
    FileEntry, LoginStamp, PeerInfo, ReplyBody, RequestBody, SharedFile, UserEntry,
};
use confab_engine::wire::{FileName, Md5};

use super::common::*;

/// A request body, one variant per [`RequestBody`] variant.
#[derive(Debug, Arbitrary)]
pub enum GRequestBody {
    Register {
        name: GName,
        password: GPassword,
    },
    Login {
        name: GName,
        password: GPassword,
        listen: GAddr,
        device: u64,
        count: u64,
    },
    Logout,
    Heartbeat,
    List {
        after: Option<GName>,
    },
    Search {
        text: String,
        after: Option<GName>,
    },
    Lookup {
        name: GName,
    },
    Publish {
        files: Vec<GSharedFile>,
    },
    /// Publishes `count` files with distinct names: long lists are expensive
    /// to reach through `Vec<GSharedFile>`, and the listing pages need them.
    PublishMany {
        count: u16,
        md5: [u8; 16],
    },
    SetProfile {
        profile: GProfile,
    },
    Files {
        owner: Option<GName>,
        after: Option<GFileCursor>,
    },
    WatchPresence {
        on: bool,
    },
}

impl Build for GRequestBody {
    type Out = RequestBody;
    fn build(&self) -> RequestBody {
        use confab_engine::limits::{MAX_SEARCH_LEN, MAX_SHARED_FILES};
        match self {
            GRequestBody::Register { name, password } => RequestBody::Register {
                name: name.build(),
                password: password.build(),
            },
            GRequestBody::Login {
                name,
                password,
                listen,
                device,
                count,
            } => RequestBody::Login {
                name: name.build(),
                password: password.build(),
                listen: listen.build(),
                stamp: LoginStamp {
                    device: *device,
                    count: *count,
                },
            },
            GRequestBody::Logout => RequestBody::Logout,
            GRequestBody::Heartbeat => RequestBody::Heartbeat,
            GRequestBody::List { after } => RequestBody::List {
                after: after.build(),
            },
            GRequestBody::Search { text, after } => RequestBody::Search {
                text: Text::<MAX_SEARCH_LEN>::truncate(text),
                after: after.build(),
            },
            GRequestBody::Lookup { name } => RequestBody::Lookup { name: name.build() },
            GRequestBody::Publish { files } => RequestBody::Publish { files: list(files) },
            GRequestBody::PublishMany { count, md5 } => {
                let n = (*count as usize).min(MAX_SHARED_FILES);
                let files = (0..n)
                    .map(|i| SharedFile {
                        kind: Default::default(),
                        name: FileName::new(&format!("f{i:04}")).expect("valid"),
                        size: i as u64,
                        md5: Md5(*md5),
                    })
                    .collect();
                RequestBody::Publish {
                    files: List::new(files).expect("cut to the limit"),
                }
            }
            GRequestBody::SetProfile { profile } => RequestBody::SetProfile {
                profile: profile.build(),
            },
            GRequestBody::Files { owner, after } => RequestBody::Files {
                owner: owner.build(),
                after: after.build(),
            },
            GRequestBody::WatchPresence { on } => RequestBody::WatchPresence { on: *on },
        }
    }
}

/// A user entry of a listing.
#[derive(Debug, Arbitrary)]
pub struct GUserEntry {
    pub name: GName,
    pub addr: GAddr,
}

impl Build for GUserEntry {
    type Out = UserEntry;
    fn build(&self) -> UserEntry {
        UserEntry {
            name: self.name.build(),
            addr: self.addr.build(),
        }
    }
}

/// A file entry of a listing.
#[derive(Debug, Arbitrary)]
pub struct GFileEntry {
    pub owner: GName,
    pub file: GSharedFile,
}

impl Build for GFileEntry {
    type Out = FileEntry;
    fn build(&self) -> FileEntry {
        FileEntry {
            owner: self.owner.build(),
            file: self.file.build(),
        }
    }
}

/// A reply body, one variant per [`ReplyBody`] variant.
#[derive(Debug, Arbitrary)]
pub enum GReplyBody {
    Done,
    Users {
        users: Vec<GUserEntry>,
        more: bool,
    },
    Peer {
        name: GName,
        addr: Option<GAddr>,
        profile: GProfile,
        key: Option<[u8; KEY_LEN]>,
    },
    Files {
        files: Vec<GFileEntry>,
        more: bool,
    },
    Certified(GCertificate),
}

/// A certificate: any bytes for its keys and signature (the peer checks it
/// only when another peer shows it; a registry's reply is taken on trust).
#[derive(Debug, Arbitrary)]
pub struct GCertificate {
    pub name: GName,
    pub key: [u8; KEY_LEN],
    pub not_before: u64,
    pub not_after: u64,
    pub registry: [u8; KEY_LEN],
    pub signature: [[u8; KEY_LEN]; 2],
}

impl Build for GCertificate {
    type Out = Certificate;
    fn build(&self) -> Certificate {
        let mut signature = [0u8; SIGNATURE_LEN];
        signature[..KEY_LEN].copy_from_slice(&self.signature[0]);
        signature[KEY_LEN..].copy_from_slice(&self.signature[1]);
        Certificate {
            body: CertificateBody {
                name: self.name.build(),
                key: PublicKey(self.key),
                not_before: self.not_before,
                not_after: self.not_after,
                registry: PublicKey(self.registry),
            },
            signature: Signature(signature),
        }
    }
}

impl Build for GReplyBody {
    type Out = ReplyBody;
    fn build(&self) -> ReplyBody {
        match self {
            GReplyBody::Done => ReplyBody::Done,
            GReplyBody::Users { users, more } => ReplyBody::Users {
                users: list(users),
                more: *more,
            },
            GReplyBody::Peer {
                name,
                addr,
                profile,
                key,
            } => ReplyBody::Peer(PeerInfo {
                name: name.build(),
                addr: addr.build(),
                profile: profile.build(),
                key: key.map(PublicKey),
            }),
            GReplyBody::Certified(c) => ReplyBody::Certified(c.build()),
            GReplyBody::Files { files, more } => ReplyBody::Files {
                files: list(files),
                more: *more,
            },
        }
    }
}
