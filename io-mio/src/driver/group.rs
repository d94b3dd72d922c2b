//! The driver's LAN discovery group sockets (issue 20): per group, a UDP
//! socket bound on the group's port with address and port reuse (so
//! several peers on one machine each hear the group), joined to the group
//! on every up, multicast-capable interface (`interfaces.rs`; interface 0,
//! the kernel's pick, when none is listed), and read like the call
//! sockets. A peer may join an IPv4 group and an IPv6 one. The engine
//! sends announcements through the call sockets (their source port is the
//! peer's own, so a query's answer comes back to this peer alone), and
//! `datagrams.rs` carries them to every joined group out of every
//! interface; only what arrives on a group is read here. The driver
//! decides nothing: what a datagram means is the engine's.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use confab_engine::Engine;
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};

use super::Driver;
use super::interfaces::{Interface, multicast_interfaces};
use crate::role::Stoppable;

/// A non-blocking UDP socket on `group`'s port, joined to `group` on each
/// of `interfaces` of its family; how many joins took.
fn joined(group: SocketAddr, interfaces: &[Interface]) -> io::Result<(mio::net::UdpSocket, usize)> {
    let socket = Socket::new(Domain::for_address(group), Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    let mut took = 0;
    let mut last = None;
    match group.ip() {
        IpAddr::V4(g) => {
            socket.bind(&SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), group.port()).into())?;
            for i in interfaces.iter().filter(|i| i.v4.is_some()) {
                let on = InterfaceIndexOrAddress::Index(i.index);
                match socket.join_multicast_v4_n(&g, &on) {
                    Ok(()) => took += 1,
                    Err(e) => last = Some(e),
                }
            }
            if took == 0 && last.is_none() {
                socket.join_multicast_v4(&g, &Ipv4Addr::UNSPECIFIED)?;
                took = 1;
            }
        }
        IpAddr::V6(g) => {
            socket.set_only_v6(true)?;
            socket.bind(&SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), group.port()).into())?;
            for i in interfaces.iter().filter(|i| i.v6) {
                match socket.join_multicast_v6(&g, i.index) {
                    Ok(()) => took += 1,
                    Err(e) => last = Some(e),
                }
            }
            if took == 0 && last.is_none() {
                socket.join_multicast_v6(&g, 0)?;
                took = 1;
            }
        }
    }
    if took == 0 {
        return Err(last.unwrap_or_else(|| io::Error::other("no interface to join on")));
    }
    socket.set_nonblocking(true)?;
    Ok((mio::net::UdpSocket::from_std(socket.into()), took))
}

impl<E> Driver<E>
where
    E: Engine,
    E::Command: Stoppable,
{
    /// Joins the multicast `group` on every interface it can and hands the
    /// engine what arrives on it; returns on how many interfaces (0: the
    /// kernel's pick). May be called once per group (IPv4 and IPv6).
    pub fn join_group(&mut self, group: SocketAddr) -> io::Result<usize> {
        if !group.ip().is_multicast() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{group} is not a multicast address"),
            ));
        }
        let interfaces = self.udp.interfaces.get_or_insert_with(multicast_interfaces);
        let listed = interfaces
            .iter()
            .filter(|i| {
                if group.is_ipv4() {
                    i.v4.is_some()
                } else {
                    i.v6
                }
            })
            .count();
        let (socket, took) = joined(group, interfaces)?;
        self.add_udp(socket, Some(group))?;
        Ok(if listed == 0 { 0 } else { took })
    }
}
