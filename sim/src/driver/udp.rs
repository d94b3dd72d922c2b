//! Datagrams in the simulator (call media, and LAN discovery): each peer's
//! turmoil `UdpSocket`, bound on its listen port; the broadcast domain a
//! datagram to the discovery group reaches ([`Broadcast`]: turmoil has no
//! multicast, so the driver sends a copy to each host of the sender's
//! segments); and the datagram faults the run asks for
//! ([`DatagramFaults`]: loss, duplication, and delay, which reorders),
//! drawn from the host's own seeded stream only when a datagram is sent,
//! so runs without calls draw exactly what they drew before. turmoil's own
//! partitions and crashes apply to datagrams as to everything else.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use tokio::task::spawn_local;
use turmoil::net::UdpSocket;

use crate::draw::Rng;

/// What happens to the datagrams a host sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatagramFaults {
    /// Percent of datagrams lost.
    pub loss_pct: u64,
    /// Percent of datagrams sent twice.
    pub dup_pct: u64,
    /// Each copy is held back a random time up to this (0: none), which
    /// also reorders them.
    pub max_delay: Duration,
}

/// The hosts a datagram to `group` reaches (a LAN segment, or several for
/// a host on two): each gets its own copy, through the sender's faults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Broadcast {
    /// The discovery group the engine sends to.
    pub group: Option<SocketAddr>,
    /// The other hosts of the sender's segments (never itself: the engine
    /// ignores its own announcements anyway).
    pub members: Vec<SocketAddr>,
}

/// Binds the host's UDP socket.
pub(super) async fn bind(port: u16) -> std::io::Result<Rc<UdpSocket>> {
    Ok(Rc::new(UdpSocket::bind(("0.0.0.0", port)).await?))
}

/// The next datagram, or never without a socket. (One more byte than the
/// engine takes, so an oversized datagram reaches it as oversized.)
pub(super) async fn recv(socket: Option<&Rc<UdpSocket>>) -> std::io::Result<(Vec<u8>, SocketAddr)> {
    let Some(s) = socket else {
        return std::future::pending().await;
    };
    let mut buf = vec![0u8; confab_engine::limits::MAX_DATAGRAM_LEN + 1];
    let (n, from) = s.recv_from(&mut buf).await?;
    buf.truncate(n);
    Ok((buf, from))
}

/// Sends `bytes` to `to` through the faults.
pub(super) fn send(
    socket: &Rc<UdpSocket>,
    faults: DatagramFaults,
    rng: &mut Rng,
    to: SocketAddr,
    bytes: Vec<u8>,
) {
    if faults == DatagramFaults::default() {
        let _ = socket.try_send_to(&bytes, to);
        return;
    }
    if rng.below(100) < faults.loss_pct {
        return;
    }
    let copies = if rng.below(100) < faults.dup_pct {
        2
    } else {
        1
    };
    for _ in 0..copies {
        let ms = faults.max_delay.as_millis() as u64;
        let delay = Duration::from_millis(if ms == 0 { 0 } else { rng.below(ms + 1) });
        if delay.is_zero() {
            let _ = socket.try_send_to(&bytes, to);
            continue;
        }
        let (s, b) = (socket.clone(), bytes.clone());
        spawn_local(async move {
            tokio::time::sleep(delay).await;
            let _ = s.try_send_to(&b, to);
        });
    }
}
