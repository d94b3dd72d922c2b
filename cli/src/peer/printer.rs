//! [`Printer`]: the one place a peer writes to standard output, shared by the
//! driver thread (events) and the input thread (help, input mistakes), so
//! lines never interleave. `--json` selects [`super::json`]; the
//! full-screen interface gets everything as a [`Feed`] on its channel
//! (sending never waits, so the driver is never slowed by the terminal);
//! else [`super::human`].

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use confab_engine::peer::{PeerCommand, PeerEvent};
use confab_engine::wire::Name;
use confab_engine::wire::registry::SharedFile;
use confab_mio::ShareStatus;

pub use super::context::Context;
use super::human::HumanPrinter;
use super::json;
use super::screen::Feed;
use super::words::plain;

#[derive(Debug)]
enum Style {
    Json,
    // Boxed: one printer per process, and clippy minds the size gap.
    Human(Box<HumanPrinter>),
    /// The full-screen interface's channel.
    Screen(Sender<Feed>),
}

/// Standard output, in the chosen style; cheap to clone.
#[derive(Debug, Clone)]
pub struct Printer(Arc<Mutex<Style>>);

impl Printer {
    /// A printer for `--json` (`json` true) or for people.
    pub fn new(json: bool) -> Self {
        let style = if json {
            Style::Json
        } else {
            Style::Human(Box::default())
        };
        Self(Arc::new(Mutex::new(style)))
    }

    /// A printer for the full-screen interface: everything goes to `feed`.
    pub fn screen(feed: Sender<Feed>) -> Self {
        Self(Arc::new(Mutex::new(Style::Screen(feed))))
    }

    fn with(&self, f: impl FnOnce(&mut Style)) {
        // A panic while printing must not silence every later line.
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard);
    }

    /// An event from the engine, with what the line interface knows of it.
    pub fn event(&self, event: &PeerEvent, context: &Context) {
        self.with(|s| match s {
            Style::Json => emit(json::event(event)),
            Style::Human(h) => h.event(event, context),
            Style::Screen(f) => feed(f, Feed::Event(event.clone(), context.asked.clone())),
        });
    }

    /// `call_ended`, with the file the call was saved in (`--media-out`).
    pub fn call_ended(&self, event: &PeerEvent, context: &Context, path: Option<&std::path::Path>) {
        self.with(|s| match s {
            Style::Json => emit(super::call_json::ended(event, path)),
            Style::Human(h) => {
                if let Some(line) = super::call_json::line(event, path) {
                    h.say(&line);
                }
            }
            Style::Screen(f) => feed(f, Feed::Event(event.clone(), context.asked.clone())),
        });
    }

    /// The answer to `/avatar NAME`: where its `size` bytes were saved.
    pub fn avatar(&self, name: &Name, size: usize, saved: &Result<Option<PathBuf>, String>) {
        self.with(|s| match (s, saved) {
            (Style::Json, Ok(path)) => emit(json::avatar(name, size, path.as_deref())),
            (Style::Json, Err(e)) => emit(json::error(e)),
            (Style::Human(h), Ok(Some(path))) => h.say(&format!(
                "saved {name}'s avatar ({}) to {}",
                indicatif::HumanBytes(size as u64),
                path.display()
            )),
            (Style::Human(h), Ok(None)) => h.say(&format!("{name} has no avatar")),
            (Style::Human(h), Err(e)) => h.say(&format!("error: {e}")),
            (Style::Screen(f), Ok(Some(path))) => feed(
                f,
                Feed::Said(format!(
                    "saved {name}'s avatar ({}) to {}",
                    indicatif::HumanBytes(size as u64),
                    path.display()
                )),
            ),
            (Style::Screen(f), Ok(None)) => feed(f, Feed::Said(format!("{name} has no avatar"))),
            (Style::Screen(f), Err(e)) => feed(f, Feed::Error(e.clone())),
        });
    }

    /// The registry at `registry` proved the key `fingerprint` on first
    /// contact; `kept` says in which file it was kept, or why it was not.
    pub fn registry_key(
        &self,
        registry: SocketAddr,
        fingerprint: &str,
        kept: &Result<PathBuf, String>,
    ) {
        self.with(|s| match s {
            Style::Json => {
                emit(json::registry_key(
                    registry,
                    fingerprint,
                    kept.as_ref().ok(),
                ));
                if let Err(e) = kept {
                    emit(json::error(e));
                }
            }
            Style::Human(h) => h.say(&super::human::registry_key_line(
                registry,
                fingerprint,
                Some(kept.as_ref().map(PathBuf::as_path).map_err(String::as_str)),
            )),
            Style::Screen(f) => feed(
                f,
                Feed::Said(super::human::registry_key_line(
                    registry,
                    fingerprint,
                    Some(kept.as_ref().map(PathBuf::as_path).map_err(String::as_str)),
                )),
            ),
        });
    }

    /// A command was handed to the engine. People are told at once of one
    /// whose answer comes from another person (`/chat`, `/invite`); scripts
    /// wait for the events.
    pub fn sent(&self, cmd: &PeerCommand) {
        self.with(|s| match s {
            Style::Human(h) => h.sent(cmd),
            Style::Screen(f) => feed(f, Feed::Sent(cmd.clone())),
            Style::Json => {}
        });
    }

    /// A mistake found before the engine saw it.
    pub fn error(&self, message: &str) {
        self.with(|s| match s {
            Style::Json => emit(json::error(message)),
            Style::Human(h) => h.say(&format!("error: {}", plain(message))),
            Style::Screen(f) => feed(f, Feed::Error(message.to_owned())),
        });
    }

    /// Something to tell the user that is not an engine event.
    pub fn notice(&self, message: &str) {
        self.with(|s| match s {
            Style::Json => emit(json::notice(message)),
            Style::Human(h) => h.say(message),
            Style::Screen(f) => feed(f, Feed::Said(message.to_owned())),
        });
    }

    /// The share watch published a new list.
    pub fn share_updated(&self, dir: &std::path::Path, files: &[SharedFile]) {
        self.with(|s| match s {
            Style::Json => emit(json::share_updated(dir, files)),
            Style::Human(h) => h.say(&sharing(files.len(), dir)),
            Style::Screen(f) => feed(f, Feed::Said(sharing(files.len(), dir))),
        });
    }

    /// The answer to `/share`.
    pub fn share(&self, status: &ShareStatus) {
        self.with(|s| match s {
            Style::Json => emit(json::share(status)),
            Style::Human(h) => h.say(&json::share_text(status)),
            Style::Screen(f) => feed(f, Feed::Said(json::share_text(status))),
        });
    }

    /// The answer to `/help`.
    pub fn help(&self, text: &str) {
        self.with(|s| match s {
            Style::Json => emit(json::help(text)),
            Style::Human(h) => h.say(text),
            Style::Screen(f) => feed(f, Feed::Help(text.to_owned())),
        });
    }
}

fn sharing(count: usize, dir: &std::path::Path) -> String {
    format!(
        "sharing {count} file{} from {}",
        if count == 1 { "" } else { "s" },
        dir.display()
    )
}

/// Hands `what` to the interface; once it has ended, nobody is looking.
fn feed(to: &Sender<Feed>, what: Feed) {
    let _ = to.send(what);
}

fn emit(value: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    // A closed standard output (the script went away) is not worth a panic.
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}
