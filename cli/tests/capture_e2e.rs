//! Nothing readable on the wire (issue 17): a registry and two real `confab`
//! peers on 127.0.0.1 log in with a known password, chat, set a profile bio
//! and fetch a shared file, while an `AF_PACKET` socket bound to `lo`
//! captures every loopback packet. Then none of those secrets (the
//! password, the message text, the bio, runs of the file's bytes) may
//! appear anywhere in what the test's own ports carried.
//!
//! So that the test can fail, it also checks what the capture must see:
//! enough bytes on the peers' and the registry's ports for the file to have
//! crossed, and the one thing every connection sends in clear by design
//! (its first frame, a hello naming the protocol version), as a sign that
//! plaintext on the wire would be found.
//!
//! Opening the socket needs root or CAP_NET_RAW; without it the test says
//! why and skips. Linux only.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::json;
use support::{Net, Proc, bytes, open_chat, quit};

/// What the test shares, each distinctive enough never to appear by chance.
const PASSWORD_ALICE: &str = "pw-Capture-Zebra-7731-alice-secret";
const PASSWORD_BOB: &str = "pw-Capture-Quokka-4402-bob-secret";
const MESSAGE: &str = "capture-test message: the heron flies at 0x5EC2E7 dawn";
const BIO: &str = "capture-test bio: collects antique brass sextants";
const FILE_NAME: &str = "capture-secret.bin";
const FILE_LEN: usize = 256 * 1024;

/// The first frame every confab connection sends in clear: `Hello{version:
/// 2, role: Peer, name: None}` as MessagePack.
const CLEAR_HELLO: &[u8] = b"\x81\xa5Hello\x93\x02\xa4Peer\xc0";

/// `ETH_P_ALL` in network order, as `socket(2)` and `sockaddr_ll` take it.
const ETH_P_ALL_BE: u16 = (libc::ETH_P_ALL as u16).to_be();

/// One captured TCP segment with a payload.
struct Segment {
    src: u16,
    dst: u16,
    payload: Vec<u8>,
}

/// A packet socket on `lo`, read by a thread until [`Capture::stop`].
struct Capture {
    stop: Arc<AtomicBool>,
    /// TCP ports whose segments are kept (the test's own).
    ports: Arc<Mutex<Vec<u16>>>,
    segments: Arc<Mutex<Vec<Segment>>>,
    thread: Option<JoinHandle<()>>,
}

