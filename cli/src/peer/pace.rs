//! [`Pace`]: when the input thread may hand the engine its next command.
//! The driver thread reports what the peer says; the input thread waits:
//!
//! - before its first command (end of input included), for the first log-in
//!   to end, so a piped script never races the log-in (its `/who` would find
//!   no registry session yet) and an empty script's end of input cannot turn
//!   a refused log-in into a normal stop;
//! - before `/quit` (or end of input), for the answers to the registry
//!   questions it asked (`/who`, `/search`, `/whois`, `/files`), because the
//!   engine stops at once and drops a question still on its way:
//!   `echo /who | confab peer` must print the users.
//!
//! Knowing the questions in order also tells the printer what an answer
//! answers: the same `users` event answers `/who` and `/search`.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use confab_engine::peer::{PeerCommand, PeerEvent};
use confab_engine::wire::Name;

/// How the first log-in ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Logged in: commands may go to the engine.
    LoggedIn,
    /// The peer stopped first (refused log-in, Ctrl-C): nothing more to send.
    Stopped,
}

/// A registry question on its way, as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    Who,
    /// `/search TEXT`: its answer is worded with the text.
    Search(String),
    Whois,
    Files,
    /// `/avatar NAME`: a whois whose answer is saved, not shown.
    Avatar(Name),
    /// `/friend add NAME`: a whois first, so that a name without an
    /// account is pointed out; its answer is not shown.
    Account(Name),
}

impl Question {
    /// The question `cmd` asks, if it asks the registry one.
    pub fn of(cmd: &PeerCommand) -> Option<Self> {
        Some(match cmd {
            PeerCommand::Who => Question::Who,
            PeerCommand::Search(text) => Question::Search(text.clone()),
            PeerCommand::Whois(_) => Question::Whois,
            PeerCommand::Files(_) => Question::Files,
            _ => return None,
        })
    }

    fn answered_by(&self, event: &PeerEvent) -> bool {
        matches!(
            (self, event),
            (Question::Who | Question::Search(_), PeerEvent::Users { .. })
                | (
                    Question::Whois | Question::Avatar(_) | Question::Account(_),
                    PeerEvent::Whois { .. }
                )
                | (Question::Files, PeerEvent::Files { .. })
        )
    }
}

#[derive(Debug, Default)]
struct State {
    login: Option<Outcome>,
    /// Registry questions asked and not answered yet, oldest first (the
    /// registry answers in order).
    owed: VecDeque<Question>,
    stopped: bool,
    /// The answer to the last [`Question::Account`]: `Err` with why not.
    account: Option<Result<(), String>>,
}

/// Shared between threads; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Pace(Arc<(Mutex<State>, Condvar)>);

