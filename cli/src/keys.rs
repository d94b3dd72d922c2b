//! Long-term keys in data folders, and the operating system's randomness.
//!
//! A peer keeps its Noise static key in [`PEER_KEY_FILE`] in its data
//! folder; a registry keeps its signing key (what peers pin) and its Noise
//! static key in [`REGISTRY_KEY_FILE`] in its own. Each is made on first
//! start from OS randomness ([`os_random`]) and kept for good: a peer's key
//! is how others know it, a registry's is what every peer trusts.
//!
//! Invariants:
//! - A key file is created with mode 0600 (never chmod-ed afterwards, so it
//!   is never readable by others, not even for an instant), written whole
//!   to a temporary file and linked into place only if no key file is
//!   there yet: two processes starting at once never replace each other's
//!   key.
//! - A key file that group or others may read or write is refused, with
//!   the fix (`chmod 600 PATH`); a malformed one is refused with what is
//!   wrong. A key is never silently replaced.
//!
//! Touches only the key files and the OS random source. The format is
//! text, so a person can see which key it is:
//!
//! ```text
//! # comment lines (what the file is, the public fingerprint)
//! noise-static 64-HEX-DIGITS
//! signing 64-HEX-DIGITS            (a registry's only)
//! ```

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use confab_engine::secure::{SigningSecret, StaticSecret};
use confab_engine::wire::identity::KEY_LEN;

use crate::fail::Fail;

/// A peer's key file, in its data folder.
pub const PEER_KEY_FILE: &str = "identity.key";

/// A registry's key file, in its data folder.
pub const REGISTRY_KEY_FILE: &str = "registry.key";

/// The label of a Noise static key's line.
const STATIC_LABEL: &str = "noise-static";

/// The label of a registry signing key's line.
const SIGNING_LABEL: &str = "signing";

/// A key file is a few hundred bytes; more is not one of ours.
const MAX_KEY_FILE: u64 = 4096;

/// 32 bytes from the operating system's random source. Fails rather than
/// fall back to anything weaker: these become long-term keys.
pub fn os_random() -> Result<[u8; 32], Fail> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Fail(format!("the operating system gave no randomness ({e})")))?;
    Ok(bytes)
}

/// This peer's Noise static key, from `data/identity.key`, made on first
/// start.
pub fn peer_key(data: &Path) -> Result<StaticSecret, Fail> {
    let path = data.join(PEER_KEY_FILE);
    let keys = load_or_create(&path, &[STATIC_LABEL], |keys| {
        let fp = StaticSecret::from_bytes(keys[0]).public().fingerprint();
        format!(
            "# confab: this peer's identity key. Keep it secret (mode 600): whoever\n\
             # holds it can be this peer to anyone who knows its fingerprint.\n\
             # fingerprint {fp}\n"
        )
    })?;
    Ok(StaticSecret::from_bytes(keys[0]))
}

/// A registry's keys.
#[derive(Debug, Clone)]
pub struct RegistryKeys {
    /// Signs certificates; its public half is what peers pin.
    pub signing: SigningSecret,
    /// Its Noise static key, for the connections themselves.
    pub static_key: StaticSecret,
}

/// A registry's keys, from `data/registry.key`, made on first start.
pub fn registry_keys(data: &Path) -> Result<RegistryKeys, Fail> {
    let path = data.join(REGISTRY_KEY_FILE);
    let keys = load_or_create(&path, &[SIGNING_LABEL, STATIC_LABEL], |keys| {
        let fp = SigningSecret::from_bytes(keys[0]).public().fingerprint();
        format!(
            "# confab: this registry's keys. Keep them secret (mode 600): whoever holds\n\
             # them can pose as this registry to every peer that trusts it.\n\
             # peers pin the signing key: --registry-key {fp}\n"
        )
    })?;
    Ok(RegistryKeys {
        signing: SigningSecret::from_bytes(keys[0]),
        static_key: StaticSecret::from_bytes(keys[1]),
    })
}

/// The keys labelled `labels` (in that order) from `path`, or new ones
/// written there with the comment `header` if there is no file yet.
fn load_or_create(
    path: &Path,
    labels: &[&str],
    header: impl Fn(&[[u8; KEY_LEN]]) -> String,
) -> Result<Vec<[u8; KEY_LEN]>, Fail> {
    match File::open(path) {
        Ok(file) => return load(path, file, labels),
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Fail(format!(
                "cannot read the key file {}: {e}",
                path.display()
            )));
        }
    }
    let keys = labels
        .iter()
        .map(|_| os_random())
        .collect::<Result<Vec<_>, _>>()?;
    let mut text = header(&keys);
    for (label, key) in labels.iter().zip(&keys) {
        text.push_str(&format!("{label} {}\n", hex(key)));
    }
    if create(path, text.as_bytes())? {
        Ok(keys)
    } else {
        // Another process made it first: use that one.
        let file = File::open(path)
            .map_err(|e| Fail(format!("cannot read the key file {}: {e}", path.display())))?;
        load(path, file, labels)
    }
}

