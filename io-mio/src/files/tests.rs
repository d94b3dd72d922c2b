//! The file side on real temporary folders: strict resolution of every
//! shape, folder walks, `.part` resume and truncation, no-clobber finish,
//! discard, the MD5 cache, and offsets beyond 4 GiB (sparse files).

use std::fs;
use std::os::unix::fs::{FileExt, symlink};
use std::path::Path;
use std::sync::atomic::AtomicBool;

use confab_engine::wire::transfer::RelPath;
use confab_engine::wire::{FileName, Md5};
use confab_engine::{Source, TransferId};

use super::hash::Md5Cache;
use super::source::{Context, OpenedSource, ShareFolder, open_source};
use super::{FileAnswer, TransferFiles};
use crate::Store;

const T: TransferId = TransferId(1);

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// Opens `source` directly (no worker), with `share` and the cache in `store`.
fn open(share: &Path, store: Option<&Store>, source: &Source) -> Result<OpenedSource, String> {
    let share = ShareFolder::open(share).unwrap();
    let cancel = AtomicBool::new(false);
    let cx = Context {
        share: Some(&share),
        cache: store.map(|s| Md5Cache::new(s.database())),
        cancel: &cancel,
    };
    open_source(&cx, source, &mut |_, _| {})
}

/// A shared name as the network would carry it, or an unchecked one.
fn shared(name: &str) -> Source {
    Source::Shared(FileName::new(name).unwrap())
}

fn files() -> (TransferFiles, mio::Poll) {
    files_with(None)
}

fn files_with(store: Option<&Store>) -> (TransferFiles, mio::Poll) {
    let poll = mio::Poll::new().unwrap();
    let waker = std::sync::Arc::new(mio::Waker::new(poll.registry(), mio::Token(0)).unwrap());
    (
        TransferFiles::new(waker, store.map(Store::shared_database)),
        poll,
    )
}

/// Collects the worker's answers until one opens or fails a source, waiting
/// on the waker in between (never sleeping).
fn wait_for_open(files: &mut TransferFiles, poll: &mut mio::Poll) -> Vec<FileAnswer> {
    let mut events = mio::Events::with_capacity(4);
    let mut all = Vec::new();
    loop {
        all.extend(files.collect());
        if all
            .iter()
            .any(|a| matches!(a, FileAnswer::Opened { .. } | FileAnswer::Failed { .. }))
        {
            return all;
        }
        poll.poll(&mut events, Some(std::time::Duration::from_secs(60)))
            .unwrap();
        assert!(!events.is_empty(), "the worker never answered");
    }
}

fn rel(s: &str) -> RelPath {
    RelPath::new(s).unwrap()
}

#[test]
fn a_shared_file_is_opened_described_and_read() {
    let share = tempfile::tempdir().unwrap();
    fs::write(share.path().join("a.txt"), b"hello").unwrap();
    let opened = open(share.path(), None, &shared("a.txt")).unwrap();
    assert!(!opened.info.folder);
    assert_eq!(opened.info.name, "a.txt");
    assert_eq!(opened.info.files.len(), 1);
    assert_eq!(opened.info.files[0].path, "a.txt");
    assert_eq!(opened.info.files[0].size, 5);
    assert_eq!(opened.info.files[0].md5, Md5::of(b"hello"));
    assert!(opened.first.is_some());
}

#[test]
fn shared_names_of_every_bad_shape_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret"), b"secret").unwrap();
    let share = tempfile::tempdir().unwrap();
    fs::write(share.path().join("real.txt"), b"x").unwrap();
    fs::create_dir(share.path().join("dir")).unwrap();
    fs::write(share.path().join("dir").join("inner"), b"x").unwrap();
    symlink(outside.path().join("secret"), share.path().join("out")).unwrap();
    symlink("real.txt", share.path().join("in")).unwrap();
    symlink("nowhere", share.path().join("dangling")).unwrap();
    mkfifo(&share.path().join("fifo"));

    // Names the wire type cannot even carry.
    for bad in ["..", "../x", "/etc/passwd", "a/b", "dir/inner", ".", ""] {
        assert!(FileName::new(bad).is_err(), "{bad:?}");
    }
    // Names it can carry that must still be refused.
    for (name, why) in [
        ("out", "symbolic link"),
        ("in", "symbolic link"),
        ("dangling", "symbolic link"),
        ("fifo", "FIFO"),
        ("missing", "no shared file named missing"),
    ] {
        let err = open(share.path(), None, &shared(name)).unwrap_err();
        assert!(err.contains(why), "{name}: {err}");
    }
    // With no share folder, nothing is shared.
    let cancel = AtomicBool::new(false);
    let cx = Context {
        share: None,
        cache: None,
        cancel: &cancel,
    };
    let err = open_source(&cx, &shared("real.txt"), &mut |_, _| {}).unwrap_err();
    assert!(err.contains("shares no folder"), "{err}");
}

