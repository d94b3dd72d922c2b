//! The keys of one call and the sealing and opening of its datagrams.
//!
//! Each side draws 32 random bytes (from the engine's seeded rng) and sends
//! them inside its `CallRequest` / `CallAccept`, which travel over the
//! peers' Noise link: encrypted, and from the name the registry
//! certified. Nothing is derived from the (public) handshake hash. The two
//! media keys are HKDF-SHA256 of both contributions, salted with the call
//! id, one per direction, so no key ever serves two calls or both
//! directions.
//!
//! Datagrams are AES-256-GCM with a 96-bit nonce made of four zero bytes
//! and the sender's 64-bit counter, which starts at 0 and only grows (a
//! sender that used up 2^64 stops sealing), and the clear header as
//! associated data. The opener keeps a window of [`REPLAY_WINDOW`] counters:
//! a counter seen already, or older than the window, is refused before the
//! tag is even checked, and one is marked seen only once it authenticated.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, Tag, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};

use crate::call::datagram::{HEADER_LEN, Header, TAG_LEN};
use crate::limits::MAX_DATAGRAM_LEN;

/// Bytes of one side's contribution to the keys.
pub const SECRET_LEN: usize = 32;

/// Counters remembered behind the highest seen (datagrams reordered by more
/// than this are dropped as if lost).
pub const REPLAY_WINDOW: u64 = 128;

/// Which way a key seals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    CallerToCallee,
    CalleeToCaller,
}

/// The key for one direction of call `call`.
fn derive(
    call: u64,
    caller: &[u8; SECRET_LEN],
    callee: &[u8; SECRET_LEN],
    way: Way,
) -> LessSafeKey {
    let mut salt = b"confab call v1 ".to_vec();
    salt.extend_from_slice(&call.to_be_bytes());
    let mut ikm = [0u8; 2 * SECRET_LEN];
    ikm[..SECRET_LEN].copy_from_slice(caller);
    ikm[SECRET_LEN..].copy_from_slice(callee);
    let info: &[&[u8]] = match way {
        Way::CallerToCallee => &[b"caller to callee"],
        Way::CalleeToCaller => &[b"callee to caller"],
    };
    let prk = Salt::new(HKDF_SHA256, &salt).extract(&ikm);
    // Expanding 32 bytes of SHA-256 HKDF cannot fail (the limit is 255 * 32).
    let okm = prk
        .expand(info, &AES_256_GCM)
        .expect("HKDF length in range"); // ok: see above
    LessSafeKey::new(UnboundKey::from(okm))
}

fn nonce(counter: u64) -> Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_be_bytes());
    Nonce::assume_unique_for_key(n)
}

/// Seals the datagrams one side sends.
pub struct Sealer {
    key: LessSafeKey,
    call: u64,
    next: u64,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer(call {}, next {})", self.call, self.next)
    }
}

impl Sealer {
    pub fn new(call: u64, caller: &[u8; SECRET_LEN], callee: &[u8; SECRET_LEN], way: Way) -> Self {
        Self {
            key: derive(call, caller, callee, way),
            call,
            next: 0,
        }
    }

    /// The datagram carrying `plain`, or `None` once the counter is spent,
    /// or if `plain` is empty (which [`Header::parse`] refuses: found by
    /// the `datagram` fuzz target) or would not fit in [`MAX_DATAGRAM_LEN`].
    pub fn seal(&mut self, plain: &[u8]) -> Option<Vec<u8>> {
        if self.next == u64::MAX
            || plain.is_empty()
            || HEADER_LEN + plain.len() + TAG_LEN > MAX_DATAGRAM_LEN
        {
            return None;
        }
        let header = Header {
            call: self.call,
            counter: self.next,
        };
        self.next += 1;
        let mut out = Vec::with_capacity(HEADER_LEN + plain.len() + TAG_LEN);
        header.write(&mut out);
        out.extend_from_slice(plain);
        let (head, body) = out.split_at_mut(HEADER_LEN);
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce(header.counter), Aad::from(&*head), body)
            .ok()?;
        out.extend_from_slice(tag.as_ref());
        Some(out)
    }
}

/// A sliding window of the counters seen.
#[derive(Debug, Clone, Default)]
pub struct ReplayWindow {
    /// One more than the highest counter seen (0: none yet).
    top: u64,
    /// Bit `i` set: counter `top - 1 - i` was seen.
    seen: u128,
}

impl ReplayWindow {
    /// Whether `counter` may still be accepted.
    pub fn fresh(&self, counter: u64) -> bool {
        if counter >= self.top {
            return true;
        }
        let back = self.top - 1 - counter;
        back < REPLAY_WINDOW && self.seen & (1u128 << back) == 0
    }

