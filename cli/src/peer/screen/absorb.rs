//! What each thing the peer says does to the interface's state ([`App`]):
//! a message lands in its conversation, a request becomes a prompt,
//! progress moves a row of the transfers panel, an answer to a command is
//! shown in the conversation on screen (where the person typed it). Pure:
//! the wording of every answer is the line interface's own
//! ([`crate::peer::human::line`]), so both modes say the same thing.

use confab_engine::peer::{PeerEvent, Target};

use super::app::{App, Stamp};
use super::calls::Stage as CallStage;
use super::feed::Feed;
use super::keys::KEYS;
use super::prompts::Ask;
use super::talk::Who;
use super::transfers::{Finished, Stage};
use crate::peer::chats::Closed;
use crate::peer::human::{line, search_line};
use crate::peer::pace::Question;
use crate::peer::words::plain;
use crate::safe::Shown;

impl App {
    /// Takes one thing the peer said.
    pub fn feed(&mut self, feed: Feed, now: Stamp) {
        match feed {
            Feed::Event(event, asked) => self.event(event, asked, now),
            Feed::Sent(cmd) => {
                if let confab_engine::peer::PeerCommand::Chat(name) = &cmd
                    && let Some(said) = self.chats.asking(name)
                {
                    let i = self.talks.index(&Target::User(name.clone()));
                    self.talks.notice(i, now.unix_ms, Who::Notice, &said);
                }
                if let confab_engine::peer::PeerCommand::Call(name) = &cmd
                    && self.calls.stage(name).is_none()
                {
                    self.calls.set(name, CallStage::Ringing);
                    let i = self.talks.index(&Target::User(name.clone()));
                    let said = format!("* calling {name}…");
                    self.talks.notice(i, now.unix_ms, Who::Notice, &said);
                }
            }
            Feed::Said(text) => self.here(now, Who::Notice, &text),
            Feed::Error(text) => self.error(now, &text),
            Feed::Help(commands) => {
                let mut text = String::from("keys:");
                for (key, what) in KEYS {
                    text.push_str(&format!("\n  {key:<22} {what}"));
                }
                text.push_str("\ncommands (type them in the input line):\n");
                text.push_str(&commands);
                self.here(now, Who::Notice, &text);
            }
            Feed::End => {}
        }
    }

    /// An error: shown here; a message the engine refused is marked so.
    fn error(&mut self, now: Stamp, text: &str) {
        let targets: Vec<Target> = self
            .talks
            .list()
            .iter()
            .filter_map(|t| t.target.clone())
            .filter(|t| self.talks.has_pending(t) && text.contains(&t.to_string()))
            .collect();
        for t in targets {
            self.talks.refused(&t);
        }
        self.here(now, Who::Error, &format!("error: {}", Shown(&plain(text))));
    }

