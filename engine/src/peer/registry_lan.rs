//! [`LanRegistries`]: registries announced on the LAN (issue 20), and which
//! one this peer logs in to.
//!
//! With discovery on and no `--registry ADDR`, a registry's signed
//! announcement (`registry::announce`) is checked, then:
//!
//! ```text
//! no --registry       -> said once per key (Heard::Tell): the command to use it
//! --registry lan      -> the first one whose key is acceptable is used
//!                        (Heard::Use); the one in use, heard again, is
//!                        followed wherever it is announced (Heard::Follow)
//! ```
//!
//! **Acceptable** means: with `--registry-key`, that key and no other
//! (others are said once, not used); else a key `known_registries` pins
//! for the address it is announced at must match (else refused with the
//! message a changed key gets today); else it is trusted on first use, as
//! `--registry ADDR` without a key is (the handshake then proves it and
//! the driver keeps it). Either way the connection must prove the key it
//! was announced with (`Keyring::expect_registry`): a replayed
//! announcement cannot lead to a registry with another key. Once one is
//! used, another key is refused the same way: one registry per run, and an
//! announcement never switches it.
//!
//! **Nothing is believed before it checks**: the signing key's signature
//! over the body, its binding of the Noise key, the version, and the
//! signing time (within `CLOCK_SKEW` of ours, not older than `expiry`,
//! newer than anything heard from that key, so a replayed copy is
//! refused). An announcement only says "the holder of this signing key
//! listens on port P here": the connection must then prove that key.
//! Pure: values in, a verdict out; touches only its own table.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::limits::MAX_LAN_REGISTRIES;
use crate::peer::config::{LanRegistryConfig, PeerConfig};
use crate::secure::certificate::CLOCK_SKEW;
use crate::secure::registry_claim;
use crate::wire::discovery::{LAN_VERSION, RegistryAnnouncement};
use crate::wire::identity::{Fingerprint, PublicKey};

/// What a heard registry announcement asks of the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Heard {
    /// Not believed (unsigned, forged, replayed, out of time, another
    /// version), or nothing new: nothing to do.
    Nothing,
    /// Without `--registry lan`: tell the person, once for this key.
    Tell {
        addr: SocketAddr,
        fingerprint: Fingerprint,
    },
    /// Log in to it at `addr`, holding it to `pin` if one applies (else
    /// trust on first use).
    Use {
        addr: SocketAddr,
        fingerprint: Fingerprint,
        pin: Option<Fingerprint>,
    },
    /// The registry in use is announced at `addr` (`moved`: not where it
    /// was before).
    Follow { addr: SocketAddr, moved: bool },
    /// Not used, and why (said once for this key).
    Refused { why: String },
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    /// Its newest signing time (replays are refused against it).
    at_ms: u64,
    /// Whether it was already told or refused (said once).
    said: bool,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct LanRegistries {
    /// `Some` with `--registry lan`.
    lan: Option<LanRegistryConfig>,
    /// `--registry-key`.
    wanted: Option<Fingerprint>,
    /// How old an announcement may be (discovery's expiry).
    expiry: Duration,
    /// The registry in use: its signing key, and where it was last heard.
    chosen: Option<(PublicKey, SocketAddr)>,
    seen: BTreeMap<PublicKey, Seen>,
}

impl LanRegistries {
    /// `Some` when registries announced on the LAN matter: discovery on,
    /// and no `--registry ADDR` (`--registry lan`, or no registry at all).
    pub fn for_config(c: &PeerConfig) -> Option<Self> {
        let d = c.discovery?;
        if !c.without_registry && c.registry_lan.is_none() {
            return None;
        }
        Some(Self {
            lan: c.registry_lan.clone(),
            wanted: c.secure.registry_pin,
            expiry: d.expiry,
            chosen: None,
            seen: BTreeMap::new(),
        })
    }

