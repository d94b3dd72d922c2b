//! Video calls (issue 21): every frame a peer shows comes from a call that
//! is up, in strictly increasing order (the engine's number and the
//! number the sender wrote into it), and is exactly the frame the other
//! side sent ([`crate::workload::calls::frame`]): nothing reordered,
//! corrupted or forged, whatever the datagram faults. The statistics agree
//! with what was shown: each `call_stats` counts the frames shown since
//! the call started, and so does `call_ended`. A restart or crash ends a
//! host's calls without a word, so its counts start over.

use std::collections::BTreeMap;

use confab_engine::PeerEvent;
use confab_engine::wire::Name;

use super::view::{Checker, View};
use crate::observe::{HostIx, Observation, Observed, SimEvent, peer_names};
use crate::workload::calls::frame;

/// What a host was shown of one call.
#[derive(Debug, Default)]
struct Shown {
    frames: u64,
    last: Option<(u32, u32)>,
}

/// See the module documentation.
pub struct Calls {
    names: Vec<Name>,
    calls: BTreeMap<(HostIx, Name), Shown>,
}

impl Calls {
    pub fn new(peers: usize) -> Self {
        Self {
            names: peer_names(peers)
                .iter()
                .map(|n| Name::new(n).expect("peer names are valid"))
                .collect(),
            calls: BTreeMap::new(),
        }
    }
}

impl Checker for Calls {
    fn name(&self) -> &'static str {
        "calls"
    }

    fn observe(&mut self, obs: &Observation, _view: &View<'_>) -> Result<(), String> {
        let host = obs.host;
        // Peers are hosts 1..=n.
        let Some(me) = host.checked_sub(1).and_then(|i| self.names.get(i)) else {
            return Ok(());
        };
        let e = match &obs.what {
            Observed::Started { .. } | Observed::Crashed { .. } | Observed::Restarted => {
                self.calls.retain(|(h, _), _| *h != host);
                return Ok(());
            }
            Observed::Event(SimEvent::Peer(e)) => e,
            _ => return Ok(()),
        };
        match e {
            PeerEvent::CallStarted { with } => {
                self.calls.insert((host, with.clone()), Shown::default());
            }
            PeerEvent::CallFrame {
                with,
                frame: f,
                jpeg,
                ..
            } => {
                let Some(shown) = self.calls.get_mut(&(host, with.clone())) else {
                    return Err(format!("{me} shown frame {f} of {with} with no call up"));
                };
                let Some(n) = jpeg
                    .get(..4)
                    .map(|b| u32::from_be_bytes(b.try_into().unwrap()))
                else {
                    return Err(format!(
                        "{me} shown a {}-byte frame from {with}",
                        jpeg.len()
                    ));
                };
                if *jpeg != frame(with, me, n) {
                    return Err(format!("{me} shown frame {f} of {with} not as sent"));
                }
                if let Some((lf, ln)) = shown.last
                    && (*f <= lf || n <= ln)
                {
                    return Err(format!(
                        "{me} shown frame {f} (sent as {n}) of {with} after {lf} (sent as {ln})"
                    ));
                }
                shown.last = Some((*f, n));
                shown.frames += 1;
            }
            PeerEvent::CallStats { with, stats } => {
                let shown = self
                    .calls
                    .get(&(host, with.clone()))
                    .map_or(0, |s| s.frames);
                if stats.frames != shown {
                    return Err(format!(
                        "{me}'s stats of the call with {with} count {} frames, {shown} were shown",
                        stats.frames
                    ));
                }
            }
            PeerEvent::CallEnded {
                with,
                frames_received,
                ..
            } => {
                let shown = self
                    .calls
                    .remove(&(host, with.clone()))
                    .map_or(0, |s| s.frames);
                if *frames_received != shown {
                    return Err(format!(
                        "{me}'s call with {with} ended with {frames_received} frames received, {shown} were shown"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}
