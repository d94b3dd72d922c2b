//! Transfers: every byte a receiver writes is the source's, every finished
//! file is its source, and after the heal nothing is left under way.
//!
//! Ground truth is the run's [`Sources`]: file names are unique in the run
//! and no source changes, so the name of a `.part` says exactly which bytes
//! belong at each offset; and the store never corrupts anything. Hence a
//! transfer between two correct engines never fails verification, never
//! sees a protocol violation, and never writes a byte that differs from its
//! source.
//!
//! Safety, as operations and events arrive:
//! - no chunk is written twice at one offset of one `.part` with different
//!   bytes (per host, since the `.part` was last started afresh, discarded
//!   or finished), and every chunk written holds the source's bytes;
//! - every path the engine names (`.part`, discard, final name) stays in the
//!   downloads folder (relative, no `..`), and nothing is written to a file
//!   that is not open;
//! - a finish never replaces an existing file, and the finished file holds
//!   exactly the source's bytes;
//! - every `TransferDone` carries the source's MD5; a receiver's names a
//!   finished file with the source's bytes (or, after a crash between the
//!   rename and its answer, one was finished from that source);
//! - every `TransferFailed` has a reason, and it is not a failed
//!   verification or a protocol violation;
//! - a transfer that reported `TransferDone` never reports `TransferFailed`.
//!
//! Liveness, after the heal (everyone up, nothing new started while
//! settling): every transfer reported in a host's last incarnation, or
//! restored there from its records, ended with `TransferDone` or
//! `TransferFailed`; no `.part` is left anywhere; every finished file is
//! still there, intact; and no peer holds a transfer at all (one that ended
//! while its peer was unreachable has dialed it and told it).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use confab_engine::peer::Direction;
use confab_engine::transfer::SavedSide;
use confab_engine::wire::Md5;
use confab_engine::wire::Name;
use confab_engine::{PeerEvent, Record, TransferId};

use super::view::{Checker, View};
use crate::files::{DOWNLOADS, HostFiles, Sources, StorageOp};
use crate::observe::{HostIx, Observation, Observed, SimEvent};
use crate::peerview::notice_transfer;

/// Reasons that cannot happen between correct engines over a store that
/// never corrupts and sources that never change.
const IMPOSSIBLE: [&str; 2] = ["failed verification", "protocol violation"];

/// See the module documentation.
pub struct Transfers {
    sources: Rc<Sources>,
    /// The digest of each chunk written, and by which transfer, per host,
    /// `.part` path and offset, since that `.part` last started afresh.
    written: BTreeMap<(HostIx, String, u64), (TransferId, Md5)>,
    /// Files finished, per host and name: the source they came from.
    finals: BTreeMap<(HostIx, String), String>,
    /// Transfers reported or restored and not yet ended, per host (its last
    /// incarnation), with their peer when known.
    open: BTreeMap<(HostIx, TransferId), Option<Name>>,
    /// Transfers that reported `TransferDone`, per host (its last
    /// incarnation, and those it restored as complete).
    done: BTreeSet<(HostIx, TransferId)>,
}

impl Transfers {
    /// A checker against `sources`.
    pub fn new(sources: Rc<Sources>) -> Self {
        Self {
            sources,
            written: BTreeMap::new(),
            finals: BTreeMap::new(),
            open: BTreeMap::new(),
            done: BTreeSet::new(),
        }
    }

    fn forget_part(&mut self, host: HostIx, path: &str) {
        self.written
            .retain(|(h, p, _), _| !(*h == host && p == path));
    }

