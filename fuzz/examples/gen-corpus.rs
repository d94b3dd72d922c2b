//! Writes the seed corpus of every fuzz target into `fuzz/corpus/<target>/`.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example gen-corpus [-- OUT_DIR]
//! ```
//!
//! An example rather than a binary because `cargo fuzz build` builds every
//! binary of this crate with coverage instrumentation and links libFuzzer only
//! into the targets; a plain binary here would fail to link.
//!
//! The corpus is generated, never checked in: seeds come from
//! `confab_fuzz::samples` (one valid message of every kind, and the largest of
//! each limit), so they follow the wire format as it changes. File names are
//! content hashes, as libFuzzer names its own, so running this again over a
//! corpus the fuzzer has grown adds nothing twice and removes nothing.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use confab_engine::call::fragment::split;
use confab_engine::wire::registry::{Profile, RequestBody};
use confab_engine::wire::{Goodbye, Message, encode};
use confab_fuzz::generate::NAME_POOL;
use confab_fuzz::ops::{self, ConnRef, Op};
use confab_fuzz::samples;

#[path = "gen-corpus/peer.rs"]
mod peer;

use peer::peer_scripts;

fn write(dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    std::fs::write(dir.join(format!("seed-{:016x}", h.finish())), bytes)
}

fn body(msg: &Message) -> Vec<u8> {
    encode(msg)[4..].to_vec()
}

/// The deframer's input: no split lengths (the target derives its own from
/// the leading bytes), then the stream.
fn deframer_input(lens: &[u16], frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![u8::try_from(lens.len()).expect("few lengths")];
    for l in lens {
        out.extend(l.to_be_bytes());
    }
    for f in frames {
        out.extend_from_slice(f);
    }
    out
}

/// A frame arriving on connection number `conn`, in pieces of `split` bytes.
fn frame(conn: u8, split: u8, msg: &Message) -> Op {
    Op::Frame {
        conn: ConnRef(conn),
        split,
        body: body(msg),
    }
}

fn req(conn: u8, id: u32, b: RequestBody) -> Op {
    frame(conn, 0, &samples::request(id, b))
}

fn password(job: u8) -> Op {
    Op::Password { job, fail: false }
}

/// Request bodies from the samples, by variant name.
fn body_named(prefix: &str) -> RequestBody {
    samples::request_bodies()
        .into_iter()
        .find(|b| format!("{b:?}").starts_with(prefix))
        .unwrap_or_else(|| panic!("no sample request {prefix}"))
}

/// Accept, hello, register and log in `name` on connection number `conn`
/// (the `conn`-th accepted), answering the password jobs in order.
fn session(conn: u8, name: &str) -> Vec<Op> {
    let n = confab_engine::wire::Name::new(name).expect("pool name");
    let pw = confab_engine::wire::registry::Password(
        confab_engine::bounded::Text::new("hunter2").expect("short"),
    );
    vec![
        Op::Accept {
            remote: conn,
            mode: 0,
        },
        frame(conn, 0, &samples::hello()),
        req(
            conn,
            1,
            RequestBody::Register {
                name: n.clone(),
                password: pw.clone(),
            },
        ),
        password(0),
        req(
            conn,
            2,
            RequestBody::Login {
                name: n,
                password: pw,
                listen: format!("10.0.1.{conn}:7000").parse().expect("addr"),
                stamp: Default::default(),
            },
        ),
        password(0),
    ]
}

