//! The role machine's side of discovery (issue 20): starting it, what a
//! heard announcement changes (presence, dials, the name-claim warning),
//! dialing by announcement when there is no registry session, peer
//! exchange over links (`Known`), `/files NAME` asked of the peer itself
//! (`FilesAsk` / `FilesList`), `/whois NAME` likewise (`ProfileAsk` /
//! `ProfileAnswer`, see `lan_profile`), the trust-on-first-use check of a
//! claimed name and its moves by hand (`/trust`, `/forget`), and the
//! look-ups (`/who`, `/search`, `/whois`) answered from what was heard. Kept apart from `route.rs` so discovery touches the shared routing only
//! through a few calls. May touch every field of [`Peer`]; the discovery
//! machine itself never touches another room.

use std::net::SocketAddr;

use crate::bounded::List;
use crate::ids::ConnId;
use crate::limits::MAX_SHARED_FILES;
use crate::peer::Peer;
use crate::peer::discovery::{Discovery, Learned};
use crate::peer::event::{PeerEvent, WhoisFrom};
use crate::peer::io::Timer;
use crate::peer::lan_profile;
use crate::secure::Proven;
use crate::wire::discovery::{Announcement, Passed};
use crate::wire::identity::{Fingerprint, PublicKey};
use crate::wire::peer::PeerMessage;
use crate::wire::registry::{FileEntry, PeerInfo};
use crate::wire::{ErrorCode, Name};

impl Peer {
    /// Whether look-ups go to discovery: it is on and no registry session
    /// is up (none configured, or it is away).
    pub(super) fn lan_lookups(&self) -> bool {
        if self
            .config
            .planted
            .has(crate::planted::PlantedBug::LookupsIgnoreOutage)
        {
            return self.discovery.is_some() && self.config.without_registry;
        }
        self.discovery.is_some() && !self.reg.is_up()
    }

    /// At construction: claim our name in handshakes, and say who we are.
    pub(super) fn lan_start(&mut self) {
        if self.discovery.is_none() {
            return;
        }
        self.io.keys.claim_as(self.config.name.clone());
        let own = self.own_announcement();
        let joins = self.config.join.clone();
        if let Some(d) = self.discovery.as_mut() {
            d.start(&mut self.io, own, joins);
        }
        // `--registry lan`: ready at once, as without one, until one is heard.
        if self.config.without_registry || self.config.registry_lan.is_some() {
            let fingerprint = self.io.keys.public().fingerprint().to_string();
            self.io.event(PeerEvent::Ready {
                name: self.config.name.clone(),
                listen: self.config.listen,
                fingerprint,
            });
        }
    }

    /// Our announcement, signed now.
    fn own_announcement(&self) -> Announcement {
        let unix = self.clock.ms(self.io.now);
        let port = self.config.listen.port();
        Discovery::own(&self.io, &self.config.name, port, self.lan_digest(), unix)
    }

    /// A short digest of our profile and shared list (announced, so others
    /// can tell their copy is out of date; it reveals neither).
    fn lan_digest(&self) -> u64 {
        let profile = self.profile.clone().unwrap_or_default();
        lan_profile::digest(&profile, &self.config.shared)
    }

    /// Our profile or shared list changed: announced again at once (within
    /// the announce rate limit), and told to the peers we have links to,
    /// so the digests others hold stay current.
    pub(super) fn lan_announce_changed(&mut self) {
        if self.discovery.is_none() {
            return;
        }
        let own = self.own_announcement();
        if let Some(d) = self.discovery.as_mut() {
            d.announce_soon(&mut self.io, own);
        }
        self.tell_known(None);
    }

    /// The announce timer fired.
    pub(super) fn on_announce_timer(&mut self) {
        let own = self.own_announcement();
        let Some(d) = self.discovery.as_mut() else {
            return;
        };
        let gone = d.on_timer(&mut self.io, own);
        self.tell_known(None);
        for name in gone {
            if self.lan_lookups() {
                self.io.event(PeerEvent::Presence {
                    name,
                    online: false,
                });
            }
        }
    }

