//! The watch on a real temporary folder, with short timings; every wait
//! polls the published lists with a deadline.

use std::io::Write;
use std::sync::mpsc::{Receiver, channel};

use super::*;
use confab_engine::wire::Md5;

fn fast() -> WatchConfig {
    WatchConfig {
        quiet: Duration::from_millis(300),
        rescan_every: Duration::from_secs(30),
        publish_gap: Duration::from_millis(100),
        hold: Duration::from_millis(300),
        debounce: Duration::from_millis(50),
    }
}

struct Setup {
    _data: tempfile::TempDir,
    share: tempfile::TempDir,
    watch: ShareWatch,
    lists: Receiver<Vec<SharedFile>>,
}

fn start(prepare: impl FnOnce(&Path)) -> (Setup, Vec<SharedFile>) {
    let data = tempfile::tempdir().unwrap();
    let share = tempfile::tempdir().unwrap();
    prepare(share.path());
    let store = Store::open(data.path()).unwrap();
    let scan = ShareScan::new(share.path(), &store, fast()).unwrap();
    let first = scan.files();
    let (tx, lists) = channel();
    let watch = scan.watch(move |l| tx.send(l.to_vec()).is_ok()).unwrap();
    let s = Setup {
        _data: data,
        share,
        watch,
        lists,
    };
    (s, first)
}

impl Setup {
    /// The next list published, within ten seconds.
    fn next(&self) -> Vec<SharedFile> {
        self.lists
            .recv_timeout(Duration::from_secs(10))
            .expect("a list was published")
    }

    /// Lists published until one satisfies `done`.
    fn until(&self, done: impl Fn(&[SharedFile]) -> bool) -> Vec<Vec<SharedFile>> {
        let mut all = Vec::new();
        loop {
            let l = self.next();
            let stop = done(&l);
            all.push(l);
            if stop {
                return all;
            }
        }
    }
}

/// Writes a file last modified an hour ago: quiet at once.
fn old(path: &Path, contents: &[u8]) {
    std::fs::write(path, contents).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
}

fn has(list: &[SharedFile], name: &str, contents: &[u8]) -> bool {
    list.iter().any(|f| {
        f.name.as_str() == name && f.size == contents.len() as u64 && f.md5 == Md5::of(contents)
    })
}

#[test]
fn a_file_written_after_start_is_published_with_its_true_size_and_md5() {
    let (s, first) = start(|d| old(&d.join("old.txt"), b"old"));
    assert!(has(&first, "old.txt", b"old"), "{first:?}");
    std::fs::write(s.share.path().join("new.txt"), b"brand new").unwrap();
    let lists = s.until(|l| has(l, "new.txt", b"brand new"));
    assert!(lists.iter().all(|l| has(l, "old.txt", b"old")));
    s.watch.stop();
}

#[test]
fn a_file_written_slowly_is_never_listed_with_a_partial_size() {
    let (s, _) = start(|_| {});
    let path = s.share.path().join("slow.bin");
    let mut f = std::fs::File::create(&path).unwrap();
    for i in 0..10u8 {
        f.write_all(&[i; 1000]).unwrap();
        f.flush().unwrap();
        // The scenario itself (a slow writer), not a wait for an event.
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(f);
    let want = std::fs::read(&path).unwrap();
    let lists = s.until(|l| has(l, "slow.bin", &want));
    for l in lists {
        for file in l {
            assert_eq!(file.size, 10_000, "listed while being written: {file:?}");
        }
    }
    s.watch.stop();
}

#[test]
fn a_changed_file_is_unlisted_then_listed_with_its_new_digest() {
    let (s, first) = start(|d| old(&d.join("f"), b"one"));
    assert!(has(&first, "f", b"one"));
    std::fs::write(s.share.path().join("f"), b"two, longer").unwrap();
    let lists = s.until(|l| has(l, "f", b"two, longer"));
    for l in &lists {
        assert!(
            !has(l, "f", b"one"),
            "the old digest stayed listed: {lists:?}"
        );
    }
    std::fs::remove_file(s.share.path().join("f")).unwrap();
    s.until(|l| l.is_empty());
    s.watch.stop();
}

#[test]
fn links_and_folders_are_skipped_with_a_reason() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"no").unwrap();
    let target = outside.path().join("secret");
    let (s, first) = start(move |d| {
        std::os::unix::fs::symlink(&target, d.join("link")).unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        old(&d.join("ok"), b"yes");
    });
    assert_eq!(first.len(), 1, "{first:?}");
    let status = s.watch.status();
    let why = |n: &str| match &status.entries.iter().find(|e| e.name == n).unwrap().state {
        EntryState::Skipped { why } => why.clone(),
        other => panic!("{n}: {other:?}"),
    };
    assert!(why("link").contains("link"));
    assert!(why("sub").contains("folder"));
    s.watch.stop();
}