/// Scripts for the registry: whole sessions that reach deep states.
fn registry_scripts() -> Vec<Vec<Op>> {
    let mut scripts = Vec::new();

    // One peer through every request, then time passing, logout and goodbye.
    let mut s = session(0, "alice");
    for (i, b) in samples::request_bodies().into_iter().enumerate() {
        s.push(req(0, 10 + i as u32, b));
    }
    s.extend([
        Op::Advance {
            by: Duration::from_secs(10),
        },
        Op::Tick,
        req(0, 40, RequestBody::Logout),
        frame(
            0,
            0,
            &Message::Goodbye(Goodbye {
                code: confab_engine::wire::ErrorCode::Normal,
                reason: confab_engine::bounded::Text::new("bye").expect("short"),
            }),
        ),
        Op::Close { conn: ConnRef(0) },
    ]);
    scripts.push(s);

    // Two peers, one watching presence; the same name logs in twice
    // (session replaced); listings with both online; a silent session times out.
    let mut s = session(0, "alice");
    s.push(req(0, 3, RequestBody::WatchPresence { on: true }));
    s.extend(session(1, "bob"));
    s.push(req(1, 3, body_named("Publish")));
    s.push(req(
        0,
        4,
        RequestBody::Files {
            owner: None,
            after: None,
        },
    ));
    s.push(req(0, 5, RequestBody::List { after: None }));
    s.extend([
        Op::Accept { remote: 2, mode: 0 },
        frame(2, 1, &samples::hello()),
        req(
            2,
            1,
            RequestBody::Login {
                name: confab_engine::wire::Name::new("bob").expect("pool name"),
                password: confab_engine::wire::registry::Password(
                    confab_engine::bounded::Text::new("hunter2").expect("short"),
                ),
                listen: "10.0.1.9:7000".parse().expect("addr"),
                stamp: Default::default(),
            },
        ),
        password(0),
        Op::Advance {
            by: Duration::from_secs(29),
        },
        req(2, 2, RequestBody::Heartbeat),
        Op::Advance {
            by: Duration::from_secs(2),
        },
        Op::Tick,
    ]);
    scripts.push(s);

    // A wrong password, a failed password job, a busy connection.
    let mut s = session(0, "carol");
    s.extend([
        Op::Accept { remote: 1, mode: 0 },
        frame(1, 0, &samples::hello()),
        req(1, 1, body_named("Login")),
        req(1, 2, body_named("Login")),
        Op::Password { job: 0, fail: true },
        password(0),
    ]);
    scripts.push(s);

    // More files than one listing page holds: a full first page, then the
    // next from a cursor, of everyone and of one owner.
    let many: Vec<_> = (0..1500)
        .map(|i| samples::shared(&format!("f{i:04}"), i))
        .collect();
    let cursor = confab_engine::wire::registry::FileCursor {
        owner: confab_engine::wire::Name::new(NAME_POOL[0]).expect("pool name"),
        name: confab_engine::wire::FileName::new("f0999").expect("valid"),
    };
    let mut s = session(0, NAME_POOL[0]);
    s.extend([
        req(
            0,
            3,
            RequestBody::Publish {
                files: confab_engine::bounded::List::new(many).expect("within the limit"),
            },
        ),
        req(
            0,
            4,
            RequestBody::Files {
                owner: None,
                after: None,
            },
        ),
        req(
            0,
            5,
            RequestBody::Files {
                owner: None,
                after: Some(cursor.clone()),
            },
        ),
        req(
            0,
            6,
            RequestBody::Files {
                owner: Some(cursor.owner.clone()),
                after: Some(cursor),
            },
        ),
    ]);
    scripts.push(s);

    // No hello in time; a wrong first message; garbage; an oversized header.
    scripts.push(vec![
        Op::Accept { remote: 0, mode: 0 },
        Op::Accept { remote: 1, mode: 0 },
        Op::Accept { remote: 2, mode: 0 },
        Op::Accept { remote: 3, mode: 0 },
        frame(1, 0, &samples::request(1, RequestBody::Heartbeat)),
        Op::Raw {
            conn: ConnRef(2),
            bytes: vec![0, 0, 0, 3, 0xff, 0xff, 0xff],
        },
        Op::Raw {
            conn: ConnRef(3),
            bytes: vec![0xff, 0xff, 0xff, 0xff],
        },
        Op::Advance {
            by: Duration::from_secs(11),
        },
    ]);

    // Registered, then the host crashes and restarts from its records; then shutdown.
    let mut s = session(0, "d");
    s.push(req(
        0,
        3,
        RequestBody::SetProfile {
            profile: Profile::default(),
        },
    ));
    s.push(Op::Restart);
    s.extend(session(0, "d"));
    s.push(Op::Command { seed: vec![0] });
    scripts.push(s);

    // The encrypted layer: every kind of far end (none, a wrong pin, a
    // registry's role or payload, a certificate shown anyway) logging in;
    // and on an established session, raw bytes below the channel and each
    // attack (replay, bit flip, truncation, the handshake replayed).
    for mode in 1..8u8 {
        let mut s = session(0, "alice");
        s[0] = Op::Accept { remote: 0, mode };
        s.push(req(0, 3, RequestBody::Heartbeat));
        scripts.push(s);
    }
    for how in 0..4u8 {
        let mut s = session(0, "alice");
        s.push(req(0, 3, RequestBody::Heartbeat));
        s.push(Op::Tamper {
            conn: ConnRef(0),
            how: how | 0x24,
        });
        s.push(req(0, 4, RequestBody::Heartbeat));
        scripts.push(s);
    }
    let mut s = session(0, "alice");
    s.push(Op::Raw {
        conn: ConnRef(0),
        bytes: vec![0, 20, 0, 1, 2, 3],
    });
    scripts.push(s);
    let mut s = session(0, "alice");
    s.push(Op::Plain {
        conn: ConnRef(0),
        bytes: vec![0, 0, 0, 3, 0x81, 0xa5, 0x48],
    });
    scripts.push(s);
    // An hour passes on a live, heartbeating session: both sides rekey.
    let mut s = session(0, "alice");
    for i in 0..182 {
        s.extend([
            Op::Advance {
                by: Duration::from_secs(20),
            },
            req(0, 3 + i, RequestBody::Heartbeat),
        ]);
    }
    scripts.push(s);

    // Every kind of message after a hello (those that fit in one operation),
    // split into small pieces.
    for msg in samples::all() {
        let b = body(&msg);
        if b.len() > usize::from(u16::MAX) {
            continue;
        }
        let mut s = session(0, NAME_POOL[1]);
        s.push(Op::Frame {
            conn: ConnRef(0),
            split: 7,
            body: b,
        });
        scripts.push(s);
    }

    // Generated messages from a few seeds, so the generator's paths are warm.
    for i in 0..16u8 {
        let mut s = session(0, NAME_POOL[0]);
        s.push(Op::Message {
            conn: ConnRef(0),
            split: i,
            seed: (0..48)
                .map(|j| i.wrapping_mul(31).wrapping_add(j))
                .collect(),
        });
        scripts.push(s);
    }
    scripts
}

