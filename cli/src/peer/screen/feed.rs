//! [`Feed`]: what the rest of the peer hands the full-screen interface, over
//! a channel, so that the driver thread never waits for the terminal: the
//! [`super::super::printer::Printer`] in screen style turns each of its calls
//! into one of these and sends it; the interface's thread takes them when it
//! is ready. Plain data; touches nothing.

use confab_engine::peer::{PeerCommand, PeerEvent};

use crate::peer::pace::Question;

/// One thing to show.
#[derive(Debug, Clone)]
pub enum Feed {
    /// An event from the engine, with the question it answers, if any.
    Event(PeerEvent, Option<Question>),
    /// A command was handed to the engine (its answer may come from another
    /// person, later).
    Sent(PeerCommand),
    /// Words from the program itself (notices, `/share`, saved avatars).
    Said(String),
    /// A mistake found before the engine saw it, or a refusal.
    Error(String),
    /// The answer to `/help`: the command list.
    Help(String),
    /// The peer has finished: the interface restores the terminal and ends.
    End,
}
