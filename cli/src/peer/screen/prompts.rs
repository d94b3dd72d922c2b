//! [`Prompts`]: the consent requests waiting for this person's answer (a
//! chat, a group invitation, a file offer, a call), oldest first. The prompt panel
//! shows the oldest until it is answered (by a key, by `/accept`, or by the
//! other side giving up), so a request never scrolls away. Pure state.

use std::collections::VecDeque;

use confab_engine::TransferId;
use confab_engine::peer::RequestId;
use confab_engine::wire::{GroupName, Name};
use indicatif::HumanBytes;

use crate::safe::Shown;

/// What is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    Chat {
        from: Name,
    },
    Group {
        from: Name,
        group: GroupName,
    },
    File {
        from: Name,
        /// Safe for a terminal.
        name: String,
        size: u64,
        transfer: TransferId,
    },
    Call {
        from: Name,
    },
}

/// One request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub id: RequestId,
    pub ask: Ask,
}

impl Prompt {
    /// The question, in words.
    pub fn question(&self) -> String {
        match &self.ask {
            Ask::Chat { from } => format!("{from} asks for a chat"),
            Ask::Group { from, group } => format!("{from} invites you into {group}"),
            Ask::File {
                from,
                name,
                size,
                transfer,
            } => format!(
                "{from} offers {name} ({}) as transfer {transfer}",
                HumanBytes(*size)
            ),
            Ask::Call { from } => format!("{from} is calling you (video)"),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Prompts(VecDeque<Prompt>);

impl Prompts {
    pub fn ask(&mut self, id: RequestId, ask: Ask) {
        let ask = match ask {
            Ask::File {
                from,
                name,
                size,
                transfer,
            } => Ask::File {
                from,
                name: Shown(&name).to_string(),
                size,
                transfer,
            },
            other => other,
        };
        self.0.push_back(Prompt { id, ask });
    }

    /// The one shown: the oldest.
    pub fn first(&self) -> Option<&Prompt> {
        self.0.front()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Answered (`None`: the oldest, as `/accept` without an id).
    pub fn answered(&mut self, id: Option<RequestId>) -> Option<Prompt> {
        match id {
            None => self.0.pop_front(),
            Some(id) => {
                let i = self.0.iter().position(|p| p.id == id)?;
                self.0.remove(i)
            }
        }
    }

    /// Drops the requests `gone` says are over.
    pub fn drop_where(&mut self, gone: impl Fn(&Ask) -> bool) {
        self.0.retain(|p| !gone(&p.ask));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_is_shown_until_answered() {
        let mut p = Prompts::default();
        let bob = Name::new("bob").unwrap();
        p.ask(RequestId(1), Ask::Chat { from: bob.clone() });
        p.ask(
            RequestId(2),
            Ask::File {
                from: bob.clone(),
                name: "x\x1b[2J".into(),
                size: 2048,
                transfer: TransferId(5),
            },
        );
        assert_eq!(p.first().unwrap().question(), "bob asks for a chat");
        p.answered(Some(RequestId(2)));
        assert_eq!(p.len(), 1);
        p.ask(
            RequestId(3),
            Ask::File {
                from: bob,
                name: "x\x1b[2J".into(),
                size: 2048,
                transfer: TransferId(5),
            },
        );
        p.drop_where(|a| matches!(a, Ask::Chat { .. }));
        let q = p.first().unwrap().question();
        assert_eq!(q, "bob offers x\\e[2J (2.00 KiB) as transfer t5");
    }
}
