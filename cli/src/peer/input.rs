//! The input thread: reads standard input line by line (terminal or pipe
//! alike), parses each line and hands the command to the driver. Mistakes are
//! printed and the next line is read. End of input means `/quit`. The driver's
//! bounded command channel paces a fast pipe.

use std::io::BufRead;

use confab_engine::limits::MAX_AVATAR_LEN;
use confab_engine::peer::{PeerCommand, ProfileChange};
use confab_mio::DriverHandle;

use super::conversation::Conversation;
use super::parse::{HELP, Parsed, parse};
use super::printer::Printer;

/// Starts the thread.
pub fn spawn(
    handle: DriverHandle<PeerCommand>,
    printer: Printer,
    conversation: Conversation,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("confab-input".into())
        .spawn(move || read_lines(std::io::stdin().lock(), &handle, &printer, &conversation))?;
    Ok(())
}

/// Reads `input` until its end or `/quit`.
pub fn read_lines(
    mut input: impl BufRead,
    handle: &DriverHandle<PeerCommand>,
    printer: &Printer,
    conversation: &Conversation,
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
        let cmd = match parse(&line, conversation.current().as_ref()) {
            Ok(Parsed::Nothing) => continue,
            Ok(Parsed::Help) => {
                printer.help(HELP);
                continue;
            }
            Ok(Parsed::Avatar(path)) => match read_avatar(&path) {
                Ok(bytes) => PeerCommand::SetProfile(ProfileChange::Avatar(bytes)),
                Err(e) => {
                    printer.error(&e);
                    continue;
                }
            },
            Ok(Parsed::Command(cmd)) => cmd,
            Err(e) => {
                printer.error(&e.0);
                continue;
            }
        };
        if let PeerCommand::Message { to, .. } = &cmd {
            conversation.choose(to.clone());
        }
        let quit = cmd == PeerCommand::Quit;
        if handle.command(cmd).is_err() || quit {
            return;
        }
    }
    let _ = handle.command(PeerCommand::Quit);
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
