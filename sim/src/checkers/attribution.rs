//! Attribution: whatever a peer shows as coming from a name was sent by
//! that name. The attacker sends chat requests, invitations, messages,
//! offers and download requests under names it stole; a peer that shows
//! any of them has been fooled (a missing or skipped identity check).
//!
//! Ground truth is what each real peer's own host carried out: every
//! accepted command of the workload (`Observed::Command` with no refusal,
//! journaled before anything it causes can reach another host). Checked as
//! events arrive, at peer `me`:
//! - a `Message` from X: X sent exactly that (run-unique) text to that
//!   conversation;
//! - a `ChatRequest` from X: X asked `me` for a chat (`/chat`) or wrote to
//!   it directly (a message to a friend with no chat asks for one);
//! - a `GroupInvite` from X into G: X invited `me` into G;
//! - a `FileOffer` from X of F: X sent `me` a file named F;
//! - `tN: X is downloading F` (a download request served): X asked `me`
//!   for F;
//! - a received `TransferDone` of F: `me` asked someone for F's source, or
//!   someone offered it to `me`.
//!
//! And from the attacker's own reports: no peer answers a false name with
//! `Verified` (it took the attacker for someone else), and the registry
//! never starts more sessions for the attacker's account than log-ins the
//! attacker sent (a replayed log-in must not work).

use std::collections::BTreeSet;
use std::rc::Rc;

use confab_engine::peer::{Direction, PeerCommand, Target};
use confab_engine::wire::{GroupName, Name};
use confab_engine::{PeerEvent, RegistryEvent};

use super::view::{Checker, View};
use crate::attacker::AttackEvent;
use crate::files::Sources;
use crate::observe::{Observation, Observed, SimCommand, SimEvent, peer_names};

/// See the module documentation.
#[derive(Debug)]
pub struct Attribution {
    names: Vec<Name>,
    sources: Rc<Sources>,
    /// (sender, conversation, text) of every message command.
    texts: BTreeSet<(Name, Target, String)>,
    /// (asker, asked): a chat asked for, or a direct message written.
    asked: BTreeSet<(Name, Name)>,
    /// (inviter, group, invited).
    invited: BTreeSet<(Name, GroupName, Name)>,
    /// (sender, receiver, file name): a file sent.
    offered: BTreeSet<(Name, Name, String)>,
    /// (asker, owner, file name): a file asked for.
    fetched: BTreeSet<(Name, Name, String)>,
    /// Log-ins the attacker sent, and sessions the registry started for it.
    attacker_logins: (u64, u64),
    attacker: Option<Name>,
}

impl Attribution {
    /// A checker for `peers` peers on hosts `1..=peers`, whose files are
    /// `sources`, with an attacker whose account is `attacker`, if any.
    pub fn new(peers: usize, sources: Rc<Sources>, attacker: Option<Name>) -> Self {
        Self {
            names: peer_names(peers)
                .iter()
                .map(|n| Name::new(n).expect("peer names are valid"))
                .collect(),
            sources,
            texts: BTreeSet::new(),
            asked: BTreeSet::new(),
            invited: BTreeSet::new(),
            offered: BTreeSet::new(),
            fetched: BTreeSet::new(),
            attacker_logins: (0, 0),
            attacker,
        }
    }

    fn command(&mut self, me: &Name, cmd: &PeerCommand) {
        let me = me.clone();
        match cmd {
            PeerCommand::Chat(to) => {
                self.asked.insert((me, to.clone()));
            }
            PeerCommand::Message { to, text } => {
                if let Target::User(to) = to {
                    self.asked.insert((me.clone(), to.clone()));
                }
                self.texts.insert((me, to.clone(), text.clone()));
            }
            PeerCommand::Invite { group, name } => {
                self.invited.insert((me, group.clone(), name.clone()));
            }
            PeerCommand::SendFile { to, path } => {
                let name = path.rsplit('/').next().unwrap_or(path);
                self.offered.insert((me, to.clone(), name.to_owned()));
            }
            PeerCommand::Get { from, file } => {
                self.fetched
                    .insert((me, from.clone(), file.as_str().to_owned()));
            }
            _ => {}
        }
    }