#[test]
fn a_shared_folder_is_walked_inside_the_share_without_links() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret"), b"secret").unwrap();
    fs::create_dir(outside.path().join("dir")).unwrap();
    fs::write(outside.path().join("dir").join("more"), b"more").unwrap();
    let share = tempfile::tempdir().unwrap();
    let d = share.path().join("photos");
    fs::create_dir_all(d.join("sub")).unwrap();
    fs::create_dir(d.join("empty")).unwrap();
    fs::write(d.join("a.jpg"), b"aa").unwrap();
    fs::write(d.join("sub").join("b.jpg"), b"bbb").unwrap();
    symlink(outside.path().join("secret"), d.join("leak")).unwrap();
    symlink(outside.path().join("dir"), d.join("sub").join("leakdir")).unwrap();
    symlink("a.jpg", d.join("alias")).unwrap();
    mkfifo(&d.join("fifo"));
    symlink(outside.path().join("dir"), share.path().join("outdir")).unwrap();

    let opened = open(share.path(), None, &shared("photos")).unwrap();
    assert!(opened.info.folder);
    assert_eq!(opened.info.name, "photos");
    let paths: Vec<&str> = opened.info.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        ["photos/a.jpg", "photos/sub/b.jpg"],
        "links (in or out), the FIFO and empty folders are not sent"
    );
    assert_eq!(opened.info.files[1].md5, Md5::of(b"bbb"));
    assert!(opened.entries.iter().all(|e| e.path.starts_with(&d)));
    let listed =
        super::source::shared_folder_files(&ShareFolder::open(share.path()).unwrap(), "photos")
            .unwrap();
    let listed: Vec<(&str, u64)> = listed.iter().map(|f| (f.0.as_str(), f.1)).collect();
    assert_eq!(listed, [("photos/a.jpg", 2), ("photos/sub/b.jpg", 3)]);

    // A link to a folder, at the top of the share, is refused.
    let err = open(share.path(), None, &shared("outdir")).unwrap_err();
    assert!(err.contains("symbolic link"), "{err}");
}

#[test]
fn a_discard_removes_the_empty_folders_it_created_and_nothing_else() {
    let downloads = tempfile::tempdir().unwrap();
    let share = tempfile::tempdir().unwrap();
    let d = downloads.path();
    // The user's: an empty folder, and a folder with a file.
    fs::create_dir(d.join("kept_empty")).unwrap();
    fs::create_dir(d.join("mine")).unwrap();
    fs::write(d.join("mine").join("note"), b"n").unwrap();
    let (mut files, _poll) = files();
    files.serve(share.path(), d).unwrap();

    // A folder transfer fails in its second file: the first is in place.
    files.open_part(T, 0, &rel("f/a/one"), true).unwrap();
    files.write_chunk(T, 0, 0, b"1").unwrap();
    files.finish(T, 0).unwrap();
    files.open_part(T, 1, &rel("f/b/c/two"), true).unwrap();
    files.write_chunk(T, 1, 0, b"2").unwrap();
    files.discard(T, 1, &rel("f/b/c/two"));
    files.release(T);
    assert!(
        !d.join("f/b").exists(),
        "the empty folders it created are gone"
    );
    assert_eq!(
        fs::read(d.join("f/a/one")).unwrap(),
        b"1",
        "a finished file stays"
    );

    // Inside folders the user had, only what it created goes.
    let t2 = TransferId(2);
    files
        .open_part(t2, 0, &rel("kept_empty/new/x"), true)
        .unwrap();
    files.open_part(t2, 1, &rel("mine/y"), true).unwrap();
    files.discard(t2, 0, &rel("kept_empty/new/x"));
    files.discard(t2, 1, &rel("mine/y"));
    assert!(
        d.join("kept_empty").is_dir(),
        "the user's empty folder stays"
    );
    assert!(!d.join("kept_empty/new").exists());
    assert_eq!(fs::read(d.join("mine/note")).unwrap(), b"n");

    // A folder it created that someone filled meanwhile stays, with it.
    let t3 = TransferId(3);
    files.open_part(t3, 0, &rel("g/x"), true).unwrap();
    fs::write(d.join("g").join("theirs"), b"t").unwrap();
    files.discard(t3, 0, &rel("g/x"));
    assert_eq!(fs::read(d.join("g/theirs")).unwrap(), b"t");
}

