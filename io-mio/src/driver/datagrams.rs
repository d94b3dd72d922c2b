//! The driver's UDP traffic: call media (issue 21) and LAN discovery
//! (issue 20). Every socket (see `udp.rs`) is registered with the poll,
//! read until it would block (at most [`MAX_DATAGRAMS_PER_WAKE`] per
//! socket per turn of the loop, so a flood cannot starve the connections),
//! and written without waiting: a datagram the kernel will not take now is
//! dropped, as the media path expects losses and never wants stale frames
//! queued, and discovery repeats itself.
//!
//! A datagram the engine sends to a multicast address means "to the LAN":
//! it goes to every group joined (the engine names only the first), out
//! of every interface of the group's family (`IP_MULTICAST_IF` /
//! `IPV6_MULTICAST_IF`), from the call socket of that family. Anything
//! else goes to its address from the call socket of its family.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use confab_engine::limits::MAX_DATAGRAM_LEN;
use confab_engine::{Engine, Input};
use mio::net::UdpSocket;
use mio::{Interest, Token};
use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::Driver;
use super::udp::{Datagrams, MAX_SOCKETS, Udp, canonical};
use crate::role::Stoppable;

/// Datagrams read per socket per turn of the loop at most.
pub const MAX_DATAGRAMS_PER_WAKE: usize = 1024;

/// A non-blocking UDP socket on `addr`; an IPv6 one takes IPv6 only (the
/// IPv4 socket beside it takes IPv4).
fn bound(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    Ok(UdpSocket::from_std(socket.into()))
}

impl<E> Driver<E>
where
    E: Engine,
    E::Command: Stoppable,
{
    /// Takes datagrams on `socket` from now on.
    pub(super) fn add_udp(
        &mut self,
        mut socket: UdpSocket,
        group: Option<SocketAddr>,
    ) -> io::Result<()> {
        let place = self.udp.sockets.len();
        if place >= MAX_SOCKETS {
            return Err(io::Error::other("too many UDP sockets"));
        }
        self.poll
            .registry()
            .register(&mut socket, Datagrams::token(place), Interest::READABLE)?;
        let v6 = socket.local_addr()?.is_ipv6();
        self.udp.sockets.push(Udp {
            socket,
            readable: true,
            group,
            v6,
        });
        Ok(())
    }

    /// Binds the call sockets on `addr` (the listener's address): on a
    /// dual-stack `[::]:PORT`, an IPv6 one and an IPv4 one on `0.0.0.0:PORT`
    /// (a failure of the second is only logged).
    pub fn bind_udp(&mut self, addr: SocketAddr) -> io::Result<SocketAddr> {
        let socket = bound(addr)?;
        let local = socket.local_addr()?;
        self.add_udp(socket, None)?;
        if addr.ip() == IpAddr::V6(Ipv6Addr::UNSPECIFIED) {
            let v4 = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), local.port());
            if let Err(e) = bound(v4).and_then(|s| self.add_udp(s, None)) {
                tracing::warn!(error = %e, %v4, "no IPv4 UDP socket: calls and discovery over IPv6 only");
            }
        }
        Ok(local)
    }

    /// Whether datagrams may be waiting that the last turn left unread.
    pub(super) fn udp_busy(&self) -> bool {
        self.udp.sockets.iter().any(|u| u.readable)
    }

    /// `token`'s socket may be readable; false if it is not a UDP socket's.
    pub(super) fn udp_readable(&mut self, token: Token) -> bool {
        match self.udp.by_token(token) {
            Some(u) => {
                u.readable = true;
                true
            }
            None => false,
        }
    }

    /// Hands the engine what arrived (oversized datagrams are cut at
    /// [`MAX_DATAGRAM_LEN`] + 1, which the engine refuses).
    pub(super) fn read_datagrams(&mut self, now: Instant) {
        let mut buf = [0u8; MAX_DATAGRAM_LEN + 1];
        for place in 0..self.udp.sockets.len() {
            for _ in 0..MAX_DATAGRAMS_PER_WAKE {
                let u = &mut self.udp.sockets[place];
                if !u.readable {
                    break;
                }
                match u.socket.recv_from(&mut buf) {
                    Ok((n, from)) => self.engine.handle_input(
                        now,
                        Input::Datagram {
                            from: canonical(from),
                            bytes: &buf[..n],
                        },
                    ),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => u.readable = false,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // ICMP errors (port unreachable) surface here: nothing to do.
                    Err(e) => tracing::debug!(error = %e, "udp receive"),
                }
            }
        }
    }

    pub(super) fn send_datagram(&mut self, to: SocketAddr, bytes: &[u8]) {
        let groups: Vec<SocketAddr> = self.udp.groups().collect();
        if !to.ip().is_multicast() || groups.is_empty() {
            let Some(u) = self.udp.call_for(to) else {
                tracing::debug!(%to, "udp send dropped: no socket of its family");
                return;
            };
            if let Err(e) = u.socket.send_to(bytes, to) {
                tracing::debug!(error = %e, %to, "udp send dropped");
            }
            return;
        }
        let interfaces = self.udp.interfaces.as_deref().unwrap_or_default();
        for group in groups {
            let Some(u) = self.udp.call_for(group) else {
                continue;
            };
            // A socket bound to one address (`--listen 127.0.0.1:P`)
            // sends where the kernel routes it, as it always did.
            let specific = u
                .socket
                .local_addr()
                .is_ok_and(|a| !a.ip().is_unspecified());
            let interfaces = if specific { &[][..] } else { interfaces };
            let out = SockRef::from(&u.socket);
            let mut sent = false;
            for i in interfaces {
                let chosen = match group {
                    SocketAddr::V4(_) => match i.v4 {
                        Some(a) => out.set_multicast_if_v4(&a),
                        None => continue,
                    },
                    SocketAddr::V6(_) if i.v6 => out.set_multicast_if_v6(i.index),
                    SocketAddr::V6(_) => continue,
                };
                sent = true;
                if let Err(e) = chosen.and_then(|()| u.socket.send_to(bytes, group)) {
                    tracing::debug!(error = %e, %group, interface = i.index, "udp send dropped");
                }
            }
            if !sent && let Err(e) = u.socket.send_to(bytes, group) {
                // No interface of that family used: the kernel's choice.
                tracing::debug!(error = %e, %group, "udp send dropped");
            }
        }
    }
}
