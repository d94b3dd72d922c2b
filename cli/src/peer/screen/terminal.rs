//! [`Guard`]: the terminal in full-screen mode (raw keys, the alternate
//! screen, bracketed paste) for as long as it lives, and as it was again
//! afterwards: when it is dropped (a normal stop, an error), on a panic in
//! any thread (a panic hook restores first, so the message is readable),
//! and before a second Ctrl+C leaves at once ([`restore`]). Touches only
//! standard output's terminal modes.

use std::io::{Write, stdout};
use std::sync::Once;

use crossterm::cursor::Show;
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

/// While alive, the terminal is in full-screen mode.
#[derive(Debug)]
pub struct Guard(());

impl Guard {
    pub fn enter() -> std::io::Result<Self> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        enable_raw_mode()?;
        let guard = Guard(());
        crossterm::execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
        Ok(guard)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back as it was; harmless when it already is.
pub fn restore() {
    let mut out = stdout();
    let _ = crossterm::execute!(out, DisableBracketedPaste, LeaveAlternateScreen, Show);
    let _ = disable_raw_mode();
    let _ = out.flush();
}
