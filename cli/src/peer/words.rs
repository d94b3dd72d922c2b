//! Plain words for the engine's machine-readable codes, for human output
//! only (`--json` keeps the codes: scripts match on them). The engine writes
//! a reason for people and often appends its code, as in `the registry is
//! shutting down (ShuttingDown)`; a person should never see `(ShuttingDown)`.

use std::borrow::Cow;

use confab_engine::wire::ErrorCode;

/// Every code, so that [`plain`] can find them in a text. A new code breaks
/// the exhaustive match in [`words`]: add it here too.
const ALL: [ErrorCode; 18] = [
    ErrorCode::VersionMismatch,
    ErrorCode::ProtocolViolation,
    ErrorCode::InvalidName,
    ErrorCode::NameTaken,
    ErrorCode::UnknownName,
    ErrorCode::WrongPassword,
    ErrorCode::InvalidPassword,
    ErrorCode::NotLoggedIn,
    ErrorCode::AlreadyLoggedIn,
    ErrorCode::Busy,
    ErrorCode::InvalidRequest,
    ErrorCode::NotFound,
    ErrorCode::SessionReplaced,
    ErrorCode::TimedOut,
    ErrorCode::ShuttingDown,
    ErrorCode::Normal,
    ErrorCode::StaleLogin,
    ErrorCode::UntrustedKey,
];

/// `code` in a few words.
pub fn words(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::VersionMismatch => "a different version of confab",
        ErrorCode::ProtocolViolation => "it broke the protocol",
        ErrorCode::InvalidName => "not a valid name",
        ErrorCode::NameTaken => "the name is taken",
        ErrorCode::UnknownName => "no such account",
        ErrorCode::WrongPassword => "wrong password",
        ErrorCode::InvalidPassword => "not a usable password",
        ErrorCode::NotLoggedIn => "not logged in",
        ErrorCode::AlreadyLoggedIn => "already logged in",
        ErrorCode::Busy => "busy",
        ErrorCode::InvalidRequest => "not acceptable",
        ErrorCode::NotFound => "not found",
        ErrorCode::SessionReplaced => "logged in elsewhere",
        ErrorCode::TimedOut => "timed out",
        ErrorCode::ShuttingDown => "shutting down",
        ErrorCode::Normal => "normally",
        ErrorCode::StaleLogin => "an older log-in",
        ErrorCode::UntrustedKey => "not the key this peer trusts",
    }
}

/// `text` without the codes the engine appended: ` (Code)` after a reason
/// goes (the reason already says it), a `(Code)` alone becomes its words.
pub fn plain(text: &str) -> Cow<'_, str> {
    if !text.contains('(') {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_owned();
    for code in ALL {
        let tag = format!("({code:?})");
        if !out.contains(&tag) {
            continue;
        }
        out = out.replace(&format!(" {tag}"), "");
        out = out.replace(&tag, &format!("({})", words(code)));
    }
    Cow::Owned(out)
}

/// Why the registry connection went, in plain words: the engine's
/// `the registry said goodbye: REASON (Code)` becomes `REASON`.
pub fn registry_lost(reason: &str) -> String {
    let r = plain(reason);
    r.strip_prefix("the registry said goodbye: ")
        .unwrap_or(&r)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_words() {
        assert_eq!(
            registry_lost(
                "the registry said goodbye: the registry is shutting down (ShuttingDown)"
            ),
            "the registry is shutting down"
        );
        assert_eq!(
            plain("bob closed the connection: this peer is stopping (ShuttingDown)"),
            "bob closed the connection: this peer is stopping"
        );
        assert_eq!(plain("(Busy)"), "(busy)");
        assert_eq!(plain("a (normal) text (Hello)"), "a (normal) text (Hello)");
    }

    #[test]
    fn every_code_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ALL {
            assert!(seen.insert(code), "{code:?} twice");
            let tag = format!("x ({code:?})");
            assert_eq!(plain(&tag), "x", "{code:?}");
            assert!(!words(code).is_empty());
        }
    }
}
