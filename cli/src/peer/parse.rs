//! The peer's command language: one line in, one [`Parsed`] out.
//!
//! Exactly README's command table. A line that does not start with `/` is text for
//! the current conversation; `//text` sends text that starts with `/`. The last
//! argument of every command is the rest of the line, so messages, search text
//! and paths may hold spaces. Every mistake gives a [`ParseError`] saying what
//! to type instead; nothing here panics on any input.

use std::fmt;

use confab_engine::TransferId;
use confab_engine::limits::MAX_MESSAGE_LEN;
use confab_engine::peer::{PeerCommand, ProfileChange, RequestId, Target};
use confab_engine::wire::{FileName, GroupName, Name};

/// How many messages `/history NAME` shows when no count is given.
pub const DEFAULT_HISTORY: usize = 20;

/// The commands, as `/help` prints them.
pub const HELP: &str = "\
/help                         the commands
/who                          who is online, with addresses
/whois NAME                   one peer: address, key fingerprint, profile, shared files
/trust NAME FINGERPRINT       keep this key for NAME (after a reinstall)
/forget NAME                  forget NAME's key: trust the next on first use
                              (with a registry up, its certificates decide)
/search TEXT                  names that contain TEXT
/files [NAME]                 shared files of everyone, or of NAME
/chat NAME                    ask NAME for a chat
/accept [ID] | /decline [ID]  answer a chat request, group invitation or file offer
                              (without ID: the oldest one still waiting)
