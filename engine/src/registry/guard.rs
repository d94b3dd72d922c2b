//! [`LoginGuard`]: slows down password guessing.
//!
//! Every wrong password for an account from one address counts against that
//! (account, address) pair. The first [`FREE_FAILURES`] cost nothing more
//! than the password check itself; after that, each failure locks the pair
//! for twice as long as the last (from one second up to [`MAX_LOCKOUT`]),
//! and a log-in attempted while locked is refused as `Busy` at once, without
//! spending a password check on it. A right password clears the pair.
//!
//! Keyed by address as well as account, so someone guessing from one
//! machine does not lock the account's owner out from another. Only
//! accounts that exist are ever counted (the caller checks first), and at
//! most [`MAX_LOGIN_GUARDS`] pairs are kept.
//!
//! Invariant: an entry exists only for a pair whose last attempt failed.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::limits::MAX_LOGIN_GUARDS;
use crate::wire::Name;

/// Wrong passwords in a row allowed before any lockout: enough for typos.
pub const FREE_FAILURES: u32 = 5;

/// The longest lockout, reached after about nine failures beyond the free
/// ones: at most a dozen guesses an hour per address and account after
/// that.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    until: Option<Instant>,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct LoginGuard {
    pairs: BTreeMap<(Name, IpAddr), Failures>,
}

impl LoginGuard {
    /// `Err(wait)` if a log-in to `name` from `ip` must not be tried before
    /// `wait` has passed.
    pub fn check(&self, now: Instant, name: &Name, ip: IpAddr) -> Result<(), Duration> {
        match self.pairs.get(&(name.clone(), ip)).and_then(|f| f.until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// A wrong password for `name` from `ip`.
    pub fn failed(&mut self, now: Instant, name: &Name, ip: IpAddr) {
        let key = (name.clone(), ip);
        if !self.pairs.contains_key(&key) && self.pairs.len() >= MAX_LOGIN_GUARDS {
            self.forget_one(now);
        }
        let f = self.pairs.entry(key).or_insert(Failures {
            count: 0,
            until: None,
        });
        f.count = f.count.saturating_add(1);
        f.until = lockout(f.count).map(|d| now + d);
    }

    /// A right password for `name` from `ip`.
    pub fn succeeded(&mut self, name: &Name, ip: IpAddr) {
        self.pairs.remove(&(name.clone(), ip));
    }

    /// How many pairs are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether none is.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Makes room: forgets the pair whose lockout ends first (one not
    /// locked at all first of all).
    fn forget_one(&mut self, now: Instant) {
        let victim = self
            .pairs
            .iter()
            .min_by_key(|(_, f)| f.until.unwrap_or(now))
            .map(|(k, _)| k.clone());
        if let Some(k) = victim {
            self.pairs.remove(&k);
        }
    }
}

/// How long the `count`th failure in a row locks its pair.
fn lockout(count: u32) -> Option<Duration> {
    let beyond = count.checked_sub(FREE_FAILURES)?;
    if beyond == 0 {
        return None;
    }
    let secs = 1u64.checked_shl(beyond - 1).unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_LOCKOUT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Name {
        Name::new("alice").unwrap()
    }

    #[test]
    fn free_failures_then_doubling_lockouts_capped() {
        let expect: Vec<Option<u64>> = (1..=16).map(|c| lockout(c).map(|d| d.as_secs())).collect();
        assert_eq!(&expect[..5], &[None; 5]);
        assert_eq!(
            &expect[5..10],
            &[Some(1), Some(2), Some(4), Some(8), Some(16)]
        );
        assert_eq!(expect[15], Some(300));
        assert_eq!(lockout(u32::MAX), Some(MAX_LOCKOUT));
    }

    #[test]
    fn locks_one_pair_and_a_right_password_clears_it() {
        let (t0, ip, other) = (Instant::now(), [10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let mut g = LoginGuard::default();
        for _ in 0..FREE_FAILURES {
            assert!(g.check(t0, &alice(), ip).is_ok());
            g.failed(t0, &alice(), ip);
        }
        assert!(g.check(t0, &alice(), ip).is_ok(), "typos are free");
        g.failed(t0, &alice(), ip);
        assert_eq!(g.check(t0, &alice(), ip), Err(Duration::from_secs(1)));
        assert!(
            g.check(t0, &alice(), other).is_ok(),
            "another address is not locked"
        );
        assert!(g.check(t0 + Duration::from_secs(1), &alice(), ip).is_ok());
        g.succeeded(&alice(), ip);
        assert!(g.is_empty());
    }

    #[test]
    fn memory_is_capped() {
        let t0 = Instant::now();
        let mut g = LoginGuard::default();
        for i in 0..(MAX_LOGIN_GUARDS as u32 + 10) {
            g.failed(t0, &alice(), IpAddr::from(i.to_be_bytes()));
        }
        assert_eq!(g.len(), MAX_LOGIN_GUARDS);
    }
}
