//! Where confab keeps things by default, after the platform's conventions
//! (the `directories` crate): on Linux, `~/.local/share/confab/...` for data
//! and `~/Downloads` (or the XDG download folder) for downloads.
//!
//! - registry data: `DATA/registry`
//! - a peer's data: `DATA/peers/NAME` (its records; an embedded registry's
//!   accounts in `registry/` below it)
//! - a peer's shared folder: `DATA/peers/NAME/share`
//! - a peer's downloads: `DOWNLOADS/confab/NAME`

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use directories::{ProjectDirs, UserDirs};

use crate::fail::Fail;

/// The default registry port.
pub const DEFAULT_PORT: u16 = 7300;

/// The variable that replaces a peer's default registry address.
pub const DEFAULT_REGISTRY_VAR: &str = "CONFAB_DEFAULT_REGISTRY";

/// Where a peer without `--registry` looks for a registry, and whether it
/// came from [`DEFAULT_REGISTRY_VAR`]: `127.0.0.1:7300` unless that variable
/// holds an address (tests use it to run the embedded registry on a free
/// port).
pub fn default_registry() -> Result<(SocketAddr, bool), Fail> {
    match std::env::var(DEFAULT_REGISTRY_VAR) {
        Ok(text) if !text.trim().is_empty() => {
            text.trim().parse().map(|addr| (addr, true)).map_err(|e| {
                Fail(format!(
                    "{DEFAULT_REGISTRY_VAR}={text:?} is not an address like 127.0.0.1:7300 ({e})"
                ))
            })
        }
        _ => Ok((SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)), false)),
    }
}

fn data_root() -> PathBuf {
    ProjectDirs::from("", "", "confab")
        .map(|p| p.data_dir().to_owned())
        .unwrap_or_else(|| PathBuf::from("confab-data"))
}

/// Default data folder of a registry.
pub fn registry_data() -> PathBuf {
    data_root().join("registry")
}

/// Default data folder of the peer `name`.
pub fn peer_data(name: &str) -> PathBuf {
    data_root().join("peers").join(name)
}

/// Default downloads folder of the peer `name`.
pub fn peer_downloads(name: &str) -> PathBuf {
    let base = UserDirs::new()
        .and_then(|u| {
            u.download_dir()
                .map(Path::to_owned)
                .or_else(|| Some(u.home_dir().join("Downloads")))
        })
        .unwrap_or_else(|| PathBuf::from("downloads"));
    base.join("confab").join(name)
}

/// Creates `dir` if needed and checks that files can be written in it.
pub fn writable_dir(dir: &Path, flag: &str) -> Result<(), Fail> {
    let fail = |e: std::io::Error| {
        Fail(format!(
            "the folder {} is not writable ({e}); pick another with {flag}",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".confab-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_per_name() {
        assert_ne!(peer_data("alice"), peer_data("bob"));
        assert!(peer_downloads("alice").ends_with("confab/alice"));
    }

    #[test]
    fn an_unwritable_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"").unwrap();
        let err = writable_dir(&file.join("sub"), "--downloads").unwrap_err();
        assert!(err.0.contains("--downloads"), "{err}");
        writable_dir(&dir.path().join("new"), "--downloads").unwrap();
    }
}