/msg NAME TEXT                send TEXT to NAME (or to #GROUP)
TEXT                          send TEXT to the current conversation (//TEXT if it starts with /)
/close NAME                   end the chat with NAME
/call NAME | /hangup [NAME]   a video call with NAME; end it
/group create #G              start a group
/invite #G NAME               invite NAME into #G
/leave #G                     leave #G
/send NAME PATH               offer a file to NAME
/get NAME FILE                download FILE from NAME's shared folder
/get NAME FOLDER/             download a shared folder whole (every file MD5-checked)
/transfers                    transfers with progress
/share [rescan]               the share folder, its files and their state (rescan: look again now)
/cancel ID                    cancel a transfer (a download of 1 MiB or more keeps its .part;
                              /cancel ID again deletes it)
/pause ID | /resume ID        stop a transfer, keeping what arrived; go on from there
/friends | /friend add NAME | /friend remove NAME
/history NAME [N]             the last N messages with NAME (or #GROUP)
/profile [nick TEXT | bio TEXT | avatar PATH]
/avatar NAME                  save NAME's avatar to a file and print its path
/quit                         log out and leave";

/// What a line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A command for the engine.
    Command(PeerCommand),
    /// Print [`HELP`].
    Help,
    /// `/profile avatar PATH`: read the file, then send its bytes.
    Avatar(String),
    /// `/avatar NAME`: look NAME up and save the avatar that comes back.
    SaveAvatar(Name),
    /// `/share` (false) or `/share rescan` (true): answered by the
    /// program's share watch, not the engine.
    Share(bool),
    /// An empty line.
    Nothing,
}

/// Why a line is not a command, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(msg.into()))
}

/// Parses one line; `current` is the conversation plain text goes to.
pub fn parse(line: &str, current: Option<&Target>) -> Result<Parsed, ParseError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Ok(Parsed::Nothing);
    }
    if let Some(text) = line.strip_prefix("//") {
        return plain_text(&format!("/{text}"), current);
    }
    let Some(rest) = line.strip_prefix('/') else {
        return plain_text(line, current);
    };
    let rest = rest.trim_start();
    let (verb, args) = split_word(rest);
    let mut a = Args { verb, rest: args };
    let cmd = match verb {
        "help" => {
            a.end()?;
            return Ok(Parsed::Help);
        }
        "who" => a.end().map(|()| PeerCommand::Who)?,
        "whois" => PeerCommand::Whois(a.last_name("NAME")?),
        "avatar" => return Ok(Parsed::SaveAvatar(a.last_name("NAME")?)),
        "forget" => PeerCommand::Forget(a.last_name("NAME")?),
        "trust" => {
            let who = name(a.word("NAME")?, "NAME")?;
            // The rest of the line: a fingerprint copied in groups still reads.
            let fingerprint = a.rest_text("FINGERPRINT")?.parse().map_err(|e| {
                ParseError(format!(
                    "/trust: {e}; /who and the warning about {who} show the keys heard"
                ))
            })?;
            PeerCommand::Trust {
                name: who,
                fingerprint,
            }
        }
        "search" => PeerCommand::Search(a.rest_text("TEXT")?),
        "files" => PeerCommand::Files(a.optional_last(|s| name(s, "NAME"))?),
        "chat" => PeerCommand::Chat(a.last_name("NAME")?),
        "accept" => PeerCommand::Accept(a.optional_last(request_id)?),
        "decline" => PeerCommand::Decline(a.optional_last(request_id)?),
        "msg" => {
            let to = target(a.word("NAME or #GROUP")?)?;
            PeerCommand::Message {
                to,
                text: message_text(&a.rest_text("TEXT")?)?,
            }
        }
        "close" => PeerCommand::CloseChat(a.last_name("NAME")?),
        "call" => PeerCommand::Call(a.last_name("NAME")?),
        "hangup" => PeerCommand::Hangup(a.optional_last(|s| name(s, "NAME"))?),
        "group" => match a.word("create")? {
            "create" => PeerCommand::GroupCreate(group(&a.rest_text("#GROUP")?)?),
            other => {
                return err(format!(
                    "/group {other}: did you mean /group create #GROUP?"
                ));
            }
        },
        "invite" => {
            let g = group(a.word("#GROUP")?)?;
            PeerCommand::Invite {
                group: g,
                name: a.last_name("NAME")?,
            }
        }
        "leave" => PeerCommand::Leave(group(&a.rest_text("#GROUP")?)?),
        "send" => {
            let to = name(a.word("NAME")?, "NAME")?;
            PeerCommand::SendFile {
                to,
                path: a.rest_text("PATH")?,
            }
        }
        "get" => {
            let from = name(a.word("NAME")?, "NAME")?;
            let file = a.rest_text("FILE")?;
            // `FOLDER/`, as listings show a shared folder, names the folder.
            let file = match file.strip_suffix('/') {
                Some(folder) if !folder.is_empty() => folder.to_owned(),
                _ => file,
            };
            let file = FileName::new(&file)
                .map_err(|e| ParseError(format!("/get: {e}; give a name from /files")))?;
            PeerCommand::Get { from, file }
        }
        "transfers" => a.end().map(|()| PeerCommand::Transfers)?,
        "cancel" => PeerCommand::Cancel(transfer_id(&a.rest_text("ID")?)?),
        "pause" => PeerCommand::Pause(transfer_id(&a.rest_text("ID")?)?),
        "resume" => PeerCommand::Resume(transfer_id(&a.rest_text("ID")?)?),
        "friends" => a.end().map(|()| PeerCommand::Friends)?,
        "friend" => match a.word("add or remove")? {
            "add" => PeerCommand::FriendAdd(a.last_name("NAME")?),
            "remove" => PeerCommand::FriendRemove(a.last_name("NAME")?),
            other => {
                return err(format!(
                    "/friend {other}: use /friend add NAME or /friend remove NAME"
                ));
            }
        },
        "history" => {
            let with = target(a.word("NAME or #GROUP")?)?;
            let last = a.optional_last(|s| {
                s.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ParseError(format!("/history: {s:?} is not a count of messages"))
                })
            })?;
            PeerCommand::History {
                with,
                last: last.unwrap_or(DEFAULT_HISTORY),
            }
        }
        "profile" => {
            if a.rest.trim().is_empty() {
                PeerCommand::ShowProfile
            } else {
                match a.word("nick, bio or avatar")? {
                    "nick" => PeerCommand::SetProfile(ProfileChange::Nick(a.rest.trim().into())),
                    "bio" => PeerCommand::SetProfile(ProfileChange::Bio(a.rest.trim().into())),
                    "avatar" => return Ok(Parsed::Avatar(a.rest_text("PATH")?)),
                    other => {
                        return err(format!(
                            "/profile {other}: use /profile nick TEXT, /profile bio TEXT \
                             or /profile avatar PATH"
                        ));
                    }
                }
            }
        }
        "share" => match a.rest.trim() {
            "" => return Ok(Parsed::Share(false)),
            "rescan" => return Ok(Parsed::Share(true)),
            other => return err(format!("/share {other}: use /share or /share rescan")),
        },
        "quit" | "exit" => a.end().map(|()| PeerCommand::Quit)?,
        "" => return err("a lone '/' is not a command; /help lists them"),
        other => {
            return err(format!(
                "unknown command /{other}; /help lists the commands"
            ));
        }
    };
    Ok(Parsed::Command(cmd))
}

