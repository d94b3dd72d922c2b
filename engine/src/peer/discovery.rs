//! [`Discovery`]: finding peers without a registry (issue 20), from signed
//! announcements heard on the LAN (multicast) or passed on by other peers
//! (peer exchange).
//!
//! ```text
//! start        -> Query, then our Announcement, to the group
//! every ~30 s  -> our Announcement (interval ± 25 %, from the seeded rng)
//! Query heard  -> our Announcement, to the asker (rate-limited)
//! Announcement -> checked, then kept by its Noise key for `expiry`
//!                 (twice that when passed on by others)
//! Registry     -> handed back as it is (`registry_lan` checks it)
//! ```
//!
//! **Nothing is believed before it checks** ([`Discovery::learn`]): the
//! identity key's signature over the body, the identity key's binding of the
//! Noise key, the version, and the signing time: within [`CLOCK_SKEW`] of
//! ours, not older than `expiry`, and newer than anything already heard from
//! that key (so a replayed copy is refused). An announcement only ever says
//! "the holder of key K claims name N and listens on port P": a dial to it
//! must then prove K in its handshake, so a forged address costs a failed
//! dial, never a conversation with the wrong key.
//!
//! **Names are claims.** Entries are kept by key. Two keys may claim one
//! name; both are kept, shown apart (`contested`), and a dial by name goes
//! to the key this peer pinned for it (`known_keys`), else to the one heard
//! first. Pure: datagrams and time in, outputs through [`Io`]; touches only
//! its own table, the announce timer, and [`Io::keys`] to sign.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::api::Output;
use crate::limits::{
    MAX_EXCHANGE_ENTRIES, MAX_LAN_PEERS, MAX_QUERY_ANSWERS_PER_SECOND, MAX_RELAYS_PER_TICK,
    MAX_STRANGER_DIALS_PER_MINUTE,
};
use crate::peer::config::DiscoveryConfig;
use crate::peer::event::{FoundBy, FoundPeer};
use crate::peer::io::{Io, Timer};
use crate::planted::{PlantedBug, PlantedBugs};
use crate::secure::certificate::CLOCK_SKEW;
use crate::secure::claim;
use crate::secure::claim::AnnouncementFault;
use crate::wire::Name;
use crate::wire::discovery::{
    Announcement, AnnouncementBody, LAN_VERSION, LanDatagram, Passed, RegistryAnnouncement,
};
use crate::wire::identity::{Fingerprint, PublicKey};

/// Shortest time between two of our announcements (queries answered).
const MIN_ANNOUNCE_GAP: Duration = Duration::from_secs(1);

/// Why a heard announcement was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Its signature does not check (forged, damaged or unsigned).
    BadSignature,
    /// Its identity key did not bind its Noise key.
    BadBinding,
    /// Another version of the format.
    Version(u16),
    /// Signed too long ago, or in the future beyond the clock skew.
    OutOfTime,
    /// Not newer than what was heard from that key: a replay.
    Replayed,
    /// Our own.
    Ours,
}

/// What a heard announcement changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Learned {
    /// A key not known before: `contested` if another key claims its name.
    New { name: Name, contested: bool },
    /// A known key, heard again (maybe at a new address).
    Refreshed,
    /// Not taken.
    Refused(Refused),
    /// A registry's announcement, not checked here (see `registry_lan`).
    Registry(Box<RegistryAnnouncement>),
}

#[derive(Debug, Clone)]
struct Heard {
    ann: Announcement,
    addr: SocketAddr,
    by: FoundBy,
    /// When it was last learned over a link (peer exchange), or from a
    /// `--join` address: while recent, it is passed on to our segment.
    linked: Option<Instant>,
    /// When it was last heard (refreshed by every newer announcement).
    at: Instant,
    /// When it was first heard (the first claim of a name wins a dial).
    since: Instant,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Discovery {
    config: DiscoveryConfig,
    heard: BTreeMap<PublicKey, Heard>,
    last_announce: Option<Instant>,
    /// Addresses given with `--join`: asked who is there at every tick.
    joins: Vec<SocketAddr>,
    /// Who answered from a join address: kept linked for peer exchange.
    joined: BTreeSet<Name>,
    /// Whose shared list `/files NAME` asked for, not answered yet.
    files_asked: BTreeSet<Name>,
    /// Peers only heard of through others dialed this minute: since when,
    /// and their keys (at most [`MAX_STRANGER_DIALS_PER_MINUTE`]).
    stranger_dials: (Instant, BTreeSet<PublicKey>),
    /// Queries answered: since when, how many (see `answer`).
    answers: (Instant, u32),
    /// On several segments: what was heard by multicast is passed on too.
    bridge: bool,
    planted: PlantedBugs,
}

impl Discovery {
    pub fn new(config: DiscoveryConfig, planted: PlantedBugs, now: Instant) -> Self {
        Self {
            config,
            heard: BTreeMap::new(),
            last_announce: None,
            joins: Vec::new(),
            joined: BTreeSet::new(),
            files_asked: BTreeSet::new(),
            stranger_dials: (now, BTreeSet::new()),
            answers: (now, 0),
            bridge: false,
            planted,
        }
    }

