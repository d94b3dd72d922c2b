//! Unit tests of [`Links`]: crossed dials, epochs, the identity check, keepalive.
//! The channel below is bypassed (`Io::new`): what it proved is handed in
//! with [`Links::on_proven`], as the role machine does.
#![cfg(test)]

use super::*;
use crate::peer::config::Backoff;
use std::time::{Duration, Instant};

fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn links(me: &str) -> Links {
    let d = Duration::from_secs(1);
    Links::new(
        n(me),
        LinkConfig {
            handshake_timeout: d,
            reconnect: Backoff { min: d, max: d },
            keepalive_interval: 10 * d,
            keepalive_timeout: 30 * d,
            ..LinkConfig::default()
        },
    )
}

/// What the channel of `c` proved: `name`'s certificate.
fn proven(l: &mut Links, c: ConnId, name: &str) {
    let key = crate::wire::identity::PublicKey([0; 32]);
    l.on_proven(c, Proven::Peer { name: n(name), key });
}

fn session(epoch: u64) -> Vec<u8> {
    crate::wire::encode(&Message::Peer(PeerMessage::Session { epoch }))
}

fn sent(io: &mut Io) -> Vec<Message> {
    io.out
        .drain(..)
        .filter_map(|o| match o {
            Output::Send { bytes, .. } => crate::wire::decode(&bytes[4..]).ok(),
            _ => None,
        })
        .collect()
}

/// Both sides of a crossed dial keep the connection dialed by the
/// smaller name, whatever order things happen in.
#[test]
fn crossed_dials_keep_the_one_the_smaller_name_dialed() {
    let addr: SocketAddr = "10.0.0.2:7000".parse().unwrap();
    let remote: SocketAddr = "10.0.0.2:40001".parse().unwrap();
    for me in ["ann", "zed"] {
        let other = if me == "ann" { "zed" } else { "ann" };
        let mut io = Io::new(Instant::now(), 1);
        let mut l = links(me);
        l.dial(&mut io, n(other), addr);
        let dialed = ConnId(1);
        l.on_connected(&mut io, dialed);
        let accepted = io.mint_conn();
        l.accept(&mut io, accepted, remote);
        let hello = |name: &str| {
            Message::Hello(Hello {
                version: PROTOCOL_VERSION,
                role: Role::Peer,
                name: Some(n(name)),
            })
        };
        let mut bytes = crate::wire::encode(&hello(other));
        // One epoch on both: the other side held both at once.
        bytes.extend(session(77));
        proven(&mut l, accepted, other);
        proven(&mut l, dialed, other);
        // The accepted one opens first, then the dialed one.
        l.on_received(&mut io, accepted, &bytes);
        l.on_received(&mut io, dialed, &bytes);
        let v = crate::wire::encode(&Message::Peer(PeerMessage::Verified));
        l.on_received(&mut io, dialed, &v);
        let keep = if me == "ann" { dialed } else { accepted };
        assert_eq!(l.open.get(&n(other)), Some(&keep), "{me}");
        assert_eq!(l.conns.len(), 1, "{me}: the loser is closed");
        sent(&mut io);
    }
}

/// A hello must claim the name the channel proved: a certificate for
/// carol does not let its holder say it is bob.
#[test]
fn a_hello_must_claim_the_proven_name() {
    let mut io = Io::new(Instant::now(), 1);
    let mut l = links("ann");
    let c = io.mint_conn();
    l.accept(&mut io, c, "10.0.0.9:40000".parse().unwrap());
    proven(&mut l, c, "carol");
    let hello = Message::Hello(Hello {
        version: PROTOCOL_VERSION,
        role: Role::Peer,
        name: Some(n("bob")),
    });
    let outs = l.on_received(&mut io, c, &crate::wire::encode(&hello));
    assert!(outs.is_empty());
    assert!(!l.owns(c));
    let msgs = sent(&mut io);
    assert!(
        matches!(msgs.last(), Some(Message::Goodbye(g)) if g.code == ErrorCode::ProtocolViolation),
        "{msgs:?}"
    );
}

/// A channel that fails closes its connection without delivering
/// anything, and the user is told why.
#[test]
fn a_failed_channel_closes_with_its_reason() {
    let mut io = Io::new(Instant::now(), 1);
    let mut l = links("ann");
    l.dial(&mut io, n("bob"), "10.0.0.2:7000".parse().unwrap());
    let c = ConnId(1);
    l.on_connected(&mut io, c);
    io.out.clear();
    let why = ChannelError::Certificate(crate::secure::certificate::CertError::Missing);
    l.on_channel_failed(&mut io, c, why);
    assert!(!l.owns(c));
    let notice = io.out.iter().find_map(|o| match o {
        Output::Event(crate::peer::event::PeerEvent::Notice { message }) => Some(message.clone()),
        _ => None,
    });
    assert!(
        notice.as_deref().is_some_and(
            |m| m.contains("could not reach bob securely") && m.contains("no certificate")
        ),
        "{notice:?}"
    );
    assert!(
        io.out
            .iter()
            .any(|o| matches!(o, Output::Close { conn } if *conn == c))
    );
}

