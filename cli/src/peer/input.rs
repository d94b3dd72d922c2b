//! The input thread: reads standard input line by line (terminal or pipe
//! alike; in full-screen mode, the lines the interface sends), parses each line and hands the command to the driver. Mistakes are
//! printed and the next line is read. End of input means `/quit`. The driver's
//! bounded command channel paces a fast pipe. No command (end of input
//! included) reaches the engine before the first log-in has ended, and
//! `/quit` waits for the answers still owed ([`Pace`]); after a refused
//! log-in the rest of the input is ignored.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use confab_engine::limits::MAX_AVATAR_LEN;
use confab_engine::peer::{PeerCommand, ProfileChange};
use confab_engine::wire::Name;
use confab_mio::{DriverHandle, ShareWatch};

use super::conversation::Conversation;
use super::pace::{Outcome, Pace, Question};
use super::parse::{HELP, Parsed, parse};
use super::printer::Printer;
use super::resume;

/// Starts the thread, reading what `source` gives it (made on the thread:
/// standard input's lock cannot move between threads).
pub fn spawn<R: BufRead>(
    source: impl FnOnce() -> R + Send + 'static,
    handle: DriverHandle<PeerCommand>,
    printer: Printer,
    conversation: Conversation,
    pace: Pace,
    downloads: PathBuf,
    share: Option<ShareWatch>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("confab-input".into())
        .spawn(move || {
            let input = source();
            let context = (&printer, &conversation, &pace);
            read_lines(input, &handle, context, &downloads, share.as_ref());
        })?;
    Ok(())
}

/// Reads `input` until its end or `/quit`.
pub fn read_lines(
    mut input: impl BufRead,
    handle: &DriverHandle<PeerCommand>,
    (printer, conversation, pace): (&Printer, &Conversation, &Pace),
    downloads: &Path,
    share: Option<&ShareWatch>,
) {
    let mut raw = Vec::new();
    loop {
        raw.clear();
        match input.read_until(b'\n', &mut raw) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                printer.error(&format!("cannot read standard input: {e}"));
                break;
            }
        }
        let line = String::from_utf8_lossy(&raw);
        let mut question = None;
        let cmd = match parse(&line, conversation.current().as_ref()) {
            Ok(Parsed::Nothing) => continue,
            Ok(Parsed::Help) => {
                printer.help(HELP);
                continue;
            }
            Ok(Parsed::Share(rescan)) => {
                match share {
                    Some(w) if rescan => {
                        w.rescan();
                        printer.notice("rescanning the share folder");
                    }
                    Some(w) => printer.share(&w.status()),
                    None => printer.error("this peer does not watch a share folder"),
                }
                continue;
            }
            Ok(Parsed::Avatar(path)) => match read_avatar(&path) {
                Ok(bytes) => PeerCommand::SetProfile(ProfileChange::Avatar(bytes)),
                Err(e) => {
                    printer.error(&e);
                    continue;
                }
            },
            Ok(Parsed::SaveAvatar(name)) => {
                question = Some(Question::Avatar(name.clone()));
                PeerCommand::Whois(name)
            }
            Ok(Parsed::Command(cmd)) => cmd,
            Err(e) => {
                printer.error(&e.0);
                continue;
            }
        };
        if !before(&cmd, printer, downloads) {
            continue;
        }
        if let PeerCommand::Message { to, .. } = &cmd {
            conversation.choose(to.clone());
        }
        if pace.logged_in() == Outcome::Stopped {
            return;
        }
        if cmd == PeerCommand::Quit {
            break;
        }
        // A friend may be added before they register (their messages wait),
        // but a typo should not pass unnoticed.
        if let PeerCommand::FriendAdd(name) = &cmd {
            match has_account(name, handle, pace) {
                Some(Ok(())) => {}
                Some(Err(why)) => printer.notice(&format!(
                    "{name} is added as a friend, but the registry does not know them ({why}); \
                     /friend remove {name} if that was a typo"
                )),
                None => return,
            }
        }
        pace.asking(question.or_else(|| Question::of(&cmd)));
        printer.sent(&cmd);
        if handle.command(cmd).is_err() {
            return;
        }
    }
    if pace.logged_in() == Outcome::LoggedIn {
        pace.answered();
        let _ = handle.command(PeerCommand::Quit);
    }
}

/// Asks the registry whether `name` has an account (online or not) and
/// waits for the answer; `None` when the peer is gone.
fn has_account(
    name: &Name,
    handle: &DriverHandle<PeerCommand>,
    pace: &Pace,
) -> Option<Result<(), String>> {
    pace.asking(Some(Question::Account(name.clone())));
    handle.command(PeerCommand::Whois(name.clone())).ok()?;
    Some(pace.account())
}