    /// Our own announcement, signed now.
    pub fn own(io: &Io, name: &Name, port: u16, digest: u64, unix_ms: u64) -> Announcement {
        let body = AnnouncementBody {
            version: LAN_VERSION,
            key: io.keys.public(),
            identity: io.keys.identity().public(),
            binding: io.keys.binding(),
            name: name.clone(),
            port,
            digest,
            at_ms: unix_ms,
        };
        claim::sign_announcement(io.keys.identity(), body)
    }

    /// At start: asks who is there (the group, and each of `joins`), then
    /// says who we are.
    pub fn start(&mut self, io: &mut Io, own: Announcement, joins: Vec<SocketAddr>) {
        self.joins = joins;
        self.send(io, &LanDatagram::Query);
        self.ask_joins(io);
        self.announce(io, own);
        self.schedule(io);
    }

    /// Multicasts `own` (at most once per [`MIN_ANNOUNCE_GAP`]).
    pub fn announce(&mut self, io: &mut Io, own: Announcement) {
        if self
            .last_announce
            .is_some_and(|t| io.now.duration_since(t) < MIN_ANNOUNCE_GAP)
        {
            return;
        }
        self.last_announce = Some(io.now);
        self.send(io, &LanDatagram::Announce(own));
    }

    /// Answers a query from `from` with `own`, to it alone: a peer that
    /// starts hears everyone at once, and the others are not woken. At most
    /// [`MAX_QUERY_ANSWERS_PER_SECOND`] that way (a forged source gets no
    /// flood); past that, one multicast announcement answers them all (many
    /// peers starting together).
    fn answer(&mut self, io: &mut Io, from: SocketAddr, own: Announcement) {
        let second = io.now.duration_since(self.answers.0) >= Duration::from_secs(1);
        if second {
            self.answers = (io.now, 0);
        }
        if self.answers.1 >= MAX_QUERY_ANSWERS_PER_SECOND {
            match self.last_announce.map(|t| t + MIN_ANNOUNCE_GAP) {
                // Too soon after the last one: the tick comes forward.
                Some(at) if at > io.now => {
                    if io.timers.get(&Timer::Announce).is_none_or(|t| t > at) {
                        io.set_timer(Timer::Announce, at - io.now);
                    }
                }
                _ => self.announce(io, own),
            }
            return;
        }
        self.answers.1 += 1;
        io.out.push_back(Output::SendDatagram {
            to: from,
            bytes: LanDatagram::Announce(own).to_bytes(),
        });
    }

    /// Asks each `--join` address who is there (its answer comes back to
    /// us alone, see `answer`).
    fn ask_joins(&self, io: &mut Io) {
        for to in &self.joins {
            io.out.push_back(Output::SendDatagram {
                to: *to,
                bytes: LanDatagram::Query.to_bytes(),
            });
        }
    }

    /// Whether a link to `name` is wanted for peer exchange (it answered
    /// from a `--join` address).
    pub fn wants(&self, name: &Name) -> bool {
        self.joined.contains(name) || self.files_asked.contains(name)
    }

    /// `/files NAME` without a registry: asked once `name`'s link is open;
    /// `false` if nobody claiming `name` was heard of.
    pub fn ask_files(&mut self, name: &Name) -> bool {
        let known = self.heard.values().any(|h| h.ann.body.name == *name);
        if known {
            self.files_asked.insert(name.clone());
        }
        known
    }

    /// Whether `/files` waits for `name`'s list (taken off the list).
    pub fn files_answered(&mut self, name: &Name) -> bool {
        self.files_asked.remove(name)
    }

    /// Whether `/files` waits for `name`'s list.
    pub fn files_waiting(&self, name: &Name) -> bool {
        self.files_asked.contains(name)
    }