/// An accepted connection with `other`'s hello and `epoch`, verified.
fn accept_verified(io: &mut Io, l: &mut Links, other: &str, epoch: u64) -> ConnId {
    let c = io.mint_conn();
    l.accept(io, c, "10.0.0.2:40001".parse().unwrap());
    proven(l, c, other);
    let hello = Message::Hello(Hello {
        version: PROTOCOL_VERSION,
        role: Role::Peer,
        name: Some(n(other)),
    });
    let mut bytes = crate::wire::encode(&hello);
    bytes.extend(session(epoch));
    l.on_received(io, c, &bytes);
    c
}

/// A connection dialed by the smaller name is open; the larger name
/// dials again. Same epoch: a crossed dial, the old one stays. Another
/// epoch: the other side lost the old one, the new one replaces it.
#[test]
fn a_new_epoch_replaces_the_open_connection() {
    let addr: SocketAddr = "10.0.0.2:7000".parse().unwrap();
    for (epoch, replaced) in [(5, false), (6, true)] {
        let mut io = Io::new(Instant::now(), 1);
        let mut l = links("ann");
        l.dial(&mut io, n("zed"), addr);
        let old = ConnId(1);
        l.on_connected(&mut io, old);
        let hello = Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: Some(n("zed")),
        });
        let mut bytes = crate::wire::encode(&hello);
        bytes.extend(session(5));
        bytes.extend(crate::wire::encode(&Message::Peer(PeerMessage::Verified)));
        proven(&mut l, old, "zed");
        l.on_received(&mut io, old, &bytes);
        assert_eq!(l.open.get(&n("zed")), Some(&old));
        let new = accept_verified(&mut io, &mut l, "zed", epoch);
        let keep = if replaced { new } else { old };
        assert_eq!(l.open.get(&n("zed")), Some(&keep), "epoch {epoch}");
        assert_eq!(l.conns.len(), 1, "epoch {epoch}");
    }
}

/// The dialer's `Session` may come after its hello: the connection opens
/// once it does.
#[test]
fn the_acceptor_opens_only_once_the_session_is_known() {
    let mut io = Io::new(Instant::now(), 1);
    let mut l = links("ann");
    let c = io.mint_conn();
    l.accept(&mut io, c, "10.0.0.2:40001".parse().unwrap());
    proven(&mut l, c, "zed");
    let hello = Message::Hello(Hello {
        version: PROTOCOL_VERSION,
        role: Role::Peer,
        name: Some(n("zed")),
    });
    let outs = l.on_received(&mut io, c, &crate::wire::encode(&hello));
    assert!(outs.is_empty() && !l.is_open(&n("zed")));
    let outs = l.on_received(&mut io, c, &session(9));
    assert!(matches!(&outs[..], [LinkOut::Open { .. }]));
    assert!(sent(&mut io).contains(&Message::Peer(PeerMessage::Verified)));
}

/// A silent open connection is pinged each interval and closed after the
/// timeout; a `Ping` is answered and anything received resets the clock.
#[test]
fn keepalive_pings_then_closes() {
    let start = Instant::now();
    let mut io = Io::new(start, 1);
    let mut l = links("ann");
    let c = accept_verified(&mut io, &mut l, "zed", 1);
    assert!(l.is_open(&n("zed")));
    sent(&mut io);
    let ping = Message::Peer(PeerMessage::Ping);
    for secs in [10, 20] {
        io.now = start + Duration::from_secs(secs);
        assert_eq!(io.timers.pop_due(io.now), Some(Timer::Keepalive(c)));
        l.on_keepalive_timer(&mut io, c);
        assert_eq!(sent(&mut io), vec![ping.clone()], "{secs} s");
    }
    // A ping from the other side is answered, and counts as heard.
    io.now = start + Duration::from_secs(25);
    l.on_received(&mut io, c, &crate::wire::encode(&ping));
    assert_eq!(sent(&mut io), vec![Message::Peer(PeerMessage::Pong)]);
    io.now = start + Duration::from_secs(30);
    assert_eq!(io.timers.pop_due(io.now), Some(Timer::Keepalive(c)));
    l.on_keepalive_timer(&mut io, c);
    assert!(sent(&mut io).is_empty(), "heard 5 s ago");
    io.now = start + Duration::from_secs(55);
    while let Some(t) = io.timers.pop_due(io.now) {
        assert_eq!(t, Timer::Keepalive(c));
        l.on_keepalive_timer(&mut io, c);
    }
    assert!(!l.is_open(&n("zed")), "silent for 30 s");
    assert!(
        matches!(sent(&mut io).last(), Some(Message::Goodbye(g)) if g.code == ErrorCode::TimedOut)
    );
}

#[test]
fn a_dial_still_connecting_is_closed_without_a_goodbye() {
    let addr: SocketAddr = "10.0.0.2:7000".parse().unwrap();
    for quit in [false, true] {
        let mut io = Io::new(Instant::now(), 1);
        let mut l = links("ann");
        l.dial(&mut io, n("bob"), addr);
        l.dial(&mut io, n("carol"), addr);
        io.out.clear();
        if quit {
            l.close_all(&mut io, ErrorCode::ShuttingDown, "bye");
        } else {
            l.on_handshake_timer(&mut io, ConnId(1));
            l.on_handshake_timer(&mut io, ConnId(2));
        }
        assert!(sent(&mut io).is_empty(), "quit: {quit}");
        assert!(l.conns.is_empty());
    }
}
