//! [`KnownRegistries`]: the registry keys a peer trusts, in
//! `known_registries` in its data folder, like SSH's `known_hosts`: one
//! line per registry, `ADDRESS FINGERPRINT`, `#` starts a comment.
//!
//! The first time a peer meets a registry whose key it was not told, it
//! trusts the key the registry proves and appends its line here; from then
//! on a registry at that address with another key is refused (the engine
//! stops with `UntrustedKey`), until the person removes the line.
//!
//! Touches only that file. A line it cannot read is an error naming the
//! file and the line, never skipped: skipping would silently trust anyone.
//! Two lines giving one address different keys are an error too.

use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use confab_engine::wire::identity::Fingerprint;

use crate::fail::Fail;

/// The file's name in a peer's data folder.
pub const KNOWN_REGISTRIES: &str = "known_registries";

/// What a new file starts with.
const HEADER: &str = "\
# confab: the registry keys this peer trusts, one `ADDRESS FINGERPRINT` a line
# (like ssh's known_hosts). A registry at ADDRESS that shows another key is
# refused. If a registry's key changed on purpose, check the new fingerprint
# with the person who runs it, then remove its line here.
";

/// A registry's pinned key, and where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    /// The key's fingerprint.
    pub fingerprint: Fingerprint,
    /// Its line in the file (from 1).
    pub line: usize,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct KnownRegistries {
    path: PathBuf,
}

impl KnownRegistries {
    /// The file in the data folder `data`.
    pub fn in_folder(data: &Path) -> Self {
        Self {
            path: data.join(KNOWN_REGISTRIES),
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key pinned for `addr`, if any.
    pub fn pin(&self, addr: SocketAddr) -> Result<Option<Pin>, Fail> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Fail(format!("cannot read {}: {e}", self.path.display()))),
        };
        find(&text, addr).map_err(|why| {
            Fail(format!(
                "{} is malformed: {why}; fix or remove that line",
                self.path.display()
            ))
        })
    }

    /// Every line, in file order (`--registry lan` holds a registry
    /// announced at one of these addresses to its key).
    pub fn all(&self) -> Result<Vec<(SocketAddr, Fingerprint)>, Fail> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Fail(format!("cannot read {}: {e}", self.path.display()))),
        };
        let mut out: Vec<(SocketAddr, Fingerprint)> = Vec::new();
        for line in text.lines() {
            let Some(a) = line
                .split('#')
                .next()
                .and_then(|l| l.split_whitespace().next())
            else {
                continue;
            };
            let Ok(addr) = a.parse::<SocketAddr>() else {
                // `pin` below names the bad line.
                self.pin(SocketAddr::from(([0, 0, 0, 0], 0)))?;
                continue;
            };
            if out.iter().any(|(o, _)| *o == addr) {
                continue;
            }
            if let Some(pin) = self.pin(addr)? {
                out.push((addr, pin.fingerprint));
            }
        }
        Ok(out)
    }

    /// Appends `addr`'s line (the file is made, with its header, if new).
    pub fn add(&self, addr: SocketAddr, fingerprint: Fingerprint) -> Result<(), Fail> {
        let fail = |e: std::io::Error| Fail(format!("cannot write {}: {e}", self.path.display()));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(fail)?;
        let mut text = String::new();
        if file.metadata().map_err(fail)?.len() == 0 {
            text.push_str(HEADER);
        }
        text.push_str(&format!("{}\n", Line(addr, fingerprint)));
        file.write_all(text.as_bytes()).map_err(fail)?;
        file.sync_all().map_err(fail)
    }
}

/// One line of the file, as written.
#[derive(Debug, Clone, Copy)]
pub struct Line(pub SocketAddr, pub Fingerprint);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

