//! The registry on the LAN: it announces itself on the discovery group
//! (issue 20), so peers started with `--registry lan` find it with no
//! address typed.
//!
//! ```text
//! start        -> our RegistryAnnouncement, to the group
//! every ~30 s  -> again (interval ± 25 %, from the seeded rng)
//! Query heard  -> ours, to the asker alone (at most
//!                 MAX_QUERY_ANSWERS_PER_SECOND a second: a forged source
//!                 gets no flood; past that, the next tick answers them all)
//! ```
//!
//! What it says is signed by its signing key (`secure::registry_claim`) and
//! dated by its wall clock, so a copy replayed later is refused by peers.
//! Every other datagram (peers' announcements, anything malformed) is
//! ignored: the registry learns nothing from the LAN. Touches the
//! registry's outputs, its `Announce` timer, its rng and its `announcer`
//! (the rate of answers, `announcer.rs`) only.

use std::net::SocketAddr;
use std::time::Duration;

use super::{Registry, Timer};
use crate::api::Output;
use crate::wire::discovery::LanDatagram;

impl Registry {
    /// Our announcement, signed now, as a datagram to `to`.
    fn announcement_to(&self, to: SocketAddr, port: u16) -> Output<super::RegistryEvent> {
        let ann = self.keys.announcement(port, self.now);
        Output::SendDatagram {
            to,
            bytes: LanDatagram::Registry(ann).to_bytes(),
        }
    }

    /// At start and when the timer fires: says where we are, and sets the
    /// next time.
    pub(super) fn announce(&mut self) {
        let Some(c) = self.config.announce else {
            return;
        };
        let out = self.announcement_to(c.group, c.port);
        self.out.push_back(out);
        let base = c.interval.as_millis() as u64;
        let jitter = self.rng.below(base / 2 + 1);
        let wait = Duration::from_millis(base - base / 4 + jitter);
        self.timers.set(Timer::Announce, self.now + wait);
    }

    /// A datagram arrived: a query is answered to its sender (within the
    /// rate); anything else is ignored.
    pub(super) fn on_datagram(&mut self, from: SocketAddr, bytes: &[u8]) {
        let Some(c) = self.config.announce else {
            return;
        };
        if !matches!(LanDatagram::parse(bytes), Ok(LanDatagram::Query)) {
            return;
        }
        let now = self.now;
        if self.announcer.may_answer(now) {
            let out = self.announcement_to(from, c.port);
            self.out.push_back(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Engine, Input};
    use crate::limits::MAX_QUERY_ANSWERS_PER_SECOND;
    use crate::registry::{AnnounceConfig, RegistryConfig};
    use crate::secure::registry_claim;
    use std::time::Instant;

    /// The registry announcements among `out`, with where they went.
    fn sent(r: &mut Registry) -> Vec<(SocketAddr, u16)> {
        let mut all = Vec::new();
        while let Some(o) = r.poll_output() {
            if let Output::SendDatagram { to, bytes } = o
                && let Ok(LanDatagram::Registry(a)) = LanDatagram::parse(&bytes)
            {
                assert!(registry_claim::check(&a), "signed");
                assert_eq!(a.body.signing_key, r.signing_key());
                all.push((to, a.body.port));
            }
        }
        all
    }

    #[test]
    fn it_announces_at_start_on_its_tick_and_to_who_asks_within_the_rate() {
        let t0 = Instant::now();
        let config = RegistryConfig {
            announce: Some(AnnounceConfig::new(7300)),
            ..RegistryConfig::default()
        };
        let group = AnnounceConfig::new(7300).group;
        let mut r = Registry::new(config, Vec::new(), t0, 1);
        assert_eq!(sent(&mut r), vec![(group, 7300)]);
        let next = r.poll_timeout().expect("the next announcement is due");
        let wait = next - t0;
        assert!(
            wait >= Duration::from_millis(22_500) && wait <= Duration::from_millis(37_500),
            "{wait:?}"
        );
        r.handle_timeout(next);
        assert_eq!(sent(&mut r), vec![(group, 7300)]);

        let asker: SocketAddr = "10.0.0.7:7000".parse().unwrap();
        let query = LanDatagram::Query.to_bytes();
        for _ in 0..MAX_QUERY_ANSWERS_PER_SECOND + 5 {
            let input = Input::Datagram {
                from: asker,
                bytes: &query,
            };
            r.handle_input(next, input);
        }
        let answers = sent(&mut r);
        assert_eq!(answers.len(), MAX_QUERY_ANSWERS_PER_SECOND as usize);
        assert!(answers.iter().all(|a| *a == (asker, 7300)));
        // A second later it answers again; anything but a query, never.
        let later = next + Duration::from_secs(1);
        let input = Input::Datagram {
            from: asker,
            bytes: &query,
        };
        r.handle_input(later, input);
        assert_eq!(sent(&mut r).len(), 1);
        for junk in [vec![0xD1, 0xC1], vec![1, 2, 3], Vec::new()] {
            let input = Input::Datagram {
                from: asker,
                bytes: &junk,
            };
            r.handle_input(later, input);
        }
        assert_eq!(sent(&mut r), vec![]);
    }

    #[test]
    fn without_the_option_it_says_nothing() {
        let mut r = Registry::new(RegistryConfig::default(), Vec::new(), Instant::now(), 1);
        let query = LanDatagram::Query.to_bytes();
        let input = Input::Datagram {
            from: "10.0.0.7:7000".parse().unwrap(),
            bytes: &query,
        };
        r.handle_input(Instant::now(), input);
        assert_eq!(sent(&mut r), vec![]);
        assert_eq!(r.poll_timeout(), None);
    }
}
