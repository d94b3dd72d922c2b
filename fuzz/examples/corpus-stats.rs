//! Replays a registry corpus and counts the states it reaches: which events,
//! which replies and refusals, how many sessions at once. A fuzz run that never
//! logs anyone in would still be "clean"; this says whether it went deep.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example corpus-stats [-- DIR]
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use confab_engine::registry::RegistryEvent;
use confab_engine::wire::registry::ReplyBody;
use confab_engine::wire::{Message, decode};
use confab_engine::{Output, Registry};
use confab_fuzz::{driver, ops};

fn main() -> std::io::Result<()> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/registry"));
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut inputs = 0;
    for entry in std::fs::read_dir(&dir)? {
        let data = std::fs::read(entry?.path())?;
        inputs += 1;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut observe = |out: &Output<RegistryEvent>| {
            let key = match out {
                Output::Event(e) => {
                    let s = format!("{e:?}");
                    let head = s.split([' ', '{', '(']).next().unwrap_or("").to_owned();
                    match e {
                        RegistryEvent::Offline { reason, .. } => {
                            format!("event Offline {reason:?}")
                        }
                        RegistryEvent::Refused { code, .. } => format!("event Refused {code:?}"),
                        _ => format!("event {head}"),
                    }
                }
                Output::Send { bytes, .. } => match decode(&bytes[4..]) {
                    Ok(Message::Reply(r)) => match r.result {
                        Ok(ReplyBody::Users { more, users }) => {
                            format!("reply Users more={more} full={}", users.len() == 1000)
                        }
                        Ok(ReplyBody::Files { more, files }) => {
                            format!("reply Files more={more} full={}", files.len() == 1000)
                        }
                        Ok(b) => format!("reply {:?}", b).chars().take(20).collect(),
                        Err(refusal) => format!("refusal {:?}", refusal.code),
                    },
                    Ok(Message::Goodbye(g)) => format!("goodbye {:?}", g.code),
                    Ok(m) => format!("send {}", m.kind()),
                    Err(_) => "send undecodable".into(),
                },
                Output::Persist(_) => "persist".into(),
                Output::Close { .. } => "close".into(),
                Output::DerivePassword { .. } => "derive password".into(),
                _ => "other".into(),
            };
            *seen.entry(key).or_default() += 1;
        };
        driver::run_observed::<Registry>(&ops::parse(&data), &mut observe);
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
