//! [`Printer`]: the one place a peer writes to standard output, shared by the
//! driver thread (events) and the input thread (help, input mistakes), so
//! lines never interleave. `--json` selects [`super::json`], else
//! [`super::human`].

use std::io::Write;
use std::sync::{Arc, Mutex};

use confab_engine::peer::PeerEvent;
use confab_engine::wire::registry::SharedFile;
use confab_mio::ShareStatus;

use super::human::HumanPrinter;
use super::json;

#[derive(Debug)]
enum Style {
    Json,
    Human(HumanPrinter),
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
            Style::Human(HumanPrinter::default())
        };
        Self(Arc::new(Mutex::new(style)))
    }

    fn with(&self, f: impl FnOnce(&mut Style)) {
        // A panic while printing must not silence every later line.
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard);
    }

    /// An event from the engine.
    pub fn event(&self, event: &PeerEvent) {
        self.with(|s| match s {
            Style::Json => emit(json::event(event)),
            Style::Human(h) => h.event(event),
        });
    }

    /// A mistake found before the engine saw it.
    pub fn error(&self, message: &str) {
        self.with(|s| match s {
            Style::Json => emit(json::error(message)),
            Style::Human(h) => h.say(&format!("error: {message}")),
        });
    }

    /// Something to tell the user that is not an engine event.
    pub fn notice(&self, message: &str) {
        self.with(|s| match s {
            Style::Json => emit(json::notice(message)),
            Style::Human(h) => h.say(message),
        });
    }

    /// The share watch published a new list.
    pub fn share_updated(&self, dir: &std::path::Path, files: &[SharedFile]) {
        self.with(|s| match s {
            Style::Json => emit(json::share_updated(dir, files)),
            Style::Human(h) => h.say(&format!(
                "sharing {} file{} from {}",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                dir.display()
            )),
        });
    }

    /// The answer to `/share`.
    pub fn share(&self, status: &ShareStatus) {
        self.with(|s| match s {
            Style::Json => emit(json::share(status)),
            Style::Human(h) => h.say(&json::share_text(status)),
        });
    }

    /// The answer to `/help`.
    pub fn help(&self, text: &str) {
        self.with(|s| match s {
            Style::Json => emit(json::help(text)),
            Style::Human(h) => h.say(text),
        });
    }
}

fn emit(value: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    // A closed standard output (the script went away) is not worth a panic.
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}
