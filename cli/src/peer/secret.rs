//! The account password: from `CONFAB_PASSWORD`, else asked for on the
//! terminal without echo (rpassword). Never printed, never logged. Reads the
//! environment and the terminal, and one marker file in the data folder.
//!
//! The registry creates an account at the first log-in of a new name, with
//! whatever password came; a typing mistake there would lock the person out
//! of their new name. So on a terminal, until a log-in from this data folder
//! has succeeded (the marker [`LOGGED_IN`]), confab says that an account may
//! be created and asks for the password twice. Scripts (`CONFAB_PASSWORD`)
//! are never asked anything.

use std::io::IsTerminal;
use std::path::Path;

use confab_engine::bounded::Text;
use confab_engine::limits::MAX_PASSWORD_LEN;
use confab_engine::wire::Name;
use confab_engine::wire::registry::Password;

use crate::fail::Fail;

/// The variable a password may come from.
pub const PASSWORD_VAR: &str = "CONFAB_PASSWORD";

/// The file in the data folder that says a log-in from it has succeeded.
pub const LOGGED_IN: &str = "logged-in";

/// How the password is to be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// From the variable: ask nothing.
    Variable,
    /// On the terminal, once.
    Once,
    /// On the terminal, twice, saying that an account may be created.
    Twice,
    /// No variable and no terminal.
    Nowhere,
}

/// How to ask, given where we run and whether a log-in from this data
/// folder has succeeded before.
pub fn how_to_ask(variable: bool, terminal: bool, logged_in_here: bool) -> Ask {
    match (variable, terminal, logged_in_here) {
        (true, _, _) => Ask::Variable,
        (false, false, _) => Ask::Nowhere,
        (false, true, true) => Ask::Once,
        (false, true, false) => Ask::Twice,
    }
}

/// The password for `name`, whose records are in `data`.
pub fn password(name: &Name, data: &Path) -> Result<Password, Fail> {
    let variable = std::env::var(PASSWORD_VAR).ok();
    let ask = how_to_ask(
        variable.is_some(),
        std::io::stdin().is_terminal(),
        data.join(LOGGED_IN).exists(),
    );
    let prompt = |p: String| {
        rpassword::prompt_password(p).map_err(|e| Fail(format!("cannot read the password: {e}")))
    };
    let text = match (ask, variable) {
        (Ask::Variable, Some(p)) => p,
        (Ask::Once, _) => prompt(format!("password for {name}: "))?,
        (Ask::Twice, _) => {
            eprintln!(
                "First log-in of {name} from {}: if {name} is a new name, this creates \
                 its account with the password you choose now.",
                data.display()
            );
            let first = checked(prompt(format!("password for {name}: "))?)?;
            let again = prompt("the same password again: ".into())?;
            return confirmed(first, &again);
        }
        _ => {
            return Err(Fail(format!(
                "no password: set {PASSWORD_VAR}, or run confab on a terminal to be asked"
            )));
        }
    };
    checked(text)
}

/// `first`, if `again` is the same.
pub fn confirmed(first: Password, again: &str) -> Result<Password, Fail> {
    if first.0.as_str() == again {
        Ok(first)
    } else {
        Err(Fail(
            "the two passwords differ; nothing was sent. Run confab again and type the same \
             password twice"
                .into(),
        ))
    }
}

/// Notes in `data` that a log-in from it has succeeded (so the next start
/// asks for the password once). Failing to write it only means asking twice.
pub fn remember_log_in(data: &Path) {
    let _ = std::fs::write(data.join(LOGGED_IN), b"");
}

/// Checks a password's length.
pub fn checked(text: String) -> Result<Password, Fail> {
    if text.is_empty() {
        return Err(Fail("the password must not be empty".into()));
    }
    Text::<MAX_PASSWORD_LEN>::new(text)
        .map(Password)
        .map_err(|e| Fail(format!("the password is too long: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_overlong_passwords_are_refused() {
        assert!(checked(String::new()).is_err());
        assert!(checked("x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
        assert!(checked("hunter2".into()).is_ok());
    }

    #[test]
    fn a_first_log_in_on_a_terminal_asks_twice_and_scripts_never() {
        assert_eq!(how_to_ask(false, true, false), Ask::Twice);
        assert_eq!(how_to_ask(false, true, true), Ask::Once);
        assert_eq!(how_to_ask(true, true, false), Ask::Variable);
        assert_eq!(how_to_ask(true, false, false), Ask::Variable);
        assert_eq!(how_to_ask(false, false, false), Ask::Nowhere);
    }

    #[test]
    fn the_second_typing_must_match() {
        let first = checked("hunter2".into()).unwrap();
        assert!(confirmed(first.clone(), "hunter2").is_ok());
        let e = confirmed(first, "hunter3").unwrap_err();
        assert!(e.0.contains("differ"), "{e}");
    }

    #[test]
    fn a_log_in_is_remembered_in_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!dir.path().join(LOGGED_IN).exists());
        remember_log_in(dir.path());
        assert!(dir.path().join(LOGGED_IN).exists());
    }
}
