//! The action mix of a peer: chats asked for and answered (consent), bursts
//! of messages, groups created, joined, grown and left, friends added and
//! removed (messages to an offline friend are queued), quits and restarts,
//! with weights drawn per seed.
//!
//! Choices are made from the peer's [`PeerView`] (what its own events said),
//! so a command can still be refused when the engine moved on in between (a
//! request expired in the same tick); the checkers allow that for peers.
//!
//! Every message text is unique in the run, `"{from}>{to}#{n}"`, so the
//! messages checker can tell an altered or invented message from a real one.
//!
//! Transfers are started and cancelled by [`super::transfers`], calls
//! placed, fed and hung up by [`super::calls`]; file offers and calls are
//! answered here like chat requests, except while settling, when they are
//! declined (a transfer accepted late in the heal might not end before
//! the liveness checks).

use confab_engine::peer::{PeerCommand, Target};
use confab_engine::wire::{GroupName, Name};

use super::action::Action;
use crate::draw::{self, Rng};
use crate::peerview::{PeerView, Question};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Quit,
    Chat,
    Answer,
    Burst,
    GroupBurst,
    GroupCreate,
    Invite,
    Leave,
    Friend,
    Unfriend,
    Close,
    Who,
}

/// Weights of each action and the shape of the traffic, drawn per seed.
#[derive(Debug, Clone)]
pub struct PeerMix {
    weights: Vec<(Pick, u32)>,
    /// Chance a stopped peer's turn brings it back.
    comeback: f64,
    /// Chance an answered question is accepted.
    accept: f64,
    /// Chance a waiting question is left alone on an `Answer` turn (so some
    /// expire).
    ignore: f64,
    /// Most messages in one burst.
    burst: u64,
}

impl PeerMix {
    /// A mix drawn from `rng`.
    pub fn draw(rng: &mut Rng) -> Self {
        let mut w = |hi| draw::between(rng, 0, hi) as u32;
        let weights = vec![
            (Pick::Quit, w(2)),
            (Pick::Chat, w(10) + 2),
            (Pick::Answer, w(10) + 4),
            (Pick::Burst, w(10) + 4),
            (Pick::GroupBurst, w(10)),
            (Pick::GroupCreate, w(3)),
            (Pick::Invite, w(8)),
            (Pick::Leave, w(2)),
            (Pick::Friend, w(5)),
            (Pick::Unfriend, w(1)),
            (Pick::Close, w(3)),
            (Pick::Who, w(2)),
        ];
        Self {
            weights,
            comeback: 0.2 + 0.8 * draw::unit(rng),
            accept: 0.5 + 0.5 * draw::unit(rng),
            ignore: 0.3 * draw::unit(rng),
            burst: draw::between(rng, 1, 12),
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
            "{} comeback={:.2} accept={:.2} ignore={:.2} burst<={}",
            w.join(" "),
            self.comeback,
            self.accept,
            self.ignore,
            self.burst
        )
    }

    /// The next actions of peer `me` (named `names[me]`), if any. In the
    /// `settling` phase a peer only answers questions (so queued messages
    /// can still flow) and never quits. `counter` numbers message texts.
    #[allow(clippy::too_many_arguments)]
    pub fn choose(
        &self,
        rng: &mut Rng,
        names: &[Name],
        me: usize,
        view: &PeerView,
        settling: bool,
        counter: &mut u64,
        out: &mut Vec<Action>,
    ) {
        let peer = me;
        if names.len() < 2 {
            return;
        }
        if !view.running {
            if !settling && draw::chance(rng, self.comeback) {
                out.push(Action::Restart { peer });
            }
            return;
        }
        let mut cmd = |cmd: PeerCommand| out.push(Action::Peer { peer, cmd });
        let pick = if settling {
            Pick::Answer
        } else {
            draw::weighted(rng, &self.weights)
        };
        let myself = &names[me];
        let other = |rng: &mut Rng| {
            let i = rng.below(names.len() as u64 - 1) as usize;
            names[if i >= me { i + 1 } else { i }].clone()
        };
        let any_of = |rng: &mut Rng, v: Vec<Name>| {
            (!v.is_empty()).then(|| v[rng.below(v.len() as u64) as usize].clone())
        };
        let groups: Vec<GroupName> = view.groups.keys().cloned().collect();
        let a_group = |rng: &mut Rng| {
            (!groups.is_empty()).then(|| groups[rng.below(groups.len() as u64) as usize].clone())
        };
        let mut next = || {
            *counter += 1;
            *counter
        };
        match pick {
            Pick::Quit => cmd(PeerCommand::Quit),
            Pick::Chat => {
                let to = other(rng);
                if !view.open_chats.contains(&to) {
                    cmd(PeerCommand::Chat(to));
                }
            }
            Pick::Answer => {
                let Some((&id, q)) = view.questions.iter().next() else {
                    return;
                };
                if !settling && draw::chance(rng, self.ignore) {
                    return;
                }
                // Settling: accept, so what waits for this answer can flow
                // (but no new transfer).
                let yes = match q {
                    // A call accepted while settling would go on past the heal.
                    Question::File(_) | Question::Call(_) => {
                        !settling && draw::chance(rng, self.accept)
                    }
                    _ => settling || draw::chance(rng, self.accept),
                };
                // A group invitation into a group of a name already held
                // would be refused by the engine; decline it instead.
                let yes = yes && !matches!(q, Question::Group(g) if view.groups.contains_key(g));
                cmd(if yes {
                    PeerCommand::Accept(Some(id))
                } else {
                    PeerCommand::Decline(Some(id))
                });
            }
            Pick::Burst => {
                let mut to: Vec<Name> = view.open_chats.iter().cloned().collect();
                to.extend(view.friends.iter().cloned());
                let Some(to) = any_of(rng, to) else { return };
                for _ in 0..draw::between(rng, 1, self.burst) {
                    let text = format!("{myself}>{to}#{}", next());
                    cmd(PeerCommand::Message {
                        to: Target::User(to.clone()),
                        text,
                    });
                }
            }
            Pick::GroupBurst => {
                let Some(g) = a_group(rng) else { return };
                for _ in 0..draw::between(rng, 1, self.burst) {
                    let text = format!("{myself}>{g}#{}", next());
                    cmd(PeerCommand::Message {
                        to: Target::Group(g.clone()),
                        text,
                    });
                }
            }
            Pick::GroupCreate => {
                // Unique in the run: the creator, and the run's counter.
                if let Ok(g) = GroupName::new(&format!("#g{}-{}", me + 1, next())) {
                    cmd(PeerCommand::GroupCreate(g));
                }
            }
            Pick::Invite => {
                let Some(g) = a_group(rng) else { return };
                let name = other(rng);
                if !view.groups[&g].contains(&name) {
                    cmd(PeerCommand::Invite { group: g, name });
                }
            }
            Pick::Leave => {
                if let Some(g) = a_group(rng) {
                    cmd(PeerCommand::Leave(g));
                }
            }
            Pick::Friend => cmd(PeerCommand::FriendAdd(other(rng))),
            Pick::Unfriend => {
                let f: Vec<Name> = view.friends.iter().cloned().collect();
                if let Some(f) = any_of(rng, f) {
                    cmd(PeerCommand::FriendRemove(f));
                }
            }
            Pick::Close => {
                let open: Vec<Name> = view.open_chats.iter().cloned().collect();
                if let Some(to) = any_of(rng, open) {
                    cmd(PeerCommand::CloseChat(to));
                }
            }
            Pick::Who => cmd(PeerCommand::Who),
        }
    }
}
