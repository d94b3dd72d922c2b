//! Shared set-up for the peer scenario tests: a registry and named peers in
//! one deterministic [`World`], and helpers to drive and inspect them.
//! Every assertion message carries the world's seed, so a failure replays.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use confab_engine::bounded::Text;
use confab_engine::password::PasswordCost;
use confab_engine::peer::{DiscoveryConfig, PeerCommand, PeerConfig, PeerEvent, RequestId, Target};
use confab_engine::registry::RegistryConfig;
use confab_engine::testing::{AnyEvent, HostId, World, WorldConfig};
use confab_engine::wire::registry::Password;
use confab_engine::wire::{GroupName, Name};
use confab_engine::{CommandError, Engine, Peer};

pub fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

pub fn group(s: &str) -> GroupName {
    GroupName::new(s).unwrap()
}

/// A peer of a network with no registry (issue 20): discovery on, the
/// registry never dialed.
pub fn lan_config(c: &mut PeerConfig) {
    c.discovery = Some(DiscoveryConfig::default());
    c.without_registry = true;
}

pub struct Net {
    pub seed: u64,
    pub world: World,
    pub registry: HostId,
    pub peers: BTreeMap<String, HostId>,
    pub tweak: fn(&mut PeerConfig),
}

/// The address the next host added to `world` listens on (see `World::add_host`).
fn next_addr(world: &World) -> SocketAddr {
    let i = world.hosts().count();
    let ip = IpAddr::V4(Ipv4Addr::new(10, (i / 250) as u8, 0, (i % 250) as u8 + 1));
    SocketAddr::new(ip, 7000)
}

pub fn config(me: &str, registry: SocketAddr, listen: SocketAddr) -> PeerConfig {
    let mut c = PeerConfig::new(
        name(me),
        Password(Text::new(format!("pw-{me}")).unwrap()),
        registry,
        listen,
    );
    c.request_timeout = Duration::from_secs(30);
    c.transfer.offer_timeout = c.request_timeout;
    c.unix_ms_at_start = UNIX_MS_AT_START;
    c
}

/// The registry's signing key, known to tests so they can play a registry
/// that certifies what it should not (or play one that is not ours).
pub fn registry_signing_key() -> confab_engine::secure::SigningSecret {
    confab_engine::secure::SigningSecret::from_bytes([7; 32])
}

/// The wall clock at the world's start, for every engine (see
/// `World::add_registry`).
pub const UNIX_MS_AT_START: u64 = 1_700_000_000_000;

impl Net {
    /// A registry and the named peers, all logged in.
    pub fn new(seed: u64, names: &[&str]) -> Net {
        Self::with(seed, names, |_| {})
    }

    pub fn with(seed: u64, names: &[&str], tweak: fn(&mut PeerConfig)) -> Net {
        Self::with_registry(seed, names, tweak, |_| {})
    }

    /// [`Net::with`] with the registry's configuration changed by `registry`.
    pub fn with_registry(
        seed: u64,
        names: &[&str],
        tweak: fn(&mut PeerConfig),
        registry: fn(&mut RegistryConfig),
    ) -> Net {
        let mut net = Net::bare_with_registry(seed, tweak, registry);
        for n in names {
            net.add_peer(n);
        }
        let all: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let ok = net.run_until(Duration::from_secs(10), |net| {
            all.iter().all(|n| {
                net.events(n)
                    .iter()
                    .any(|e| matches!(e, PeerEvent::Ready { .. }))
            })
        });
        assert!(ok, "seed {seed}: not every peer logged in");
        net
    }

    /// A registry and no peers yet (nothing has run).
    pub fn bare(seed: u64, tweak: fn(&mut PeerConfig)) -> Net {
        Self::bare_with_registry(seed, tweak, |_| {})
    }

    /// [`Net::bare`] with the registry's configuration changed by `registry`.
    pub fn bare_with_registry(
        seed: u64,
        tweak: fn(&mut PeerConfig),
        registry: fn(&mut RegistryConfig),
    ) -> Net {
        let mut world = World::new(seed, WorldConfig::default(), Instant::now());
        let mut config = RegistryConfig {
            password_cost: PasswordCost::TESTING,
            unix_ms_at_start: UNIX_MS_AT_START,
            secure: confab_engine::secure::SecureConfig {
                signing_key: Some(registry_signing_key()),
                ..Default::default()
            },
            ..RegistryConfig::default()
        };
        registry(&mut config);
        let registry = world.add_registry("registry", config);
        Net {
            seed,
            world,
            registry,
            peers: BTreeMap::new(),
            tweak,
        }
    }

    /// Peers `names` with discovery on and no registry (issue 20; its host
    /// is crashed before anything runs), configured by `tweak` after
    /// [`lan_config`].
    pub fn lan(seed: u64, names: &[&str], tweak: fn(&mut PeerConfig)) -> Net {
        let mut net = Net::bare(seed, tweak);
        net.world.crash(net.registry);
        for n in names {
            net.add_peer(n);
        }
        net
    }

    /// Runs until each of `names` has seen every other come online (heard
    /// of it on the LAN), at most `max`; whether they all did.
    pub fn until_all_heard(&mut self, names: &[&str], max: Duration) -> bool {
        let others = names.len() - 1;
        self.run_until(max, |net| {
            names.iter().all(|n| {
                net.events(n)
                    .iter()
                    .filter(|e| matches!(e, PeerEvent::Presence { online: true, .. }))
                    .count()
                    >= others
            })
        })
    }