#[test]
fn a_local_folder_is_walked_sorted_without_links() {
    let root = tempfile::tempdir().unwrap();
    let d = root.path().join("d");
    fs::create_dir_all(d.join("sub").join("deeper")).unwrap();
    fs::create_dir(d.join("empty")).unwrap();
    fs::write(d.join("b.txt"), b"bb").unwrap();
    fs::write(d.join("a.txt"), b"a").unwrap();
    fs::write(d.join("sub").join("c"), b"ccc").unwrap();
    fs::write(d.join("sub").join("deeper").join("e"), b"").unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret"), b"s").unwrap();
    symlink(outside.path(), d.join("linked_dir")).unwrap();
    symlink(outside.path().join("secret"), d.join("linked_file")).unwrap();
    mkfifo(&d.join("fifo"));

    let typed = d.to_str().unwrap().to_owned();
    let opened = open(root.path(), None, &Source::Local(typed.clone())).unwrap();
    assert!(opened.info.folder);
    assert_eq!(opened.info.name, "d");
    let paths: Vec<&str> = opened.info.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        ["d/a.txt", "d/b.txt", "d/sub/c", "d/sub/deeper/e"],
        "sorted, links and the FIFO skipped, empty folders ignored"
    );
    assert_eq!(opened.info.files[2].md5, Md5::of(b"ccc"));
    assert_eq!(opened.info.files[1].size, 2);

    // A trailing slash names the same folder.
    let again = open(root.path(), None, &Source::Local(format!("{typed}/"))).unwrap();
    assert_eq!(again.info, opened.info);

    // A single local file goes by its own name.
    let one = open(
        root.path(),
        None,
        &Source::Local(d.join("a.txt").to_str().unwrap().into()),
    )
    .unwrap();
    assert!(!one.info.folder);
    assert_eq!(one.info.files[0].path, "a.txt");

    // What is neither file nor folder, or missing, is refused.
    let err = open(
        root.path(),
        None,
        &Source::Local(d.join("fifo").to_str().unwrap().into()),
    )
    .unwrap_err();
    assert!(err.contains("not a regular file or folder"), "{err}");
    let err = open(root.path(), None, &Source::Local("/no/such/thing".into())).unwrap_err();
    assert!(err.contains("no file or folder"), "{err}");
}

#[test]
fn a_local_folder_with_a_name_confab_cannot_carry_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let d = root.path().join("d");
    fs::create_dir(&d).unwrap();
    fs::write(d.join("bad\nname"), b"x").unwrap();
    let err = open(
        root.path(),
        None,
        &Source::Local(d.to_str().unwrap().into()),
    )
    .unwrap_err();
    assert!(err.contains("bad\\nname"), "{err}");
}

#[test]
fn the_md5_cache_spares_a_second_hash_and_notices_a_change() {
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).unwrap();
    let share = tempfile::tempdir().unwrap();
    let path = share.path().join("f.bin");
    fs::write(&path, vec![7u8; 100_000]).unwrap();

    let first = open(share.path(), Some(&store), &shared("f.bin")).unwrap();
    assert_eq!(first.hashed_files, 1);
    let second = open(share.path(), Some(&store), &shared("f.bin")).unwrap();
    assert_eq!(second.hashed_files, 0, "served from the cache");
    assert_eq!(second.info, first.info);

    // A change of size is hashed again (and the digest is the new one).
    fs::write(&path, vec![8u8; 100_001]).unwrap();
    let third = open(share.path(), Some(&store), &shared("f.bin")).unwrap();
    assert_eq!(third.hashed_files, 1);
    assert_eq!(third.info.files[0].md5, Md5::of(&vec![8u8; 100_001]));

    // The share index fills the same cache: a scanned file is not re-hashed.
    fs::write(share.path().join("g"), b"g").unwrap();
    crate::SharedIndex::scan(share.path(), store.database()).unwrap();
    let g = open(share.path(), Some(&store), &shared("g")).unwrap();
    assert_eq!(g.hashed_files, 0);
}

