//! The driver's file side, driven by a tiny engine that emits whatever file
//! output the test hands it and reports every answer as an event: sources
//! opened on the worker (progress, then the cache sparing a second hash),
//! chunk reads, a `.part` written, read back and finished, refusals. Every
//! wait is for an event, never a sleep.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::os::unix::fs::symlink;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use confab_engine::wire::transfer::RelPath;
use confab_engine::wire::{FileName, Md5};
use confab_engine::{CommandError, ConnId, Engine, Input, Output, Source, SourceInfo, TransferId};
use confab_mio::{Driver, DriverConfig, Flow, Sink, Stoppable, Store};

const PATIENCE: Duration = Duration::from_secs(60);

enum Cmd {
    Do(Box<Output<Ev>>),
    Stop,
}

impl Stoppable for Cmd {
    fn stop() -> Self {
        Cmd::Stop
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Hashing { transfer: TransferId, total: u64 },
    Opened(TransferId, SourceInfo),
    PartOpened(TransferId, u64),
    Read(TransferId, u64, Vec<u8>),
    Written(TransferId, u64),
    Finished(TransferId, String),
    Failed(TransferId, String),
}

/// Emits the outputs it is handed; turns every file answer into an event.
#[derive(Default)]
struct Files {
    out: VecDeque<Output<Ev>>,
}

impl Engine for Files {
    type Command = Cmd;
    type Event = Ev;

    fn accept(&mut self, _: Instant, _: SocketAddr) -> ConnId {
        ConnId(0)
    }

    fn handle_input(&mut self, _: Instant, input: Input<'_>) {
        let ev = match input {
            Input::SourceHashing {
                transfer, total, ..
            } => Ev::Hashing { transfer, total },
            Input::SourceOpened { transfer, source } => Ev::Opened(transfer, source),
            Input::PartOpened { transfer, len, .. } => Ev::PartOpened(transfer, len),
            Input::ChunkRead {
                transfer,
                offset,
                data,
                ..
            } => Ev::Read(transfer, offset, data.to_vec()),
            Input::ChunkWritten {
                transfer, offset, ..
            } => Ev::Written(transfer, offset),
            Input::FileFinished { transfer, path, .. } => Ev::Finished(transfer, path),
            Input::StorageFailed { transfer, error } => Ev::Failed(transfer, error),
            _ => return,
        };
        self.out.push_back(Output::Event(ev));
    }

    fn handle_command(&mut self, _: Instant, cmd: Cmd) -> Result<(), CommandError> {
        if let Cmd::Do(o) = cmd {
            self.out.push_back(*o);
        }
        Ok(())
    }

    fn handle_timeout(&mut self, _: Instant) {}