    /// A discovery datagram arrived.
    pub(super) fn on_lan_datagram(&mut self, from: SocketAddr, bytes: &[u8]) {
        let unix = self.clock.ms(self.io.now);
        let (name, port, digest) = (
            self.config.name.clone(),
            self.config.listen.port(),
            self.lan_digest(),
        );
        let Some(d) = self.discovery.as_mut() else {
            return;
        };
        let own = |io: &crate::peer::io::Io| Discovery::own(io, &name, port, digest, unix);
        match d.on_datagram(&mut self.io, from, bytes, unix, own) {
            Ok(Learned::Registry(ann)) => self.on_registry_announced(from, *ann),
            Ok(learned) => self.on_learned(learned),
            Err(_) => {}
        }
    }

    /// What a checked announcement changes.
    pub(super) fn on_learned(&mut self, learned: Learned) {
        let Learned::New { name, contested } = learned else {
            return;
        };
        if name == *self.me() {
            self.io.notice(format!(
                "warning: another key claims your name {name} on the network; /who shows \
                 its fingerprint (yours is {})",
                self.io.keys.public().fingerprint()
            ));
            return;
        }
        let pinned = self.known_keys.get(&name);
        let key = self
            .discovery
            .as_ref()
            .and_then(|d| d.address_of(&name, pinned))
            .map(|(_, k)| k);
        if contested || (pinned.is_some() && key.is_none()) {
            let known = pinned.map_or_else(
                || "another key".to_string(),
                |k| format!("the key {}", k.fingerprint()),
            );
            let others: Vec<String> = self
                .discovery
                .as_ref()
                .map(|d| d.claims(&name))
                .unwrap_or_default()
                .into_iter()
                .filter(|k| Some(*k) != pinned)
                .map(|k| k.fingerprint().to_string())
                .collect();
            self.io.notice(format!(
                "warning: the name {name} is now also claimed by a new key; {known} \
                 claimed it first ({}: {}). They are shown apart in \
                 /who (name and fingerprint), never merged: compare fingerprints with \
                 {name} out of band. If {name} reinstalled, /trust {name} FINGERPRINT \
                 accepts its new key (/forget {name}: the next key to claim it is trusted)",
                if pinned.is_some() {
                    "other keys claiming it"
                } else {
                    "keys claiming it"
                },
                others.join(", ")
            ));
        }
        if !contested && self.lan_lookups() {
            self.io.event(PeerEvent::Presence {
                name: name.clone(),
                online: true,
            });
        }
        if self.wants(&name) && !self.links.is_underway(&name) {
            self.io.timers.cancel(&Timer::Dial(name.clone()));
            self.ensure_link(&name);
        }
    }

    /// A connection proved what `proven` says: a claimed name is checked
    /// against the key this peer knows for it (trust on first use). `false`
    /// if the connection was refused (closed).
    pub(super) fn claim_proven(&mut self, conn: ConnId, proven: &Proven) -> bool {
        let Proven::Claimed { name, key, .. } = proven else {
            return true;
        };
        if let Some(old) = self.known_keys.get(name)
            && old != *key
        {
            // A name is only a claim here: a new key for a known name is
            // never taken for the old one.
            self.io.notice(format!(
                "warning: refused a connection claiming to be {name} with the new key {}; \
                 the key you know for {name} is {}. If {name} reinstalled (compare \
                 fingerprints out of band), /trust {name} {} accepts the new key",
                key.fingerprint(),
                old.fingerprint(),
                key.fingerprint()
            ));
            self.known_keys.refused(name, *key);
            let why = "this name is known here with another key";
            self.links
                .close(&mut self.io, conn, ErrorCode::UntrustedKey, why);
            return false;
        }
        if self.known_keys.seen(&mut self.io, name, *key) {
            // Another key than the one forgotten by `/forget`: another
            // install, whose streams start from 1 again.
            self.streams.restart_from(&mut self.io, name);
        }
        true
    }