    /// Our profile or shared list changed (its digest with it): `own` is
    /// multicast now, or, within [`MIN_ANNOUNCE_GAP`] of the last one, the
    /// next tick comes forward to when the gap ends.
    pub fn announce_soon(&mut self, io: &mut Io, own: Announcement) {
        match self.last_announce.map(|t| t + MIN_ANNOUNCE_GAP) {
            Some(at) if at > io.now => {
                if io.timers.get(&Timer::Announce).is_none_or(|t| t > at) {
                    io.set_timer(Timer::Announce, at - io.now);
                }
            }
            _ => self.announce(io, own),
        }
    }

    /// The keys heard claiming `name`.
    pub fn claims(&self, name: &Name) -> Vec<PublicKey> {
        self.heard
            .iter()
            .filter(|(_, h)| h.ann.body.name == *name)
            .map(|(k, _)| *k)
            .collect()
    }

    /// What was heard from `key`: the name it claims, how it was found and
    /// the digest of its last announcement.
    pub fn heard_key(&self, key: &PublicKey) -> Option<(&Name, FoundBy, u64)> {
        self.heard
            .get(key)
            .map(|h| (&h.ann.body.name, h.by, h.ann.body.digest))
    }

    /// The key heard with this fingerprint, if any.
    pub fn key_with(&self, fingerprint: &Fingerprint) -> Option<PublicKey> {
        self.heard
            .keys()
            .find(|k| k.fingerprint() == *fingerprint)
            .copied()
    }

    fn send(&self, io: &mut Io, d: &LanDatagram) {
        io.out.push_back(Output::SendDatagram {
            to: self.config.group,
            bytes: d.to_bytes(),
        });
    }

    fn schedule(&self, io: &mut Io) {
        let base = self.config.interval.as_millis() as u64;
        let jitter = io.rng.below(base / 2 + 1);
        let wait = Duration::from_millis(base - base / 4 + jitter);
        io.set_timer(Timer::Announce, wait);
    }

    /// The announce timer fired: forgets what expired (returned, for
    /// presence), announces `own`, and sets the next one.
    pub fn on_timer(&mut self, io: &mut Io, own: Announcement) -> Vec<Name> {
        let gone = self.expire(io.now);
        self.announce(io, own);
        self.ask_joins(io);
        for p in self.relays(io.now) {
            self.send(io, &LanDatagram::Relay(p));
        }
        self.schedule(io);
        gone
    }

    /// A bridge (see [`Self::relays`]) or not.
    pub fn bridging(mut self, on: bool) -> Self {
        self.bridge = on;
        self
    }

    /// What to pass on to our segment: announcements learned over a link
    /// and heard of within the last two intervals; on a bridge (a peer on
    /// several segments), also those heard directly by multicast (each
    /// segment then hears of the others' peers). At most
    /// [`MAX_RELAYS_PER_TICK`] (freshest first). No loop: what is heard as
    /// a relay is `Exchange`, never linked, so it is not passed on again.
    fn relays(&self, now: Instant) -> Vec<Passed> {
        let fresh = self.config.interval * 2;
        let passed_on = |h: &Heard| {
            h.linked.is_some_and(|t| now.duration_since(t) < fresh)
                || (self.bridge && h.by == FoundBy::Lan && now.duration_since(h.at) < fresh)
        };
        let mut all: Vec<&Heard> = self.heard.values().filter(|h| passed_on(h)).collect();
        all.sort_by_key(|h| std::cmp::Reverse(h.at));
        all.into_iter()
            .take(MAX_RELAYS_PER_TICK)
            .map(|h| Passed {
                ann: h.ann.clone(),
                addr: h.addr,
                age_s: now.duration_since(h.at).as_secs(),
            })
            .collect()
    }

    /// Forgets what was not heard of for `expiry`; returns the names that
    /// no key claims any more.
    pub fn expire(&mut self, now: Instant) -> Vec<Name> {
        // Passed on by others: twice as long, as it reaches us through
        // more hops, each a tick late and each able to lose it.
        let expiry = |h: &Heard| match h.by {
            FoundBy::Exchange => self.config.expiry * 2,
            _ => self.config.expiry,
        };
        let old: Vec<PublicKey> = self
            .heard
            .iter()
            .filter(|(_, h)| now.duration_since(h.at) >= expiry(h))
            .map(|(k, _)| *k)
            .collect();
        let mut gone = Vec::new();
        for k in old {
            if let Some(h) = self.heard.remove(&k) {
                let name = h.ann.body.name;
                if !self.heard.values().any(|o| o.ann.body.name == name) {
                    gone.push(name);
                }
            }
        }
        gone
    }