    /// Marks `counter` seen (after it authenticated).
    pub fn mark(&mut self, counter: u64) {
        if counter >= self.top {
            let shift = counter - self.top + 1;
            self.seen = if shift >= 128 { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.top = counter + 1;
        } else {
            let back = self.top - 1 - counter;
            if back < REPLAY_WINDOW {
                self.seen |= 1u128 << back;
            }
        }
    }
}

/// Opens the datagrams one side receives.
pub struct Opener {
    key: LessSafeKey,
    window: ReplayWindow,
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Opener({:?})", self.window)
    }
}

/// Why a datagram was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A counter seen already or too old.
    Replay,
    /// The tag did not check: forged, corrupted, or another key's.
    Forged,
}

impl Opener {
    pub fn new(call: u64, caller: &[u8; SECRET_LEN], callee: &[u8; SECRET_LEN], way: Way) -> Self {
        Self {
            key: derive(call, caller, callee, way),
            window: ReplayWindow::default(),
        }
    }

    /// The plaintext of `datagram` (whose header is `header`, already
    /// parsed), decrypted into `buf` without allocating.
    pub fn open<'b>(
        &mut self,
        header: Header,
        datagram: &[u8],
        buf: &'b mut [u8; MAX_DATAGRAM_LEN],
    ) -> Result<&'b [u8], Refused> {
        if !self.window.fresh(header.counter) {
            return Err(Refused::Replay);
        }
        // `Header::parse` bounded the length: HEADER_LEN + TAG_LEN < len <= MAX.
        let sealed = &datagram[HEADER_LEN..datagram.len() - TAG_LEN];
        let tag =
            Tag::try_from(&datagram[datagram.len() - TAG_LEN..]).map_err(|_| Refused::Forged)?;
        let body = &mut buf[..sealed.len()];
        body.copy_from_slice(sealed);
        let aad = Aad::from(&datagram[..HEADER_LEN]);
        self.key
            .open_in_place_separate_tag(nonce(header.counter), aad, tag, body, 0..)
            .map_err(|_| Refused::Forged)?;
        self.window.mark(header.counter);
        Ok(&buf[..sealed.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Sealer, Opener) {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        (
            Sealer::new(5, &a, &b, Way::CallerToCallee),
            Opener::new(5, &a, &b, Way::CallerToCallee),
        )
    }

    fn open(o: &mut Opener, d: &[u8]) -> Result<Vec<u8>, Refused> {
        let h = Header::parse(d).ok_or(Refused::Forged)?;
        let mut buf = [0u8; MAX_DATAGRAM_LEN];
        o.open(h, d, &mut buf).map(|p| p.to_vec())
    }

    #[test]
    fn seals_and_opens_once() {
        let (mut s, mut o) = pair();
        let d = s.seal(b"hello").unwrap();
        assert_eq!(open(&mut o, &d).unwrap(), b"hello");
        assert_eq!(open(&mut o, &d), Err(Refused::Replay));
        let d2 = s.seal(b"again").unwrap();
        assert_ne!(d[9..17], d2[9..17], "the counter moves on");
        assert!(s.seal(b"").is_none(), "nothing to seal is never sent");
        assert!(s.seal(&[0; MAX_DATAGRAM_LEN]).is_none(), "too long");
    }

    #[test]
    fn refuses_tampering_and_other_keys() {
        let (mut s, mut o) = pair();
        let mut d = s.seal(b"hello").unwrap();
        d[HEADER_LEN] ^= 1;
        assert_eq!(open(&mut o, &d), Err(Refused::Forged));
        let mut d = s.seal(b"hello").unwrap();
        d[2] ^= 1; // the call id is authenticated too
        assert_eq!(open(&mut o, &d), Err(Refused::Forged));
        // The other direction's key does not open this direction's datagrams.
        let mut back = Opener::new(5, &[1; 32], &[2; 32], Way::CalleeToCaller);
        let d = s.seal(b"hello").unwrap();
        assert_eq!(open(&mut back, &d), Err(Refused::Forged));
        // A forged datagram does not use up its counter.
        assert_eq!(open(&mut o, &d).unwrap(), b"hello");
    }

    #[test]
    fn window_takes_reordering_and_refuses_old() {
        let (mut s, mut o) = pair();
        let ds: Vec<_> = (0..300).map(|_| s.seal(b"x").unwrap()).collect();
        assert!(open(&mut o, &ds[200]).is_ok());
        assert!(open(&mut o, &ds[150]).is_ok());
        assert_eq!(open(&mut o, &ds[150]), Err(Refused::Replay));
        assert_eq!(
            open(&mut o, &ds[10]),
            Err(Refused::Replay),
            "older than the window"
        );
        assert!(open(&mut o, &ds[299]).is_ok());
        assert!(open(&mut o, &ds[201]).is_ok());
    }
}
