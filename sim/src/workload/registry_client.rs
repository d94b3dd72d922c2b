//! The action mix of a scripted registry client: what it asks and how often
//! it logs out and back in, with weights drawn per seed.

use crate::client::{Ask, ClientCommand, files_for, profile_for};
use crate::draw::{self, Rng};
use confab_engine::wire::Name;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Offline,
    List,
    Search,
    Lookup,
    Publish,
    Files,
    Watch,
    Profile,
}

/// Weights of each action, drawn per seed.
#[derive(Debug, Clone)]
pub struct ClientMix {
    weights: Vec<(Pick, u32)>,
    /// Chance that an offline client's turn brings it back online.
    comeback: f64,
}

impl ClientMix {
    /// A mix drawn from `rng`: each weight 0..=10 (going offline 0..=3).
    pub fn draw(rng: &mut Rng) -> Self {
        let mut w = |hi| draw::between(rng, 0, hi) as u32;
        let weights = vec![
            (Pick::Offline, w(3)),
            (Pick::List, w(10) + 1),
            (Pick::Search, w(10)),
            (Pick::Lookup, w(10)),
            (Pick::Publish, w(10)),
            (Pick::Files, w(10)),
            (Pick::Watch, w(10)),
            (Pick::Profile, w(10)),
        ];
        let comeback = 0.2 + 0.8 * draw::unit(rng);
        Self { weights, comeback }
    }

    /// The weights, for the report.
    pub fn describe(&self) -> String {
        let w: Vec<String> = self
            .weights
            .iter()
            .map(|(p, w)| format!("{p:?}={w}").to_lowercase())
            .collect();
        format!("{} comeback={:.2}", w.join(" "), self.comeback)
    }

    /// The next command for client `me` of `names`, if any.
    pub fn choose(
        &self,
        rng: &mut Rng,
        names: &[String],
        me: usize,
        wants_online: bool,
        settling: bool,
    ) -> Option<ClientCommand> {
        if !wants_online {
            return (!settling && draw::chance(rng, self.comeback))
                .then_some(ClientCommand::GoOnline);
        }
        let name = Name::new(&names[me]).ok()?;
        let other = |rng: &mut Rng| Name::new(&names[rng.below(names.len() as u64) as usize]).ok();
        let ask = match draw::weighted(rng, &self.weights) {
            Pick::Offline if settling => Ask::List,
            Pick::Offline => return Some(ClientCommand::GoOffline),
            Pick::List => Ask::List,
            Pick::Search => {
                let target = &names[rng.below(names.len() as u64) as usize];
                let len = draw::between(rng, 1, target.len().min(4) as u64) as usize;
                Ask::Search(target[target.len() - len..].to_string())
            }
            Pick::Lookup => Ask::Lookup(other(rng)?),
            Pick::Publish => Ask::Publish(files_for(&name, rng.below(5))),
            Pick::Files => Ask::Files(if draw::chance(rng, 0.5) {
                other(rng)
            } else {
                None
            }),
            Pick::Watch => Ask::WatchPresence(draw::chance(rng, 0.7)),
            Pick::Profile => Ask::SetProfile(profile_for(&name, rng.below(1000))),
        };
        Some(ClientCommand::Ask(ask))
    }
}
