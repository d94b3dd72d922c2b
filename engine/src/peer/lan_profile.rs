//! [`ProfileAsks`]: `/whois NAME` without a registry (issue 20), asked of
//! the peer itself over its link as `/files NAME` is (`ProfileAsk` /
//! `ProfileAnswer`), and the digest every announcement carries.
//!
//! ```text
//! /whois bob  -> ProfileAsk on bob's link (dialed first if none is open)
//!             <- ProfileAnswer { profile }: taken only if asked, only on
//!                a link whose key was proven; checked against the digest
//!                of bob's last announcement heard
//! ```
//!
//! **The digest** ([`digest`]) is two halves of one `u64`: the high 32 bits
//! from the profile, the low 32 from the shared list, each the first bytes
//! of a SHA-256 of its MessagePack. An answer is checked against the
//! profile half alone ([`check`]), so a change of shared files never makes
//! a profile look wrong. A mismatch is reported, not refused: the profile
//! may have changed since the last announcement (a peer announces again at
//! once when its own profile or list changes, within the announce rate
//! limit, so this is rare and brief), and only the link, not the
//! announcement, proves who answered.
//!
//! Pure: names and values in, a verdict out; touches nothing else.

use std::collections::BTreeSet;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::limits::MAX_LAN_PEERS;
use crate::peer::event::DigestCheck;
use crate::wire::Name;
use crate::wire::registry::{Profile, SharedFile};

/// How long `/whois NAME` waits for the peer itself (dialing it first,
/// if need be) before saying it did not answer: a piped script's `/quit`
/// waits for the answer, so it must come, one way or the other.
pub(crate) const PROFILE_ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// Whose profile `/whois` asked for and is still waiting for.
#[derive(Debug, Default)]
pub(crate) struct ProfileAsks {
    asked: BTreeSet<Name>,
}

impl ProfileAsks {
    /// `/whois NAME` asked for `name`'s profile (at most [`MAX_LAN_PEERS`]
    /// names wait at once; past that the question is dropped, as the user
    /// asked about more peers than can be heard of).
    pub fn ask(&mut self, name: &Name) {
        if self.asked.len() < MAX_LAN_PEERS {
            self.asked.insert(name.clone());
        }
    }

    /// Whether `/whois` waits for `name`'s profile (a link to it is wanted).
    pub fn waiting(&self, name: &Name) -> bool {
        self.asked.contains(name)
    }

    /// Whether `/whois` waited for `name`'s profile (taken off the list):
    /// an answer nobody asked for is dropped.
    pub fn answered(&mut self, name: &Name) -> bool {
        self.asked.remove(name)
    }
}

/// The first 4 bytes of a SHA-256 of `value`'s MessagePack.
fn half<T: serde::Serialize>(value: &T) -> u32 {
    let d = Sha256::digest(rmp_serde::to_vec(value).unwrap_or_default());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The digest announced for `profile` and `shared` (see the module
/// documentation): it reveals neither.
pub(crate) fn digest(profile: &Profile, shared: &[SharedFile]) -> u64 {
    (u64::from(half(profile)) << 32) | u64::from(half(&shared))
}

/// Whether `profile` is the one whose digest was announced (`None`: no
/// announcement of that key is held).
pub(crate) fn check(announced: Option<u64>, profile: &Profile) -> DigestCheck {
    match announced {
        None => DigestCheck::Unknown,
        Some(d) if (d >> 32) as u32 == half(profile) => DigestCheck::Matches,
        Some(_) => DigestCheck::Differs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded::Text;

    #[test]
    fn the_profile_half_checks_and_the_files_half_does_not_matter() {
        let mut p = Profile::default();
        let d = digest(&p, &[]);
        assert_eq!(check(Some(d), &p), DigestCheck::Matches);
        assert_eq!(check(None, &p), DigestCheck::Unknown);
        let file = SharedFile {
            name: crate::wire::FileName::new("a.txt").unwrap(),
            size: 1,
            md5: crate::wire::Md5::of(b"a"),
            kind: Default::default(),
        };
        let with_file = digest(&p, &[file]);
        assert_ne!(with_file, d, "the list is in the digest");
        assert_eq!(check(Some(with_file), &p), DigestCheck::Matches);
        p.nick = Text::new("Bobby").unwrap();
        assert_eq!(check(Some(d), &p), DigestCheck::Differs);
    }

    #[test]
    fn only_what_was_asked_is_answered_once() {
        let mut a = ProfileAsks::default();
        let bob = Name::new("bob").unwrap();
        assert!(!a.answered(&bob), "not asked");
        a.ask(&bob);
        assert!(a.waiting(&bob));
        assert!(a.answered(&bob));
        assert!(!a.answered(&bob), "once");
        assert!(!a.waiting(&bob));
    }
}