impl Capture {
    /// Opens the socket, or says why it cannot.
    fn open() -> Result<Self, String> {
        // SAFETY: plain system calls on a descriptor this function owns;
        // every pointer passed points to a live local of the right size.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(ETH_P_ALL_BE),
            )
        };
        if fd < 0 {
            return Err(format!(
                "cannot open an AF_PACKET socket ({}); this test needs root or CAP_NET_RAW",
                std::io::Error::last_os_error()
            ));
        }
        let close_with = |why: String| {
            // SAFETY: `fd` is ours and not used after this.
            unsafe { libc::close(fd) };
            Err(why)
        };
        // SAFETY: a NUL-terminated name.
        let lo = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
        if lo == 0 {
            return close_with("no loopback interface named lo".into());
        }
        // SAFETY: zeroed is a valid sockaddr_ll; the fields are then set.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = ETH_P_ALL_BE;
        addr.sll_ifindex = lo as i32;
        // SAFETY: `addr` is a sockaddr_ll of the length given.
        let rc = unsafe {
            libc::bind(
                fd,
                (&raw const addr).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if rc != 0 {
            return close_with(format!(
                "cannot bind the packet socket to lo: {}",
                std::io::Error::last_os_error()
            ));
        }
        // A large buffer, so that a burst of the transfer is not dropped
        // while the reader is busy (the checks below would notice: too
        // few bytes seen), and a read timeout, so the reader sees `stop`.
        let buf: libc::c_int = 64 << 20;
        let timeout = libc::timeval {
            tv_sec: 0,
            tv_usec: 100_000,
        };
        // SAFETY: option values of the types the options take.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&raw const buf).cast(),
                std::mem::size_of::<libc::c_int>() as u32,
            );
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                std::mem::size_of::<libc::timeval>() as u32,
            );
        }
        let stop = Arc::new(AtomicBool::new(false));
        let ports = Arc::new(Mutex::new(Vec::new()));
        let segments = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, ports, segments) = (stop.clone(), ports.clone(), segments.clone());
            std::thread::spawn(move || read_packets(fd, &stop, &ports, &segments))
        };
        Ok(Self {
            stop,
            ports,
            segments,
            thread: Some(thread),
        })
    }

    /// Keeps segments to or from `port` from now on.
    fn watch(&self, port: u16) {
        self.ports.lock().unwrap().push(port);
    }

    /// Stops reading (what was queued in the socket is read first) and
    /// returns every kept segment, in the order captured.
    fn stop(mut self) -> Vec<Segment> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().expect("the capture thread");
        }
        std::mem::take(&mut *self.segments.lock().unwrap())
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_packets(
    fd: libc::c_int,
    stop: &AtomicBool,
    ports: &Mutex<Vec<u16>>,
    segments: &Mutex<Vec<Segment>>,
) {
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        // SAFETY: zeroed is a valid sockaddr_ll.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut from_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: `buf` and `from` are live and as long as the lengths say.
        let n = unsafe {
            libc::recvfrom(
                fd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                (&raw mut from).cast(),
                &mut from_len,
            )
        };
        if n < 0 {
            // A timeout (or an interrupted read): stop once asked, and
            // only once the socket has nothing more queued.
            if stop.load(Ordering::SeqCst) {
                break;
            }
            continue;
        }
        // On lo each packet is seen twice, going out and coming in: keep
        // the copy that came in.
        if from.sll_pkttype == libc::PACKET_OUTGOING {
            continue;
        }
        if let Some(seg) = tcp_segment(&buf[..n as usize]) {
            let watched = ports.lock().unwrap();
            if watched.contains(&seg.src) || watched.contains(&seg.dst) {
                drop(watched);
                segments.lock().unwrap().push(seg);
            }
        }
    }
    // SAFETY: `fd` is ours and not used after this.
    unsafe { libc::close(fd) };
}

/// The TCP segment in an Ethernet frame carrying IPv4, if it has a payload.
fn tcp_segment(frame: &[u8]) -> Option<Segment> {
    let ethertype = u16::from_be_bytes(frame.get(12..14)?.try_into().ok()?);
    if ethertype != 0x0800 {
        return None;
    }
    let ip = frame.get(14..)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes(ip.get(2..4)?.try_into().ok()?));
    if *ip.get(9)? != 6 || ihl < 20 || total > ip.len() {
        return None;
    }
    let tcp = ip.get(ihl..total)?;
    let src = u16::from_be_bytes(tcp.get(0..2)?.try_into().ok()?);
    let dst = u16::from_be_bytes(tcp.get(2..4)?.try_into().ok()?);
    let offset = usize::from(tcp.get(12)? >> 4) * 4;
    let payload = tcp.get(offset..)?;
    if payload.is_empty() {
        return None;
    }
    Some(Segment {
        src,
        dst,
        payload: payload.to_vec(),
    })
}