/// The pin for `addr` in the file's `text`.
fn find(text: &str, addr: SocketAddr) -> Result<Option<Pin>, String> {
    let mut pin: Option<Pin> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(a), Some(k), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!("line {n} is not `ADDRESS FINGERPRINT`"));
        };
        let a: SocketAddr = a
            .parse()
            .map_err(|_| format!("line {n}: `{}` is not an address", a.escape_debug()))?;
        let k: Fingerprint = k.parse().map_err(|e| format!("line {n}: {e}"))?;
        if a != addr {
            continue;
        }
        match pin {
            Some(p) if p.fingerprint != k => {
                return Err(format!(
                    "lines {} and {n} give {addr} two different keys",
                    p.line
                ));
            }
            Some(_) => {}
            None => {
                pin = Some(Pin {
                    fingerprint: k,
                    line: n,
                })
            }
        }
    }
    Ok(pin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(byte: u8) -> Fingerprint {
        Fingerprint([byte; 16])
    }

    #[test]
    fn lines_are_added_and_found_by_address() {
        let dir = tempfile::tempdir().unwrap();
        let known = KnownRegistries::in_folder(dir.path());
        let a: SocketAddr = "10.0.0.1:7300".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:7300".parse().unwrap();
        assert_eq!(known.pin(a).unwrap(), None, "no file yet");
        known.add(a, fp(1)).unwrap();
        known.add(b, fp(2)).unwrap();
        let text = std::fs::read_to_string(known.path()).unwrap();
        assert!(text.starts_with("# confab"), "{text}");
        assert!(
            text.ends_with(&format!(
                "10.0.0.1:7300 {}\n10.0.0.2:7300 {}\n",
                fp(1),
                fp(2)
            )),
            "{text}"
        );
        let lines = HEADER.lines().count();
        assert_eq!(
            known.pin(a).unwrap(),
            Some(Pin {
                fingerprint: fp(1),
                line: lines + 1
            })
        );
        assert_eq!(known.pin(b).unwrap().unwrap().fingerprint, fp(2));
        assert_eq!(known.pin("10.0.0.3:7300".parse().unwrap()).unwrap(), None);
    }

    #[test]
    fn all_lists_each_address_once() {
        let dir = tempfile::tempdir().unwrap();
        let known = KnownRegistries::in_folder(dir.path());
        assert_eq!(known.all().unwrap(), vec![]);
        let a: SocketAddr = "10.0.0.1:7300".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:7300".parse().unwrap();
        known.add(a, fp(1)).unwrap();
        known.add(b, fp(2)).unwrap();
        known.add(a, fp(1)).unwrap();
        assert_eq!(known.all().unwrap(), vec![(a, fp(1)), (b, fp(2))]);
        known.add(b, fp(3)).unwrap();
        assert!(known.all().is_err(), "two keys for one address");
    }

    #[test]
    fn comments_blanks_and_grouped_fingerprints_read() {
        let a: SocketAddr = "[::1]:7300".parse().unwrap();
        let text = format!("# hi\n\n  [::1]:7300   {}  # mine\n", "ab:".repeat(16));
        let pin = find(&text, a).unwrap().unwrap();
        assert_eq!((pin.fingerprint, pin.line), (Fingerprint([0xab; 16]), 3));
    }

    #[test]
    fn a_bad_line_is_an_error_never_skipped() {
        let a: SocketAddr = "10.0.0.1:7300".parse().unwrap();
        for (text, want) in [
            ("10.0.0.1:7300\n".to_owned(), "line 1 is not"),
            (format!("host:7300 {}\n", fp(1)), "not an address"),
            (
                "10.0.0.1:7300 abc\n".to_owned(),
                "line 1: a key fingerprint",
            ),
            (format!("# x\n10.0.0.1:7300 {} extra\n", fp(1)), "line 2"),
            (
                format!("10.0.0.1:7300 {}\n10.0.0.1:7300 {}\n", fp(1), fp(2)),
                "lines 1 and 2",
            ),
        ] {
            let e = find(&text, a).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let same = format!("10.0.0.1:7300 {}\n10.0.0.1:7300 {}\n", fp(1), fp(1));
        assert_eq!(find(&same, a).unwrap().unwrap().line, 1);
    }
}
