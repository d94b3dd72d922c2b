//! How the peers found without a registry (issue 20, the `found` event)
//! are printed: for people, a table with the name, a short fingerprint (two
//! peers claiming one name are told apart by it), the address, how each was
//! found and when it was last heard of (a name claimed by several keys
//! with each key in full, and what `/trust` and `/forget` do); for scripts, the JSON of
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
        // A contested name's keys in full: what `/trust` takes.
        let key = if p.contested {
            format!("{} (name claimed by several keys!)", p.fingerprint)
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
    let mut s = format!(
        "found without a registry ({}; name, key, address, found by, heard):{}",
        peers.len(),
        t.render()
    );
    if peers.iter().any(|p| p.contested) {
        s.push_str(CONTESTED);
    }
    s
}

/// Under a `/who` with a name claimed by several keys: what to do.
const CONTESTED: &str = "\n  a name claimed by several keys is a warning: compare fingerprints \
     with that peer out of band (shown in full above). If it reinstalled, \
     /trust NAME FINGERPRINT accepts its new key; /forget NAME trusts the next key \
     to claim it.";

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

#[cfg(test)]
mod tests {
    use super::*;
    use confab_engine::peer::FoundBy;
    use confab_engine::wire::Name;

    #[test]
    fn a_contested_name_points_at_trust_and_forget() {
        let peer = |fp: &str, contested| FoundPeer {
            name: Name::new("bob").unwrap(),
            fingerprint: fp.repeat(32),
            addr: "10.0.0.2:7000".parse().unwrap(),
            by: FoundBy::Lan,
            age_s: 1,
            contested,
        };
        let quiet = found_lines(&[peer("a", false)]);
        assert!(!quiet.contains("/trust"), "{quiet}");
        let s = found_lines(&[peer("a", true), peer("b", true)]);
        assert!(
            s.contains("several keys!")
                && s.contains("/trust NAME FINGERPRINT")
                && s.contains("/forget NAME"),
            "{s}"
        );
    }
}
