//! Replays a corpus and counts the states it reaches: which events, which
//! messages, replies and refusals, which file work. A fuzz run that never
//! logs anyone in would still be "clean"; this says whether it went deep.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example corpus-stats [-- registry|peer [DIR]]
//! cargo run --manifest-path fuzz/Cargo.toml --example corpus-stats -- trace FILE   # a peer input, output by output
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use confab_engine::registry::RegistryEvent;
use confab_engine::wire::Message;
use confab_engine::wire::registry::ReplyBody;
use confab_engine::{Output, Peer, PeerEvent, Registry};
use confab_fuzz::driver::Seen;
use confab_fuzz::{driver, ops};

fn head(s: &str) -> String {
    s.split([' ', '{', '(']).next().unwrap_or("").to_owned()
}

fn sent_key(msg: &Message) -> String {
    match msg.clone() {
        Message::Reply(r) => match r.result {
            Ok(ReplyBody::Users { more, users }) => {
                format!("reply Users more={more} full={}", users.len() == 1000)
            }
            Ok(ReplyBody::Files { more, files }) => {
                format!("reply Files more={more} full={}", files.len() == 1000)
            }
            Ok(b) => format!("reply {:?}", b).chars().take(20).collect(),
            Err(refusal) => format!("refusal {:?}", refusal.code),
        },
        Message::Goodbye(g) => format!("goodbye {:?}", g.code),
        Message::Request(r) => format!("request {}", head(&format!("{:?}", r.body))),
        Message::Transfer(t) => format!("send transfer {}", t.kind()),
        m => format!("send {}", m.kind()),
    }
}

fn other_key<E>(out: &Output<E>) -> String {
    match out {
        Output::Send { .. } => "wire bytes".into(),
        Output::Persist(r) => format!("persist {}", head(&format!("{r:?}"))),
        Output::Forget(_) => "forget".into(),
        Output::Close { .. } => "close".into(),
        Output::Connect { .. } => "connect".into(),
        Output::DerivePassword { .. } => "derive password".into(),
        Output::OpenSource { .. } => "file OpenSource".into(),
        Output::OpenPart { fresh, .. } => format!("file OpenPart fresh={fresh}"),
        Output::ReadChunk { .. } => "file ReadChunk".into(),
        Output::WriteChunk { .. } => "file WriteChunk".into(),
        Output::FinishFile { .. } => "file FinishFile".into(),
        Output::DiscardPart { .. } => "file DiscardPart".into(),
        Output::ReleaseFiles { .. } => "file ReleaseFiles".into(),
        Output::SendDatagram { .. } => "datagram".into(),
        Output::Event(_) => unreachable!("events are keyed by the caller"),
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let target = args.next().unwrap_or_else(|| "registry".into());
    let path: PathBuf = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(&target)
    });
    if target == "trace" {
        let data = std::fs::read(&path)?;
        let ops = ops::parse(&data);
        for op in &ops {
            println!("op {op:?}");
        }
        driver::run_observed::<Peer>(&ops, &mut |s: Seen<'_, PeerEvent>| match s {
            Seen::Sent(conn, msg) => println!("  {conn} <- {msg:?}"),
            Seen::Output(Output::Send { conn, bytes }) => {
                println!(
                    "  {conn} <- {} bytes on the wire {:02x?}",
                    bytes.len(),
                    &bytes[..bytes.len().min(24)]
                )
            }
            Seen::Output(other) => println!("  {other:?}"),
        });
        return Ok(());
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut inputs = 0;
    for entry in std::fs::read_dir(&path)? {
        let data = std::fs::read(entry?.path())?;
        inputs += 1;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let ops = ops::parse(&data);
        if target == "peer" {
            driver::run_observed::<Peer>(&ops, &mut |s: Seen<'_, PeerEvent>| {
                let key = match s {
                    Seen::Sent(_, msg) => sent_key(msg),
                    Seen::Output(Output::Event(e)) => format!("event {}", head(&format!("{e:?}"))),
                    Seen::Output(other) => other_key(other),
                };
                *seen.entry(key).or_default() += 1;
            });
        } else {
            driver::run_observed::<Registry>(&ops, &mut |s: Seen<'_, RegistryEvent>| {
                let key = match s {
                    Seen::Sent(_, msg) => sent_key(msg),
                    Seen::Output(Output::Event(e)) => match e {
                        RegistryEvent::Offline { reason, .. } => {
                            format!("event Offline {reason:?}")
                        }
                        RegistryEvent::Refused { code, .. } => format!("event Refused {code:?}"),
                        _ => format!("event {}", head(&format!("{e:?}"))),
                    },
                    Seen::Output(other) => other_key(other),
                };
                *seen.entry(key).or_default() += 1;
            });
        }
        for k in seen.into_keys() {
            *counts.entry(k).or_default() += 1;
        }
    }
    println!("{inputs} inputs; how many reach each output:");
    for (k, n) in counts {
        println!("{n:8}  {k}");
    }
    Ok(())
}
