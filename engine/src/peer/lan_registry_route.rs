//! The role machine's side of registries announced on the LAN (issue 20):
//! what a checked announcement changes (a line telling the person, or,
//! with `--registry lan`, the registry session's address and pin). Kept
//! apart from `lan_route.rs` so that peer discovery and the registry
//! session meet only here. May touch the registry link, the keyring and
//! the outputs; [`LanRegistries`](crate::peer::registry_lan) decides.

use std::net::SocketAddr;

use crate::peer::Peer;
use crate::peer::event::PeerEvent;
use crate::peer::registry_lan::Heard;
use crate::wire::discovery::RegistryAnnouncement;

impl Peer {
    /// A registry's announcement arrived from `from`.
    pub(super) fn on_registry_announced(&mut self, from: SocketAddr, ann: RegistryAnnouncement) {
        let unix = self.clock.ms(self.io.now);
        let Some(m) = self.lan_registries.as_mut() else {
            return;
        };
        match m.heard(&ann, from, unix) {
            Heard::Nothing => {}
            Heard::Tell { addr, fingerprint } => self.io.event(PeerEvent::RegistryHeard {
                name: self.config.name.clone(),
                registry: addr,
                fingerprint: fingerprint.to_string(),
                used: false,
            }),
            Heard::Use {
                addr,
                fingerprint,
                pin,
            } => {
                match pin {
                    Some(pin) => self.io.keys.pin_registry(pin),
                    None => self.io.keys.expect_registry(fingerprint),
                }
                self.io.event(PeerEvent::RegistryHeard {
                    name: self.config.name.clone(),
                    registry: addr,
                    fingerprint: fingerprint.to_string(),
                    used: true,
                });
                self.reg.move_to(&mut self.io, addr);
            }
            Heard::Follow { addr, moved } => {
                if moved {
                    self.io.notice(format!(
                        "the registry is now announced at {addr}; logging in there"
                    ));
                }
                self.reg.move_to(&mut self.io, addr);
            }
            Heard::Refused { why } => self.io.notice(why),
        }
    }
}
