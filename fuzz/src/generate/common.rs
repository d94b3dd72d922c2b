//! The pieces every generator uses: the [`Build`] trait, the pools that make
//! inputs name the same accounts, and the generators of names, addresses and
//! the small wire values shared by every message family.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use arbitrary::Arbitrary;
use confab_engine::bounded::{Blob, List, Text};
use confab_engine::wire::registry::{FileCursor, Password, Profile, ShareKind, SharedFile};
use confab_engine::wire::{ErrorCode, FileName, Hello, Md5, Name, PROTOCOL_VERSION, Refusal, Role};

/// Turns a generator value into the engine value it stands for.
pub trait Build {
    /// The engine type.
    type Out;
    /// The engine value; always valid.
    fn build(&self) -> Self::Out;
}

impl<T: Build> Build for Option<T> {
    type Out = Option<T::Out>;
    fn build(&self) -> Self::Out {
        self.as_ref().map(Build::build)
    }
}

/// Builds each element and keeps at most `MAX` of them.
pub(super) fn list<G: Build, const MAX: usize>(items: &[G]) -> List<G::Out, MAX> {
    let items = items.iter().take(MAX).map(Build::build).collect();
    List::new(items).expect("cut to the limit")
}

/// User names the engine targets share, so operations collide on purpose.
pub const NAME_POOL: [&str; 5] = [
    "alice",
    "bob",
    "carol",
    "d",
    // The longest name allowed.
    "z0123456789.-_abcdefghijklmnopqr",
];

/// Passwords the engine targets share; the empty one is refused.
pub const PASSWORD_POOL: [&str; 3] = ["hunter2", "correct horse", ""];

/// File names the engine targets share, including the longest allowed.
pub const FILE_POOL: [&str; 4] = ["a.txt", "notes.md", "é.bin", ".hidden"];

/// Every error code, so a byte can pick one.
pub const ERROR_CODES: [ErrorCode; 18] = [
    ErrorCode::VersionMismatch,
    ErrorCode::ProtocolViolation,
    ErrorCode::InvalidName,
    ErrorCode::NameTaken,
    ErrorCode::UnknownName,
    ErrorCode::WrongPassword,
    ErrorCode::InvalidPassword,
    ErrorCode::NotLoggedIn,
    ErrorCode::AlreadyLoggedIn,
    ErrorCode::Busy,
    ErrorCode::InvalidRequest,
    ErrorCode::NotFound,
    ErrorCode::SessionReplaced,
    ErrorCode::TimedOut,
    ErrorCode::ShuttingDown,
    ErrorCode::Normal,
    ErrorCode::StaleLogin,
    ErrorCode::UntrustedKey,
];

/// A user name: from the pool, or made from arbitrary text.
#[derive(Debug, Arbitrary)]
pub enum GName {
    Pool(u8),
    Made(String),
}

impl Build for GName {
    type Out = Name;
    fn build(&self) -> Name {
        match self {
            GName::Pool(i) => Name::new(NAME_POOL[*i as usize % NAME_POOL.len()]).expect("valid"),
            GName::Made(s) => {
                // Keep only what the rules allow; fall back to a pool name.
                let cleaned: String = s
                    .chars()
                    .map(|c| c.to_ascii_lowercase())
                    .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(*c))
                    .skip_while(|c| !c.is_ascii_alphanumeric())
                    .take(confab_engine::limits::MAX_NAME_LEN)
                    .collect();
                Name::new(&cleaned).unwrap_or_else(|_| Name::new(NAME_POOL[0]).expect("valid"))
            }
        }
    }
}

/// A password: from the pool, or arbitrary text cut to the limit.
#[derive(Debug, Arbitrary)]
pub enum GPassword {
    Pool(u8),
    Made(String),
}

impl Build for GPassword {
    type Out = Password;
    fn build(&self) -> Password {
        Password(match self {
            GPassword::Pool(i) => Text::truncate(PASSWORD_POOL[*i as usize % PASSWORD_POOL.len()]),
            GPassword::Made(s) => Text::truncate(s),
        })
    }
}

/// A file name: from the pool, or arbitrary text with what the rules forbid removed.
#[derive(Debug, Arbitrary)]
pub enum GFileName {
    Pool(u8),
    /// The longest name allowed, of this character.
    Longest(u8),
    Made(String),
}

