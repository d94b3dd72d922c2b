//! The transfer mix of a peer: `/get` of another peer's shared file,
//! `/send` of one of its own files, `/cancel` of a transfer under way
//! (either side), and now and then a name nobody has, with weights and a
//! pace drawn per seed from a stream of their own (so the chat workload of a
//! seed is the same with transfers as without).
//!
//! Offers are answered by the peer mix's `Answer` turns, like chat
//! requests: accepted, declined, or left to expire. In the settling phase
//! nothing new starts (see [`super::peer`]), so what is under way has the
//! whole heal to end.
//!
//! With `same_names` (the default) a peer offers its files to the same
//! peer again and again, so two downloads of one name meet at a receiver
//! (the sender may even have forgotten the first in a crash while the
//! receiver has not); with `--distinct-names`, each file to each peer at
//! most once.

use std::time::Duration;

use confab_engine::peer::PeerCommand;
use confab_engine::wire::{FileName, Name};

use super::action::Action;
use crate::draw::{self, Rng};
use crate::files::Sources;
use crate::peerview::PeerViews;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Fetch,
    Offer,
    Cancel,
    Missing,
}

/// See the module documentation.
#[derive(Debug)]
pub struct TransferMix {
    rng: Rng,
    weights: Vec<(Pick, u32)>,
    mean_think: Duration,
    next_at: Vec<Duration>,
    /// Each peer's shared files, by peer.
    files: Vec<Vec<FileName>>,
    /// Each peer's local files (what it offers), by peer.
    local: Vec<Vec<FileName>>,
    /// (offering peer, file, receiving peer) offered so far, unless repeats
    /// are allowed.
    offered: Option<std::collections::BTreeSet<(usize, FileName, usize)>>,
}

impl TransferMix {
    /// A mix drawn from `seed` for the peers owning `sources`; with
    /// `repeat_offers`, a file may be offered to one peer more than once.
    pub fn new(seed: u64, sources: &Sources, peers: usize, repeat_offers: bool) -> Self {
        let mut rng = Rng::new(seed);
        let mut w = |hi| draw::between(&mut rng, 0, hi) as u32;
        let weights = vec![
            (Pick::Fetch, w(6) + 1),
            (Pick::Offer, w(5)),
            (Pick::Cancel, w(3)),
            (Pick::Missing, w(1)),
        ];
        let mean_think =
            draw::log_uniform(&mut rng, Duration::from_secs(1), Duration::from_secs(12));
        let next_at = (0..peers)
            .map(|_| draw::exponential(&mut rng, mean_think))
            .collect();
        let names = |offer: bool| -> Vec<Vec<FileName>> {
            (0..peers)
                .map(|p| {
                    sources
                        .of_peer(p)
                        .iter()
                        .filter_map(|f| {
                            FileName::new(if offer { &f.offer_name } else { &f.name }).ok()
                        })
                        .collect()
                })
                .collect()
        };
        Self {
            rng,
            weights,
            mean_think,
            next_at,
            files: names(false),
            local: names(true),
            offered: (!repeat_offers).then(Default::default),
        }
    }

    /// The mix, for the report.
    pub fn describe(&self) -> String {
        let w: Vec<String> = self
            .weights
            .iter()
            .map(|(p, w)| format!("{p:?}={w}").to_lowercase())
            .collect();
        format!(
            "transfers every {:.1} s: {}",
            self.mean_think.as_secs_f64(),
            w.join(" ")
        )
    }

    /// The transfer actions due by `now`, for the running peers named
    /// `names`; none while `settling`.
    pub fn due(
        &mut self,
        now: Duration,
        names: &[Name],
        views: &PeerViews,
        settling: bool,
        out: &mut Vec<Action>,
    ) {
        for me in 0..self.next_at.len() {
            while self.next_at[me] <= now {
                self.next_at[me] += draw::exponential(&mut self.rng, self.mean_think);
                if settling || names.len() < 2 || !views.get(me).running {
                    continue;
                }
                if let Some(cmd) = self.choose(me, names, views) {
                    out.push(Action::Peer { peer: me, cmd });
                }
            }
        }
    }

    fn choose(&mut self, me: usize, names: &[Name], views: &PeerViews) -> Option<PeerCommand> {
        let rng = &mut self.rng;
        let i = rng.below(names.len() as u64 - 1) as usize;
        let other = if i >= me { i + 1 } else { i };
        let any = |rng: &mut Rng, v: &[FileName]| {
            (!v.is_empty()).then(|| v[rng.below(v.len() as u64) as usize].clone())
        };
        Some(match draw::weighted(rng, &self.weights) {
            Pick::Fetch => PeerCommand::Get {
                from: names[other].clone(),
                file: any(rng, &self.files[other])?,
            },
            Pick::Offer => {
                let file = any(rng, &self.local[me])?;
                if let Some(done) = &mut self.offered
                    && !done.insert((me, file.clone(), other))
                {
                    return None;
                }
                PeerCommand::SendFile {
                    to: names[other].clone(),
                    path: file.as_str().to_owned(),
                }
            }
            Pick::Cancel => {
                let live: Vec<_> = views.get(me).transfers.iter().copied().collect();
                if live.is_empty() {
                    return None;
                }
                PeerCommand::Cancel(live[rng.below(live.len() as u64) as usize])
            }
            Pick::Missing if draw::chance(rng, 0.5) => PeerCommand::Get {
                from: names[other].clone(),
                file: FileName::new("missing.bin").ok()?,
            },
            Pick::Missing => PeerCommand::SendFile {
                to: names[other].clone(),
                path: "no/such/file.bin".into(),
            },
        })
    }
}