fn plain_text(text: &str, current: Option<&Target>) -> Result<Parsed, ParseError> {
    let Some(to) = current else {
        return err("no conversation is open: use /msg NAME TEXT, or /chat NAME first");
    };
    Ok(Parsed::Command(PeerCommand::Message {
        to: to.clone(),
        text: message_text(text)?,
    }))
}

/// Splits off the first word; the rest keeps its inner spaces.
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

/// The arguments of one command, taken from the left.
struct Args<'a> {
    verb: &'a str,
    rest: &'a str,
}

impl<'a> Args<'a> {
    fn word(&mut self, what: &str) -> Result<&'a str, ParseError> {
        let (w, rest) = split_word(self.rest);
        if w.is_empty() {
            return err(format!(
                "/{}: {what} is missing; /help shows the usage",
                self.verb
            ));
        }
        self.rest = rest;
        Ok(w)
    }

    /// The rest of the line, which must not be empty.
    fn rest_text(&mut self, what: &str) -> Result<String, ParseError> {
        let text = self.rest.trim();
        if text.is_empty() {
            return err(format!(
                "/{}: {what} is missing; /help shows the usage",
                self.verb
            ));
        }
        self.rest = "";
        Ok(text.to_owned())
    }

    /// A name that must be the last argument.
    fn last_name(&mut self, what: &str) -> Result<Name, ParseError> {
        let text = self.rest_text(what)?;
        name(&text, what).map_err(|e| ParseError(format!("/{}: {e}", self.verb)))
    }

    fn optional_last<T>(
        &mut self,
        f: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Result<Option<T>, ParseError> {
        let text = self.rest.trim();
        if text.is_empty() {
            return Ok(None);
        }
        self.rest = "";
        f(text).map(Some)
    }

    fn end(&self) -> Result<(), ParseError> {
        if self.rest.trim().is_empty() {
            Ok(())
        } else {
            err(format!("/{} takes no arguments", self.verb))
        }
    }
}

fn name(s: &str, what: &str) -> Result<Name, ParseError> {
    Name::new(s).map_err(|e| ParseError(format!("{what} {s:?} is not a valid name: {e}")))
}

fn group(s: &str) -> Result<GroupName, ParseError> {
    GroupName::new(s).map_err(|e| ParseError(format!("{s:?} is not a group: {e}")))
}

fn target(s: &str) -> Result<Target, ParseError> {
    Target::parse(s).map_err(|e| ParseError(format!("{s:?} is not a name or #group: {e}")))
}

fn message_text(text: &str) -> Result<String, ParseError> {
    if text.len() > MAX_MESSAGE_LEN {
        return err(format!(
            "the message is {} bytes; the limit is {MAX_MESSAGE_LEN} (send a file instead)",
            text.len()
        ));
    }
    Ok(text.to_owned())
}

fn request_id(s: &str) -> Result<RequestId, ParseError> {
    s.parse::<u64>()
        .map(RequestId)
        .map_err(|_| ParseError(format!("{s:?} is not a request id (a number, as shown)")))
}