    /// A datagram arrived from `from`: `Err` if it is not one of ours at
    /// all; a query answered with `own`; an announcement checked and kept.
    pub fn on_datagram(
        &mut self,
        io: &mut Io,
        from: SocketAddr,
        bytes: &[u8],
        unix_ms: u64,
        own: impl FnOnce(&Io) -> Announcement,
    ) -> Result<Learned, String> {
        match LanDatagram::parse(bytes)? {
            LanDatagram::Query => {
                self.answer(io, from, own(io));
                Ok(Learned::Refreshed)
            }
            LanDatagram::Announce(ann) => {
                // `from` with the announced port: an IPv6 link-local
                // source keeps its scope id (the interface it came in on),
                // without which it cannot be dialed.
                let mut addr = from;
                addr.set_port(ann.body.port);
                let (name, key) = (ann.body.name.clone(), ann.body.key);
                let learned = self.learn(io, ann, addr, FoundBy::Lan, unix_ms, None);
                if self.joins.contains(&from) && !matches!(learned, Learned::Refused(_)) {
                    // Joined across segments: our segment hears of it from us.
                    self.joined.insert(name);
                    if let Some(h) = self.heard.get_mut(&key) {
                        h.linked = Some(io.now);
                    }
                }
                Ok(learned)
            }
            LanDatagram::Relay(passed) => Ok(self.learn_passed(io, passed, unix_ms, false)),
            LanDatagram::Registry(ann) => Ok(Learned::Registry(Box::new(ann))),
        }
    }

    /// Checks `ann` (heard at `addr`, found `by`), keeps it if it checks.
    /// `age` is how old the one who passed it on says it is (exchange).
    pub fn learn(
        &mut self,
        io: &Io,
        ann: Announcement,
        addr: SocketAddr,
        by: FoundBy,
        unix_ms: u64,
        age: Option<Duration>,
    ) -> Learned {
        match self.check(io, &ann, unix_ms) {
            Ok(()) => {}
            Err(why) => return Learned::Refused(why),
        }
        let key = ann.body.key;
        let at = io
            .now
            .checked_sub(age.unwrap_or_default())
            .unwrap_or(io.now);
        if let Some(h) = self.heard.get_mut(&key) {
            h.at = h.at.max(at);
            // Heard directly beats passed on.
            if by == FoundBy::Lan || h.by != FoundBy::Lan {
                h.addr = addr;
                h.by = by;
            }
            h.ann = ann;
            return Learned::Refreshed;
        }
        if self.heard.len() >= MAX_LAN_PEERS
            && let Some(oldest) = self.heard.iter().min_by_key(|(_, h)| h.at).map(|(k, _)| *k)
        {
            self.heard.remove(&oldest);
        }
        let name = ann.body.name.clone();
        let contested = self.heard.values().any(|h| h.ann.body.name == name);
        self.heard.insert(
            key,
            Heard {
                ann,
                addr,
                by,
                linked: None,
                at,
                since: io.now,
            },
        );
        Learned::New { name, contested }
    }

    /// Checks and keeps an announcement another peer passed on; `via_link`
    /// (peer exchange, not a relay heard on the LAN) makes it one we pass
    /// on to our own segment in turn.
    pub fn learn_passed(&mut self, io: &Io, p: Passed, unix_ms: u64, via_link: bool) -> Learned {
        let key = p.ann.body.key;
        // Counted up to one interval: every hop would add its own, and an
        // entry passed along a chain of segments would expire on the way.
        // A silent peer still expires: its last announcement is refused as
        // a replay everywhere, so nothing refreshes it.
        let age = Duration::from_secs(p.age_s).min(self.config.interval);
        let learned = self.learn(io, p.ann, p.addr, FoundBy::Exchange, unix_ms, Some(age));
        let fresh = !matches!(learned, Learned::Refused(_));
        if via_link
            && fresh
            && let Some(h) = self.heard.get_mut(&key)
            && h.by == FoundBy::Exchange
        {
            h.linked = Some(io.now);
        }
        learned
    }

