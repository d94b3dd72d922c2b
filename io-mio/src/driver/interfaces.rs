//! This machine's network interfaces that LAN discovery joins its groups
//! on and sends out of (issue 20): every interface that is up, can
//! multicast and is not the loopback, with its index (IPv6 names the
//! interface by it) and its first IPv4 address (IPv4 names it by that).
//! Read once, when the first group is joined: interfaces that appear later
//! are not used until the peer restarts. Only reads (`getifaddrs`).

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
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a list we free below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "cannot list interfaces");
        return Vec::new();
    }
    let mut found: Vec<Interface> = Vec::new();
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs made, not freed yet.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        let flags = ifa.ifa_flags as libc::c_int;
        let usable = flags & libc::IFF_UP != 0
            && flags & libc::IFF_MULTICAST != 0
            && flags & libc::IFF_LOOPBACK == 0;
        if !usable || ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string of the list.
        let index = unsafe { libc::if_nametoindex(ifa.ifa_name) };
        if index == 0 {
            continue;
        }
        // SAFETY: ifa_addr is non-null and starts with a sockaddr.
        let family = libc::c_int::from(unsafe { (*ifa.ifa_addr).sa_family });
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
        if family == libc::AF_INET && entry.v4.is_none() {
            // SAFETY: an AF_INET address is a sockaddr_in.
            let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
            entry.v4 = Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
        } else if family == libc::AF_INET6 {
            entry.v6 = true;
        }
    }
    // SAFETY: `list` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(list) };
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