/// What is checked or said here before `cmd` goes; false when it must not.
fn before(cmd: &PeerCommand, printer: &Printer, downloads: &Path) -> bool {
    match cmd {
        // A typo is not first announced as an offer (the engine announces,
        // then the driver finds no file).
        PeerCommand::SendFile { path, .. } => match std::fs::metadata(path) {
            Ok(_) => true,
            Err(e) => {
                printer.error(&format!(
                    "cannot send {path}: {e}; give the path of a file or folder on this machine"
                ));
                false
            }
        },
        PeerCommand::Get { file, .. } => {
            if let Some(said) = resume::before_get(downloads, file.as_str()) {
                printer.notice(&said);
            }
            true
        }
        _ => true,
    }
}

fn read_avatar(path: &str) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    if meta.len() > MAX_AVATAR_LEN as u64 {
        return Err(format!(
            "{path} is {} bytes; an avatar may have at most {MAX_AVATAR_LEN}",
            meta.len()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::net::SocketAddr;
    use std::time::Instant;

    use confab_engine::peer::{PeerEvent, Target};
    use confab_engine::wire::{ErrorCode, Name};
    use confab_engine::{CommandError, ConnId, Engine, Input, Output};
    use confab_mio::{Driver, DriverConfig, Flow, Sink};

    use super::*;

    /// Records the commands it gets, answers `/who`; stops on `/quit`.
    #[derive(Default)]
    struct Recorder {
        out: VecDeque<Output<PeerEvent>>,
        seen: Vec<PeerCommand>,
    }

    impl Engine for Recorder {
        type Command = PeerCommand;
        type Event = PeerEvent;
        fn accept(&mut self, _: Instant, _: SocketAddr) -> ConnId {
            ConnId(0)
        }
        fn handle_input(&mut self, _: Instant, _: Input<'_>) {}
        fn handle_command(&mut self, _: Instant, cmd: PeerCommand) -> Result<(), CommandError> {
            if cmd == PeerCommand::Quit {
                let seen = std::mem::take(&mut self.seen);
                self.out.push_back(Output::Event(PeerEvent::Notice {
                    message: format!("{seen:?}"),
                }));
                self.out.push_back(Output::Event(PeerEvent::Stopped {
                    code: ErrorCode::Normal,
                    reason: String::new(),
                }));
            } else {
                if cmd == PeerCommand::Who {
                    let users = vec![];
                    self.out
                        .push_back(Output::Event(PeerEvent::Users { users }));
                }
                self.seen.push(cmd);
            }
            Ok(())
        }
        fn handle_timeout(&mut self, _: Instant) {}
        fn poll_output(&mut self) -> Option<Output<PeerEvent>> {
            self.out.pop_front()
        }
        fn poll_timeout(&self) -> Option<Instant> {
            None
        }
    }

    struct Collect(Vec<PeerEvent>, Pace);

    impl Sink<PeerEvent> for Collect {
        fn event(&mut self, event: PeerEvent) -> Flow {
            self.1.follow(&event);
            let stop = matches!(event, PeerEvent::Stopped { .. });
            self.0.push(event);
            if stop { Flow::Finish } else { Flow::Continue }
        }
        fn refused(&mut self, error: CommandError) {
            panic!("refused {error}");
        }
    }

    #[test]
    fn lines_become_commands_and_end_of_input_means_quit() {
        let driver = Driver::new(Recorder::default(), None, None, DriverConfig::default()).unwrap();
        let handle = driver.handle();
        let pace = Pace::default();
        pace.follow(&PeerEvent::Ready {
            name: Name::new("me").unwrap(),
            listen: "127.0.0.1:1".parse().unwrap(),
            fingerprint: String::new(),
        });
        let follower = pace.clone();
        let runner = std::thread::spawn(move || {
            let mut sink = Collect(Vec::new(), follower);
            driver.run(&mut sink).map(|()| sink.0)
        });
        let input = "/who\nhello nobody\n\n/msg bob hi there\nand again\n/bogus\n".as_bytes();
        read_lines(
            input,
            &handle,
            (&Printer::new(true), &Conversation::default(), &pace),
            Path::new("/nonexistent"),
            None,
        );
        let events = runner.join().unwrap().unwrap();

        let bob = Target::User(Name::new("bob").unwrap());
        let expected = vec![
            PeerCommand::Who,
            PeerCommand::Message {
                to: bob.clone(),
                text: "hi there".into(),
            },
            PeerCommand::Message {
                to: bob,
                text: "and again".into(),
            },
        ];
        assert_eq!(events[0], PeerEvent::Users { users: vec![] });
        assert_eq!(
            events[1],
            PeerEvent::Notice {
                message: format!("{expected:?}")
            },
            "plain text before any conversation and /bogus were refused, not sent"
        );
        assert!(matches!(events[2], PeerEvent::Stopped { .. }));
    }
}