#[test]
fn a_part_resumes_from_its_length_and_fresh_truncates() {
    let downloads = tempfile::tempdir().unwrap();
    let share = tempfile::tempdir().unwrap();
    let (mut files, _poll) = files();
    files.serve(share.path(), downloads.path()).unwrap();

    assert_eq!(files.open_part(T, 0, &rel("d/sub/x.txt"), false), Ok(0));
    files.write_chunk(T, 0, 3, b"def").unwrap();
    files.write_chunk(T, 0, 0, b"abc").unwrap();
    assert_eq!(files.read_chunk(T, 0, 1, 100).unwrap(), b"bcdef");
    files.release(T);
    let part = downloads.path().join("d/sub/x.txt.part");
    assert_eq!(fs::read(&part).unwrap(), b"abcdef");

    let t2 = TransferId(2);
    assert_eq!(files.open_part(t2, 0, &rel("d/sub/x.txt"), false), Ok(6));
    assert_eq!(files.open_part(t2, 0, &rel("d/sub/x.txt"), true), Ok(0));
    assert_eq!(fs::metadata(&part).unwrap().len(), 0);
}

#[test]
fn a_part_never_goes_through_a_link_or_onto_a_non_file() {
    let downloads = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let share = tempfile::tempdir().unwrap();
    symlink(outside.path(), downloads.path().join("evil")).unwrap();
    symlink(outside.path().join("t"), downloads.path().join("f.part")).unwrap();
    fs::create_dir(downloads.path().join("dir.part")).unwrap();
    mkfifo(&downloads.path().join("p.part"));
    let (mut files, _poll) = files();
    files.serve(share.path(), downloads.path()).unwrap();

    let err = files.open_part(T, 0, &rel("evil/x"), false).unwrap_err();
    assert!(err.contains("symbolic link"), "{err}");
    let err = files.open_part(T, 0, &rel("f"), false).unwrap_err();
    assert!(err.contains("symbolic link"), "{err}");
    assert!(files.open_part(T, 0, &rel("dir"), false).is_err());
    let err = files.open_part(T, 0, &rel("p"), false).unwrap_err();
    assert!(err.contains("not a regular file"), "{err}");
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);

    // The downloads folder itself may be a link the user set up.
    let via_link = share.path().join("downloads");
    symlink(outside.path(), &via_link).unwrap();
    files.serve(share.path(), &via_link).unwrap();
    assert_eq!(files.open_part(T, 0, &rel("ok"), false), Ok(0));
    assert!(outside.path().join("ok.part").exists());
}

#[test]
fn finishing_never_replaces_an_existing_file() {
    let downloads = tempfile::tempdir().unwrap();
    let share = tempfile::tempdir().unwrap();
    let d = downloads.path();
    fs::write(d.join("x.txt"), b"mine").unwrap();
    let (mut files, _poll) = files();
    files.serve(share.path(), d).unwrap();

    let finish = |files: &mut TransferFiles, t: TransferId, bytes: &[u8]| {
        files.open_part(t, 0, &rel("x.txt"), true).unwrap();
        files.write_chunk(t, 0, 0, bytes).unwrap();
        let path = files.finish(t, 0).unwrap();
        files.release(t);
        path
    };
    let first = finish(&mut files, TransferId(1), b"one");
    assert_eq!(first, d.join("x (1).txt").display().to_string());
    let second = finish(&mut files, TransferId(2), b"two");
    assert_eq!(second, d.join("x (2).txt").display().to_string());
    assert_eq!(fs::read(d.join("x.txt")).unwrap(), b"mine", "untouched");
    assert_eq!(fs::read(d.join("x (1).txt")).unwrap(), b"one");
    assert_eq!(fs::read(d.join("x (2).txt")).unwrap(), b"two");
    assert!(!d.join("x.txt.part").exists());

    // A free name is taken as is; a dangling link still counts as taken.
    symlink("nowhere", d.join("y")).unwrap();
    files.open_part(T, 0, &rel("y"), true).unwrap();
    assert_eq!(
        files.finish(T, 0).unwrap(),
        d.join("y (1)").display().to_string()
    );
    // Finishing what is not open fails, it does not guess.
    assert!(files.finish(T, 0).is_err());
}