/// Where a peer listens, from its `ready` event.
fn listen_port(p: &Proc) -> u16 {
    let ready = p
        .seen(&json!({"event": "ready"}))
        .first()
        .map(|v| (*v).clone())
        .unwrap_or_else(|| panic!("{} never was ready", p.name));
    ready["listen"]
        .as_str()
        .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
        .map(|a| a.port())
        .unwrap_or_else(|| panic!("no listen address in {ready}"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn nothing_secret_crosses_loopback_in_clear() {
    let capture = match Capture::open() {
        Ok(c) => c,
        Err(why) => {
            println!("SKIPPED nothing_secret_crosses_loopback_in_clear: {why}");
            return;
        }
    };
    let net = Net::new();
    capture.watch(net.addr.port());

    let file = bytes(0x5ec2_e7f1, FILE_LEN);
    std::fs::write(net.share("bob").join(FILE_NAME), &file).unwrap();

    let mut alice = net.start_peer("alice", PASSWORD_ALICE);
    alice.expect(json!({"event": "ready", "name": "alice"}));
    capture.watch(listen_port(&alice));
    let mut bob = net.start_peer("bob", PASSWORD_BOB);
    bob.expect(json!({"event": "ready", "name": "bob"}));
    capture.watch(listen_port(&bob));

    // A chat message, peer to peer.
    open_chat(&mut alice, &mut bob);
    alice.send(&format!("/msg bob {MESSAGE}"));
    bob.expect(json!({"event": "message", "from": "alice", "to": "bob", "text": MESSAGE}));

    // A bio, to the registry and from it to another peer.
    bob.send(&format!("/profile bio {BIO}"));
    bob.expect(json!({"event": "profile", "bio": BIO}));
    bob.send("/whois bob");
    bob.expect(json!({"event": "whois", "name": "bob", "bio": BIO}));
    alice.send("/whois bob");
    alice.expect(json!({"event": "whois", "name": "bob", "bio": BIO}));

    // A shared file, fetched whole.
    alice.send(&format!("/get bob {FILE_NAME}"));
    alice.wait_for("the download's transfer_done", |v| {
        v["event"] == "transfer_done" && v["name"] == FILE_NAME
    });
    let got = std::fs::read(net.downloads("alice").join(FILE_NAME)).unwrap();
    assert!(got == file, "the file arrived changed");

    quit(&mut alice);
    quit(&mut bob);
    let segments = capture.stop();

    // Each direction of each connection as one stream, so that a secret
    // cut across two segments is still found.
    let mut flows: BTreeMap<(u16, u16), Vec<u8>> = BTreeMap::new();
    for s in &segments {
        flows
            .entry((s.src, s.dst))
            .or_default()
            .extend_from_slice(&s.payload);
    }
    let on_port = |port: u16| -> usize {
        flows
            .iter()
            .filter(|((s, d), _)| *s == port || *d == port)
            .map(|(_, b)| b.len())
            .sum()
    };
    let (registry, a, b) = (net.addr.port(), listen_port(&alice), listen_port(&bob));
    let total: usize = flows.values().map(Vec::len).sum();
    println!(
        "captured {} segments, {total} payload bytes in {} flows: registry port {registry}: {} \
         bytes, alice's {a}: {}, bob's {b}: {}",
        segments.len(),
        flows.len(),
        on_port(registry),
        on_port(a),
        on_port(b)
    );

    // The capture saw the traffic: the file crossed a peer port, the
    // registry's port carried the log-ins, and the one plaintext frame of
    // each connection is there to be read.
    assert!(
        on_port(a) + on_port(b) >= FILE_LEN,
        "the capture missed the transfer: {} bytes on the peers' ports",
        on_port(a) + on_port(b)
    );
    assert!(
        on_port(registry) >= 1024,
        "the capture missed the registry traffic"
    );
    let clear_hellos = flows.values().filter(|b| contains(b, CLEAR_HELLO)).count();
    assert!(
        clear_hellos >= 4,
        "only {clear_hellos} flows show the plaintext first frame: the capture cannot be trusted"
    );

    let mut secrets: Vec<(String, Vec<u8>)> = vec![
        ("alice's password".into(), PASSWORD_ALICE.into()),
        ("bob's password".into(), PASSWORD_BOB.into()),
        ("the message text".into(), MESSAGE.into()),
        ("the bio".into(), BIO.into()),
    ];
    for at in (0..FILE_LEN - 64).step_by(FILE_LEN / 16) {
        secrets.push((
            format!("the file's bytes {at}..{}", at + 64),
            file[at..at + 64].to_vec(),
        ));
    }
    let mut found = Vec::new();
    for (what, needle) in &secrets {
        for ((src, dst), stream) in &flows {
            if contains(stream, needle) {
                found.push(format!("{what} on {src} -> {dst}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "readable on the wire:\n{}",
        found.join("\n")
    );
}