/// Inputs of the `handshake` target (`confab_fuzz::handshake`): a pairing
/// byte (a peer and its registry, pinned or not; two peers, one perhaps
/// forged), a rekey byte (default, or every few records), then operations:
/// `0x00`/`0x80` A/B seals (u16 length), `0x02` seals a lot, `0x03`/`0x83`
/// delivers A's/B's next units (count, piece size), `0x06`/`0x86` raw bytes
/// to B/A, `0x07` flip, `0x08` drop, `0x09` swap, `0x0a` duplicate, `0x0b`
/// truncate (in A's queue; `| 0x80` in B's), `0x0c` time passes, `0x0d` a
/// recorded session replayed to B, `0x0e` everything delivered.
fn handshake_scripts() -> Vec<Vec<u8>> {
    let mut pairings = vec![0u8, 1, 2];
    for fault in 0..5u8 {
        pairings.push(3 | (fault << 2));
        pairings.push(3 | (fault << 2) | 0x80);
    }
    let mut out = Vec::new();
    for &cfg in &pairings {
        for rekey in [0u8, 0x81] {
            let head = [cfg, rekey];
            let scripts: Vec<Vec<u8>> = vec![
                // Honest: both seal, everything delivered, more data.
                vec![0x00, 0, 40, 0x80, 0, 10, 0x0e, 0x00, 1, 0, 0x0e],
                // Step by step, one unit at a time, in 3-byte pieces.
                vec![
                    0x00, 0, 9, 0x03, 0, 3, 0x83, 0, 3, 0x03, 0, 3, 0x83, 0, 3, 0x03, 1, 3,
                ],
                // A raw first frame to each side.
                vec![
                    0x86, 5, 0, 0, 0, 1, 0xc0, 0x06, 4, 0xff, 0xff, 0xff, 0xff, 0x0e,
                ],
                // A valid first frame, then raw bytes as the handshake.
                vec![
                    0x03, 0, 0, 0x06, 34, 0, 32, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0x0e,
                ],
                // Established, then each attack on a record.
                vec![0x0e, 0x00, 0, 9, 0x07, 0, 0, 5, 3, 0x0e],
                vec![0x0e, 0x00, 0, 9, 0x00, 0, 9, 0x08, 0, 0x0e],
                vec![0x0e, 0x00, 0, 9, 0x00, 0, 9, 0x09, 0, 1, 0x0e],
                vec![0x0e, 0x00, 0, 9, 0x0a, 0, 0x0e],
                vec![0x0e, 0x00, 0, 9, 0x0b, 0, 0, 4, 0x0e],
                // Attacks on the handshake itself.
                vec![0x07, 1, 0, 20, 2, 0x0e],
                vec![0x83, 0, 0, 0x89, 0, 1, 0x0e],
                vec![0x0b, 1, 0, 10, 0x0e],
                // Over a MiB held before the handshake; just under it.
                vec![0x02, 130, 0x0e],
                vec![0x02, 127, 0x0e, 0x00, 0, 5, 0x0e],
                // A recorded session replayed, fresh and after the handshake.
                vec![0x0d, 0, 0x0e],
                vec![0x0e, 0x0d, 3, 0x0e],
                // Time passes between records (rekeying by time).
                vec![0x0e, 0x00, 0, 9, 0x0c, 0x10, 0, 0x00, 0, 9, 0x0e],
            ];
            out.extend(scripts.into_iter().map(|s| [&head[..], &s].concat()));
        }
    }
    out
}

