//! `/avatar NAME`: the avatar a look-up brought back, saved to a file in the
//! data folder (`DATA/avatars/NAME.EXT`, replaced by a newer look-up) so a
//! person can open it with any image viewer. Touches only that folder.

use std::path::{Path, PathBuf};

use confab_engine::wire::Name;

/// Saves `bytes` as `name`'s avatar in `dir`; `None` when there is none.
pub fn save(dir: &Path, name: &Name, bytes: &[u8]) -> Result<Option<PathBuf>, String> {
    if bytes.is_empty() {
        return Ok(None);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.{}", extension(bytes)));
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(Some(path))
}

/// The usual extension of an image in `bytes`, from its first bytes (the
/// sender chose the format; nothing checks it).
fn extension(bytes: &[u8]) -> &'static str {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => "png",
        [0xFF, 0xD8, 0xFF, ..] => "jpg",
        [b'G', b'I', b'F', b'8', ..] => "gif",
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => "webp",
        [b'B', b'M', ..] => "bmp",
        _ if bytes.starts_with(b"<svg") || bytes.starts_with(b"<?xml") => "svg",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_with_an_extension_that_fits() {
        let dir = tempfile::tempdir().unwrap();
        let bob = Name::new("bob").unwrap();
        assert_eq!(save(dir.path(), &bob, b""), Ok(None));
        let png = b"\x89PNG\r\n\x1a\nrest";
        let path = save(dir.path(), &bob, png).unwrap().unwrap();
        assert_eq!(path, dir.path().join("bob.png"));
        assert_eq!(std::fs::read(&path).unwrap(), png);
        assert_eq!(extension(b"whatever"), "bin");
        assert_eq!(extension(b"\xFF\xD8\xFF\xE0"), "jpg");
    }
}
