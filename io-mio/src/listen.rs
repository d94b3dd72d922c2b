//! Opening the listening socket with errors a user can act on, working out the
//! address other machines reach it at, and seeding an engine.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

use mio::net::TcpListener;

/// Why the listening socket could not be opened.
#[derive(Debug)]
pub struct ListenError(pub String);

impl fmt::Display for ListenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ListenError {}

/// Binds a non-blocking listener on `addr`. `[::]:PORT` takes IPv6 and
/// IPv4 alike (dual-stack, whatever the system's default); on a machine
/// without IPv6 it falls back to `0.0.0.0:PORT`.
pub fn listen(addr: SocketAddr) -> Result<TcpListener, ListenError> {
    let bound = if addr.ip() == IpAddr::V6(Ipv6Addr::UNSPECIFIED) {
        dual_stack(addr).or_else(|e| match e.kind() {
            io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied => Err(e),
            _ => TcpListener::bind((Ipv4Addr::UNSPECIFIED, addr.port()).into()),
        })
    } else {
        TcpListener::bind(addr)
    };
    bound.map_err(|e| {
        ListenError(match e.kind() {
            io::ErrorKind::AddrInUse => format!(
                "cannot listen on {addr}: the address is in use (another confab?); \
                 stop it or pick another with --listen"
            ),
            io::ErrorKind::AddrNotAvailable => format!(
                "cannot listen on {addr}: that address is not one of this machine's; \
                 pick another with --listen"
            ),
            io::ErrorKind::PermissionDenied => format!(
                "cannot listen on {addr}: permission denied (ports below 1024 need privileges); \
                 pick another with --listen"
            ),
            _ => format!("cannot listen on {addr}: {e}"),
        })
    })
}

/// A listener on `[::]:PORT` that also takes IPv4 (as mapped addresses).
fn dual_stack(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_only_v6(false)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// The address others should use to reach a socket bound at `bound`, seen from
/// `toward` (the registry): the bound address if it is specific, else this
/// machine's address on the route toward `toward` (found without sending
/// anything), else loopback.
pub fn advertised(bound: SocketAddr, toward: SocketAddr) -> SocketAddr {
    if !bound.ip().is_unspecified() {
        return bound;
    }
    let ip = route_ip(toward).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    SocketAddr::new(ip, bound.port())
}

/// This machine's address on the route toward `toward`, if it has one.
pub fn route_ip(toward: SocketAddr) -> Option<IpAddr> {
    let any: SocketAddr = if toward.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(any).ok()?;
    socket.connect(toward).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

/// 64 bits from the operating system's random source, for an engine's seed
/// (salts are drawn from it). Falls back to the clock and process id.
pub fn random_seed() -> u64 {
    use std::io::Read;
    let mut buf = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok()
    {
        return u64::from_le_bytes(buf);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_in_use_says_so() {
        let first = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let err = listen(first.local_addr().unwrap()).unwrap_err();
        assert!(err.0.contains("in use"), "{err}");
    }

    #[test]
    fn the_any_address_takes_ipv4_and_ipv6() {
        let l = listen("[::]:0".parse().unwrap()).unwrap();
        let port = l.local_addr().unwrap().port();
        let v4 = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port));
        assert!(v4.is_ok(), "IPv4 refused: {v4:?}");
        if l.local_addr().unwrap().is_ipv6() {
            let v6 = std::net::TcpStream::connect((Ipv6Addr::LOCALHOST, port));
            assert!(v6.is_ok(), "IPv6 refused: {v6:?}");
        } else {
            eprintln!("no IPv6 here: only the IPv4 fallback was checked");
        }
    }

    #[test]
    fn advertised_keeps_specific_addresses_and_routes_unspecified_ones() {
        let registry: SocketAddr = "127.0.0.1:7300".parse().unwrap();
        let specific: SocketAddr = "127.0.0.2:5000".parse().unwrap();
        assert_eq!(advertised(specific, registry), specific);
        let any: SocketAddr = "0.0.0.0:5000".parse().unwrap();
        assert_eq!(advertised(any, registry), "127.0.0.1:5000".parse().unwrap());
    }
}
