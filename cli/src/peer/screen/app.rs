//! [`App`]: the whole state of the full-screen interface, as a plain struct.
//! Keys change it here ([`App::key`]); what the peer says changes it in
//! `absorb.rs`; the panels draw it with pure functions, which is what lets
//! the snapshot tests render any moment of it. Nothing here touches the
//! terminal, a clock or a thread: the time comes in as a [`Stamp`], and what
//! must happen outside (a line for the input thread, a stop) is queued as
//! [`Out`] for the screen loop to carry out.
//!
//! Lines go to the peer exactly as a person would type them in line mode,
//! through the same parser and input thread; the only rewriting is that
//! plain text is addressed to the conversation shown when Enter was
//! pressed (`/msg TARGET TEXT`), so switching conversations right after
//! never redirects a line.

use std::collections::BTreeSet;
use std::time::Instant;

use confab_engine::TransferId;
use confab_engine::peer::{PeerCommand, Target};
use confab_engine::wire::Name;

use super::browser::Browser;
use super::calls::Calls;
use super::complete::{Words, candidates, common};
use super::editor::Editor;
use super::keys::{Action, Moment};
use super::prompts::{Ask, Prompts};
use super::talk::{Talks, Who};
use super::transfers::Transfers;
use crate::peer::chats::Chats;
use crate::peer::parse::{Parsed, parse};
use crate::safe::Shown;

/// The time, as the caller read it.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub at: Instant,
    /// Milliseconds since the Unix epoch, for the times shown.
    pub unix_ms: u64,
}

/// What the screen loop must do for the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// A line for the input thread, as if typed in line mode.
    Line(String),
    /// Stop the peer (Ctrl+C, as the signal does in line mode).
    Stop,
    /// Leave now (a second Ctrl+C), restoring the terminal first.
    Leave,
}

/// A Tab cycle under way.
#[derive(Debug, Clone)]
struct Cycle {
    start: usize,
    found: Vec<String>,
    next: usize,
}

#[derive(Debug, Default)]
pub struct App {
    pub me: Option<Name>,
    pub talks: Talks,
    pub transfers: Transfers,
    pub prompts: Prompts,
    pub calls: Calls,
    pub browser: Browser,
    pub editor: Editor,
    /// One line above the keys: completion choices, what a key did.
    pub hint: Option<String>,
    /// The peer is stopping.
    pub stopping: bool,
    /// Lines of the conversation panel, as last drawn (a page for PgUp).
    pub page: usize,
    pub(super) chats: Chats,
    /// A conversation this person asked for (a chat requested or
    /// accepted, a group created): shown when it opens.
    pub(super) wanted: Option<Target>,
    /// `/transfers` asked by the interface to name rows, not by a person:
    /// their answers fill the panel without being printed.
    pub(super) silent_transfers: usize,
    pub(super) named: BTreeSet<TransferId>,
    pub(super) out: Vec<Out>,
    cycle: Option<Cycle>,
    interrupts: u8,
}

impl App {
    /// What the screen loop must do now.
    pub fn take_out(&mut self) -> Vec<Out> {
        std::mem::take(&mut self.out)
    }

    /// The key map's view of the moment.
    pub fn moment(&self) -> Moment {
        Moment {
            browser_open: self.browser.open,
            line_empty: self.editor.is_empty(),
        }
    }

    /// A notice in the conversation shown.
    pub(super) fn here(&mut self, now: Stamp, who: Who, text: &str) {
        let i = self.talks.selected();
        self.talks.notice(i, now.unix_ms, who, text);
    }

    /// Queues a line for the input thread.
    pub(super) fn line(&mut self, line: String) {
        self.out.push(Out::Line(line));
    }

    /// Applies one key's action.
    pub fn key(&mut self, action: Action, now: Stamp) {
        if action != Action::Complete {
            self.cycle = None;
        }
        if !matches!(action, Action::Complete | Action::Interrupt) {
            self.hint = None;
        }
        let e = &mut self.editor;
        match action {
            Action::Insert(c) => e.insert(c.encode_utf8(&mut [0; 4])),
            Action::Backspace => e.backspace(),
            Action::Delete => e.delete(),
            Action::Left => e.left(),
            Action::Right => e.right(),
            Action::Home => e.home(),
            Action::End => e.end(),
            Action::DeleteWord => e.delete_word(),
            Action::KillBefore => e.kill_before(),
            Action::KillAfter => e.kill_after(),
            Action::Older => e.older(),
            Action::Newer => e.newer(),
            Action::Submit => self.submit(now),
            Action::Complete => self.complete(),
            Action::PreviousConversation => self.talks.step(false),
            Action::NextConversation => self.talks.step(true),
            Action::Conversation(i) => self.talks.select(i),
            Action::ScrollUp => self.talks.scroll(true, self.page.max(2) - 1),
            Action::ScrollDown => self.talks.scroll(false, self.page.max(2) - 1),
            Action::Accept => self.answer(true),
            Action::Decline => self.answer(false),
            Action::Files => {
                if self.browser.files.is_empty() {
                    self.line("/files".into());
                    self.hint = Some("asking the registry for the shared files".into());
                } else {
                    self.browser.open = !self.browser.open;
                }
            }
            Action::BrowserUp => self.browser.up(),
            Action::BrowserDown => self.browser.down(),
            Action::Fetch => {
                if let Some(get) = self.browser.fetch_line().filter(|_| self.browser.open) {
                    self.hint = Some(format!("fetching: {}", Shown(&get)));
                    self.line(get);
                }
            }
            Action::Close => self.browser.open = false,
            Action::Help => self.line("/help".into()),
            Action::Interrupt => {
                self.interrupts += 1;
                if self.interrupts == 1 {
                    self.stopping = true;
                    self.hint = Some("stopping; Ctrl+C again leaves at once".into());
                    self.out.push(Out::Stop);
                } else {
                    self.out.push(Out::Leave);
                }
            }
            Action::Redraw => {}
        }
    }

