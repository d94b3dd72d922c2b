//! [`Browser`]: the files browser over the last `/files` answer. Up and
//! down choose an entry; one key fetches it as `/get OWNER NAME` (a folder
//! as `NAME/`), the same line a person would type. Pure state.

use confab_engine::wire::registry::{FileEntry, ShareKind};

#[derive(Debug, Clone, Default)]
pub struct Browser {
    pub files: Vec<FileEntry>,
    pub chosen: usize,
    pub open: bool,
}

impl Browser {
    /// A new listing: shown, first entry chosen.
    pub fn listed(&mut self, files: Vec<FileEntry>) {
        self.files = files;
        self.chosen = 0;
        self.open = true;
    }

    pub fn up(&mut self) {
        self.chosen = self.chosen.saturating_sub(1);
    }

    pub fn down(&mut self) {
        if self.chosen + 1 < self.files.len() {
            self.chosen += 1;
        }
    }

    /// The line that fetches the chosen entry.
    pub fn fetch_line(&self) -> Option<String> {
        let f = self.files.get(self.chosen)?;
        let slash = match f.file.kind {
            ShareKind::File => "",
            ShareKind::Folder { .. } => "/",
        };
        Some(format!("/get {} {}{slash}", f.owner, f.file.name.as_str()))
    }

    /// The shared names of `owner` (every owner's when `None`), for
    /// completion.
    pub fn names_of<'a>(&'a self, owner: Option<&'a str>) -> impl Iterator<Item = String> + 'a {
        self.files
            .iter()
            .filter(move |f| owner.is_none_or(|o| f.owner.as_str() == o))
            .map(|f| match f.file.kind {
                ShareKind::File => f.file.name.as_str().to_owned(),
                ShareKind::Folder { .. } => format!("{}/", f.file.name.as_str()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_engine::wire::registry::SharedFile;
    use confab_engine::wire::{FileName, Md5, Name};

    pub fn entry(owner: &str, name: &str, kind: ShareKind) -> FileEntry {
        FileEntry {
            owner: Name::new(owner).unwrap(),
            file: SharedFile {
                kind,
                name: FileName::new(name).unwrap(),
                size: 10,
                md5: Md5::of(name.as_bytes()),
            },
        }
    }

    #[test]
    fn fetching_is_the_get_line() {
        let mut b = Browser::default();
        assert_eq!(b.fetch_line(), None);
        b.listed(vec![
            entry("bob", "my notes.txt", ShareKind::File),
            entry("carol", "photos", ShareKind::Folder { files: 3 }),
        ]);
        assert_eq!(b.fetch_line().unwrap(), "/get bob my notes.txt");
        b.down();
        b.down();
        assert_eq!(b.fetch_line().unwrap(), "/get carol photos/");
        assert_eq!(
            b.names_of(Some("bob")).collect::<Vec<_>>(),
            ["my notes.txt"]
        );
    }
}