fn transfer_id(s: &str) -> Result<TransferId, ParseError> {
    s.strip_prefix('t')
        .unwrap_or(s)
        .parse::<u64>()
        .map(TransferId)
        .map_err(|_| ParseError(format!("{s:?} is not a transfer id; /transfers lists them")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn g(s: &str) -> GroupName {
        GroupName::new(s).unwrap()
    }

    fn cmd(line: &str) -> PeerCommand {
        match parse(line, None) {
            Ok(Parsed::Command(c)) => c,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    fn bad(line: &str) -> String {
        match parse(line, None) {
            Err(e) => e.0,
            Ok(p) => panic!("{line:?} was accepted as {p:?}"),
        }
    }

    #[test]
    fn every_command_of_the_list() {
        assert_eq!(parse("/help", None), Ok(Parsed::Help));
        assert_eq!(parse("/share", None), Ok(Parsed::Share(false)));
        assert_eq!(parse("/share rescan", None), Ok(Parsed::Share(true)));
        assert!(parse("/share now", None).is_err());
        assert_eq!(cmd("/who"), PeerCommand::Who);
        assert_eq!(cmd("/whois bob"), PeerCommand::Whois(n("bob")));
        assert_eq!(cmd("/forget bob"), PeerCommand::Forget(n("bob")));
        let fp = "00112233445566778899aabbccddeeff";
        let want = PeerCommand::Trust {
            name: n("bob"),
            fingerprint: fp.parse().unwrap(),
        };
        assert_eq!(cmd(&format!("/trust bob {fp}")), want);
        assert_eq!(
            cmd("/trust bob 0011:2233:4455:6677 8899:aabb:ccdd:eeff"),
            want,
            "grouped, as copied"
        );
        assert_eq!(cmd("/search o b"), PeerCommand::Search("o b".into()));
        assert_eq!(cmd("/files"), PeerCommand::Files(None));
        assert_eq!(cmd("/files bob"), PeerCommand::Files(Some(n("bob"))));
        assert_eq!(cmd("/chat bob"), PeerCommand::Chat(n("bob")));
        assert_eq!(cmd("/accept"), PeerCommand::Accept(None));
        assert_eq!(cmd("/accept 7"), PeerCommand::Accept(Some(RequestId(7))));
        assert_eq!(cmd("/decline"), PeerCommand::Decline(None));
        assert_eq!(cmd("/decline 3"), PeerCommand::Decline(Some(RequestId(3))));
        assert_eq!(
            cmd("/msg bob hello   there "),
            PeerCommand::Message {
                to: Target::User(n("bob")),
                text: "hello   there".into()
            }
        );
        assert_eq!(
            cmd("/msg #team hi"),
            PeerCommand::Message {
                to: Target::Group(g("#team")),
                text: "hi".into()
            }
        );
        assert_eq!(cmd("/close bob"), PeerCommand::CloseChat(n("bob")));
        assert_eq!(
            cmd("/group create #team"),
            PeerCommand::GroupCreate(g("#team"))
        );
        assert_eq!(
            cmd("/invite #team carol"),
            PeerCommand::Invite {
                group: g("#team"),
                name: n("carol")
            }
        );
        assert_eq!(cmd("/leave #team"), PeerCommand::Leave(g("#team")));
        assert_eq!(
            cmd("/send bob /tmp/my file.txt"),
            PeerCommand::SendFile {
                to: n("bob"),
                path: "/tmp/my file.txt".into()
            }
        );
        assert_eq!(
            cmd("/get bob report 2024.pdf"),
            PeerCommand::Get {
                from: n("bob"),
                file: FileName::new("report 2024.pdf").unwrap()
            }
        );
        assert_eq!(
            cmd("/get bob photos/"),
            PeerCommand::Get {
                from: n("bob"),
                file: FileName::new("photos").unwrap()
            }
        );
        assert!(bad("/get bob photos//").contains("/get"));
        assert!(bad("/get bob /").contains("/get"));
        assert_eq!(cmd("/transfers"), PeerCommand::Transfers);
        assert_eq!(cmd("/cancel 4"), PeerCommand::Cancel(TransferId(4)));
        assert_eq!(cmd("/cancel t4"), PeerCommand::Cancel(TransferId(4)));
        assert_eq!(cmd("/pause t4"), PeerCommand::Pause(TransferId(4)));
        assert_eq!(cmd("/resume 4"), PeerCommand::Resume(TransferId(4)));
        assert_eq!(cmd("/friends"), PeerCommand::Friends);
        assert_eq!(cmd("/friend add bob"), PeerCommand::FriendAdd(n("bob")));
        assert_eq!(
            cmd("/friend remove bob"),
            PeerCommand::FriendRemove(n("bob"))
        );
        assert_eq!(
            cmd("/history bob"),
            PeerCommand::History {
                with: Target::User(n("bob")),
                last: DEFAULT_HISTORY
            }
        );
        assert_eq!(
            cmd("/history #team 5"),
            PeerCommand::History {
                with: Target::Group(g("#team")),
                last: 5
            }
        );
        assert_eq!(cmd("/profile"), PeerCommand::ShowProfile);
        assert_eq!(
            cmd("/profile nick Bobby T"),
            PeerCommand::SetProfile(ProfileChange::Nick("Bobby T".into()))
        );
        assert_eq!(
            cmd("/profile bio likes tea"),
            PeerCommand::SetProfile(ProfileChange::Bio("likes tea".into()))
        );
        assert_eq!(
            parse("/profile avatar ~/me.png", None),
            Ok(Parsed::Avatar("~/me.png".into()))
        );
        assert_eq!(parse("/avatar bob", None), Ok(Parsed::SaveAvatar(n("bob"))));
        assert_eq!(cmd("/quit"), PeerCommand::Quit);
    }

    #[test]
    fn plain_text_goes_to_the_current_conversation() {
        let bob = Target::User(n("bob"));
        let to_bob = |text: &str| {
            Ok(Parsed::Command(PeerCommand::Message {
                to: bob.clone(),
                text: text.into(),
            }))
        };
        assert_eq!(parse("hi there", Some(&bob)), to_bob("hi there"));
        assert_eq!(parse("//me waves", Some(&bob)), to_bob("/me waves"));
        assert!(bad("hi").contains("/msg NAME TEXT"));
        assert_eq!(parse("   ", None), Ok(Parsed::Nothing));
        assert_eq!(parse("", Some(&bob)), Ok(Parsed::Nothing));
    }

    #[test]
    fn bad_input_gets_a_message_that_helps() {
        assert!(bad("/frobnicate").contains("unknown command /frobnicate"));
        assert!(bad("/").contains("not a command"));
        assert!(bad("/who bob").contains("takes no arguments"));
        assert!(bad("/whois").contains("NAME is missing"));
        assert!(bad("/forget").contains("NAME is missing"));
        assert!(bad("/forget Bob").contains("not a valid name"));
        assert!(bad("/trust").contains("NAME is missing"));
        assert!(bad("/trust bob").contains("FINGERPRINT is missing"));
        let short = bad("/trust bob 0011");
        assert!(
            short.contains("32 hex digits") && short.contains("/who"),
            "{short}"
        );
        assert!(bad("/trust bob zz112233445566778899aabbccddeeff").contains("not hex"));
        assert!(bad("/whois Bob").contains("not a valid name"));
        assert!(bad("/whois bob smith").contains("not a valid name"));
        assert!(bad("/msg bob").contains("TEXT is missing"));
        assert!(bad("/msg").contains("missing"));
        assert!(bad("/msg Bob hi").contains("not a name or #group"));
        assert!(bad("/accept x").contains("not a request id"));
        assert!(bad("/group make #t").contains("/group create"));
        assert!(bad("/group create team").contains("not a group"));
        assert!(bad("/invite team bob").contains("not a group"));
        assert!(bad("/send bob").contains("PATH is missing"));
        assert!(bad("/get bob ../etc/passwd").contains("/get"));
        assert!(bad("/cancel soon").contains("not a transfer id"));
        assert!(bad("/friend hug bob").contains("/friend add"));
        assert!(bad("/history bob many").contains("not a count"));
        assert!(bad("/history bob 0").contains("not a count"));
        assert!(bad("/profile colour red").contains("/profile nick"));
        assert!(bad("/profile avatar").contains("PATH is missing"));
        assert!(bad("/quit now").contains("takes no arguments"));
        let long = "x".repeat(MAX_MESSAGE_LEN + 1);
        assert!(bad(&format!("/msg bob {long}")).contains("limit"));
    }

    #[test]
    fn odd_bytes_never_panic() {
        let bob = Target::User(n("bob"));
        for line in [
            "/\u{0}",
            "/msg \u{202e}x y",
            "/é",
            "/ who",
            "\t/who",
            "/msg bob \u{1f600}",
        ] {
            let _ = parse(line, Some(&bob));
        }
        assert_eq!(
            cmd("/ who"),
            PeerCommand::Who,
            "space after the slash is tolerated"
        );
    }
}
