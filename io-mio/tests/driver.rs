//! The driver with a tiny echo engine on 127.0.0.1: accept, read, write,
//! outgoing connects (success and failure), timers, durable records, stop.
//! Every wait is for an event or a byte, never a sleep.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use confab_engine::password::{PasswordCost, PasswordDigest, Salt};
use confab_engine::record::AccountRecord;
use confab_engine::wire::Name;
use confab_engine::{CommandError, ConnId, Engine, Input, Output, Record};
use confab_mio::{Driver, DriverConfig, Flow, Sink, Stoppable, Store, listen};

const PATIENCE: Duration = Duration::from_secs(60);

#[derive(Debug)]
enum Cmd {
    Dial(SocketAddr),
    TimerIn(Duration),
    Keep(&'static str),
    Stop,
}

impl Stoppable for Cmd {
    fn stop() -> Self {
        Cmd::Stop
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Accepted,
    Connected,
    ConnectFailed,
    Closed,
    Timer,
}

/// Echoes every byte back; reports what happens.
#[derive(Default)]
struct Echo {
    next: u64,
    conns: Vec<ConnId>,
    out: VecDeque<Output<Ev>>,
    timer: Option<Instant>,
}

impl Echo {
    fn id(&mut self) -> ConnId {
        self.next += 1;
        ConnId(self.next)
    }
}

impl Engine for Echo {
    type Command = Cmd;
    type Event = Ev;

    fn accept(&mut self, _: Instant, _: SocketAddr) -> ConnId {
        let c = self.id();
        self.conns.push(c);
        self.out.push_back(Output::Event(Ev::Accepted));
        c
    }

    fn handle_input(&mut self, _: Instant, input: Input<'_>) {
        match input {
            Input::Received { conn, bytes } => self.out.push_back(Output::Send {
                conn,
                bytes: bytes.to_vec(),
            }),
            Input::Connected { conn } => {
                self.conns.push(conn);
                self.out.push_back(Output::Event(Ev::Connected));
            }
            Input::ConnectFailed { .. } => self.out.push_back(Output::Event(Ev::ConnectFailed)),
            Input::Closed { conn } => {
                self.conns.retain(|c| *c != conn);
                self.out.push_back(Output::Event(Ev::Closed));
            }
            _ => {}
        }
    }

    fn handle_command(&mut self, now: Instant, cmd: Cmd) -> Result<(), CommandError> {
        match cmd {
            Cmd::Dial(addr) => {
                let conn = self.id();
                self.out.push_back(Output::Connect { conn, addr });
            }
            Cmd::TimerIn(d) => self.timer = Some(now + d),
            Cmd::Keep(name) => {
                self.out
                    .push_back(Output::Persist(Record::Account(AccountRecord {
                        name: Name::new(name).unwrap(),
                        salt: Salt([0; 16]),
                        cost: PasswordCost::TESTING,
                        digest: PasswordDigest([0; 32]),
                        profile: Default::default(),
                    })))
            }
            Cmd::Stop => {
                for conn in std::mem::take(&mut self.conns) {
                    self.out.push_back(Output::Send {
                        conn,
                        bytes: b"bye".to_vec(),
                    });
                    self.out.push_back(Output::Close { conn });
                }
            }
        }
        Ok(())
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.timer.is_some_and(|t| t <= now) {
            self.timer = None;
            self.out.push_back(Output::Event(Ev::Timer));
        }
    }

    fn poll_output(&mut self) -> Option<Output<Ev>> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.timer
    }
}

/// Forwards events to the test thread.
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

#[test]
fn echo_connects_timers_records_and_a_clean_stop() {
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).unwrap();
    let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let driver = Driver::new(
        Echo::default(),
        Some(listener),
        Some(store),
        DriverConfig::default(),
    )
    .unwrap();
    let addr = driver.local_addr().unwrap();
    let handle = driver.handle();
    let (tx, events) = mpsc::channel();
    let thread = std::thread::spawn(move || driver.run(&mut Forward(tx)));

    // Inbound: what we write comes back.
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    assert_eq!(next(&events), Ev::Accepted);
    client.write_all(b"hello").unwrap();
    let mut buf = [0u8; 5];
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello");

    // Outbound: a listening port connects, a closed one fails.
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    handle
        .command(Cmd::Dial(target.local_addr().unwrap()))
        .unwrap();
    assert_eq!(next(&events), Ev::Connected);
    let (mut dialed, _) = target.accept().unwrap();
    dialed.set_read_timeout(Some(PATIENCE)).unwrap();
    let closed_port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    handle.command(Cmd::Dial(closed_port)).unwrap();
    assert_eq!(next(&events), Ev::ConnectFailed);