#[test]
fn discard_removes_only_the_part() {
    let downloads = tempfile::tempdir().unwrap();
    let share = tempfile::tempdir().unwrap();
    let d = downloads.path();
    fs::create_dir(d.join("sub")).unwrap();
    fs::write(d.join("sub").join("x"), b"mine").unwrap();
    let (mut files, _poll) = files();
    files.serve(share.path(), d).unwrap();

    files.open_part(T, 0, &rel("sub/x"), false).unwrap();
    files.write_chunk(T, 0, 0, b"partial").unwrap();
    files.discard(T, 0, &rel("sub/x"));
    assert!(!d.join("sub/x.part").exists());
    assert_eq!(fs::read(d.join("sub/x")).unwrap(), b"mine");
    assert!(files.write_chunk(T, 0, 0, b"late").is_err(), "closed");
    // A part never opened in this run (after a restart), or already gone.
    fs::write(d.join("old.part"), b"left over").unwrap();
    files.discard(TransferId(9), 0, &rel("old"));
    assert!(!d.join("old.part").exists());
    files.discard(TransferId(9), 0, &rel("never/was"));
    assert!(!d.join("never").exists(), "discard creates nothing");
}

#[test]
fn offsets_beyond_4_gib_work_on_sparse_files() {
    let downloads = tempfile::tempdir().unwrap();
    let share = tempfile::tempdir().unwrap();
    let size = 5u64 << 30;
    let high = (4u64 << 30) + 12_345;
    {
        let f = fs::File::create(share.path().join("big")).unwrap();
        f.set_len(size).unwrap();
        f.write_all_at(b"mark", high).unwrap();
    }
    let (mut files, _poll) = files();
    files.serve(share.path(), downloads.path()).unwrap();

    // Receive: write and read back above 4 GiB, then resume from the length.
    files.open_part(T, 0, &rel("big"), true).unwrap();
    files.write_chunk(T, 0, high, b"above").unwrap();
    files.write_chunk(T, 0, size - 3, b"end").unwrap();
    assert_eq!(files.read_chunk(T, 0, high, 5).unwrap(), b"above");
    assert_eq!(files.read_chunk(T, 0, size - 3, 64).unwrap(), b"end");
    files.release(T);
    assert_eq!(files.open_part(T, 0, &rel("big"), false), Ok(size));
    files.release(T);

    // Send: the source is opened through the worker, its digest seeded in
    // the cache (hashing 5 GiB here would only cost time), and read above 4 GiB.
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).unwrap();
    let path = share.path().join("big");
    let mtime_ns = fs::metadata(&path)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let digest = Md5::of(b"as the index has it");
    Md5Cache::new(store.database()).put(&[(
        path.to_string_lossy().into_owned(),
        size,
        mtime_ns,
        digest,
    )]);
    let (mut files, mut poll) = files_with(Some(&store));
    files.serve(share.path(), downloads.path()).unwrap();
    let t = TransferId(5);
    files.open_source(t, shared("big")).unwrap();
    let answers = wait_for_open(&mut files, &mut poll);
    let Some(FileAnswer::Opened { source, .. }) = answers.last() else {
        panic!("{answers:?}");
    };
    assert_eq!(source.files[0].size, size);
    assert_eq!(source.files[0].md5, digest);
    assert_eq!(files.files_hashed(), 0);
    assert_eq!(
        files.read_chunk(t, 0, high - 2, 8).unwrap(),
        b"\0\0mark\0\0"
    );
    assert_eq!(files.read_chunk(t, 0, size - 1, 8).unwrap(), b"\0");
    assert_eq!(files.read_chunk(t, 0, size, 8).unwrap(), b"");
    files.release(t);
    assert!(files.read_chunk(t, 0, 0, 1).is_err(), "released");
}

#[test]
fn sources_open_on_the_worker_and_a_released_one_is_never_answered() {
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).unwrap();
    let share = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    fs::write(share.path().join("a"), b"abc").unwrap();
    let (mut files, mut poll) = files_with(Some(&store));
    files.serve(share.path(), downloads.path()).unwrap();

    // Released before its answer came: dropped, with its handles.
    files.open_source(TransferId(1), shared("a")).unwrap();
    files.release(TransferId(1));
    files.open_source(TransferId(2), shared("a")).unwrap();
    let answers = wait_for_open(&mut files, &mut poll);
    assert!(
        answers.iter().all(|a| !matches!(
            a,
            FileAnswer::Opened {
                transfer: TransferId(1),
                ..
            } | FileAnswer::Hashing {
                transfer: TransferId(1),
                ..
            }
        )),
        "{answers:?}"
    );
    assert!(matches!(
        answers.last(),
        Some(FileAnswer::Opened {
            transfer: TransferId(2),
            ..
        })
    ));
    assert!(files.read_chunk(TransferId(1), 0, 0, 3).is_err());
    assert_eq!(files.read_chunk(TransferId(2), 0, 0, 3).unwrap(), b"abc");
    // Hashed once (by transfer 1, whose answer was dropped); then cached.
    assert!(files.files_hashed() <= 1);

    // A refusal comes back the same way.
    files.open_source(TransferId(3), shared("nope")).unwrap();
    let answers = wait_for_open(&mut files, &mut poll);
    let Some(FileAnswer::Failed { error, .. }) = answers.last() else {
        panic!("{answers:?}");
    };
    assert!(error.contains("no shared file named nope"), "{error}");
}