    fn storage(&mut self, host: HostIx, op: &StorageOp, view: &View<'_>) -> Result<(), String> {
        match op {
            StorageOp::OpenSource { .. } => Ok(()),
            StorageOp::OpenPart { path, fresh, .. } => {
                inside_downloads(path)?;
                if *fresh {
                    self.forget_part(host, path);
                }
                Ok(())
            }
            StorageOp::Write {
                transfer,
                file,
                path,
                offset,
                data,
            } => {
                let Some(path) = path else {
                    return Err(format!(
                        "h{host} {transfer} wrote to its file {file}, which is not open"
                    ));
                };
                inside_downloads(path)?;
                let digest = Md5::of(&data.0);
                let key = (host, path.clone(), *offset);
                if let Some((by, old)) = self.written.insert(key, (*transfer, digest))
                    && old != digest
                {
                    return Err(format!(
                        "h{host} {transfer}: {path}.part at {offset} written twice with \
                         different bytes (first by {by})"
                    ));
                }
                let Some((_, src)) = self.sources.by_name(path) else {
                    return Err(format!(
                        "h{host} {transfer} wrote {path}.part, of no source"
                    ));
                };
                let end = offset.saturating_add(data.0.len() as u64);
                let want = src.bytes.get(*offset as usize..end as usize);
                if want != Some(&data.0[..]) {
                    return Err(format!(
                        "h{host} {transfer} wrote {} bytes at {offset} of {path}.part that are \
                         not the source's (it has {} bytes)",
                        data.0.len(),
                        src.bytes.len()
                    ));
                }
                Ok(())
            }
            StorageOp::Finish {
                transfer,
                path,
                result,
                existed,
                ..
            } => {
                let name = result
                    .as_ref()
                    .map_err(|e| format!("h{host} {transfer}: finishing failed: {e}"))?;
                inside_downloads(name)?;
                if *existed {
                    return Err(format!("h{host} {transfer} replaced the existing {name}"));
                }
                let Some(part) = path else {
                    return Err(format!(
                        "h{host} {transfer} finished {name} from no open .part"
                    ));
                };
                self.forget_part(host, part);
                intact(host, name, part, &self.sources, view)?;
                self.finals.insert((host, name.clone()), part.clone());
                Ok(())
            }
            StorageOp::Discard { path, .. } => {
                inside_downloads(path)?;
                self.forget_part(host, path);
                Ok(())
            }
        }
    }

