//! The driver's LAN discovery socket (issue 20): a second UDP socket bound
//! on the multicast group's port with address and port reuse (so several
//! peers on one machine each hear the group), joined to the group on every
//! interface the kernel picks (IPv4: `INADDR_ANY`; IPv6: interface 0), and
//! read like the call socket. The engine sends announcements through the
//! call socket (its source port is the peer's own, so a query's answer
//! comes back to this peer alone); only what arrives on the group is read
//! here. The driver decides nothing: what a datagram means is the engine's.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use confab_engine::Engine;
use mio::Interest;
use socket2::{Domain, Protocol, Socket, Type};

use super::udp::Udp;
use super::{Driver, GROUP};
use crate::role::Stoppable;

/// A non-blocking UDP socket on `group`'s port, joined to `group`.
fn joined(group: SocketAddr) -> io::Result<mio::net::UdpSocket> {
    let socket = Socket::new(Domain::for_address(group), Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    match group.ip() {
        IpAddr::V4(g) => {
            socket.bind(&SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), group.port()).into())?;
            socket.join_multicast_v4(&g, &Ipv4Addr::UNSPECIFIED)?;
        }
        IpAddr::V6(g) => {
            socket.set_only_v6(true)?;
            socket.bind(&SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), group.port()).into())?;
            socket.join_multicast_v6(&g, 0)?;
        }
    }
    socket.set_nonblocking(true)?;
    Ok(mio::net::UdpSocket::from_std(socket.into()))
}

impl<E> Driver<E>
where
    E: Engine,
    E::Command: Stoppable,
{
    /// Joins the multicast `group` and hands the engine what arrives on it.
    pub fn join_group(&mut self, group: SocketAddr) -> io::Result<()> {
        if !group.ip().is_multicast() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{group} is not a multicast address"),
            ));
        }
        let mut socket = joined(group)?;
        self.poll
            .registry()
            .register(&mut socket, GROUP, Interest::READABLE)?;
        self.group = Some(Udp {
            socket,
            readable: true,
        });
        Ok(())
    }

    pub(super) fn group_readable(&mut self) {
        if let Some(g) = self.group.as_mut() {
            g.readable = true;
        }
    }
}