/// Inputs of the `lan` target (`confab_fuzz::lan`): runs of datagrams
/// (16-bit length, bytes): a query, signed announcements, a relay, a
/// replay, and the same announcement re-named, unsigned and cut short.
fn lan_scripts() -> Vec<Vec<u8>> {
    use confab_engine::wire::discovery::{LanDatagram, Passed};
    use confab_fuzz::lan::UNIX_MS;
    use confab_fuzz::samples::lan_announcement;
    let run = |ds: &[Vec<u8>]| -> Vec<u8> {
        let mut out = vec![];
        for d in ds {
            out.extend_from_slice(&(d.len() as u16).to_be_bytes());
            out.extend_from_slice(d);
        }
        out
    };
    let bob = lan_announcement(2, "bob", UNIX_MS);
    let carol = lan_announcement(3, "carol", UNIX_MS + 1000);
    let announce = |a: &confab_engine::wire::discovery::Announcement| {
        LanDatagram::Announce(a.clone()).to_bytes()
    };
    let mut renamed = bob.clone();
    renamed.body.name = confab_engine::wire::Name::new("alice").expect("valid");
    let mut unsigned = bob.clone();
    unsigned.signature = confab_engine::wire::identity::Signature([0; 64]);
    let relay = LanDatagram::Relay(Passed {
        ann: carol.clone(),
        addr: std::net::SocketAddr::from(([10, 0, 0, 9], 7000)),
        age_s: 5,
    })
    .to_bytes();
    let full = announce(&bob);
    vec![
        run(&[LanDatagram::Query.to_bytes()]),
        run(&[announce(&bob), announce(&carol)]),
        run(&[announce(&bob), announce(&bob), relay.clone()]),
        run(&[announce(&renamed), announce(&unsigned), relay]),
        run(&[
            full[..full.len() / 2].to_vec(),
            vec![0xd1],
            vec![0xc1, 0, 0],
        ]),
        {
            let reg = confab_fuzz::samples::registry_announcement(4, UNIX_MS);
            let mut moved = reg.clone();
            moved.body.port = 1;
            run(&[
                LanDatagram::Registry(moved).to_bytes(),
                LanDatagram::Registry(reg.clone()).to_bytes(),
                LanDatagram::Registry(reg).to_bytes(),
            ])
        },
    ]
}

