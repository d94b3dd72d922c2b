//! The key map: a key press becomes an [`Action`], or nothing. Pure; the
//! help bar and `/help` list the same keys ([`KEYS`]), and a test checks
//! that each key listed there does what it says.
//!
//! Typing always goes to the input line, so every action that is not
//! editing sits on a key that types nothing (Ctrl, Alt, function keys,
//! arrows). The one exception is Enter on an empty line while the files
//! browser is open: it fetches the chosen file.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Insert(char),
    Backspace,
    Delete,
    Left,
    Right,
    Home,
    End,
    DeleteWord,
    KillBefore,
    KillAfter,
    Older,
    Newer,
    Submit,
    Complete,
    PreviousConversation,
    NextConversation,
    /// Alt+1 .. Alt+9: the conversation at that place in the list.
    Conversation(usize),
    ScrollUp,
    ScrollDown,
    /// Accept the consent prompt shown.
    Accept,
    /// Decline the consent prompt shown.
    Decline,
    /// Open (or close) the files browser.
    Files,
    BrowserUp,
    BrowserDown,
    /// Fetch the file chosen in the browser.
    Fetch,
    /// Esc: close the browser.
    Close,
    Help,
    /// Ctrl+C: stop the peer (a second one leaves at once).
    Interrupt,
    Redraw,
}

/// The keys, as the help bar (short) and `/help` (all) show them.
pub const KEYS: &[(&str, &str)] = &[
    (
        "Enter",
        "send the line (text goes to the conversation shown)",
    ),
    ("Tab", "complete a command, name or shared file name"),
    (
        "Up/Down",
        "earlier lines you typed (in the files browser: choose a file)",
    ),
    ("Ctrl+Y / Ctrl+N", "accept / decline the request shown"),
    (
        "Alt+Up/Down",
        "previous / next conversation (Alt+1..9: jump)",
    ),
    ("PgUp/PgDn", "scroll the conversation"),
    (
        "F2",
        "files browser (Up/Down choose, Enter or Ctrl+G fetches, Esc closes)",
    ),
    ("F1", "this help"),
    (
        "Ctrl+A/E, Ctrl+W/U/K",
        "start / end of line; delete word / before / after",
    ),
    ("Ctrl+C", "quit (a second Ctrl+C leaves at once)"),
];

/// What the key map needs to know of the moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Moment {
    pub browser_open: bool,
    pub line_empty: bool,
}

/// The action of `key`, if any.
pub fn action(key: KeyEvent, now: Moment) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    Some(match key.code {
        KeyCode::Char(c) if ctrl => match c.to_ascii_lowercase() {
            'c' => Action::Interrupt,
            'y' => Action::Accept,
            'n' => Action::Decline,
            'a' => Action::Home,
            'e' => Action::End,
            'w' => Action::DeleteWord,
            'u' => Action::KillBefore,
            'k' => Action::KillAfter,
            'g' => Action::Fetch,
            'l' => Action::Redraw,
            'h' => Action::Backspace,
            _ => return None,
        },
        KeyCode::Char(c @ '1'..='9') if alt => Action::Conversation(c as usize - '1' as usize),
        KeyCode::Char(_) if alt => return None,
        KeyCode::Char(c) => Action::Insert(c),
        KeyCode::Up if alt || ctrl => Action::PreviousConversation,
        KeyCode::Down if alt || ctrl => Action::NextConversation,
        KeyCode::Up if now.browser_open => Action::BrowserUp,
        KeyCode::Down if now.browser_open => Action::BrowserDown,
        KeyCode::Up => Action::Older,
        KeyCode::Down => Action::Newer,
        KeyCode::Enter if now.browser_open && now.line_empty => Action::Fetch,
        KeyCode::Enter => Action::Submit,
        KeyCode::Tab => Action::Complete,
        KeyCode::Backspace => Action::Backspace,
        KeyCode::Delete => Action::Delete,
        KeyCode::Left => Action::Left,
        KeyCode::Right => Action::Right,
        KeyCode::Home => Action::Home,
        KeyCode::End => Action::End,
        KeyCode::PageUp => Action::ScrollUp,
        KeyCode::PageDown => Action::ScrollDown,
        KeyCode::F(1) => Action::Help,
        KeyCode::F(2) => Action::Files,
        KeyCode::Esc => Action::Close,
        _ => return None,
    })
}

/// The help bar: the keys a person needs most (a request's keys are in its
/// own panel).
pub fn bar(browser: bool) -> Vec<(&'static str, &'static str)> {
    if browser {
        return vec![
            ("↑↓", "choose"),
            ("Enter", "fetch"),
            ("Esc", "close"),
            ("F1", "help"),
            ("^C", "quit"),
        ];
    }
    vec![
        ("F1", "help"),
        ("F2", "files"),
        ("Alt+↑↓", "chats"),
        ("PgUp/Dn", "scroll"),
        ("Tab", "complete"),
        ("^C", "quit"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn typing_types_and_the_rest_sits_on_keys_that_type_nothing() {
        let none = KeyModifiers::NONE;
        let m = Moment::default();
        assert_eq!(
            action(key(KeyCode::Char('y'), none), m),
            Some(Action::Insert('y'))
        );
        assert_eq!(
            action(key(KeyCode::Char('Y'), KeyModifiers::SHIFT), m),
            Some(Action::Insert('Y'))
        );
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(
            action(key(KeyCode::Char('y'), ctrl), m),
            Some(Action::Accept)
        );
        assert_eq!(
            action(key(KeyCode::Char('n'), ctrl), m),
            Some(Action::Decline)
        );
        assert_eq!(
            action(key(KeyCode::Char('c'), ctrl), m),
            Some(Action::Interrupt)
        );
        assert_eq!(
            action(key(KeyCode::Char('3'), KeyModifiers::ALT), m),
            Some(Action::Conversation(2))
        );
        assert_eq!(action(key(KeyCode::Up, none), m), Some(Action::Older));
        assert_eq!(
            action(key(KeyCode::Up, KeyModifiers::ALT), m),
            Some(Action::PreviousConversation)
        );
        assert_eq!(action(key(KeyCode::F(2), none), m), Some(Action::Files));
    }

    #[test]
    fn the_browser_takes_the_arrows_and_an_empty_enter() {
        let none = KeyModifiers::NONE;
        let open = Moment {
            browser_open: true,
            line_empty: true,
        };
        assert_eq!(
            action(key(KeyCode::Up, none), open),
            Some(Action::BrowserUp)
        );
        assert_eq!(action(key(KeyCode::Enter, none), open), Some(Action::Fetch));
        let typing = Moment {
            line_empty: false,
            ..open
        };
        assert_eq!(
            action(key(KeyCode::Enter, none), typing),
            Some(Action::Submit),
            "a typed line is never swallowed by the browser"
        );
    }
}