/// Writes a new key file at `path` with mode 0600; `false` if one appeared
/// there meanwhile (it is left alone).
fn create(path: &Path, bytes: &[u8]) -> Result<bool, Fail> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let fail = |e: std::io::Error| {
        Fail(format!(
            "cannot write the key file {} ({e}); check the folder, or pick another with --data",
            path.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let tmp: PathBuf = dir.join(format!(
        ".{}.new-{}",
        path.file_name()
            .map_or_else(|| "key".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    // A hard link never replaces an existing file, unlike a rename.
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            // The link is durable once the folder is; failing to sync it
            // costs at worst a new key after a power cut.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(true)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(fail(e)),
    }
}

/// Checks `file`'s mode, then reads the keys `labels` from it.
fn load(path: &Path, file: File, labels: &[&str]) -> Result<Vec<[u8; KEY_LEN]>, Fail> {
    let shown = path.display();
    let meta = file
        .metadata()
        .map_err(|e| Fail(format!("cannot read the key file {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(Fail(format!(
            "the key file {shown} is not a regular file; move it away"
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Fail(format!(
            "the key file {shown} may be read or changed by other users (mode {mode:03o}); \
             a secret key must be private to its owner. Fix it with: chmod 600 {shown}"
        )));
    }
    let mut text = String::new();
    file.take(MAX_KEY_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| malformed(path, &format!("it is not text ({e})")))?;
    if text.len() as u64 > MAX_KEY_FILE {
        return Err(malformed(path, &format!("it is over {MAX_KEY_FILE} bytes")));
    }
    parse(&text, labels).map_err(|why| malformed(path, &why))
}

fn malformed(path: &Path, why: &str) -> Fail {
    Fail(format!(
        "the key file {} is malformed: {why}. It was left as it is: restore it from a \
         backup, or move it away to make a new key (everyone who knew the old one will \
         see a different key)",
        path.display()
    ))
}

/// The keys labelled `labels`, in that order, from a key file's text.
fn parse(text: &str, labels: &[&str]) -> Result<Vec<[u8; KEY_LEN]>, String> {
    let mut found: Vec<Option<[u8; KEY_LEN]>> = vec![None; labels.len()];
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let n = i + 1;
        let (label, value) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("line {n} is not `LABEL HEX`"))?;
        let Some(slot) = labels.iter().position(|l| *l == label) else {
            return Err(format!(
                "line {n} has the label `{}`, expected {}",
                label.escape_debug(),
                labels.join(" or ")
            ));
        };
        if found[slot].is_some() {
            return Err(format!("line {n} repeats `{label}`"));
        }
        let key = unhex(value.trim())
            .ok_or_else(|| format!("line {n}: a key is {} hex digits", 2 * KEY_LEN))?;
        found[slot] = Some(key);
    }
    labels
        .iter()
        .zip(found)
        .map(|(label, key)| key.ok_or_else(|| format!("it has no `{label}` line")))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; KEY_LEN]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * KEY_LEN || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; KEY_LEN];
    for (o, pair) in out.iter_mut().zip(digits.chunks(2)) {
        *o = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_peer_key_is_made_private_once_and_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("new/data");
        let first = peer_key(&data).unwrap();
        let path = data.join(PEER_KEY_FILE);
        assert_eq!(mode(&path), 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(&first.public().fingerprint().to_string()),
            "{text}"
        );
        assert_eq!(peer_key(&data).unwrap(), first, "kept, not made again");
        let leftovers: Vec<_> = std::fs::read_dir(&data).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left");
    }

    #[test]
    fn registry_keys_are_two_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = registry_keys(dir.path()).unwrap();
        let b = registry_keys(dir.path()).unwrap();
        assert_eq!(a.signing.public(), b.signing.public());
        assert_eq!(a.static_key, b.static_key);
        assert_ne!(a.signing.to_bytes(), a.static_key.to_bytes());
        assert_eq!(mode(&dir.path().join(REGISTRY_KEY_FILE)), 0o600);
    }

    #[test]
    fn a_key_others_can_read_or_write_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        peer_key(dir.path()).unwrap();
        let path = dir.path().join(PEER_KEY_FILE);
        for bad in [0o640, 0o604, 0o620, 0o602] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(bad)).unwrap();
            let e = peer_key(dir.path()).unwrap_err();
            assert!(
                e.0.contains(&format!("chmod 600 {}", path.display())),
                "{bad:o}: {e}"
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert!(
            peer_key(dir.path()).is_ok(),
            "read-only to its owner is fine"
        );
    }

    #[test]
    fn a_malformed_key_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(REGISTRY_KEY_FILE);
        let good = format!(
            "signing {}\nnoise-static {}\n",
            "ab".repeat(32),
            "cd".repeat(32)
        );
        let cases = [
            ("", "no `signing` line"),
            (&good[..good.len() - 3], "line 2"),
            ("signing zz\n", "line 1"),
            ("nonsense\n", "line 1"),
            ("other 00\n", "label `other`"),
            (&format!("{good}{good}"), "repeats"),
        ];
        for (text, want) in cases {
            let _ = std::fs::remove_file(&path);
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .unwrap();
            f.write_all(text.as_bytes()).unwrap();
            let e = registry_keys(dir.path()).unwrap_err();
            assert!(
                e.0.contains(want) && e.0.contains(&path.display().to_string()),
                "{text:?}: {e}"
            );
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                text,
                "not replaced"
            );
        }
        std::fs::remove_file(&path).unwrap();
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .unwrap();
        f.write_all(format!("# hand-made\n\n{good}").as_bytes())
            .unwrap();
        let keys = registry_keys(dir.path()).unwrap();
        assert_eq!(keys.signing.to_bytes(), [0xab; 32]);
        assert_eq!(keys.static_key.to_bytes(), [0xcd; 32]);
    }

    #[test]
    fn hex_round_trips() {
        let bytes = [7u8; KEY_LEN];
        assert_eq!(unhex(&hex(&bytes)), Some(bytes));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex(&format!("+f{}", "0".repeat(62))), None);
    }
}
