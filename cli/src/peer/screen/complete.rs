//! Tab completion of the input line: a command (the words of the parser's
//! own `/help` text, so the two never disagree), a name or `#group` the
//! interface has seen, or after `/get NAME ` a file NAME shares (from the
//! last `/files` answer). One match completes; several complete their
//! common beginning, then each further Tab shows the next. Pure.

use std::collections::BTreeSet;

use crate::peer::parse::HELP;

/// What can be completed, gathered by the caller.
#[derive(Debug, Default, Clone)]
pub struct Words {
    pub names: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    /// (owner, shared name) pairs; folders end in `/`.
    pub files: Vec<(String, String)>,
}

/// The commands, as `/help` names them.
pub fn commands() -> BTreeSet<String> {
    HELP.split_whitespace()
        .filter(|w| {
            w.len() > 1 && w.starts_with('/') && w[1..].chars().all(|c| c.is_ascii_lowercase())
        })
        .map(str::to_owned)
        .collect()
}

/// Where the completed word starts in `before` (the line up to the
/// cursor), and what it may become, sorted; `None` if nothing fits.
pub fn candidates(before: &str, words: &Words) -> Option<(usize, Vec<String>)> {
    let (start, pool): (usize, Vec<String>) = if let Some(rest) = before.strip_prefix("/get ") {
        let rest = rest.trim_start();
        let at = before.len() - rest.len();
        match rest.split_once(' ') {
            None => (at, words.names.iter().cloned().collect()),
            Some((owner, file)) => {
                let file = file.trim_start();
                let files = words
                    .files
                    .iter()
                    .filter(|(o, _)| o == owner)
                    .map(|(_, f)| f.clone());
                (before.len() - file.len(), files.collect())
            }
        }
    } else {
        let start = before.rfind(' ').map_or(0, |i| i + 1);
        let word = &before[start..];
        let pool = if start == 0 && word.starts_with('/') {
            commands().into_iter().collect()
        } else if word.starts_with('#') {
            words.groups.iter().cloned().collect()
        } else {
            words.names.iter().cloned().collect()
        };
        (start, pool)
    };
    let typed = &before[start..];
    let mut found: Vec<String> = pool.into_iter().filter(|c| c.starts_with(typed)).collect();
    found.sort();
    found.dedup();
    (!found.is_empty()).then_some((start, found))
}

/// The longest beginning every candidate shares.
pub fn common(found: &[String]) -> String {
    let Some(first) = found.first() else {
        return String::new();
    };
    let mut len = first.len();
    for c in &found[1..] {
        len = first
            .char_indices()
            .zip(c.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(len);
    }
    first[..len].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Words {
        Words {
            names: ["bob", "bobby", "carol"].map(String::from).into(),
            groups: ["#team"].map(String::from).into(),
            files: vec![
                ("bob".into(), "report 2024.pdf".into()),
                ("bob".into(), "photos/".into()),
                ("carol".into(), "recipe.txt".into()),
            ],
        }
    }

    #[test]
    fn commands_come_from_help() {
        let c = commands();
        for cmd in ["/chat", "/accept", "/decline", "/get", "/friend", "/quit"] {
            assert!(c.contains(cmd), "{cmd} missing from {c:?}");
        }
        assert_eq!(
            candidates("/ac", &words()),
            Some((0, vec!["/accept".to_owned()]))
        );
    }

    #[test]
    fn names_groups_and_files() {
        let w = words();
        let (at, found) = candidates("/chat bo", &w).unwrap();
        assert_eq!(
            (at, found.as_slice()),
            (6, &["bob".to_owned(), "bobby".to_owned()][..])
        );
        assert_eq!(common(&found), "bob");
        assert_eq!(candidates("/msg #t", &w).unwrap().1, ["#team"]);
        let (at, found) = candidates("/get bob re", &w).unwrap();
        assert_eq!((at, found), (9, vec!["report 2024.pdf".to_owned()]));
        assert_eq!(candidates("/get bob ph", &w).unwrap().1, ["photos/"]);
        assert_eq!(candidates("/get ca", &w).unwrap().1, ["carol"]);
        assert_eq!(candidates("hello zz", &w), None);
        assert_eq!(common(&["日本a".into(), "日本b".into()]), "日本");
    }
}