#[test]
fn many_files_at_once_cause_few_publishes() {
    let (s, _) = start(|_| {});
    let mut names = Vec::new();
    for i in 0..300 {
        let n = format!("f{i:03}");
        std::fs::write(s.share.path().join(&n), n.as_bytes()).unwrap();
        names.push(n);
    }
    let lists = s.until(|l| l.len() == 300);
    assert!(lists.len() <= 5, "{} publishes", lists.len());
    assert_eq!(s.watch.status().publishes, lists.len() as u64);
    s.watch.stop();
}

fn folder_in<'a>(list: &'a [SharedFile], name: &str) -> Option<&'a SharedFile> {
    list.iter().find(|f| f.name.as_str() == name)
}

#[test]
fn a_folder_copied_in_is_listed_once_quiet_with_its_count_size_and_digest() {
    use confab_engine::wire::folder_digest;
    use confab_engine::wire::registry::ShareKind;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"not for sharing").unwrap();
    let (s, first) = start(|_| {});
    assert!(first.is_empty());
    // Built beside the share and moved in whole, as a copy tool finishing
    // would: written in place, a late event (the links are made last) could
    // land after the quiet time on a loaded machine and start a re-hash
    // between the list and the status read below.
    let staging = tempfile::tempdir_in(s.share.path().parent().unwrap()).unwrap();
    let built = staging.path().join("photos");
    std::fs::create_dir_all(built.join("sub")).unwrap();
    std::fs::write(built.join("a"), b"aa").unwrap();
    std::fs::write(built.join("sub").join("b"), b"bbb").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), built.join("leak")).unwrap();
    std::os::unix::fs::symlink(outside.path(), built.join("sub").join("leakdir")).unwrap();
    let d = s.share.path().join("photos");
    std::fs::rename(&built, &d).unwrap();
    let digest = |b: &[u8]| {
        folder_digest([
            ("a", 2, Md5::of(b"aa")),
            ("sub/b", b.len() as u64, Md5::of(b)),
        ])
    };
    let lists = s.until(|l| folder_in(l, "photos").is_some());
    let photos = folder_in(lists.last().unwrap(), "photos").unwrap();
    assert_eq!(
        photos.kind,
        ShareKind::Folder { files: 2 },
        "links not counted"
    );
    assert_eq!(photos.size, 5);
    assert_eq!(photos.md5, digest(b"bbb"));
    // A late event of the move (seen on a loaded CI machine) may start a
    // re-hash of the unchanged folder after the list went out; its status
    // then says Hashing until it ends, and the list is not sent again (it
    // did not change), so there is no event to await: the status is read
    // until that re-hash is over.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let entry = loop {
        let entries = s.watch.status().entries;
        let entry = entries.into_iter().find(|e| e.name == "photos").unwrap();
        if !matches!(entry.state, EntryState::Hashing { .. }) {
            break entry;
        }
        assert!(std::time::Instant::now() < deadline, "{entry:?}");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(entry.files, Some(2));
    assert_eq!(
        entry.state,
        EntryState::Listed {
            md5: digest(b"bbb")
        }
    );

    // A file inside changes: the folder is never listed with a digest
    // that is not its contents'.
    std::fs::write(d.join("sub").join("b"), b"bbbb").unwrap();
    let lists = s.until(|l| folder_in(l, "photos").is_some_and(|f| f.size == 6));
    for l in &lists {
        if let Some(f) = folder_in(l, "photos") {
            let want = if f.size == 5 {
                digest(b"bbb")
            } else {
                digest(b"bbbb")
            };
            assert_eq!(f.md5, want, "{lists:?}");
        }
    }
    assert_eq!(
        folder_in(lists.last().unwrap(), "photos").unwrap().md5,
        digest(b"bbbb")
    );
    std::fs::remove_dir_all(&d).unwrap();
    s.until(|l| l.is_empty());
    s.watch.stop();
}
