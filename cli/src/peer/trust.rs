//! [`RegistryTrust`]: which registry key a peer holds its registry to, and
//! what it tells the person about it.
//!
//! The pin handed to the engine (`PeerConfig.secure.registry_pin`) is, in
//! order: the key of the registry this peer hosts itself; `--registry-key`;
//! the line for the registry's address in `known_registries`; or none, and
//! the engine trusts what the registry shows on first contact and reports
//! it (`registry_key`), which is then kept in the file.
//!
//! `--registry-key` and the file must agree: a mismatch stops the start
//! with both fingerprints, so a changed key is never accepted by a flag
//! copied from an old message without the person seeing it.
//!
//! Touches `known_registries` (through [`KnownRegistries`]) only.

use std::net::SocketAddr;
use std::path::PathBuf;

use confab_engine::wire::identity::Fingerprint;

use super::known::{KnownRegistries, Line, Pin};
use crate::fail::Fail;

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct RegistryTrust {
    registry: SocketAddr,
    known: KnownRegistries,
    /// `--registry-key`, if given.
    flag: Option<Fingerprint>,
    /// The key of the registry hosted in this process, if it is.
    hosted: Option<Fingerprint>,
    /// The file's line for `registry` when the peer started.
    in_file: Option<Pin>,
}

impl RegistryTrust {
    /// Decides the pin for `registry`: `flag` is `--registry-key`, `hosted`
    /// the key of the registry this process hosts, if any.
    pub fn decide(
        registry: SocketAddr,
        known: KnownRegistries,
        flag: Option<Fingerprint>,
        hosted: Option<Fingerprint>,
    ) -> Result<Self, Fail> {
        let in_file = if hosted.is_some() {
            None
        } else {
            known.pin(registry)?
        };
        if let (Some(flag), Some(pin)) = (flag, in_file)
            && flag != pin.fingerprint
        {
            return Err(Fail(format!(
                "--registry-key {flag} is not the key {} this peer trusts for the registry at \
                 {registry} ({}, line {}). If the registry's key changed on purpose (check \
                 with whoever runs it), remove that line and start again; otherwise check the \
                 fingerprint you were given",
                pin.fingerprint,
                known.path().display(),
                pin.line
            )));
        }
        Ok(Self {
            registry,
            known,
            flag,
            hosted,
            in_file,
        })
    }

    /// `--registry lan`: the registry used is the one announced at
    /// `registry` (what is kept and said from now on names it).
    pub fn announced_at(&mut self, registry: SocketAddr) {
        self.registry = registry;
        // The engine held it to this line already (`LanRegistryConfig`);
        // known now, so that `logged_in` does not write it again.
        if self.hosted.is_none() {
            self.in_file = self.known.pin(registry).ok().flatten();
        }
    }

    /// The key the engine must see, if one is pinned.
    pub fn pin(&self) -> Option<Fingerprint> {
        self.hosted
            .or(self.flag)
            .or(self.in_file.map(|p| p.fingerprint))
    }

    /// The registry proved `fingerprint` on first contact: kept in the
    /// file. Returns where, or why it could not be.
    pub fn first_contact(
        &self,
        registry: SocketAddr,
        fingerprint: &str,
    ) -> Result<PathBuf, String> {
        let fp: Fingerprint = fingerprint.parse().map_err(|e| format!("{e}"))?;
        self.known
            .add(registry, fp)
            .map(|()| self.known.path().to_owned())
            .map_err(|e| {
                format!(
                    "{e}; until it is kept, the next start trusts whatever key the registry \
                     at {registry} shows"
                )
            })
    }

    /// Logged in: a key given by `--registry-key` that the file did not
    /// hold yet is kept there now (the registry has proved it), so later
    /// starts without the flag hold the registry to it. What to tell.
    pub fn logged_in(&mut self) -> Option<String> {
        let flag = self.flag?;
        if self.hosted.is_some() || self.in_file.is_some() {
            return None;
        }
        // Once per run: a second `ready` (none today) would add nothing.
        self.in_file = Some(Pin {
            fingerprint: flag,
            line: 0,
        });
        Some(match self.known.add(self.registry, flag) {
            Ok(()) => format!(
                "trusting registry {} with key {flag} (given by --registry-key); kept in {}",
                self.registry,
                self.known.path().display()
            ),
            Err(e) => format!("the registry key given by --registry-key was not kept: {e}"),
        })
    }

