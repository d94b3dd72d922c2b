//! The `lan` target (issue 20): LAN discovery datagrams from anyone.
//!
//! The input is a run of datagrams, each a 16-bit big-endian length and its
//! bytes. Each one is:
//! 1. parsed ([`LanDatagram::parse`]): never a panic, nothing allocated
//!    past [`MAX_LAN_DATAGRAM_LEN`] (the allocation guard), and what parses
//!    encodes back to the same value;
//! 2. handed to a [`Peer`] with discovery on and no registry, as arriving
//!    from `10.0.0.N:7000` (N from the datagram's place), one second apart.
//!
//! Then `/who`: every key it lists must have signed, somewhere in this
//! input, an announcement of the name it is listed under (checked with
//! [`claim::check_announcement`], as nothing here can forge a signature):
//! nothing unsigned, re-signed or re-named is ever believed. Likewise,
//! every registry it says it heard (`registry_heard`) signed a registry
//! announcement in this input ([`registry_claim::check`]).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use confab_engine::Peer;
use confab_engine::api::{Engine, Input, Output};
use confab_engine::bounded::Text;
use confab_engine::limits::MAX_LAN_DATAGRAM_LEN;
use confab_engine::peer::{DiscoveryConfig, PeerCommand, PeerConfig, PeerEvent};
use confab_engine::secure::{claim, registry_claim};
use confab_engine::wire::Name;
use confab_engine::wire::discovery::LanDatagram;
use confab_engine::wire::registry::Password;

/// The wall clock the peer starts at (the seeds' announcements are signed
/// at this time).
pub const UNIX_MS: u64 = 1_700_000_000_000;

/// Runs the checks on `data`.
pub fn run(mut data: &[u8]) {
    let start = Instant::now();
    let mut config = PeerConfig::new(
        Name::new("me").expect("valid"),
        Password(Text::default()),
        SocketAddr::from(([10, 0, 0, 250], 7300)),
        SocketAddr::from(([10, 0, 0, 1], 7000)),
    );
    config.discovery = Some(DiscoveryConfig::default());
    config.without_registry = true;
    config.unix_ms_at_start = UNIX_MS;
    let mut peer = Peer::new(config, Vec::new(), start, 1);
    let mut signed: BTreeSet<(String, String)> = BTreeSet::new();
    let mut registries: BTreeSet<String> = BTreeSet::new();
    let mut now = start;
    let mut i = 0u8;
    while data.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([data[0], data[1]])).min(data.len() - 2);
        let bytes = &data[2..2 + len];
        data = &data[2 + len..];
        if let Ok(d) = LanDatagram::parse(bytes) {
            assert!(bytes.len() <= MAX_LAN_DATAGRAM_LEN);
            assert_eq!(
                LanDatagram::parse(&d.to_bytes()),
                Ok(d.clone()),
                "round trip"
            );
            if let LanDatagram::Registry(r) = &d
                && registry_claim::check(r)
            {
                registries.insert(r.body.signing_key.fingerprint().to_string());
            }
            let ann = match d {
                LanDatagram::Announce(a) => Some(a),
                LanDatagram::Relay(p) => Some(p.ann),
                LanDatagram::Query | LanDatagram::Registry(_) => None,
            };
            if let Some(a) = ann
                && claim::check_announcement(&a).is_ok()
            {
                signed.insert((
                    a.body.name.to_string(),
                    a.body.key.fingerprint().to_string(),
                ));
            }
        }
        i = i.wrapping_add(1);
        now += Duration::from_secs(1);
        let from = SocketAddr::from(([10, 0, 0, i], 7000));
        peer.handle_input(now, Input::Datagram { from, bytes });
        while let Some(o) = peer.poll_output() {
            if let Output::Event(PeerEvent::RegistryHeard { fingerprint, .. }) = o {
                assert!(
                    registries.contains(&fingerprint),
                    "believed an unsigned registry: {fingerprint}"
                );
            }
        }
    }
    let _ = peer.handle_command(now, PeerCommand::Who);
    while let Some(o) = peer.poll_output() {
        if let Output::Event(PeerEvent::Found { peers }) = o {
            for p in peers {
                let pair = (p.name.to_string(), p.fingerprint.clone());
                assert!(signed.contains(&pair), "believed unsigned: {pair:?}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::{lan_announcement, registry_announcement};

    fn datagrams(ds: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![];
        for d in ds {
            out.extend_from_slice(&(d.len() as u16).to_be_bytes());
            out.extend_from_slice(d);
        }
        out
    }

    #[test]
    fn signed_forged_and_cut_announcements_run_clean() {
        let bob = lan_announcement(2, "bob", UNIX_MS);
        let mut renamed = bob.clone();
        renamed.body.name = Name::new("alice").expect("valid");
        let full = LanDatagram::Announce(bob.clone()).to_bytes();
        run(&datagrams(&[
            LanDatagram::Query.to_bytes(),
            full.clone(),
            LanDatagram::Announce(renamed).to_bytes(),
            full[..full.len() / 2].to_vec(),
            vec![0xd1; MAX_LAN_DATAGRAM_LEN + 1],
        ]));
        let reg = registry_announcement(4, UNIX_MS);
        let mut forged = reg.clone();
        forged.body.port = 1;
        run(&datagrams(&[
            LanDatagram::Registry(forged).to_bytes(),
            LanDatagram::Registry(reg.clone()).to_bytes(),
            LanDatagram::Registry(reg).to_bytes(),
        ]));
        for i in 0..full.len() {
            let mut flipped = full.clone();
            flipped[i] ^= 0x55;
            run(&datagrams(&[flipped]));
        }
    }
}