#[test]
fn a_folder_source_reads_each_file_and_refuses_one_replaced() {
    let root = tempfile::tempdir().unwrap();
    let d = root.path().join("d");
    fs::create_dir(&d).unwrap();
    fs::write(d.join("a"), b"first").unwrap();
    fs::write(d.join("b"), b"second").unwrap();
    let (mut files, mut poll) = files_with(None);
    files
        .open_source(T, Source::Local(d.to_str().unwrap().into()))
        .unwrap();
    let answers = wait_for_open(&mut files, &mut poll);
    assert!(
        matches!(answers.last(), Some(FileAnswer::Opened { .. })),
        "{answers:?}"
    );
    assert_eq!(files.read_chunk(T, 1, 0, 100).unwrap(), b"second");
    assert_eq!(files.read_chunk(T, 0, 1, 100).unwrap(), b"irst");
    // b replaced by a link after it was described: refused, not followed.
    fs::remove_file(d.join("b")).unwrap();
    symlink(d.join("a"), d.join("b")).unwrap();
    let err = files.read_chunk(T, 1, 0, 100).unwrap_err();
    assert!(
        err.contains("symbolic link") || err.contains("replaced"),
        "{err}"
    );
    assert!(files.read_chunk(T, 2, 0, 1).is_err(), "no such file");
}

#[test]
fn chunk_writes_on_the_writer_thread_are_answered_in_order_once_written() {
    let downloads = tempfile::tempdir().unwrap();
    let share = tempfile::tempdir().unwrap();
    let (mut files, mut poll) = files();
    files.serve(share.path(), downloads.path()).unwrap();
    let t2 = TransferId(2);
    assert_eq!(files.open_part(T, 0, &rel("a"), false), Ok(0));
    assert_eq!(files.open_part(t2, 0, &rel("b"), false), Ok(0));
    assert!(!files.writing());

    // Not open: refused at once, nothing under way.
    assert!(
        files
            .submit_write(TransferId(9), 0, 0, b"x".to_vec())
            .is_err()
    );
    assert!(!files.writing());

    let chunks: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 1000]).collect();
    for (i, c) in chunks.iter().enumerate() {
        files
            .submit_write(T, 0, i as u64 * 1000, c.clone())
            .unwrap();
    }
    files
        .submit_write(t2, 0, u64::MAX - 2, b"past any file size".to_vec())
        .unwrap();
    assert!(files.writing());
    // Waiting for T's writes answers all of them, in order.
    let done = files.wait_writes(T);
    let ts: Vec<(TransferId, u64)> = done
        .iter()
        .filter(|w| w.transfer == T)
        .map(|w| (w.transfer, w.offset))
        .collect();
    let want: Vec<(TransferId, u64)> = (0..40).map(|i| (T, i * 1000)).collect();
    assert_eq!(ts, want);
    assert!(
        done.iter()
            .filter(|w| w.transfer == T)
            .all(|w| w.result.is_ok())
    );
    assert_eq!(
        fs::read(downloads.path().join("a.part")).unwrap(),
        chunks.concat()
    );
    assert!(files.wait_writes(T).is_empty(), "nothing left of T");

    // The other transfer's failed write comes through collect, after a wake-up.
    let mut events = mio::Events::with_capacity(4);
    let mut rest: Vec<_> = done.into_iter().filter(|w| w.transfer == t2).collect();
    while files.writing() {
        poll.poll(&mut events, Some(std::time::Duration::from_secs(60)))
            .unwrap();
        rest.extend(files.collect_written());
    }
    assert_eq!(rest.len(), 1);
    let err = rest[0].result.as_ref().unwrap_err();
    assert!(
        err.contains("cannot write") && err.contains("b.part"),
        "{err}"
    );
}