    fn event(&self, me: &Name, e: &PeerEvent) -> Result<(), String> {
        let false_name = match e {
            PeerEvent::Message { from, to, text } => {
                let conv = match to {
                    Target::User(_) => Target::User(me.clone()),
                    group => group.clone(),
                };
                let sent = self.texts.contains(&(from.clone(), conv, text.clone()));
                (!sent).then(|| {
                    format!("a message {text:?} from {from} in {to}, which {from} never sent there")
                })
            }
            PeerEvent::ChatRequest { from, .. } => {
                let asked = self.asked.contains(&(from.clone(), me.clone()));
                (!asked)
                    .then(|| format!("a chat request from {from}, who never asked it for a chat"))
            }
            PeerEvent::GroupInvite { from, group, .. } => {
                let invited = (from.clone(), group.clone(), me.clone());
                (!self.invited.contains(&invited)).then(|| {
                    format!("an invitation into {group} from {from}, who never invited it")
                })
            }
            PeerEvent::FileOffer { from, name, .. } => {
                let offered = (from.clone(), me.clone(), name.clone());
                (!self.offered.contains(&offered)).then(|| {
                    format!("an offer of {name:?} from {from}, who never sent it that file")
                })
            }
            PeerEvent::Notice { message } => download_notice(message).and_then(|(from, file)| {
                let asked = (from.clone(), me.clone(), file.clone());
                (!self.fetched.contains(&asked)).then(|| {
                    format!(
                        "a download of {file:?} by {from}, who never asked it for that file \
                         ({message:?})"
                    )
                })
            }),
            PeerEvent::TransferDone {
                direction: Direction::Receive,
                name,
                ..
            } => self.received_unasked(me, name),
            _ => None,
        };
        match false_name {
            Some(what) => Err(format!("{me} showed {what}")),
            None => Ok(()),
        }
    }

    /// Why `me` should not have received the file `name`, if it should not:
    /// it never asked the source's owner for it, nor did the owner send it.
    fn received_unasked(&self, me: &Name, name: &str) -> Option<String> {
        let Some((owner, source)) = self.sources.by_name(name) else {
            return Some(format!("a file {name:?} received, of no peer's"));
        };
        let owner = &self.names[owner];
        let same = |f: &String| {
            self.sources
                .by_name(f)
                .is_some_and(|(_, s)| s.name == source.name)
        };
        let asked = self
            .fetched
            .iter()
            .any(|(by, from, f)| by == me && from == owner && same(f));
        let given = self
            .offered
            .iter()
            .any(|(from, to, f)| from == owner && to == me && same(f));
        (!asked && !given).then(|| {
            format!("{name:?} received, which it never asked {owner} for and {owner} never sent it")
        })
    }

    fn attack(&mut self, e: &AttackEvent) -> Result<(), String> {
        match e {
            AttackEvent::LoginSent => self.attacker_logins.0 += 1,
            AttackEvent::Believed { victim, claimed } => {
                return Err(format!(
                    "{victim} took the attacker for {claimed}: it answered a false \
                     {claimed} with Verified"
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// `("X", "F")` from a sender's notice `tN: X is downloading F`.
fn download_notice(message: &str) -> Option<(Name, String)> {
    let (id, rest) = message.split_once(": ")?;
    id.strip_prefix('t')?.parse::<u64>().ok()?;
    let (from, file) = rest.split_once(" is downloading ")?;
    Some((Name::new(from).ok()?, file.to_owned()))
}

impl Checker for Attribution {
    fn name(&self) -> &'static str {
        "attribution"
    }

    fn observe(&mut self, obs: &Observation, view: &View<'_>) -> Result<(), String> {
        let peer = obs
            .host
            .checked_sub(1)
            .and_then(|i| self.names.get(i))
            .cloned();
        match (&obs.what, peer) {
            (
                Observed::Command {
                    cmd: SimCommand::Peer(cmd),
                    refused: None,
                },
                Some(me),
            ) => self.command(&me, cmd),
            (Observed::Event(SimEvent::Peer(e)), Some(me)) => self.event(&me, e)?,
            (Observed::Event(SimEvent::Attacker(e)), _) => self.attack(e)?,
            (Observed::Event(SimEvent::Registry(RegistryEvent::Online { name, .. })), _)
                if obs.host == view.registry.ix && Some(name) == self.attacker.as_ref() =>
            {
                self.attacker_logins.1 += 1;
                let (sent, sessions) = self.attacker_logins;
                if sessions > sent {
                    return Err(format!(
                        "the registry started session {sessions} for the attacker's account \
                         {name}, which sent only {sent} log-in(s): a replayed log-in worked"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_notices() {
        let n = |s: &str| Name::new(s).unwrap();
        assert_eq!(
            download_notice("t4: peer-001 is downloading p002-a.bin"),
            Some((n("peer-001"), "p002-a.bin".into()))
        );
        assert_eq!(download_notice("t3: asking peer-002 for x"), None);
        assert_eq!(download_notice("refused a Get from peer-002: busy"), None);
    }
}