    /// Holds the planted bug `AcceptUnsignedAnnouncement`.
    fn check(&self, io: &Io, ann: &Announcement, unix_ms: u64) -> Result<(), Refused> {
        let b = &ann.body;
        if b.key == io.keys.public() {
            return Err(Refused::Ours);
        }
        if b.version != LAN_VERSION {
            return Err(Refused::Version(b.version));
        }
        if !self.planted.has(PlantedBug::AcceptUnsignedAnnouncement) {
            // PLANTED BUG (tests only) when skipped: anything is believed.
            match claim::check_announcement(ann) {
                Ok(()) => {}
                Err(AnnouncementFault::BadSignature) => return Err(Refused::BadSignature),
                Err(AnnouncementFault::BadBinding) => return Err(Refused::BadBinding),
            }
        }
        let skew = CLOCK_SKEW * 1000;
        let expiry = self.config.expiry.as_millis() as u64;
        if b.at_ms > unix_ms.saturating_add(skew)
            || b.at_ms.saturating_add(expiry).saturating_add(skew) < unix_ms
        {
            return Err(Refused::OutOfTime);
        }
        if let Some(h) = self.heard.get(&b.key)
            && h.ann.body.at_ms >= b.at_ms
        {
            return Err(Refused::Replayed);
        }
        Ok(())
    }

    /// Where to dial `name`, and the key it must prove: the `pinned` key's
    /// entry if heard, else the key heard claiming `name` first.
    pub fn address_of(
        &self,
        name: &Name,
        pinned: Option<PublicKey>,
    ) -> Option<(SocketAddr, PublicKey)> {
        let mut claims = self.heard.iter().filter(|(_, h)| h.ann.body.name == *name);
        if let Some(pin) = pinned {
            return claims.find(|(k, _)| **k == pin).map(|(k, h)| (h.addr, *k));
        }
        claims
            .min_by_key(|(_, h)| h.since)
            .map(|(k, h)| (h.addr, *k))
    }

    /// Whether any key claims `name`.
    #[cfg(test)]
    pub fn knows(&self, name: &Name) -> bool {
        self.heard.values().any(|h| h.ann.body.name == *name)
    }

    /// Everyone heard, for `/who` (names containing `filter`, if given).
    pub fn found(&self, now: Instant, filter: Option<&str>) -> Vec<FoundPeer> {
        let mut out: Vec<FoundPeer> = self
            .heard
            .iter()
            .filter(|(_, h)| filter.is_none_or(|f| h.ann.body.name.as_str().contains(f)))
            .map(|(k, h)| FoundPeer {
                name: h.ann.body.name.clone(),
                fingerprint: k.fingerprint().to_string(),
                addr: h.addr,
                by: h.by,
                age_s: now.duration_since(h.at).as_secs(),
                contested: self
                    .heard
                    .iter()
                    .any(|(o, oh)| o != k && oh.ann.body.name == h.ann.body.name),
            })
            .collect();
        out.sort_by(|a, b| (&a.name, &a.fingerprint).cmp(&(&b.name, &b.fingerprint)));
        out
    }

    /// What to tell a peer we talk to (peer exchange): the freshest
    /// announcements heard, each with where and how long ago, bounded
    /// (`own` first, then [`MAX_EXCHANGE_ENTRIES`] - 1 others).
    pub fn exchange(&self, now: Instant, own: Passed, except: &PublicKey) -> Vec<Passed> {
        let mut all: Vec<(&PublicKey, &Heard)> =
            self.heard.iter().filter(|(k, _)| *k != except).collect();
        all.sort_by_key(|(_, h)| std::cmp::Reverse(h.at));
        let mut out = vec![own];
        out.extend(
            all.into_iter()
                .take(MAX_EXCHANGE_ENTRIES - 1)
                .map(|(_, h)| Passed {
                    ann: h.ann.clone(),
                    addr: h.addr,
                    age_s: now.duration_since(h.at).as_secs(),
                }),
        );
        out
    }

    /// Whether a dial of `key` may go now: always for a peer heard on the
    /// LAN; for one only heard of through others, if it is one of at most
    /// [`MAX_STRANGER_DIALS_PER_MINUTE`] strangers dialed this minute (what
    /// others say never makes this peer dial in bulk). Redials of a
    /// stranger already counted go (the link's backoff paces them): counting
    /// each attempt let one peer that was down for a few seconds use up the
    /// minute's budget, and the messages queued for it, or for anyone else
    /// known only through others, waited up to a minute after it was back.
    pub fn may_dial(&mut self, now: Instant, key: &PublicKey) -> bool {
        if self.heard.get(key).is_some_and(|h| h.by == FoundBy::Lan) {
            return true;
        }
        if now.duration_since(self.stranger_dials.0) >= Duration::from_secs(60) {
            self.stranger_dials = (now, BTreeSet::new());
        }
        let dialed = &mut self.stranger_dials.1;
        if dialed.contains(key) {
            return true;
        }
        if dialed.len() >= MAX_STRANGER_DIALS_PER_MINUTE as usize {
            return false;
        }
        dialed.insert(*key);
        true
    }
}

#[cfg(test)]
mod tests;