    /// Dials `name` at its announced address when look-ups go to
    /// discovery; `true` if that was the way (dialed, or to try later).
    pub(super) fn lan_dial(&mut self, name: &Name) -> bool {
        if !self.lan_lookups() {
            return false;
        }
        let pinned = self.known_keys.get(name);
        let found = self
            .discovery
            .as_ref()
            .and_then(|d| d.address_of(name, pinned));
        match found {
            Some((addr, key)) => {
                let now = self.io.now;
                if self
                    .discovery
                    .as_mut()
                    .is_some_and(|d| d.may_dial(now, &key))
                {
                    self.links
                        .dial_key(&mut self.io, name.clone(), addr, Some(key))
                } else {
                    self.links.lookup_failed(&mut self.io, name)
                }
            }
            // Not heard of (yet): its announcement dials it, else a retry.
            None => self.links.lookup_failed(&mut self.io, name),
        }
        true
    }

    /// Peer exchange: tells `to` (else every peer with an open link) whom
    /// this peer knows, itself first.
    pub(super) fn tell_known(&mut self, to: Option<&Name>) {
        if self.discovery.is_none() {
            return;
        }
        let own = Passed {
            ann: self.own_announcement(),
            addr: self.config.listen,
            age_s: 0,
        };
        for (name, _) in self.links.open_remotes() {
            if to.is_some_and(|t| *t != name) {
                continue;
            }
            let except = self.known_keys.get(&name).unwrap_or(PublicKey([0; 32]));
            let Some(d) = self.discovery.as_ref() else {
                return;
            };
            let entries = d.exchange(self.io.now, own.clone(), &except);
            // `exchange` keeps to the list's limit.
            let entries = List::new(entries).unwrap_or_default();
            self.links
                .send(&mut self.io, &name, PeerMessage::Known { entries });
        }
    }

    /// `from` told us whom it knows: each entry is checked as if heard on
    /// the LAN. Its own is reachable where its link comes from.
    pub(super) fn on_known(&mut self, from: &Name, entries: Vec<Passed>) {
        let unix = self.clock.ms(self.io.now);
        let theirs = self.known_keys.get(from);
        let remote = self
            .links
            .open_remotes()
            .into_iter()
            .find(|(n, _)| n == from)
            .map(|(_, a)| a);
        for mut p in entries {
            if Some(p.ann.body.key) == theirs
                && let Some(remote) = remote
            {
                p.addr = SocketAddr::new(remote.ip(), p.ann.body.port);
            }
            let Some(d) = self.discovery.as_mut() else {
                return;
            };
            let learned = d.learn_passed(&self.io, p, unix, true);
            self.on_learned(learned);
        }
    }

    /// A link to `name` opened: tell it whom we know, and ask for its
    /// shared list if `/files` waits for it.
    pub(super) fn lan_link_opened(&mut self, name: &Name) {
        self.tell_known(Some(name));
        if self
            .discovery
            .as_ref()
            .is_some_and(|d| d.files_waiting(name))
        {
            self.links.send(&mut self.io, name, PeerMessage::FilesAsk);
        }
        if self.profile_asks.waiting(name) {
            self.links.send(&mut self.io, name, PeerMessage::ProfileAsk);
        }
    }

    /// `/files [NAME]` without a registry session: the peer itself is
    /// asked over a link; `false` if look-ups go to the registry.
    pub(super) fn lan_files(&mut self, owner: Option<&Name>) -> bool {
        if !self.lan_lookups() {
            return false;
        }
        let Some(owner) = owner else {
            self.io
                .error("without a registry, ask one peer at a time: /files NAME (see /who)");
            return true;
        };
        if !self.discovery.as_mut().is_some_and(|d| d.ask_files(owner)) {
            self.io.error(format!(
                "nobody called {owner} was heard of; /who lists who was"
            ));
            return true;
        }
        // Like `/whois`: a piped script's `/quit` waits for the answer,
        // so one must come, the list or an error.
        let wait = lan_profile::PROFILE_ANSWER_TIMEOUT;
        self.io.set_timer(Timer::FilesAsk(owner.clone()), wait);
        if self.links.is_open(owner) {
            self.links.send(&mut self.io, owner, PeerMessage::FilesAsk);
        } else {
            self.ensure_link(owner);
        }
        true
    }

    /// `/files NAME` got no answer from NAME in time.
    pub(super) fn on_files_ask_timer(&mut self, name: &Name) {
        if self
            .discovery
            .as_mut()
            .is_some_and(|d| d.files_answered(name))
        {
            self.io.error(format!(
                "{name} did not answer /files within {} s (not reachable now?); /who \
                 shows when it was last heard of",
                lan_profile::PROFILE_ANSWER_TIMEOUT.as_secs()
            ));
        }
    }

