//! [`Context`]: what the line interface knows of an event beyond the event
//! itself, worked out by the input side and handed to both printers. It sits
//! below [`super::printer`] and [`super::human`] so neither imports the other
//! for it.

use super::pace::Question;

/// What the line interface knows of an event beyond the event itself.
#[derive(Debug, Default)]
pub struct Context {
    /// The question it answers, if it answers one.
    pub asked: Option<Question>,
    /// It made its conversation the one plain lines go to.
    pub now_current: bool,
}