    /// `ann` arrived from `from` (our wall clock is `unix_ms`).
    pub fn heard(&mut self, ann: &RegistryAnnouncement, from: SocketAddr, unix_ms: u64) -> Heard {
        if !self.fresh(ann, unix_ms) {
            return Heard::Nothing;
        }
        let key = ann.body.signing_key;
        let fingerprint = key.fingerprint();
        let addr = SocketAddr::new(from.ip(), ann.body.port);
        let Some(lan) = &self.lan else {
            return match self.say_once(&key) {
                true => Heard::Tell { addr, fingerprint },
                false => Heard::Nothing,
            };
        };
        if let Some((used, at)) = self.chosen {
            if used == key {
                self.chosen = Some((key, addr));
                return Heard::Follow {
                    addr,
                    moved: at != addr,
                };
            }
            let why = untrusted(fingerprint, used.fingerprint(), addr);
            return self.refuse(&key, why);
        }
        if let Some(w) = self.wanted
            && w != fingerprint
        {
            let why = format!(
                "a registry announced on the LAN at {addr} has the key {fingerprint}, not \
                 --registry-key {w}; not used"
            );
            return self.refuse(&key, why);
        }
        let in_file = lan.known.iter().find(|(a, _)| *a == addr).map(|(_, f)| *f);
        if let Some(f) = in_file
            && f != fingerprint
        {
            return self.refuse(&key, untrusted(fingerprint, f, addr));
        }
        self.chosen = Some((key, addr));
        Heard::Use {
            addr,
            fingerprint,
            pin: self.wanted.or(in_file),
        }
    }

    /// Checks `ann` and, if it is newer than anything heard from its key,
    /// keeps its signing time.
    fn fresh(&mut self, ann: &RegistryAnnouncement, unix_ms: u64) -> bool {
        let b = &ann.body;
        if b.version != LAN_VERSION || !registry_claim::check(ann) {
            return false;
        }
        let skew = CLOCK_SKEW * 1000;
        let expiry = self.expiry.as_millis() as u64;
        if b.at_ms > unix_ms.saturating_add(skew)
            || b.at_ms.saturating_add(expiry).saturating_add(skew) < unix_ms
        {
            return false;
        }
        if let Some(s) = self.seen.get_mut(&b.signing_key) {
            if s.at_ms >= b.at_ms {
                return false;
            }
            s.at_ms = b.at_ms;
            return true;
        }
        let in_use = self.chosen.map(|(k, _)| k);
        if self.seen.len() >= MAX_LAN_REGISTRIES
            && let Some(oldest) = self
                .seen
                .iter()
                .filter(|(k, _)| Some(**k) != in_use)
                .min_by_key(|(_, s)| s.at_ms)
                .map(|(k, _)| *k)
        {
            self.seen.remove(&oldest);
        }
        let said = false;
        self.seen.insert(
            b.signing_key,
            Seen {
                at_ms: b.at_ms,
                said,
            },
        );
        true
    }

    /// Whether `key` is to be said now (the first time).
    fn say_once(&mut self, key: &PublicKey) -> bool {
        match self.seen.get_mut(key) {
            Some(s) if !s.said => {
                s.said = true;
                true
            }
            _ => false,
        }
    }

    fn refuse(&mut self, key: &PublicKey, why: String) -> Heard {
        match self.say_once(key) {
            true => Heard::Refused { why },
            false => Heard::Nothing,
        }
    }
}

