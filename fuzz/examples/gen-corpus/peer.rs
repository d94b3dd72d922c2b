//! Seed scripts of the `peer` target: commands chosen by the bytes
//! `arbitrary` reads for them, and the frames a registry and remote peers
//! send, so the seeds reach log-in, chats, groups and transfers.

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use confab_engine::wire::peer::{Conv, Payload, PeerMessage};
use confab_engine::wire::{Message, Name, TransferKey, TransferMessage};
use confab_fuzz::generate::{GFileName, GGroupName, GName, NAME_POOL};
use confab_fuzz::ops::{ConnRef, Op};
use confab_fuzz::peer::{GPeerCommand, GTarget};
use confab_fuzz::samples;

use super::*;

/// The bytes `arbitrary` reads as variant `index` of an enum of `count`.
fn sel(index: u64, count: u64) -> Vec<u8> {
    let x = (index << 32).div_ceil(count);
    (x as u32).to_le_bytes().to_vec()
}

/// A pool name (`GName::Pool(k)`), as `arbitrary` reads it.
fn gname(k: u8) -> Vec<u8> {
    let mut b = sel(0, 2);
    b.push(k);
    b
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A command op whose seed must decode to `expected` (checked, since the
/// byte layout is `arbitrary`'s).
fn command(seed: Vec<u8>, expected: GPeerCommand) -> Op {
    let got = GPeerCommand::arbitrary_take_rest(Unstructured::new(&seed)).expect("decodes");
    assert_eq!(
        format!("{got:?}"),
        format!("{expected:?}"),
        "a command seed"
    );
    Op::Command { seed }
}

const N_COMMANDS: u64 = 27;

fn chat(k: u8) -> Op {
    command(
        cat(&[&sel(4, N_COMMANDS), &gname(k)]),
        GPeerCommand::Chat(GName::Pool(k)),
    )
}

fn msg_user(k: u8, text: &str) -> Op {
    command(
        cat(&[&sel(7, N_COMMANDS), &sel(0, 2), &gname(k), text.as_bytes()]),
        GPeerCommand::Message {
            to: GTarget::User(GName::Pool(k)),
            text: text.into(),
        },
    )
}

fn msg_group(g: u8, text: &str) -> Op {
    command(
        cat(&[
            &sel(7, N_COMMANDS),
            &sel(1, 2),
            &sel(0, 2),
            &[g],
            text.as_bytes(),
        ]),
        GPeerCommand::Message {
            to: GTarget::Group(GGroupName::Pool(g)),
            text: text.into(),
        },
    )
}

fn group_create(g: u8) -> Op {
    command(
        cat(&[&sel(9, N_COMMANDS), &sel(0, 2), &[g]]),
        GPeerCommand::GroupCreate(GGroupName::Pool(g)),
    )
}

fn invite(g: u8, k: u8) -> Op {
    command(
        cat(&[&sel(10, N_COMMANDS), &sel(0, 2), &[g], &gname(k)]),
        GPeerCommand::Invite {
            group: GGroupName::Pool(g),
            name: GName::Pool(k),
        },
    )
}

fn get(k: u8, f: u8) -> Op {
    command(
        cat(&[&sel(13, N_COMMANDS), &gname(k), &sel(0, 3), &[f]]),
        GPeerCommand::Get {
            from: GName::Pool(k),
            file: GFileName::Pool(f),
        },
    )
}

fn send(k: u8, f: u8) -> Op {
    command(
        cat(&[&sel(12, N_COMMANDS), &gname(k), &sel(0, 3), &[f]]),
        GPeerCommand::SendFile {
            to: GName::Pool(k),
            path: GFileName::Pool(f),
        },
    )
}

fn accept_oldest() -> Op {
    command(
        cat(&[&sel(5, N_COMMANDS), &[0]]),
        GPeerCommand::Accept(None),
    )
}

fn respond(n: usize, how: u8) -> Vec<Op> {
    vec![Op::Respond { pick: 0, how }; n]
}

fn peer_frame(conn: u8, m: Message) -> Op {
    frame(conn, 0, &m)
}

/// The registry connection comes up; the driver greets and answers the
/// log-in and what follows it.
fn peer_login() -> Vec<Op> {
    let mut s = vec![Op::Connected {
        conn: ConnRef(0),
        mode: 0,
    }];
    s.extend(respond(8, 0));
    s
}

/// The peer dials pool name `k` (as connection number `conn`) after a
/// look-up, and the remote greets it.
fn dialed(conn: u8) -> Vec<Op> {
    let mut s = respond(2, 0);
    s.push(Op::Connected {
        conn: ConnRef(conn),
        mode: 0,
    });
    s.extend(respond(1, 0));
    s
}

/// Pool name `k` connects to the peer (as connection number `conn`),
/// proves its name with its certificate, and says hello and its session.
fn inbound(conn: u8, k: u8) -> Vec<Op> {
    let mut s = vec![
        Op::Accept {
            remote: k + 1,
            mode: 0,
        },
        peer_frame(conn, samples::peer_hello(NAME_POOL[usize::from(k)])),
        peer_frame(conn, Message::Peer(PeerMessage::Session { epoch: 7 })),
    ];
    s.extend(respond(2, 0));
    s
}

pub fn peer_scripts() -> Vec<Vec<Op>> {
    let t = |m: TransferMessage| Message::Transfer(m);
    let p = |m: PeerMessage| Message::Peer(m);
    let text = |s: &str| Payload::Text(confab_engine::bounded::Text::new(s).expect("short"));
    let mut scripts = Vec::new();

    // An open chat with messages in flight both ways.
    let mut s = peer_login();
    s.push(chat(1));
    s.extend(dialed(1));
    s.extend(respond(2, 0));
    s.extend([
        msg_user(1, "hello bob"),
        msg_user(1, "second"),
        msg_user(1, "third"),
    ]);
    s.extend(respond(1, 0));
    s.push(peer_frame(
        1,
        p(PeerMessage::Data {
            conv: Conv::Direct,
            seq: 1,
            low: 0,
            payload: text("hi alice"),
        }),
    ));
    s.push(Op::Advance {
        by: Duration::from_millis(1500),
    });
    scripts.push(s.clone());
    // ... then the connection drops and comes back (retransmission), or the host restarts.
    let mut s2 = s.clone();
    s2.extend([Op::Close { conn: ConnRef(1) }, Op::Tick, Op::Tick]);
    s2.extend(dialed(2));
    s2.extend(respond(4, 0));
    scripts.push(s2);
    let mut s3 = s;
    s3.push(Op::Restart);
    s3.extend(peer_login());
    s3.extend(dialed(1));
    scripts.push(s3);

    // An inbound chat request, accepted; messages both ways.
    let mut s = peer_login();
    s.extend(inbound(1, 2));
    s.push(peer_frame(1, p(PeerMessage::ChatRequest)));
    s.push(accept_oldest());
    s.push(peer_frame(
        1,
        p(PeerMessage::Data {
            conv: Conv::Direct,
            seq: 1,
            low: 0,
            payload: text("hi"),
        }),
    ));
    s.push(msg_user(2, "hi carol"));
    scripts.push(s);

    // A group of three mid-invite: bob accepted, carol invited and silent,
    // a message to the group in flight.
    let mut s = peer_login();
    s.push(group_create(0));
    s.push(invite(0, 1));
    s.extend(dialed(1));
    s.extend(respond(1, 0));
    s.push(invite(0, 2));
    s.extend(dialed(2));
    s.push(msg_group(0, "welcome"));
    s.push(Op::Advance {
        by: Duration::from_millis(1200),
    });
    scripts.push(s.clone());
    let mut s2 = s;
    s2.extend(respond(6, 0));
    s2.push(peer_frame(
        1,
        p(PeerMessage::Data {
            conv: Conv::Group(samples::group("#team")),
            seq: 1,
            low: 0,
            payload: text("hello all"),
        }),
    ));
    scripts.push(s2);

    // Invited into a group by an inbound peer; accepted; the welcome arrives.
    let mut s = peer_login();
    s.extend(inbound(1, 1));
    s.push(peer_frame(
        1,
        p(PeerMessage::GroupInvite {
            group: samples::group("#g"),
            members: confab_engine::bounded::List::new(vec![
                Name::new("bob").expect("pool"),
                Name::new("carol").expect("pool"),
            ])
            .expect("short"),
        }),
    ));
    s.push(accept_oldest());
    s.extend(respond(3, 0));
    scripts.push(s);

    // Receiver side of a fetch, mid-stream: 200 bytes in chunks of 64,
    // some chunks written, some in flight.
    let mut s = peer_login();
    s.push(get(1, 0));
    s.extend(dialed(1));
    s.push(Op::Respond { pick: 0, how: 0x50 }); // Manifest: 200 bytes
    s.push(Op::File { work: 0, how: 0 }); // PartOpened, empty
    s.push(Op::Respond { pick: 0, how: 0x41 }); // two chunks, keep serving
    s.push(Op::File { work: 0, how: 0 }); // ChunkWritten
    scripts.push(s.clone());
    let mut s2 = s.clone();
    s2.push(Op::Respond { pick: 0, how: 0x01 });
    s2.extend(vec![Op::File { work: 0, how: 0 }; 6]);
    s2.extend(respond(2, 0));
    s2.extend(vec![Op::File { work: 0, how: 0 }; 4]);
    scripts.push(s2);
    let mut s3 = s.clone();
    s3.extend([Op::Restart]);
    s3.extend(peer_login());
    s3.extend(dialed(1));
    s3.push(Op::Respond { pick: 0, how: 0x50 });
    s3.push(Op::File { work: 0, how: 1 }); // PartOpened, half there: re-hash
    s3.extend(vec![Op::File { work: 0, how: 0 }; 3]);
    scripts.push(s3);

    // Sender side, mid-stream: bob fetches a shared file.
    let mut s = peer_login();
    s.extend(inbound(1, 1));
    s.push(peer_frame(
        1,
        t(TransferMessage::Get {
            key: TransferKey(1),
            name: confab_engine::wire::FileName::new("a.txt").expect("valid"),
        }),
    ));
    s.push(Op::File { work: 0, how: 0x50 }); // SourceOpened: 200 bytes
    s.push(Op::Respond { pick: 0, how: 0 }); // Want
    s.extend(vec![Op::File { work: 0, how: 0 }; 3]); // ChunkRead
    s.push(Op::Respond { pick: 0, how: 0 }); // Ack
    scripts.push(s.clone());
    let mut s2 = s;
    s2.extend(vec![Op::File { work: 0, how: 0 }; 4]);
    s2.extend(respond(6, 0));
    scripts.push(s2);

    // Offering a file: accepted, mid-stream.
    let mut s = peer_login();
    s.push(send(1, 1));
    s.push(Op::File { work: 0, how: 0x60 }); // SourceOpened: 1000 bytes
    s.extend(dialed(1));
    s.push(Op::Respond { pick: 0, how: 0 }); // Accept
    s.push(peer_frame(
        1,
        t(TransferMessage::Want {
            key: TransferKey(0),
            round: 1,
            file: 0,
            offset: 0,
            chunk: 64,
            window: 4,
        }),
    ));
    s.extend(vec![Op::File { work: 0, how: 0 }; 2]);
    scripts.push(s);

    // An inbound offer, accepted: chunks arrive from the remote.
    let mut s = peer_login();
    s.extend(inbound(1, 1));
    s.push(peer_frame(
        1,
        t(TransferMessage::Offer {
            key: TransferKey(2),
            manifest: samples::single("notes.md", 200),
        }),
    ));
    s.push(accept_oldest());
    s.push(Op::File { work: 0, how: 0 });
    s.push(Op::Respond { pick: 0, how: 0x43 });
    s.extend(vec![Op::File { work: 0, how: 0 }; 4]);
    scripts.push(s);

    // The encrypted layer: a registry with another key, a bad binding, a
    // peer's role, or no channel; an inbound peer and a dialed one with
    // every forgery (another name, expired, another registry, none,
    // another key, no channel); attacks on an open chat and on the
    // registry connection.
    for mode in 1..8u8 {
        let mut s = peer_login();
        s[0] = Op::Connected {
            conn: ConnRef(0),
            mode,
        };
        s.push(chat(1));
        s.extend(dialed(1));
        scripts.push(s);
        let mut s = peer_login();
        s.extend(inbound(1, 2));
        s[1] = Op::Accept { remote: 3, mode };
        s.push(peer_frame(1, p(PeerMessage::ChatRequest)));
        scripts.push(s);
        let mut s = peer_login();
        s.push(chat(1));
        let mut d = dialed(1);
        d[2] = Op::Connected {
            conn: ConnRef(1),
            mode,
        };
        s.extend(d);
        s.extend(respond(2, 0));
        scripts.push(s);
    }
    for how in 0..4u8 {
        for conn in 0..2u8 {
            let mut s = peer_login();
            s.push(chat(1));
            s.extend(dialed(1));
            s.extend(respond(2, 0));
            s.push(msg_user(1, "hello bob"));
            s.push(Op::Tamper {
                conn: ConnRef(conn),
                how: how | 0x24,
            });
            s.push(msg_user(1, "again"));
            scripts.push(s);
        }
    }

    // Every peer and transfer sample on a verified inbound link.
    for m in samples::peer_messages()
        .into_iter()
        .map(Message::Peer)
        .chain(
            samples::transfer_messages()
                .into_iter()
                .map(Message::Transfer),
        )
    {
        let mut s = peer_login();
        s.extend(inbound(1, 1));
        s.push(Op::Frame {
            conn: ConnRef(1),
            split: 5,
            body: body(&m),
        });
        s.extend(respond(2, 0));
        scripts.push(s);
    }
    scripts
}