    // Timers come from poll_timeout.
    handle
        .command(Cmd::TimerIn(Duration::from_millis(1)))
        .unwrap();
    assert_eq!(next(&events), Ev::Timer);

    // A record is durable once the driver has gone on.
    handle.command(Cmd::Keep("kept")).unwrap();

    // The remote closing is reported.
    let second = TcpStream::connect(addr).unwrap();
    assert_eq!(next(&events), Ev::Accepted);
    drop(second);
    assert_eq!(next(&events), Ev::Closed);

    // Stop: every connection gets its goodbye, then its end, then run returns.
    handle.stop();
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"bye");
    let mut rest = Vec::new();
    dialed.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"bye");
    thread.join().unwrap().unwrap();

    let store = Store::open(data.path()).unwrap();
    let kept: Vec<String> = store.load().unwrap().iter().map(|r| r.key().0).collect();
    assert_eq!(kept, ["account/kept"]);
}

/// Starts an echo driver with `config`; returns its address, handle, events, thread.
type Running = (
    SocketAddr,
    confab_mio::DriverHandle<Cmd>,
    mpsc::Receiver<Ev>,
    std::thread::JoinHandle<Result<(), confab_mio::DriverError>>,
);

fn echo_driver(config: DriverConfig) -> Running {
    let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let driver = Driver::new(Echo::default(), Some(listener), None, config).unwrap();
    let addr = driver.local_addr().unwrap();
    let handle = driver.handle();
    let (tx, events) = mpsc::channel();
    let thread = std::thread::spawn(move || driver.run(&mut Forward(tx)));
    (addr, handle, events, thread)
}

/// Writes `total` bytes from a thread of its own; ends quietly if the
/// connection is closed under it.
fn write_from_thread(stream: &TcpStream, total: usize) -> std::thread::JoinHandle<()> {
    let mut writer = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        let chunk = vec![7u8; 64 * 1024];
        let mut written = 0;
        while written < total {
            match writer.write(&chunk[..chunk.len().min(total - written)]) {
                Ok(n) => written += n,
                Err(_) => return,
            }
        }
    })
}

#[test]
fn a_queue_at_the_hard_limit_closes_its_connection() {
    // Reads never pause here, so only the hard limit can save the driver.
    let config = DriverConfig {
        high_water: usize::MAX,
        low_water: usize::MAX,
        hard_limit: 1024 * 1024,
        ..DriverConfig::default()
    };
    let (addr, handle, events, thread) = echo_driver(config);
    let client = TcpStream::connect(addr).unwrap();
    assert_eq!(next(&events), Ev::Accepted);
    // The client never reads: the echo piles up in the driver until the limit.
    let writer = write_from_thread(&client, 256 * 1024 * 1024);
    assert_eq!(next(&events), Ev::Closed);
    writer.join().unwrap();
    handle.stop();
    thread.join().unwrap().unwrap();
}

#[test]
fn paused_reads_resume_and_everything_comes_back() {
    // Marks far below what moves, so reads pause and resume many times; a
    // resume that waited for a readiness edge would hang here (it did once).
    // The low hard limit also fails the test if the pause let the queue run away.
    let config = DriverConfig {
        high_water: 128 * 1024,
        low_water: 32 * 1024,
        hard_limit: 1024 * 1024,
        ..DriverConfig::default()
    };
    let (addr, handle, events, thread) = echo_driver(config);
    let client = TcpStream::connect(addr).unwrap();
    assert_eq!(next(&events), Ev::Accepted);
    let total = 32 * 1024 * 1024;
    let writer = write_from_thread(&client, total);
    let mut reader = client;
    reader.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut got = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    while got < total {
        let n = reader.read(&mut buf).unwrap();
        assert!(n > 0, "the driver cut the connection after {got} bytes");
        got += n;
    }
    writer.join().unwrap();
    assert!(events.try_recv().is_err(), "no close was reported");
    handle.stop();
    thread.join().unwrap().unwrap();
}

#[test]
fn outputs_queued_before_the_loop_starts_are_carried_out_at_once() {
    // A peer dials its registry from its constructor; nothing else will wake
    // the loop, so the driver must act on it before its first wait.
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut engine = Echo::default();
    let conn = engine.id();
    engine.out.push_back(Output::Connect {
        conn,
        addr: target.local_addr().unwrap(),
    });
    let driver = Driver::new(engine, None, None, DriverConfig::default()).unwrap();
    let handle = driver.handle();
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || driver.run(&mut Forward(tx)));
    assert_eq!(next(&rx), Ev::Connected);
    let (_accepted, _) = target.accept().unwrap();
    handle.stop();
    thread.join().unwrap().unwrap();
}