/// Inputs of the `datagram` target (`confab_fuzz::datagram`): scripts of
/// steps (16-bit length, a time step in ms, a plaintext a real peer seals)
/// carrying the fragments of two frames, in order and then reordered with a
/// duplicate; and bytes a stranger sends.
fn datagram_scripts() -> Vec<Vec<u8>> {
    let fragments = |frame: u32, len: usize| -> Vec<Vec<u8>> {
        let jpeg = vec![0x5a; len];
        split(frame, u64::from(frame) * 33_000, &jpeg)
            .unwrap_or_default()
            .iter()
            .map(|f| {
                let mut p = vec![];
                f.write(&mut p);
                p
            })
            .collect()
    };
    let script = |parts: &[Vec<u8>]| -> Vec<u8> {
        let mut out = vec![];
        for p in parts {
            out.extend_from_slice(&u16::try_from(p.len()).unwrap_or(u16::MAX).to_be_bytes());
            out.push(5);
            out.extend_from_slice(p);
        }
        out
    };
    let mut in_order = fragments(0, 3000);
    in_order.extend(fragments(1, 500));
    let mut shuffled = in_order.clone();
    shuffled.swap(0, 2);
    shuffled.push(shuffled[1].clone());
    vec![script(&in_order), script(&shuffled), vec![0xC1; 40]]
}

fn main() -> std::io::Result<()> {
    let root: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let dir = |target: &str| -> std::io::Result<PathBuf> {
        let d = root.join(target);
        std::fs::create_dir_all(&d)?;
        Ok(d)
    };

    let messages = samples::all();
    let frames: Vec<Vec<u8>> = messages.iter().map(encode).collect();

    let decode = dir("decode")?;
    for m in &messages {
        write(&decode, &body(m))?;
    }

    // The deframer does not care what a body holds, only how long it is: the
    // largest frames (hundreds of KiB) would only slow it down, so keep those
    // up to the 64 KiB avatar, which still exercises reserving a big frame.
    let deframer = dir("deframer")?;
    let mut deframer_seeds = 4;
    for f in frames.iter().filter(|f| f.len() <= 128 * 1024) {
        write(&deframer, &deframer_input(&[], std::slice::from_ref(f)))?;
        deframer_seeds += 1;
    }
    // Small frames back to back, whole and split at awkward places.
    let small: Vec<Vec<u8>> = frames.iter().filter(|f| f.len() < 256).cloned().collect();
    write(&deframer, &deframer_input(&[], &small))?;
    write(&deframer, &deframer_input(&[1, 3, 5, 4], &small))?;
    // A good frame, then an oversized header; a good frame, then a bad body.
    let mut bad = small[..2].to_vec();
    bad.push(vec![0x00, 0x11, 0x00, 0x01]);
    write(&deframer, &deframer_input(&[2], &bad))?;
    let mut bad = small[..2].to_vec();
    bad.push(vec![0, 0, 0, 2, 0x81, 0xa5]);
    write(&deframer, &deframer_input(&[], &bad))?;

    let registry = dir("registry")?;
    let scripts = registry_scripts();
    for s in &scripts {
        let bytes = ops::encode(s);
        assert_eq!(&ops::parse(&bytes), s, "a script survives its encoding");
        write(&registry, &bytes)?;
    }

    let peer = dir("peer")?;
    let peer_seeds = peer_scripts();
    for s in &peer_seeds {
        let bytes = ops::encode(s);
        assert_eq!(&ops::parse(&bytes), s, "a script survives its encoding");
        write(&peer, &bytes)?;
    }

    let handshake = dir("handshake")?;
    let handshake_seeds = handshake_scripts();
    for s in &handshake_seeds {
        write(&handshake, s)?;
    }

    let datagram = dir("datagram")?;
    let datagram_seeds = datagram_scripts();
    for s in &datagram_seeds {
        write(&datagram, s)?;
    }

    let lan = dir("lan")?;
    let lan_seeds = lan_scripts();
    for s in &lan_seeds {
        write(&lan, s)?;
    }

    println!(
        "wrote {} decode, {} deframer, {} registry, {} peer, {} handshake, {} datagram and {} lan seeds under {}",
        messages.len(),
        deframer_seeds,
        scripts.len(),
        peer_seeds.len(),
        handshake_seeds.len(),
        datagram_seeds.len(),
        lan_seeds.len(),
        root.display()
    );
    Ok(())
}
