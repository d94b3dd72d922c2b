//! How the peers found without a registry (issue 20, the `found` event)
//! are printed: for people, a table with the name, a short fingerprint (two
//! peers claiming one name are told apart by it), the address, how each was
//! found and when it was last heard of; for scripts, the JSON of
//! `docs/events.md`. Names came from the network: through `safe.rs` only.

use confab_engine::peer::FoundPeer;
use serde_json::{Value, json};

use super::columns::{Align, Table};
use crate::safe::Shown;

/// Hex digits of a fingerprint shown in the table (the JSON has all 32).
const SHORT_FINGERPRINT: usize = 8;

/// The human text of a `found` event.
pub fn found_lines(peers: &[FoundPeer]) -> String {
    if peers.is_empty() {
        return "no peer heard on the LAN yet".into();
    }
    let mut t = Table::new(&[
        Align::Left,
        Align::Left,
        Align::Left,
        Align::Left,
        Align::Right,
    ]);
    for p in peers {
        let short = p
            .fingerprint
            .get(..SHORT_FINGERPRINT)
            .unwrap_or(&p.fingerprint);
        let key = if p.contested {
            format!("{short} (name claimed by several keys!)")
        } else {
            short.to_string()
        };
        t.row(vec![
            Shown(p.name.as_str()).to_string(),
            key,
            p.addr.to_string(),
            p.by.as_str().to_string(),
            format!("{} s ago", p.age_s),
        ]);
    }
    format!(
        "found without a registry ({}; name, key, address, found by, heard):{}",
        peers.len(),
        t.render()
    )
}

/// The JSON of a `found` event.
pub fn found_json(peers: &[FoundPeer]) -> Value {
    json!({
        "event": "found",
        "peers": peers.iter().map(|p| json!({
            "name": p.name.as_str(),
            "fingerprint": p.fingerprint,
            "addr": p.addr.to_string(),
            "by": p.by.as_str(),
            "age_s": p.age_s,
            "contested": p.contested,
        })).collect::<Vec<_>>(),
    })
}