    fn event(&mut self, host: HostIx, e: &PeerEvent, view: &View<'_>) -> Result<(), String> {
        match e {
            PeerEvent::Notice { message } => {
                if let Some(id) = notice_transfer(message) {
                    let peer = notice_peer(message);
                    let known = self.open.entry((host, id)).or_default();
                    if peer.is_some() {
                        *known = peer;
                    }
                }
            }
            PeerEvent::TransferProgress { id, .. } => {
                self.open.entry((host, *id)).or_default();
            }
            PeerEvent::TransferDone {
                id,
                direction,
                name,
                path,
                md5,
                ..
            } => {
                self.open.remove(&(host, *id));
                self.done.insert((host, *id));
                let Some((_, src)) = self.sources.by_name(name) else {
                    return Err(format!("h{host} {id} reported {name} done, of no source"));
                };
                if *md5 != src.md5 {
                    return Err(format!(
                        "h{host} {id} reported {name} done with MD5 {md5}, the source's is {}",
                        src.md5
                    ));
                }
                if *direction == Direction::Receive {
                    let rel = path.strip_prefix(DOWNLOADS).unwrap_or(path);
                    if files_of(view, host).is_some_and(|f| f.download(rel).is_some()) {
                        intact(host, rel, name, &self.sources, view)?;
                    }
                    let of_src = |part: &str| {
                        self.sources
                            .by_name(part)
                            .is_some_and(|(_, f)| std::ptr::eq(f, src))
                    };
                    if !self
                        .finals
                        .iter()
                        .any(|((h, _), s)| *h == host && of_src(s))
                    {
                        return Err(format!(
                            "h{host} {id} reported {name} received, but no file was finished \
                             from {name}.part"
                        ));
                    }
                }
            }
            PeerEvent::TransferFailed { id, reason } => {
                self.open.remove(&(host, *id));
                if self.done.contains(&(host, *id)) {
                    return Err(format!("h{host} {id} failed after it was done: {reason}"));
                }
                if reason.trim().is_empty() {
                    return Err(format!("h{host} {id} failed without a reason"));
                }
                if IMPOSSIBLE.iter().any(|r| reason.contains(r)) {
                    return Err(format!(
                        "h{host} {id} failed, though sources never change and nothing \
                         corrupts: {reason}"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Checker for Transfers {
    fn name(&self) -> &'static str {
        "transfers"
    }

    fn observe(&mut self, obs: &Observation, view: &View<'_>) -> Result<(), String> {
        match &obs.what {
            Observed::Started { .. } => {
                // What was under way was either lost with the memory (a
                // fetch being served, an offer not yet accepted) or is
                // restored from the records, and must still end.
                self.open.retain(|(h, _), _| *h != obs.host);
                self.done.retain(|(h, _)| *h != obs.host);
                let Some(host) = view.peers.iter().find(|p| p.ix == obs.host) else {
                    return Ok(());
                };
                for r in host.store().records() {
                    let Record::Transfer(t) = r else { continue };
                    match t.side {
                        SavedSide::Receive { complete: true, .. } => {
                            self.done.insert((obs.host, t.id))
                        }
                        // Ended keeping its `.part` (paused, or a late
                        // cancel): only listed until `/resume` or `/get`.
                        SavedSide::Receive { kept: Some(_), .. } => false,
                        _ => {
                            self.open.insert((obs.host, t.id), Some(t.peer));
                            true
                        }
                    };
                }
                Ok(())
            }
            Observed::Storage(op) => self.storage(obs.host, op, view),
            Observed::Event(SimEvent::Peer(e)) => self.event(obs.host, e, view),
            _ => Ok(()),
        }
    }

    fn at_end(&mut self, view: &View<'_>) -> Result<(), String> {
        if let Some(((h, id), peer)) = self.open.iter().next() {
            return Err(format!(
                "h{h} {id} never ended with TransferDone or TransferFailed (peer {peer:?})"
            ));
        }
        for host in view.peers {
            let n = host.engine().as_ref().map_or(0, |p| p.transfer_count());
            // A transfer that ended while its peer was away dials it to say
            // so; after the heal there is nothing left to say.
            if n > 0 {
                return Err(format!(
                    "{} still holds {n} transfer(s) after the heal, all reported ended",
                    host.name
                ));
            }
            let parts: Vec<String> = host
                .files()
                .download_names()
                .into_iter()
                .filter(|n| n.ends_with(".part"))
                .collect();
            if !parts.is_empty() {
                return Err(format!(
                    "{} has {parts:?} left after every transfer ended",
                    host.name
                ));
            }
        }
        for ((h, name), part) in &self.finals {
            intact(*h, name, part, &self.sources, view)?;
        }
        Ok(())
    }
}

/// The peer a transfer's first notice names: `tN: asking P for F`,
/// `tN: P is downloading F`, `tN: offering F to P`.
fn notice_peer(message: &str) -> Option<Name> {
    let (_, rest) = message.split_once(": ")?;
    let name = if let Some(r) = rest.strip_prefix("asking ") {
        r.split(' ').next()?
    } else if let Some((p, _)) = rest.split_once(" is downloading ") {
        p
    } else if rest.starts_with("offering ") {
        rest.rsplit(" to ").next()?
    } else {
        return None;
    };
    Name::new(name).ok()
}

/// The files of host `h`, if it is a peer.
fn files_of<'a>(view: &'a View<'_>, h: HostIx) -> Option<std::cell::Ref<'a, HostFiles>> {
    view.peers.iter().find(|p| p.ix == h).map(|p| p.files())
}

/// `name` in host `h`'s downloads holds exactly source `src`'s bytes.
fn intact(
    h: HostIx,
    name: &str,
    src: &str,
    sources: &Sources,
    view: &View<'_>,
) -> Result<(), String> {
    let Some((_, source)) = sources.by_name(src) else {
        return Err(format!(
            "h{h} finished {name} from {src}.part, of no source"
        ));
    };
    let files = files_of(view, h).ok_or_else(|| format!("h{h} is not a peer"))?;
    let Some(f) = files.download(name) else {
        return Err(format!("h{h}'s finished {name} is gone"));
    };
    if f.len() != source.bytes.len() as u64 || f.bytes()[..] != source.bytes[..] {
        return Err(format!(
            "h{h}'s finished {name} ({} bytes) is not {src} ({} bytes)",
            f.len(),
            source.bytes.len()
        ));
    }
    Ok(())
}

/// `path` (relative to the downloads folder) cannot leave it.
fn inside_downloads(path: &str) -> Result<(), String> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        return Err(format!("a path outside the downloads folder: {path:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_named_by_notices() {
        let n = |s: &str| Name::new(s).ok();
        assert_eq!(
            notice_peer("t3: asking peer-002 for a b.bin"),
            n("peer-002")
        );
        assert_eq!(
            notice_peer("t4: peer-001 is downloading y.bin"),
            n("peer-001")
        );
        assert_eq!(
            notice_peer("t5: offering x to y.bin to peer-006"),
            n("peer-006")
        );
        assert_eq!(
            notice_peer("t6: the part already downloaded does not match"),
            None
        );
    }
}