    /// Pasted text: typed, line breaks as spaces.
    pub fn paste(&mut self, text: &str) {
        self.cycle = None;
        self.editor.insert(text);
    }

    /// Enter: the line goes to the input thread, as typed (plain text
    /// addressed to the conversation shown).
    fn submit(&mut self, now: Stamp) {
        let typed = self.editor.take();
        if typed.trim().is_empty() {
            return;
        }
        let current = self.talks.current_target().cloned();
        let mut line = typed.clone();
        match parse(&typed, current.as_ref()) {
            Ok(Parsed::Command(PeerCommand::Message { to, text })) => {
                if !typed.starts_with('/') || typed.starts_with("//") {
                    line = format!("/msg {to} {text}");
                }
                self.talks.mine(&to, now.unix_ms, &text);
                let i = self.talks.index(&to);
                self.talks.select(i);
            }
            Ok(Parsed::Command(PeerCommand::Accept(id))) => {
                if let Some(p) = self.prompts.answered(id) {
                    self.want(&p.ask);
                }
            }
            Ok(Parsed::Command(PeerCommand::Decline(id))) => {
                self.prompts.answered(id);
            }
            Ok(Parsed::Command(PeerCommand::Chat(name))) => {
                self.wanted = Some(Target::User(name));
            }
            Ok(Parsed::Command(PeerCommand::GroupCreate(group))) => {
                self.wanted = Some(Target::Group(group));
            }
            _ => {}
        }
        self.line(line);
    }

    /// The conversation an accepted request opens is shown when it opens.
    fn want(&mut self, ask: &Ask) {
        self.wanted = match ask {
            Ask::Chat { from } => Some(Target::User(from.clone())),
            Ask::Group { group, .. } => Some(Target::Group(group.clone())),
            Ask::File { .. } | Ask::Call { .. } => None,
        };
    }

    /// Ctrl+Y / Ctrl+N: answers the request shown.
    fn answer(&mut self, yes: bool) {
        let Some(p) = self.prompts.answered(None) else {
            self.hint = Some("no request is waiting".into());
            return;
        };
        if yes {
            self.want(&p.ask);
        }
        let verb = if yes { "accept" } else { "decline" };
        self.hint = Some(format!("{verb}ed: {}", p.question()));
        self.line(format!("/{verb} {}", p.id));
    }

    /// What Tab may complete to, from what this interface has seen.
    fn words(&self) -> Words {
        let mut w = Words::default();
        for n in self.talks.names() {
            w.names.insert(n.to_string());
        }
        for t in self.talks.list() {
            match &t.target {
                Some(Target::User(n)) => w.names.insert(n.to_string()),
                Some(Target::Group(g)) => w.groups.insert(g.to_string()),
                None => false,
            };
        }
        for f in &self.browser.files {
            w.names.insert(f.owner.to_string());
        }
        w.files = self
            .browser
            .files
            .iter()
            .map(|f| f.owner.to_string())
            .zip(self.browser.names_of(None))
            .collect();
        w
    }

    /// Tab.
    fn complete(&mut self) {
        if let Some(c) = &mut self.cycle {
            let pick = c.found[c.next % c.found.len()].clone();
            c.next += 1;
            let start = c.start;
            self.editor.replace_before_cursor(start, &pick);
            return;
        }
        let before = &self.editor.text()[..self.editor.cursor()];
        let Some((start, found)) = candidates(before, &self.words()) else {
            self.hint = Some("nothing to complete".into());
            return;
        };
        let typed = before[start..].to_owned();
        if let [one] = found.as_slice() {
            let end = if one.ends_with('/') || before.starts_with("/get ") {
                ""
            } else {
                " "
            };
            self.editor
                .replace_before_cursor(start, &format!("{one}{end}"));
            return;
        }
        let shared = common(&found);
        let shown: Vec<String> = found.iter().map(|f| Shown(f).to_string()).collect();
        self.hint = Some(shown.join("  "));
        if shared.len() > typed.len() {
            self.editor.replace_before_cursor(start, &shared);
        } else {
            self.cycle = Some(Cycle {
                start,
                found,
                next: 0,
            });
            self.complete();
        }
    }
}
