//! [`Udp`]: one of the driver's UDP sockets (call media, or the LAN
//! discovery group's) and whether it may have more to read. A value only;
//! `datagrams.rs` reads and writes them, `group.rs` joins the group.

/// See the module documentation.
#[derive(Debug)]
pub(super) struct Udp {
    pub(super) socket: mio::net::UdpSocket,
    pub(super) readable: bool,
}
