//! [`Udp`]: one of the driver's UDP sockets, and [`Datagrams`]: all of
//! them. Values and pure choices only; `datagrams.rs` reads and writes
//! them, `group.rs` joins the groups.
//!
//! - The *call* sockets (call media, and everything the engine sends: LAN
//!   announcements leave from the peer's own port, so a query's answer
//!   comes back to this peer alone): one per address family the listener
//!   takes, IPv4 and IPv6-only, on the same port number. A datagram goes
//!   out of the one of its destination's family ([`Datagrams::call_for`]).
//! - The *group* sockets: one per LAN discovery group joined (an IPv4 one,
//!   an IPv6 one), only read.
//!
//! Addresses handed to the engine are canonical ([`canonical`]): an
//! IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, which a dual-stack socket
//! reports) becomes the IPv4 address, and an IPv6 link-local address keeps
//! its scope id (the interface it was heard on), so the engine can dial it.

use std::net::{SocketAddr, SocketAddrV4};

use mio::Token;

use super::interfaces::Interface;

/// How many datagram sockets a driver may hold: tokens
/// `usize::MAX - MAX_SOCKETS + 1 ..= usize::MAX`, far from connections'.
pub(super) const MAX_SOCKETS: usize = 16;

/// See the module documentation.
#[derive(Debug)]
pub(super) struct Udp {
    pub(super) socket: mio::net::UdpSocket,
    pub(super) readable: bool,
    /// The group this socket joined; `None`: a call socket.
    pub(super) group: Option<SocketAddr>,
    /// The family of what it sends and receives.
    pub(super) v6: bool,
}

/// Every UDP socket of a driver, in the order they were opened (a
/// socket's token is [`Datagrams::token`] of its place).
#[derive(Debug, Default)]
pub(super) struct Datagrams {
    pub(super) sockets: Vec<Udp>,
    /// Where groups are joined and sent to; read at the first join.
    pub(super) interfaces: Option<Vec<Interface>>,
}

impl Datagrams {
    /// The poll token of the socket at `place`.
    pub(super) fn token(place: usize) -> Token {
        Token(usize::MAX - place)
    }

    /// The socket `token` is for, if it is a datagram socket's.
    pub(super) fn by_token(&mut self, token: Token) -> Option<&mut Udp> {
        let place = usize::MAX.checked_sub(token.0)?;
        if place >= MAX_SOCKETS {
            return None;
        }
        self.sockets.get_mut(place)
    }

    /// The call socket a datagram to `to` leaves from: the one of its
    /// family (an IPv4 destination never goes out of an IPv6 socket as a
    /// mapped address: the IPv4 socket is there for it).
    pub(super) fn call_for(&self, to: SocketAddr) -> Option<&Udp> {
        self.sockets
            .iter()
            .find(|u| u.group.is_none() && u.v6 == to.is_ipv6())
    }

    /// The groups joined.
    pub(super) fn groups(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.sockets.iter().filter_map(|u| u.group)
    }
}

/// `addr` as the engine should see it: IPv4-mapped IPv6 as IPv4; anything
/// else (scope id included) unchanged.
pub(super) fn canonical(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(a) => match a.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::V4(SocketAddrV4::new(v4, a.port())),
            None => addr,
        },
        SocketAddr::V4(_) => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv6Addr, SocketAddrV6};

    #[test]
    fn mapped_addresses_become_ipv4_and_scope_ids_stay() {
        let mapped: SocketAddr = "[::ffff:10.77.1.2]:7000".parse().unwrap();
        assert_eq!(canonical(mapped), "10.77.1.2:7000".parse().unwrap());
        let link = SocketAddr::V6(SocketAddrV6::new(
            "fe80::1".parse::<Ipv6Addr>().unwrap(),
            7000,
            0,
            3,
        ));
        assert_eq!(canonical(link), link);
        let SocketAddr::V6(kept) = canonical(link) else {
            panic!("not v6")
        };
        assert_eq!(kept.scope_id(), 3);
        let v4: SocketAddr = "10.0.0.1:1".parse().unwrap();
        assert_eq!(canonical(v4), v4);
        let v6: SocketAddr = "[fd00::1]:1".parse().unwrap();
        assert_eq!(canonical(v6), v6);
    }

    fn udp(addr: &str, group: Option<&str>) -> Udp {
        let socket = mio::net::UdpSocket::bind(addr.parse().unwrap()).unwrap();
        Udp {
            v6: socket.local_addr().unwrap().is_ipv6(),
            socket,
            readable: false,
            group: group.map(|g| g.parse().unwrap()),
        }
    }

    #[test]
    fn a_datagram_leaves_from_the_call_socket_of_its_family() {
        let mut d = Datagrams::default();
        d.sockets
            .push(udp("127.0.0.1:0", Some("239.255.67.66:6767")));
        d.sockets.push(udp("127.0.0.1:0", None));
        let to4: SocketAddr = "10.0.0.1:9".parse().unwrap();
        let to6: SocketAddr = "[fe80::1%2]:9".parse().unwrap();
        let call = d.call_for(to4).expect("an IPv4 call socket");
        assert!(call.group.is_none() && !call.v6);
        assert!(
            d.call_for(to6).is_none(),
            "no IPv6 socket: nothing to send on"
        );
        let Ok(s6) = mio::net::UdpSocket::bind("[::1]:0".parse().unwrap()) else {
            eprintln!("SKIPPED the IPv6 half: no IPv6 loopback here");
            return;
        };
        d.sockets.push(Udp {
            socket: s6,
            readable: false,
            group: None,
            v6: true,
        });
        assert!(d.call_for(to6).is_some_and(|u| u.v6));
        assert!(d.call_for(to4).is_some_and(|u| !u.v6));
        assert_eq!(d.groups().count(), 1);
    }

    #[test]
    fn tokens_map_back_to_their_socket_and_no_other() {
        let mut d = Datagrams::default();
        d.sockets.push(udp("127.0.0.1:0", None));
        assert!(d.by_token(Datagrams::token(0)).is_some());
        assert!(d.by_token(Datagrams::token(1)).is_none());
        assert!(d.by_token(Token(5)).is_none());
        assert!(d.by_token(Datagrams::token(MAX_SOCKETS)).is_none());
    }
}