    /// What to say after the engine stopped because the registry showed
    /// another key: `reason` (the engine's, with both fingerprints), and
    /// what to do about it.
    pub fn untrusted(&self, reason: &str) -> String {
        let addr = self.registry;
        let mut s = format!(
            "{reason}. Someone may be posing as the registry at {addr}, or it was given a new key."
        );
        // The file as it is now: a first contact of this run may have added
        // the line.
        match self.known.pin(addr) {
            Ok(Some(pin)) => s.push_str(&format!(
                " If the change is expected (check the new fingerprint with whoever runs the \
                 registry), remove line {} of {}:\n  {}\nand start again.",
                pin.line,
                self.known.path().display(),
                Line(addr, pin.fingerprint)
            )),
            _ if self.flag.is_some() => s.push_str(
                " The key was given by --registry-key: check the fingerprint with whoever \
                 runs the registry.",
            ),
            _ => {}
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(byte: u8) -> Fingerprint {
        Fingerprint([byte; 16])
    }

    fn setup() -> (tempfile::TempDir, KnownRegistries, SocketAddr) {
        let dir = tempfile::tempdir().unwrap();
        let known = KnownRegistries::in_folder(dir.path());
        (dir, known, "127.0.0.1:7300".parse().unwrap())
    }

    #[test]
    fn the_pin_comes_from_hosting_then_the_flag_then_the_file() {
        let (_dir, known, addr) = setup();
        let t = RegistryTrust::decide(addr, known.clone(), None, None).unwrap();
        assert_eq!(t.pin(), None, "first contact");
        known.add(addr, fp(1)).unwrap();
        let t = RegistryTrust::decide(addr, known.clone(), None, None).unwrap();
        assert_eq!(t.pin(), Some(fp(1)));
        let t = RegistryTrust::decide(addr, known.clone(), Some(fp(1)), None).unwrap();
        assert_eq!(t.pin(), Some(fp(1)));
        let t = RegistryTrust::decide(addr, known.clone(), None, Some(fp(3))).unwrap();
        assert_eq!(
            t.pin(),
            Some(fp(3)),
            "its own registry, whatever the file says"
        );
    }

    #[test]
    fn a_flag_that_contradicts_the_file_names_both() {
        let (_dir, known, addr) = setup();
        known.add(addr, fp(1)).unwrap();
        let e = RegistryTrust::decide(addr, known.clone(), Some(fp(2)), None).unwrap_err();
        for want in [
            fp(1).to_string(),
            fp(2).to_string(),
            known.path().display().to_string(),
        ] {
            assert!(e.0.contains(&want), "{want} not in {e}");
        }
    }

    #[test]
    fn a_flag_is_kept_once_logged_in() {
        let (_dir, known, addr) = setup();
        let mut t = RegistryTrust::decide(addr, known.clone(), Some(fp(2)), None).unwrap();
        assert!(t.logged_in().unwrap().contains("kept in"));
        assert_eq!(t.logged_in(), None, "once");
        assert_eq!(known.pin(addr).unwrap().unwrap().fingerprint, fp(2));
        let mut again = RegistryTrust::decide(addr, known, Some(fp(2)), None).unwrap();
        assert_eq!(again.logged_in(), None, "already in the file");
    }

    #[test]
    fn a_registry_announced_on_the_lan_is_named_by_its_address() {
        let (_dir, known, addr) = setup();
        let none = "0.0.0.0:0".parse().unwrap();
        let mut t = RegistryTrust::decide(none, known.clone(), Some(fp(2)), None).unwrap();
        t.announced_at(addr);
        assert!(t.logged_in().unwrap().contains("kept in"));
        assert_eq!(known.pin(addr).unwrap().unwrap().fingerprint, fp(2));
        let mut again = RegistryTrust::decide(none, known.clone(), Some(fp(2)), None).unwrap();
        again.announced_at(addr);
        assert_eq!(again.logged_in(), None, "already in the file");
        assert!(again.untrusted("changed").contains(&addr.to_string()));
    }

    #[test]
    fn a_changed_key_says_which_line_to_remove() {
        let (_dir, known, addr) = setup();
        let t = RegistryTrust::decide(addr, known.clone(), None, None).unwrap();
        let kept = t.first_contact(addr, &fp(1).to_string()).unwrap();
        assert_eq!(kept, known.path());
        let s = t.untrusted("the registry's key is X, not the key Y this peer trusts");
        let line = format!("127.0.0.1:7300 {}", fp(1));
        assert!(s.contains(&line) && s.contains("known_registries"), "{s}");
        assert!(s.starts_with("the registry's key is X"), "{s}");
    }
}