    fn poll_output(&mut self) -> Option<Output<Ev>> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

struct Forward(mpsc::Sender<Ev>);

impl Sink<Ev> for Forward {
    fn event(&mut self, event: Ev) -> Flow {
        let _ = self.0.send(event);
        Flow::Continue
    }
    fn refused(&mut self, error: CommandError) {
        panic!("refused: {error}");
    }
}

fn next(events: &mpsc::Receiver<Ev>) -> Ev {
    events.recv_timeout(PATIENCE).expect("an event")
}

fn shared(name: &str) -> Source {
    Source::Shared(FileName::new(name).unwrap())
}

#[test]
fn the_driver_carries_out_the_file_contract_on_real_folders() {
    let data = tempfile::tempdir().unwrap();
    let share = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let contents: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(share.path().join("f.bin"), &contents).unwrap();
    std::fs::write(outside.path().join("secret"), b"secret").unwrap();
    symlink(outside.path().join("secret"), share.path().join("link")).unwrap();
    std::fs::write(downloads.path().join("f.bin"), b"the user's own").unwrap();

    let store = Store::open(data.path()).unwrap();
    let mut driver =
        Driver::new(Files::default(), None, Some(store), DriverConfig::default()).unwrap();
    driver
        .files_mut()
        .serve(share.path(), downloads.path())
        .unwrap();
    let handle = driver.handle();
    let (tx, events) = mpsc::channel();
    let thread = std::thread::spawn(move || driver.run(&mut Forward(tx)));
    let send = |o: Output<Ev>| handle.command(Cmd::Do(Box::new(o))).unwrap();

    // A shared file: hashed on the worker (progress first), then described.
    let (t1, t2, t3, t4) = (TransferId(1), TransferId(2), TransferId(3), TransferId(4));
    send(Output::OpenSource {
        transfer: t1,
        source: shared("f.bin"),
    });
    assert_eq!(
        next(&events),
        Ev::Hashing {
            transfer: t1,
            total: contents.len() as u64
        }
    );
    let mut ev = next(&events);
    while matches!(ev, Ev::Hashing { .. }) {
        ev = next(&events);
    }
    let Ev::Opened(_, info) = ev else {
        panic!("{ev:?}")
    };
    assert_eq!(info.files[0].md5, Md5::of(&contents));
    assert_eq!(info.files[0].size, contents.len() as u64);

    // Opened again: the cache answers, no hashing reported.
    send(Output::OpenSource {
        transfer: t2,
        source: shared("f.bin"),
    });
    assert_eq!(next(&events), Ev::Opened(t2, info.clone()));
    send(Output::ReadChunk {
        transfer: t2,
        file: 0,
        offset: 299_990,
        len: 64,
    });
    assert_eq!(
        next(&events),
        Ev::Read(t2, 299_990, contents[299_990..].to_vec())
    );

    // Receiving beside a file the user has: written, read back, finished
    // under a free name; the user's file untouched.
    let path = RelPath::new("f.bin").unwrap();
    send(Output::OpenPart {
        transfer: t3,
        file: 0,
        path: path.clone(),
        size: 6,
        fresh: false,
    });
    assert_eq!(next(&events), Ev::PartOpened(t3, 0));
    for (offset, bytes) in [(3u64, b"def"), (0, b"abc")] {
        send(Output::WriteChunk {
            transfer: t3,
            file: 0,
            offset,
            data: bytes.to_vec(),
        });
        assert_eq!(next(&events), Ev::Written(t3, offset));
    }
    send(Output::ReadChunk {
        transfer: t3,
        file: 0,
        offset: 0,
        len: 6,
    });
    send(Output::FinishFile {
        transfer: t3,
        file: 0,
    });
    assert_eq!(next(&events), Ev::Read(t3, 0, b"abcdef".to_vec()));
    let finished = downloads.path().join("f (1).bin");
    assert_eq!(
        next(&events),
        Ev::Finished(t3, finished.display().to_string())
    );
    assert_eq!(std::fs::read(&finished).unwrap(), b"abcdef");
    assert_eq!(
        std::fs::read(downloads.path().join("f.bin")).unwrap(),
        b"the user's own"
    );
    send(Output::ReleaseFiles { transfer: t3 });

    // A link out of the share folder is refused, through the same path.
    send(Output::OpenSource {
        transfer: t4,
        source: shared("link"),
    });
    let Ev::Failed(t, error) = next(&events) else {
        panic!()
    };
    assert_eq!(t, t4);
    assert!(error.contains("symbolic link"), "{error}");

    // After a release, reads of the transfer fail instead of reading.
    send(Output::ReleaseFiles { transfer: t2 });
    send(Output::ReadChunk {
        transfer: t2,
        file: 0,
        offset: 0,
        len: 1,
    });
    assert!(matches!(next(&events), Ev::Failed(t, _) if t == t2));

    handle.stop();
    thread.join().unwrap().unwrap();
    // The worker let go of the store with the driver.
    Store::open(data.path()).unwrap();
}

#[test]
fn without_folders_files_are_refused_with_a_reason() {
    let driver = Driver::new(Files::default(), None, None, DriverConfig::default()).unwrap();
    let handle = driver.handle();
    let (tx, events) = mpsc::channel();
    let thread = std::thread::spawn(move || driver.run(&mut Forward(tx)));
    handle
        .command(Cmd::Do(Box::new(Output::OpenSource {
            transfer: TransferId(1),
            source: shared("x"),
        })))
        .unwrap();
    let Ev::Failed(_, error) = next(&events) else {
        panic!()
    };
    assert!(error.contains("shares no folder"), "{error}");
    handle
        .command(Cmd::Do(Box::new(Output::OpenPart {
            transfer: TransferId(2),
            file: 0,
            path: RelPath::new("x").unwrap(),
            size: 1,
            fresh: true,
        })))
        .unwrap();
    let Ev::Failed(_, error) = next(&events) else {
        panic!()
    };
    assert!(error.contains("no downloads folder"), "{error}");
    handle.stop();
    thread.join().unwrap().unwrap();
}