/// What a key other than the trusted one gets: the words of a changed key
/// at `--registry ADDR` (`ChannelError::RegistryKeyChanged`), and where.
fn untrusted(got: Fingerprint, pinned: Fingerprint, addr: SocketAddr) -> String {
    format!(
        "the registry's key is {got}, not the key {pinned} this peer trusts (a registry \
         announced on the LAN at {addr}; not used)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer::config::DiscoveryConfig;
    use crate::rng::Rng;
    use crate::secure::{SigningSecret, StaticSecret};
    use crate::wire::registry::Password;

    const T: u64 = 1_700_000_000_000;

    fn registry(seed: u64) -> (SigningSecret, StaticSecret) {
        let mut rng = Rng::new(seed);
        (
            SigningSecret::generate(&mut rng),
            StaticSecret::generate(&mut rng),
        )
    }

    fn ann(r: &(SigningSecret, StaticSecret), port: u16, at: u64) -> RegistryAnnouncement {
        registry_claim::sign(&r.0, &r.1, port, at)
    }

    fn machine(lan: Option<LanRegistryConfig>, wanted: Option<Fingerprint>) -> LanRegistries {
        let a: SocketAddr = "10.0.0.9:7000".parse().unwrap();
        let mut c = PeerConfig::new(
            crate::wire::Name::new("me").unwrap(),
            Password(Default::default()),
            a,
            a,
        );
        c.discovery = Some(DiscoveryConfig::default());
        c.without_registry = lan.is_none();
        c.registry_lan = lan;
        c.secure.registry_pin = wanted;
        LanRegistries::for_config(&c).unwrap()
    }

    fn at(ip: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, ip], 40000))
    }

    #[test]
    fn without_lan_mode_a_registry_is_told_once_and_replays_are_nothing() {
        let r = registry(1);
        let mut m = machine(None, None);
        let a = ann(&r, 7300, T);
        let fp = r.0.public().fingerprint();
        assert_eq!(
            m.heard(&a, at(1), T),
            Heard::Tell {
                addr: "10.0.0.1:7300".parse().unwrap(),
                fingerprint: fp
            }
        );
        assert_eq!(m.heard(&a, at(1), T), Heard::Nothing, "a replay");
        assert_eq!(m.heard(&ann(&r, 7300, T + 1), at(1), T), Heard::Nothing);
    }

    #[test]
    fn unsigned_forged_old_and_future_announcements_are_nothing() {
        let r = registry(1);
        let mut m = machine(Some(LanRegistryConfig::default()), None);
        let mut unsigned = ann(&r, 7300, T);
        unsigned.signature = crate::wire::identity::Signature([0; 64]);
        assert_eq!(m.heard(&unsigned, at(1), T), Heard::Nothing);
        let mut moved = ann(&r, 7300, T);
        moved.body.port = 7301;
        assert_eq!(m.heard(&moved, at(1), T), Heard::Nothing, "port not signed");
        let old = ann(&r, 7300, T - 400_000 - 95_000);
        assert_eq!(m.heard(&old, at(1), T), Heard::Nothing);
        let future = ann(&r, 7300, T + 400_000);
        assert_eq!(m.heard(&future, at(1), T), Heard::Nothing);
        assert!(matches!(
            m.heard(&ann(&r, 7300, T), at(1), T),
            Heard::Use { .. }
        ));
    }

    #[test]
    fn lan_mode_uses_the_first_follows_it_and_refuses_another_key_once() {
        let (r1, r2) = (registry(1), registry(2));
        let mut m = machine(Some(LanRegistryConfig::default()), None);
        let fp1 = r1.0.public().fingerprint();
        let first = "10.0.0.1:7300".parse().unwrap();
        assert_eq!(
            m.heard(&ann(&r1, 7300, T), at(1), T),
            Heard::Use {
                addr: first,
                fingerprint: fp1,
                pin: None
            }
        );
        let Heard::Refused { why } = m.heard(&ann(&r2, 7300, T), at(2), T) else {
            panic!("another key is refused")
        };
        assert!(
            why.starts_with(&format!(
                "the registry's key is {}, not the key {fp1} this peer trusts",
                r2.0.public().fingerprint()
            )),
            "{why}"
        );
        assert_eq!(m.heard(&ann(&r2, 7300, T + 1), at(2), T), Heard::Nothing);
        assert_eq!(
            m.heard(&ann(&r1, 7300, T + 1), at(1), T),
            Heard::Follow {
                addr: first,
                moved: false
            }
        );
        assert_eq!(
            m.heard(&ann(&r1, 7400, T + 2), at(3), T),
            Heard::Follow {
                addr: "10.0.0.3:7400".parse().unwrap(),
                moved: true
            }
        );
    }

    #[test]
    fn a_wanted_key_picks_its_registry_and_the_file_pins_by_address() {
        let (r1, r2) = (registry(1), registry(2));
        let fp2 = r2.0.public().fingerprint();
        let mut m = machine(Some(LanRegistryConfig::default()), Some(fp2));
        assert!(matches!(
            m.heard(&ann(&r1, 7300, T), at(1), T),
            Heard::Refused { why } if why.contains("not --registry-key")
        ));
        assert!(matches!(
            m.heard(&ann(&r2, 7300, T), at(2), T),
            Heard::Use { pin: Some(p), .. } if p == fp2
        ));
        // known_registries pins 10.0.0.1:7300 to r2's key: r1 there is refused.
        let known = vec![("10.0.0.1:7300".parse().unwrap(), fp2)];
        let mut m = machine(Some(LanRegistryConfig { known }), None);
        assert!(matches!(
            m.heard(&ann(&r1, 7300, T), at(1), T),
            Heard::Refused { why } if why.contains("this peer trusts")
        ));
        assert!(matches!(
            m.heard(&ann(&r2, 7300, T), at(1), T),
            Heard::Use { pin: Some(p), .. } if p == fp2
        ));
    }
}