    /// A peer asked what we share, or answered what it shares.
    pub(super) fn on_files_message(&mut self, from: &Name, msg: PeerMessage) {
        match msg {
            PeerMessage::FilesAsk => {
                // What `/files` shows anyone with a registry; a list over
                // the limit is cut (the registry keeps the same limit).
                let mut shared = self.config.shared.clone();
                shared.truncate(MAX_SHARED_FILES);
                let files = List::new(shared).unwrap_or_default();
                self.links
                    .send(&mut self.io, from, PeerMessage::FilesList { files });
            }
            PeerMessage::FilesList { files }
                if self
                    .discovery
                    .as_mut()
                    .is_some_and(|d| d.files_answered(from)) =>
            {
                self.io.timers.cancel(&Timer::FilesAsk(from.clone()));
                let files = files
                    .into_vec()
                    .into_iter()
                    .map(|file| FileEntry {
                        owner: from.clone(),
                        file,
                    })
                    .collect();
                self.io.event(PeerEvent::Files { files });
            }
            _ => {}
        }
    }

    /// `/who` (no filter), `/search TEXT` or `/whois NAME` from what was
    /// heard; `false` if look-ups go to the registry.
    pub(super) fn lan_who(&mut self, filter: Option<&str>, exact: Option<&Name>) -> bool {
        if !self.lan_lookups() {
            return false;
        }
        let Some(d) = self.discovery.as_ref() else {
            return false;
        };
        let mut peers = d.found(self.io.now, filter);
        if let Some(name) = exact {
            peers.retain(|p| p.name == *name);
        }
        self.io.event(PeerEvent::Found { peers });
        true
    }

    /// `/whois NAME` without a registry session: what was heard of the
    /// name at once (`Found`: every key claiming it), then the profile
    /// asked of the peer itself over its link (`Whois`, once it answers);
    /// `false` if look-ups go to the registry.
    pub(super) fn lan_whois(&mut self, name: &Name) -> bool {
        if !self.lan_lookups() {
            return false;
        }
        if name == self.me() {
            // Ourselves: what others are told.
            let info = PeerInfo {
                name: name.clone(),
                addr: Some(self.config.listen),
                profile: self.profile.clone().unwrap_or_default(),
                key: Some(self.io.keys.public()),
            };
            let from = WhoisFrom::Peer {
                by: None,
                digest: crate::peer::event::DigestCheck::Matches,
            };
            self.io.event(PeerEvent::Whois {
                info,
                files: self.config.shared.clone(),
                from,
            });
            return true;
        }
        let claims = self
            .discovery
            .as_ref()
            .map(|d| d.claims(name))
            .unwrap_or_default();
        if claims.is_empty() {
            self.io.error(format!(
                "nobody called {name} was heard of; /who lists who was"
            ));
            return true;
        }
        self.lan_who(None, Some(name));
        if let Some(pin) = self.known_keys.get(name)
            && !claims.contains(&pin)
        {
            self.io.error(format!(
                "{name} is not heard with the key you trust for it ({}), so its profile \
                 cannot be asked; if {name} reinstalled, /trust {name} FINGERPRINT accepts \
                 one of the keys listed (or /forget {name})",
                pin.fingerprint()
            ));
            return true;
        }
        self.profile_asks.ask(name);
        let wait = lan_profile::PROFILE_ANSWER_TIMEOUT;
        self.io.set_timer(Timer::ProfileAsk(name.clone()), wait);
        if self.links.is_open(name) {
            self.links.send(&mut self.io, name, PeerMessage::ProfileAsk);
        } else {
            self.ensure_link(name);
        }
        true
    }