    pub fn add_peer(&mut self, me: &str) -> HostId {
        self.add_peer_as(me, me)
    }

    /// A peer known to the test as `label` that calls itself `me` (two
    /// hosts may claim one name where no registry certifies names).
    pub fn add_peer_as(&mut self, label: &str, me: &str) -> HostId {
        self.add_peer_with(label, me, |_| {})
    }

    /// Like [`Net::add_peer_as`], with `more` changes to its configuration
    /// after the net's own.
    pub fn add_peer_with(
        &mut self,
        label: &str,
        me: &str,
        more: impl FnOnce(&mut PeerConfig),
    ) -> HostId {
        let listen = next_addr(&self.world);
        let mut cfg = config(me, self.world.addr(self.registry), listen);
        (self.tweak)(&mut cfg);
        more(&mut cfg);
        // One key for the peer's life, as its key file would keep it.
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = self.world.random(256) as u8 ^ i as u8;
        }
        cfg.secure.static_key = Some(confab_engine::secure::StaticSecret::from_bytes(key));
        let start = self.world.start();
        let host = self.world.add_host(label, move |records, now, seed| {
            let mut cfg = cfg.clone();
            cfg.unix_ms_at_start += confab_engine::testing::wall_ms_since(start, now);
            Box::new(Peer::new(cfg, records, now, seed))
        });
        assert_eq!(self.world.addr(host), listen);
        self.peers.insert(label.to_owned(), host);
        host
    }

    pub fn host(&self, who: &str) -> HostId {
        self.peers[who]
    }

    pub fn cmd(&mut self, who: &str, cmd: PeerCommand) -> Result<(), CommandError> {
        let host = self.host(who);
        self.world
            .with(host, |p: &mut Peer, now| p.handle_command(now, cmd))
    }

    /// Runs `cmd`, which must be accepted.
    pub fn ok(&mut self, who: &str, cmd: PeerCommand) {
        let c = format!("{cmd:?}");
        if let Err(e) = self.cmd(who, cmd) {
            panic!("seed {}: {who} {c} refused: {e}", self.seed);
        }
    }

    pub fn peer(&self, who: &str) -> &Peer {
        self.world.engine(self.host(who))
    }

    /// Everything `who` reported so far.
    pub fn events(&self, who: &str) -> Vec<PeerEvent> {
        self.world
            .events(self.host(who))
            .iter()
            .filter_map(|(_, e)| match e {
                AnyEvent::Peer(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn clear(&mut self, who: &str) {
        let host = self.host(who);
        self.world.take_events(host);
    }

    pub fn run_until(&mut self, max: Duration, mut done: impl FnMut(&Net) -> bool) -> bool {
        let limit = self.world.now() + max;
        loop {
            if done(self) {
                return true;
            }
            if !self.world.step(limit) {
                return done(self);
            }
        }
    }

    /// Runs until `who` reports an event `pred` likes; returns it.
    pub fn wait_for(
        &mut self,
        who: &str,
        max: Duration,
        pred: impl Fn(&PeerEvent) -> bool,
    ) -> PeerEvent {
        let mut found = None;
        self.run_until(max, |net| {
            found = net.events(who).into_iter().find(|e| pred(e));
            found.is_some()
        });
        match found {
            Some(e) => e,
            None => panic!(
                "seed {}: {who} never reported the awaited event; it reported {:#?}",
                self.seed,
                self.events(who)
            ),
        }
    }

    pub fn run_for(&mut self, d: Duration) {
        self.world.run_for(d);
    }

    /// The texts `who` received from `from` (in `to`), in order.
    pub fn received(&self, who: &str, from: &str, to: &Target) -> Vec<String> {
        self.events(who)
            .into_iter()
            .filter_map(|e| match e {
                PeerEvent::Message {
                    from: f,
                    to: t,
                    text,
                } if f.as_str() == from && &t == to => Some(text),
                _ => None,
            })
            .collect()
    }

    /// The id of the latest chat request `who` got from `from`.
    pub fn chat_request(&mut self, who: &str, from: &str) -> RequestId {
        let from = name(from);
        match self.wait_for(
            who,
            Duration::from_secs(10),
            |e| matches!(e, PeerEvent::ChatRequest { from: f, .. } if *f == from),
        ) {
            PeerEvent::ChatRequest { id, .. } => id,
            _ => unreachable!(),
        }
    }

    /// `a` asks `b` for a chat and `b` accepts; both see it open.
    pub fn open_chat(&mut self, a: &str, b: &str) {
        self.ok(a, PeerCommand::Chat(name(b)));
        let id = self.chat_request(b, a);
        self.ok(b, PeerCommand::Accept(Some(id)));
        let nb = name(b);
        self.wait_for(
            a,
            Duration::from_secs(10),
            |e| matches!(e, PeerEvent::ChatOpened { with, .. } if *with == nb),
        );
    }

    pub fn msg(&mut self, from: &str, to: &str, text: &str) {
        let to = Target::parse(to).unwrap();
        self.ok(
            from,
            PeerCommand::Message {
                to,
                text: text.to_owned(),
            },
        );
    }

    pub fn to_user(who: &str) -> Target {
        Target::User(name(who))
    }
}
