//! This machine's network interfaces that LAN discovery joins its groups
//! on and sends out of (issue 20): every interface that is up, can
//! multicast and is not the loopback, with its index (IPv6 names the
//! interface by it) and its first IPv4 address (IPv4 names it by that).
//! Read once, when the first group is joined: interfaces that appear later
//! are not used until the peer restarts. Only reads (`getifaddrs`, through
//! nix's safe wrapper).

use std::net::Ipv4Addr;

/// One interface LAN discovery uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Interface {
    /// Its index (`if_nametoindex`), never 0.
    pub(super) index: u32,
    /// Its first IPv4 address, if it has one.
    pub(super) v4: Option<Ipv4Addr>,
    /// Whether it has an IPv6 address (every IPv6 interface has at least
    /// a link-local one).
    pub(super) v6: bool,
}

/// Every up, multicast-capable, non-loopback interface (empty if they
/// cannot be read: the kernel then picks one, as with interface 0).
pub(super) fn multicast_interfaces() -> Vec<Interface> {
    use nix::net::if_::{InterfaceFlags, if_nametoindex};
    let addrs = match nix::ifaddrs::getifaddrs() {
        Ok(addrs) => addrs,
        Err(error) => {
            tracing::debug!(%error, "cannot list interfaces");
            return Vec::new();
        }
    };
    let mut found: Vec<Interface> = Vec::new();
    for ifa in addrs {
        let usable = ifa.flags.contains(InterfaceFlags::IFF_UP)
            && ifa.flags.contains(InterfaceFlags::IFF_MULTICAST)
            && !ifa.flags.contains(InterfaceFlags::IFF_LOOPBACK);
        let Some(address) = ifa.address.filter(|_| usable) else {
            continue;
        };
        let Ok(index) = if_nametoindex(ifa.interface_name.as_str()) else {
            continue;
        };
        let at = match found.iter().position(|i| i.index == index) {
            Some(at) => at,
            None => {
                found.push(Interface {
                    index,
                    v4: None,
                    v6: false,
                });
                found.len() - 1
            }
        };
        let entry = &mut found[at];
        if let Some(sin) = address.as_sockaddr_in() {
            entry.v4.get_or_insert(sin.ip());
        } else if address.as_sockaddr_in6().is_some() {
            entry.v6 = true;
        }
    }
    // An interface without any address (AF_PACKET only) cannot be used.
    found.retain(|i| i.v4.is_some() || i.v6);
    found
}

/// How many interfaces [`Driver::join_group`](super::Driver::join_group)
/// joins on: with two or more, a peer bridges segments (see
/// `PeerConfig::lan_bridge`).
pub fn multicast_interface_count() -> usize {
    multicast_interfaces().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listed_interfaces_are_real_and_never_the_loopback() {
        for i in multicast_interfaces() {
            assert_ne!(i.index, 0);
            assert!(i.v4.is_some() || i.v6, "{i:?}");
            assert!(!i.v4.is_some_and(|a| a.is_loopback()), "{i:?}");
        }
    }
}
