//! A registry's word on the LAN: its announcement ([`RegistryAnnouncement`])
//! signed by its signing key, and the check a peer makes before believing
//! one. The signature covers a domain string no peer announcement or
//! certificate uses, so none of those can pass for it; the binding is the
//! one its handshakes carry (`certificate::bind`), so the Noise key it
//! names is the one a connection to it will prove. Pure values: touches
//! nothing.

use crate::secure::certificate::{bind, check_binding};
use crate::secure::keys::{SigningSecret, StaticSecret, verify};
use crate::wire::discovery::{LAN_VERSION, RegistryAnnouncement, RegistryAnnouncementBody};

/// What a registry announcement's signature covers, before its body.
const DOMAIN: &[u8] = b"confab lan registry announcement v1\0";

fn signed_bytes(body: &RegistryAnnouncementBody) -> Vec<u8> {
    let mut bytes = DOMAIN.to_vec();
    // Encoding a plain value into a Vec cannot fail.
    bytes.extend(rmp_serde::to_vec(body).unwrap_or_default());
    bytes
}

/// The announcement of the registry with these keys, listening on `port`,
/// signed at `at_ms` (its wall clock, Unix ms).
pub fn sign(
    signing: &SigningSecret,
    noise: &StaticSecret,
    port: u16,
    at_ms: u64,
) -> RegistryAnnouncement {
    let body = RegistryAnnouncementBody {
        version: LAN_VERSION,
        signing_key: signing.public(),
        key: noise.public(),
        binding: bind(signing, &noise.public()),
        port,
        at_ms,
    };
    let signature = signing.sign(&signed_bytes(&body));
    RegistryAnnouncement { body, signature }
}

/// Whether `ann` is signed by the signing key it names, and that key bound
/// the Noise key it names.
pub fn check(ann: &RegistryAnnouncement) -> bool {
    let b = &ann.body;
    verify(&b.signing_key, &signed_bytes(b), &ann.signature)
        && check_binding(&b.signing_key, &b.key, &b.binding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::wire::identity::Signature;

    #[test]
    fn only_the_signed_announcement_checks() {
        let mut rng = Rng::new(5);
        let signing = SigningSecret::generate(&mut rng);
        let noise = StaticSecret::generate(&mut rng);
        let ann = sign(&signing, &noise, 7300, 1_000);
        assert!(check(&ann));
        let mut moved = ann.clone();
        moved.body.port = 7301;
        assert!(!check(&moved), "the port is signed");
        let mut unsigned = ann.clone();
        unsigned.signature = Signature([0; 64]);
        assert!(!check(&unsigned));
        // Another key re-signing a body that names the first key.
        let other = SigningSecret::generate(&mut rng);
        let mut forged = ann.clone();
        forged.signature = other.sign(&signed_bytes(&ann.body));
        assert!(!check(&forged));
        // A binding of another Noise key.
        let mut rebound = ann.clone();
        rebound.body.key = StaticSecret::generate(&mut rng).public();
        rebound.signature = signing.sign(&signed_bytes(&rebound.body));
        assert!(!check(&rebound));
    }
}
