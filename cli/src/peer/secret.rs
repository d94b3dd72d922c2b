//! The account password: from `CONFAB_PASSWORD`, else asked for on the
//! terminal without echo (rpassword). Never printed, never logged.

use std::io::IsTerminal;

use confab_engine::bounded::Text;
use confab_engine::limits::MAX_PASSWORD_LEN;
use confab_engine::wire::Name;
use confab_engine::wire::registry::Password;

use crate::fail::Fail;

/// The variable a password may come from.
pub const PASSWORD_VAR: &str = "CONFAB_PASSWORD";

/// The password for `name`.
pub fn password(name: &Name) -> Result<Password, Fail> {
    let text = match std::env::var(PASSWORD_VAR) {
        Ok(p) => p,
        Err(_) if std::io::stdin().is_terminal() => {
            rpassword::prompt_password(format!("password for {name}: "))
                .map_err(|e| Fail(format!("cannot read the password: {e}")))?
        }
        Err(_) => {
            return Err(Fail(format!(
                "no password: set {PASSWORD_VAR}, or run confab on a terminal to be asked"
            )));
        }
    };
    checked(text)
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
}