    fn event(&mut self, event: PeerEvent, asked: Option<Question>, now: Stamp) {
        let closed = self.chats.follow(&event);
        let ms = now.unix_ms;
        let words = line(&event, self.transfers.rates(), now.at);
        match event {
            PeerEvent::Ready { ref name, .. } => {
                self.me = Some(name.clone());
                self.talks
                    .notice(0, ms, Who::Notice, &words.unwrap_or_default());
            }
            PeerEvent::Users { ref users } => {
                for u in users {
                    self.talks.set_online(&u.name, true);
                }
                let text = match &asked {
                    Some(Question::Search(q)) => search_line(q, users),
                    _ => words.unwrap_or_default(),
                };
                self.here(now, Who::Notice, &text);
            }
            PeerEvent::Files { files } => {
                let n = files.len();
                self.browser.listed(files);
                self.here(
                    now,
                    Who::Notice,
                    &format!(
                        "{n} shared file{} in the browser (F2): Up/Down choose, \
                         Enter fetches, Esc closes",
                        if n == 1 { "" } else { "s" }
                    ),
                );
            }
            PeerEvent::Presence { ref name, online } => {
                self.talks.set_online(name, online);
                let i = self.talks.find(&Target::User(name.clone())).unwrap_or(0);
                self.talks
                    .notice(i, ms, Who::Notice, &words.unwrap_or_default());
            }
            PeerEvent::ChatRequest { id, ref from } => {
                self.prompts.ask(id, Ask::Chat { from: from.clone() });
                self.talks
                    .notice(0, ms, Who::Notice, &words.unwrap_or_default());
            }
            PeerEvent::GroupInvite {
                id,
                ref from,
                ref group,
            } => {
                let ask = Ask::Group {
                    from: from.clone(),
                    group: group.clone(),
                };
                self.prompts.ask(id, ask);
                self.talks
                    .notice(0, ms, Who::Notice, &words.unwrap_or_default());
            }
            PeerEvent::ChatOpened { ref with, .. } => {
                let from = with.clone();
                self.prompts
                    .drop_where(|a| matches!(a, Ask::Chat { from: f } if *f == from));
                self.opened(
                    Target::User(with.clone()),
                    &format!("chat with {with} is open"),
                    now,
                );
            }
            PeerEvent::GroupJoined {
                ref group,
                ref members,
            } => {
                for m in members {
                    self.talks.set_online(m, true);
                }
                let g = group.clone();
                self.prompts
                    .drop_where(|a| matches!(a, Ask::Group { group, .. } if *group == g));
                let names: Vec<&str> = members.iter().map(|m| m.as_str()).collect();
                let said = format!("you are in {group} with {}", names.join(", "));
                self.opened(Target::Group(group.clone()), &said, now);
            }
            PeerEvent::ChatClosed {
                ref with,
                ref reason,
            } => {
                let from = with.clone();
                self.prompts
                    .drop_where(|a| matches!(a, Ask::Chat { from: f } if *f == from));
                let text = if closed == Some(Closed::NeverOpened) {
                    format!("* no chat with {with}: {}", Shown(&plain(reason)))
                } else {
                    words.unwrap_or_default()
                };
                let i = self.talks.find(&Target::User(with.clone()));
                if let Some(i) = i {
                    self.talks.talk_mut(i).open = false;
                }
                self.talks.notice(i.unwrap_or(0), ms, Who::Notice, &text);
            }
            PeerEvent::MemberJoined { ref group, .. } | PeerEvent::MemberLeft { ref group, .. } => {
                if let PeerEvent::MemberJoined { name, .. } = &event {
                    self.talks.set_online(name, true);
                }
                let i = self.talks.index(&Target::Group(group.clone()));
                self.talks
                    .notice(i, ms, Who::Notice, &words.unwrap_or_default());
            }
            PeerEvent::Message { from, to, text } => {
                let target = match to {
                    Target::Group(g) => Target::Group(g),
                    Target::User(_) => Target::User(from.clone()),
                };
                let i = self.talks.index(&target);
                self.talks.message(i, ms, from, &text);
            }
            PeerEvent::Delivered { ref to, seq } => self.talks.delivered(to, seq),
            PeerEvent::Sent {
                ref to,
                seq,
                queued,
            } => {
                self.talks.sent(to, seq, queued);
                if let (true, Some(i)) = (queued, self.talks.find(to)) {
                    self.talks
                        .notice(i, ms, Who::Notice, &words.unwrap_or_default());
                }
            }
            PeerEvent::FileOffer {
                id,
                ref from,
                ref name,
                size,
                transfer,
            } => {
                self.transfers.offered(transfer, from, name, size);
                let ask = Ask::File {
                    from: from.clone(),
                    name: name.clone(),
                    size,
                    transfer,
                };
                self.prompts.ask(id, ask);
                self.here(now, Who::Notice, &words.unwrap_or_default());
            }
            PeerEvent::TransferProgress {
                id, done, total, ..
            } => {
                self.prompts
                    .drop_where(|a| matches!(a, Ask::File { transfer, .. } if *transfer == id));
                self.transfers.progress(id, done, total, now.at);
                if self.transfers.unnamed(id) && self.named.insert(id) {
                    // A transfer started here (`/get`, `/send`): its
                    // name comes with the engine's list.
                    self.silent_transfers += 1;
                    self.line("/transfers".into());
                }
            }
            PeerEvent::TransferDone {
                id,
                ref name,
                direction,
                size,
                ..
            } => {
                let done = Finished {
                    name,
                    direction,
                    size,
                };
                self.transfers.ended(id, Stage::Done, Some(done));
                self.here(now, Who::Notice, &words.unwrap_or_default());
            }
            PeerEvent::TransferFailed { id, .. } | PeerEvent::TransferPaused { id, .. } => {
                let stage = if matches!(event, PeerEvent::TransferFailed { .. }) {
                    Stage::Failed
                } else {
                    Stage::Paused
                };
                self.prompts
                    .drop_where(|a| matches!(a, Ask::File { transfer, .. } if *transfer == id));
                if self.transfers.unnamed(id) {
                    self.transfers.forget(id);
                } else {
                    self.transfers.ended(id, stage, None);
                }
                self.here(now, Who::Error, &words.unwrap_or_default());
            }
            PeerEvent::Transfers { ref transfers } => {
                self.transfers.listed(transfers);
                if self.silent_transfers > 0 {
                    self.silent_transfers -= 1;
                } else {
                    self.here(now, Who::Notice, &words.unwrap_or_default());
                }
            }
            PeerEvent::History { ref with, .. } => {
                // Asked for by this person: shown in that conversation.
                let i = self.talks.index(with);
                self.talks
                    .notice(i, ms, Who::Notice, &words.unwrap_or_default());
                self.talks.select(i);
            }
            PeerEvent::CallRequest { id, ref from } => {
                self.calls.set(from, CallStage::Asked);
                self.prompts.ask(id, Ask::Call { from: from.clone() });
                let i = self.talks.index(&Target::User(from.clone()));
                self.talks
                    .notice(i, ms, Who::Notice, &words.unwrap_or_default());
            }
            PeerEvent::CallStarted { ref with } | PeerEvent::CallEnded { ref with, .. } => {
                let from = with.clone();
                self.prompts
                    .drop_where(|a| matches!(a, Ask::Call { from: f } if *f == from));
                if matches!(event, PeerEvent::CallStarted { .. }) {
                    self.calls.set(with, CallStage::Up);
                } else {
                    self.calls.ended(with);
                }
                let i = self.talks.index(&Target::User(with.clone()));
                self.talks
                    .notice(i, ms, Who::Notice, &words.unwrap_or_default());
            }
            PeerEvent::CallStats { ref with, stats } => self.calls.stats(with, stats),
            PeerEvent::Error { ref message } => self.error(now, message),
            PeerEvent::Stopped { .. } => {
                self.stopping = true;
                self.here(now, Who::Notice, &words.unwrap_or_default());
            }
            PeerEvent::Path { ref with, via } => {
                self.transfers.path(with, via);
                self.here(now, Who::Notice, &words.unwrap_or_default());
            }
            PeerEvent::KeyChanged { .. } | PeerEvent::RegistryLost { .. } => {
                self.here(now, Who::Error, &words.unwrap_or_default());
            }
            _ => {
                if let Some(text) = words {
                    self.here(now, Who::Notice, &text);
                }
            }
        }
    }

    /// A chat or group opened: shown at once if this person asked for it,
    /// or typed nothing yet (a half-typed line never changes its address).
    fn opened(&mut self, target: Target, said: &str, now: Stamp) {
        let i = self.talks.index(&target);
        self.talks.talk_mut(i).open = true;
        self.talks
            .notice(i, now.unix_ms, Who::Notice, &format!("* {said}"));
        if self.wanted.as_ref() == Some(&target) || self.editor.is_empty() {
            self.wanted = None;
            self.talks.select(i);
        }
    }
}
