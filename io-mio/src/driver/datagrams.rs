//! The driver's UDP socket, for call media (issue 21): bound on the same
//! address as the listener (the peer's listen port number), registered
//! with the poll, read until it would block (at most
//! [`MAX_DATAGRAMS_PER_WAKE`] per turn of the loop, so a flood cannot
//! starve the connections), and written without waiting: a datagram the
//! kernel will not take now is dropped, as the media path expects losses
//! and never wants stale frames queued. LAN discovery's group socket
//! (`group.rs`) is read here the same way.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use confab_engine::limits::MAX_DATAGRAM_LEN;
use confab_engine::{Engine, Input};
use mio::Interest;
use mio::net::UdpSocket;

use super::udp::Udp;
use super::{Driver, UDP};
use crate::role::Stoppable;

/// Datagrams read per turn of the loop at most.
pub const MAX_DATAGRAMS_PER_WAKE: usize = 1024;

impl<E> Driver<E>
where
    E: Engine,
    E::Command: Stoppable,
{
    /// Binds a UDP socket on `addr` (the listener's address) and takes
    /// datagrams from it from now on.
    pub fn bind_udp(&mut self, addr: SocketAddr) -> io::Result<SocketAddr> {
        let mut socket = UdpSocket::bind(addr)?;
        self.poll
            .registry()
            .register(&mut socket, UDP, Interest::READABLE)?;
        let local = socket.local_addr()?;
        self.udp = Some(Udp {
            socket,
            readable: true,
        });
        Ok(local)
    }

    /// Whether datagrams may be waiting that the last turn left unread.
    pub(super) fn udp_busy(&self) -> bool {
        self.udp.as_ref().is_some_and(|u| u.readable)
            || self.group.as_ref().is_some_and(|u| u.readable)
    }

    pub(super) fn udp_readable(&mut self) {
        if let Some(u) = self.udp.as_mut() {
            u.readable = true;
        }
    }

    /// Hands the engine what arrived (oversized datagrams are cut at
    /// [`MAX_DATAGRAM_LEN`] + 1, which the engine refuses).
    pub(super) fn read_datagrams(&mut self, now: Instant) {
        self.read_socket(now, false);
        self.read_socket(now, true);
    }

    /// Reads the call socket, or (`group`) the discovery group's.
    fn read_socket(&mut self, now: Instant, group: bool) {
        let mut buf = [0u8; MAX_DATAGRAM_LEN + 1];
        for _ in 0..MAX_DATAGRAMS_PER_WAKE {
            let socket = if group {
                &mut self.group
            } else {
                &mut self.udp
            };
            let Some(u) = socket.as_mut().filter(|u| u.readable) else {
                return;
            };
            match u.socket.recv_from(&mut buf) {
                Ok((n, from)) => self.engine.handle_input(
                    now,
                    Input::Datagram {
                        from,
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

    pub(super) fn send_datagram(&mut self, to: SocketAddr, bytes: &[u8]) {
        let Some(u) = self.udp.as_ref() else {
            return;
        };
        if let Err(e) = u.socket.send_to(bytes, to) {
            tracing::debug!(error = %e, %to, "udp send dropped");
        }
    }
}