impl Build for GFileName {
    type Out = FileName;
    fn build(&self) -> FileName {
        let fallback = || FileName::new(FILE_POOL[0]).expect("valid");
        match self {
            GFileName::Pool(i) => FileName::new(FILE_POOL[*i as usize % FILE_POOL.len()])
                .unwrap_or_else(|_| fallback()),
            GFileName::Longest(c) => {
                let c = char::from(b'a' + c % 26);
                FileName::new(
                    &c.to_string()
                        .repeat(confab_engine::limits::MAX_FILE_NAME_LEN),
                )
                .unwrap_or_else(|_| fallback())
            }
            GFileName::Made(s) => {
                let cleaned: String = s
                    .chars()
                    .filter(|c| !matches!(c, '/' | '\\') && !c.is_control())
                    .collect();
                let cut = Text::<{ confab_engine::limits::MAX_FILE_NAME_LEN }>::truncate(&cleaned);
                FileName::new(cut.as_str()).unwrap_or_else(|_| fallback())
            }
        }
    }
}

/// A socket address.
///
/// No IPv6 flow info or scope id: serde's binary form of `SocketAddrV6` (what
/// rmp-serde writes) carries only the address and the port, so those two
/// never travel (a scope id names an interface of the sender's host, which
/// would mean nothing to the receiver anyway).
#[derive(Debug, Arbitrary)]
pub enum GAddr {
    V4([u8; 4], u16),
    V6([u8; 16], u16),
}

impl Build for GAddr {
    type Out = SocketAddr;
    fn build(&self) -> SocketAddr {
        match self {
            GAddr::V4(ip, port) => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(*ip), *port)),
            GAddr::V6(ip, port) => {
                SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(*ip), *port, 0, 0))
            }
        }
    }
}

/// An error code, picked by index.
#[derive(Debug, Arbitrary)]
pub struct GCode(pub u8);

impl Build for GCode {
    type Out = ErrorCode;
    fn build(&self) -> ErrorCode {
        ERROR_CODES[self.0 as usize % ERROR_CODES.len()]
    }
}

/// A hello: mostly of this protocol version, so engines get past it.
#[derive(Debug, Arbitrary)]
pub struct GHello {
    pub other_version: Option<u16>,
    pub registry: bool,
    pub name: Option<GName>,
}

impl Build for GHello {
    type Out = Hello;
    fn build(&self) -> Hello {
        Hello {
            version: self.other_version.unwrap_or(PROTOCOL_VERSION),
            role: if self.registry {
                Role::Registry
            } else {
                Role::Peer
            },
            name: self.name.build(),
        }
    }
}

/// A refusal.
#[derive(Debug, Arbitrary)]
pub struct GRefusal {
    pub code: GCode,
    pub message: String,
}

impl Build for GRefusal {
    type Out = Refusal;
    fn build(&self) -> Refusal {
        Refusal::new(self.code.build(), &self.message)
    }
}

/// A profile. The avatar is a byte count, not the bytes, so a maximal avatar
/// costs the fuzzer two input bytes rather than 64 KiB.
#[derive(Debug, Arbitrary)]
pub struct GProfile {
    pub nick: String,
    pub bio: String,
    pub avatar_len: u16,
    pub avatar_byte: u8,
}

impl Build for GProfile {
    type Out = Profile;
    fn build(&self) -> Profile {
        let len = (self.avatar_len as usize).min(confab_engine::limits::MAX_AVATAR_LEN);
        Profile {
            nick: Text::truncate(&self.nick),
            bio: Text::truncate(&self.bio),
            avatar: Blob::new(vec![self.avatar_byte; len]).expect("cut to the limit"),
        }
    }
}

/// A shared file.
#[derive(Debug, Arbitrary)]
pub struct GSharedFile {
    pub name: GFileName,
    pub size: u64,
    pub md5: [u8; 16],
    /// `Some(files)` for a folder.
    pub folder: Option<u32>,
}

impl Build for GSharedFile {
    type Out = SharedFile;
    fn build(&self) -> SharedFile {
        SharedFile {
            kind: self
                .folder
                .map_or(ShareKind::File, |files| ShareKind::Folder { files }),
            name: self.name.build(),
            size: self.size,
            md5: Md5(self.md5),
        }
    }
}

/// A cursor into a file listing.
#[derive(Debug, Arbitrary)]
pub struct GFileCursor {
    pub owner: GName,
    pub name: GFileName,
}

impl Build for GFileCursor {
    type Out = FileCursor;
    fn build(&self) -> FileCursor {
        FileCursor {
            owner: self.owner.build(),
            name: self.name.build(),
        }
    }
}