impl Pace {
    fn change<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let (state, changed) = &*self.0;
        let t = f(&mut state.lock().unwrap_or_else(|p| p.into_inner()));
        changed.notify_all();
        t
    }

    fn wait_until<T>(&self, mut done: impl FnMut(&State) -> Option<T>) -> T {
        let (state, changed) = &*self.0;
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(t) = done(&s) {
                return t;
            }
            s = changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Follows what the peer reports; returns the question `event` answers,
    /// if it answers one.
    pub fn follow(&self, event: &PeerEvent) -> Option<Question> {
        self.change(|s| match event {
            PeerEvent::Ready { .. } => {
                s.login.get_or_insert(Outcome::LoggedIn);
                None
            }
            PeerEvent::Stopped { .. } => {
                s.login.get_or_insert(Outcome::Stopped);
                s.stopped = true;
                None
            }
            // A question that failed is answered by an error; an error that
            // answers something else only lets `/quit` go a little early.
            PeerEvent::Error { message } => {
                let q = s.owed.pop_front();
                if let Some(Question::Account(_)) = q {
                    s.account = Some(Err(message.clone()));
                }
                q
            }
            _ => {
                let i = s.owed.iter().position(|q| q.answered_by(event))?;
                let q = s.owed.remove(i);
                if let Some(Question::Account(_)) = q {
                    s.account = Some(Ok(()));
                }
                q
            }
        })
    }

    /// The engine refused a command (a question among them, perhaps) for
    /// `why`; true when that answers an account check, which says it itself.
    /// The engine refuses a command as it takes it, so while the input
    /// thread waits on an account check (the last question asked), a
    /// refusal is most likely that check's; otherwise the oldest question's.
    pub fn refused(&self, why: &str) -> bool {
        self.change(|s| {
            let q = match s.owed.back() {
                Some(Question::Account(_)) => s.owed.pop_back(),
                _ => s.owed.pop_front(),
            };
            if let Some(Question::Account(_)) = q {
                s.account = Some(Err(why.to_owned()));
                return true;
            }
            false
        })
    }

    /// Blocks until the account check asked last is answered: `Err` with
    /// why it failed (also when the peer stopped).
    pub fn account(&self) -> Result<(), String> {
        let (state, changed) = &*self.0;
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(answer) = s.account.take() {
                return answer;
            }
            if s.stopped {
                return Err("the peer stopped".into());
            }
            s = changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Called before a command goes to the engine, with the question it
    /// asks, if any.
    pub fn asking(&self, question: Option<Question>) {
        if let Some(q) = question {
            self.change(|s| s.owed.push_back(q));
        }
    }

    /// Blocks until the first log-in has ended.
    pub fn logged_in(&self) -> Outcome {
        self.wait_until(|s| s.login)
    }

    /// Blocks until every question asked is answered (or the peer stopped).
    pub fn answered(&self) {
        self.wait_until(|s| (s.owed.is_empty() || s.stopped).then_some(()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_engine::wire::ErrorCode;

    #[test]
    fn the_first_log_in_outcome_is_awaited_and_kept() {
        let p = Pace::default();
        let waiter = {
            let p = p.clone();
            std::thread::spawn(move || p.logged_in())
        };
        p.follow(&PeerEvent::Notice {
            message: "registered".into(),
        });
        p.follow(&PeerEvent::Stopped {
            code: ErrorCode::WrongPassword,
            reason: "wrong password".into(),
        });
        assert_eq!(waiter.join().unwrap(), Outcome::Stopped);
        p.follow(&PeerEvent::Ready {
            name: Name::new("dave").unwrap(),
            listen: "127.0.0.1:1".parse().unwrap(),
            fingerprint: String::new(),
        });
        assert_eq!(p.logged_in(), Outcome::Stopped, "the first outcome stays");
    }

    #[test]
    fn answers_are_matched_to_their_questions() {
        let p = Pace::default();
        p.asking(Question::of(&PeerCommand::Files(None)));
        p.asking(Question::of(&PeerCommand::Search("zz".into())));
        let users = PeerEvent::Users { users: vec![] };
        assert_eq!(p.follow(&users), Some(Question::Search("zz".into())));
        assert_eq!(p.follow(&users), None, "asked once");
        assert_eq!(
            p.follow(&PeerEvent::Files { files: vec![] }),
            Some(Question::Files)
        );
    }

    #[test]
    fn an_account_check_gets_its_answer() {
        let p = Pace::default();
        let bob = Name::new("bob").unwrap();
        p.asking(Some(Question::Account(bob.clone())));
        p.follow(&PeerEvent::Error {
            message: "no account named bob".into(),
        });
        assert_eq!(p.account(), Err("no account named bob".into()));
        p.asking(Some(Question::Who));
        p.asking(Some(Question::Account(bob.clone())));
        assert!(p.refused("not connected to the registry"));
        assert!(p.account().is_err(), "the check, not the /who before it");
        assert_eq!(
            p.follow(&PeerEvent::Users { users: vec![] }),
            Some(Question::Who)
        );
        p.asking(Some(Question::Account(bob.clone())));
        let info = confab_engine::wire::registry::PeerInfo {
            name: bob,
            addr: None,
            profile: Default::default(),
            key: None,
        };
        p.follow(&PeerEvent::Whois {
            info,
            files: vec![],
            from: confab_engine::peer::WhoisFrom::Registry,
        });
        assert_eq!(p.account(), Ok(()));
    }

    #[test]
    fn quit_waits_for_the_answers_owed() {
        let p = Pace::default();
        p.asking(Question::of(&PeerCommand::Who));
        p.asking(Question::of(&PeerCommand::Friends));
        p.asking(Question::of(&PeerCommand::Files(None)));
        let owed = |p: &Pace| p.0.0.lock().unwrap().owed.len();
        assert_eq!(owed(&p), 2, "/friends is answered at once, not owed");
        let waiter = {
            let p = p.clone();
            std::thread::spawn(move || p.answered())
        };
        assert_eq!(
            p.follow(&PeerEvent::Users { users: vec![] }),
            Some(Question::Who)
        );
        assert_eq!(owed(&p), 1);
        assert!(!p.refused("no"));
        waiter.join().unwrap();
    }
}