    /// A peer asked for our profile, or answered with its own.
    pub(super) fn on_profile_message(&mut self, from: &Name, msg: PeerMessage) {
        match msg {
            PeerMessage::ProfileAsk => {
                // What `/whois` shows anyone with a registry.
                let profile = self.profile.clone().unwrap_or_default();
                self.links
                    .send(&mut self.io, from, PeerMessage::ProfileAnswer { profile });
            }
            PeerMessage::ProfileAnswer { profile } if self.profile_asks.answered(from) => {
                self.io.timers.cancel(&Timer::ProfileAsk(from.clone()));
                // The link proved this key (pinned when it opened).
                let key = self.known_keys.get(from);
                let heard = key.and_then(|k| {
                    let d = self.discovery.as_ref()?;
                    let (_, by, digest) = d.heard_key(&k)?;
                    let addr = d.address_of(from, Some(k)).map(|(a, _)| a);
                    Some((by, digest, addr))
                });
                let digest = lan_profile::check(heard.map(|h| h.1), &profile);
                let addr = heard
                    .and_then(|h| h.2)
                    .or_else(|| self.links.remote_of(from));
                let info = PeerInfo {
                    name: from.clone(),
                    addr,
                    profile,
                    key,
                };
                let from = WhoisFrom::Peer {
                    by: heard.map(|h| h.0),
                    digest,
                };
                self.io.event(PeerEvent::Whois {
                    info,
                    files: Vec::new(),
                    from,
                });
            }
            _ => {}
        }
    }

    /// `/whois NAME` got no answer from NAME in time.
    pub(super) fn on_profile_ask_timer(&mut self, name: &Name) {
        if self.profile_asks.answered(name) {
            self.io.error(format!(
                "{name} did not answer /whois within {} s (not reachable now?); /who \
                 shows when it was last heard of",
                lan_profile::PROFILE_ANSWER_TIMEOUT.as_secs()
            ));
        }
    }

    /// `/trust NAME FINGERPRINT`: pins `name` to the key with this
    /// fingerprint, which must have been heard claiming `name` (announced,
    /// passed on, or refused on a connection). A link to `name` proven
    /// with another key is closed: the next one must prove this key.
    pub(super) fn cmd_trust(&mut self, name: &Name, fingerprint: &Fingerprint) {
        let refused = self
            .known_keys
            .refused_key(name)
            .filter(|k| k.fingerprint() == *fingerprint);
        let heard = self.discovery.as_ref().and_then(|d| {
            let key = d.key_with(fingerprint)?;
            let (claimed, _, _) = d.heard_key(&key)?;
            Some((key, claimed.clone()))
        });
        let pinned = self
            .known_keys
            .get(name)
            .filter(|k| k.fingerprint() == *fingerprint);
        let key = match (refused.or(pinned), heard) {
            (Some(k), _) => k,
            (None, Some((k, claimed))) if claimed == *name => k,
            (None, Some((_, claimed))) => {
                return self.io.error(format!(
                    "the key {fingerprint} claims the name {claimed}, not {name}; \
                     /who lists who claims which name"
                ));
            }
            (None, None) => {
                return self.io.error(format!(
                    "no key with the fingerprint {fingerprint} was heard claiming {name}: \
                     nothing was pinned. /who lists the keys heard (/whois {name} those \
                     claiming {name}); compare the whole fingerprint with {name} out of band"
                ));
            }
        };
        let old = self.known_keys.get(name);
        if self.known_keys.pin(&mut self.io, name, key) {
            // Another install: what it sends is numbered from 1 again.
            self.streams.restart_from(&mut self.io, name);
        }
        if old.is_some_and(|o| o != key) {
            self.close_link_of(name, "the key pinned for this name changed (/trust)");
        }
        if self.wants(name) {
            self.flush(name);
        }
    }

    /// `/forget NAME`: no key is pinned for `name` any more; the next one
    /// to claim it (and prove it on a connection) is trusted on first use.
    /// An open link to `name` is closed, so that next one is a new key's.
    pub(super) fn cmd_forget(&mut self, name: &Name) {
        let had = self.known_keys.get(name).is_some();
        self.known_keys.forget(&mut self.io, name);
        if had {
            self.close_link_of(name, "the key pinned for this name was forgotten (/forget)");
        }
    }

    fn close_link_of(&mut self, name: &Name, why: &str) {
        if let Some(conn) = self.links.conn_of(name) {
            self.links
                .close(&mut self.io, conn, ErrorCode::UntrustedKey, why);
        }
    }
}
