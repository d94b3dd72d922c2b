//! The full-screen interface of `confab peer` on a terminal (ratatui over
//! crossterm): conversations, the one shown, transfers, requests that stay
//! until answered, a files browser, and an input line. Chosen when standard
//! input and output are terminals and neither `--plain` nor `--json` is
//! given; the line interface stays for everything else.
//!
//! Threads, so that the screen never slows the peer: the driver thread runs
//! the engine and its [`super::PeerSink`], whose printer (screen style)
//! sends each thing to show as a [`Feed`] down an unbounded channel and
//! never waits; the interface's thread ([`start`]) owns the terminal, takes
//! what arrived, reads keys and draws; the lines a person enters go to the
//! line interface's own input thread through [`Lines`], so commands are
//! parsed, checked and paced exactly as in line mode. A call's video is
//! decoded on its own thread (`call/decoder.rs`), which leaves the last
//! picture in a [`Latest`] slot the interface takes when it draws.
//!
//! The state is a plain struct ([`app::App`]) changed by feeds and keys and
//! drawn by pure functions (`panel/`); `tests.rs` renders it with ratatui's
//! test backend against the snapshots in `snapshots/`.

mod absorb;
mod app;
mod browser;
mod calls;
mod complete;
mod editor;
mod feed;
mod keys;
mod layout;
mod lines;
mod panel;
mod prompts;
mod talk;
mod terminal;
mod transfers;
mod wrap;

#[cfg(test)]
mod tests;

use std::io::stdout;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use confab_engine::peer::PeerCommand;
use confab_mio::DriverHandle;
use crossterm::event::Event;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use self::app::{App, Out, Stamp};
pub use self::feed::Feed;
pub use self::lines::Lines;
pub use self::terminal::restore;
use super::call::decoder::Latest;

/// How long the loop waits for a key before looking at the feed again.
const TICK: Duration = Duration::from_millis(40);

/// The running interface.
#[derive(Debug)]
pub struct Screen {
    feed: Sender<Feed>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Screen {
    /// Ends the interface and gives the terminal back; says why it could
    /// not run, if it could not.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.end()
    }

    fn end(&mut self) -> std::io::Result<()> {
        let _ = self.feed.send(Feed::End);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other("the interface panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.end();
    }
}

/// Starts the interface's thread: it shows what comes from `feed` (the
/// printer holds `sender`, its other end), sends entered lines to `lines`,
/// and stops the peer through `handle` on Ctrl+C.
pub fn start(
    feed: Receiver<Feed>,
    sender: Sender<Feed>,
    lines: Sender<String>,
    handle: DriverHandle<PeerCommand>,
    pictures: Latest,
) -> std::io::Result<Screen> {
    let thread = std::thread::Builder::new()
        .name("confab-screen".into())
        .spawn(move || {
            // Nobody can type a command or see the peer once the interface
            // is gone, by an error or a panic: stop it then.
            let mut stop = StopUnlessDone(&handle, false);
            let ran = run(&feed, &lines, &handle, &pictures);
            stop.1 = ran.is_ok();
            ran
        })?;
    Ok(Screen {
        feed: sender,
        thread: Some(thread),
    })
}

/// Stops the peer when dropped, unless the interface ended as it should
/// (`.1`); a panic unwinding through the thread drops it too.
struct StopUnlessDone<'a>(&'a DriverHandle<PeerCommand>, bool);

impl Drop for StopUnlessDone<'_> {
    fn drop(&mut self) {
        if !self.1 {
            self.0.stop();
        }
    }
}

fn stamp() -> Stamp {
    Stamp {
        at: Instant::now(),
        unix_ms: crate::clock::unix_ms(),
    }
}

fn run(
    feed: &Receiver<Feed>,
    lines: &Sender<String>,
    handle: &DriverHandle<PeerCommand>,
    pictures: &Latest,
) -> std::io::Result<()> {
    let _guard = terminal::Guard::enter()?;
    let mut term = Terminal::new(CrosstermBackend::new(stdout()))?;
    term.clear()?;
    let mut app = App::default();
    let mut dirty = true;
    loop {
        loop {
            match feed.try_recv() {
                Ok(Feed::End) | Err(TryRecvError::Disconnected) => return Ok(()),
                Ok(f) => {
                    app.feed(f, stamp());
                    dirty = true;
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        for (with, p) in pictures.take() {
            app.calls.picture(&with, p);
            dirty = true;
        }
        for out in app.take_out() {
            match out {
                Out::Line(line) => {
                    let _ = lines.send(line);
                }
                Out::Stop => handle.stop(),
                Out::Leave => {
                    restore();
                    std::process::exit(130);
                }
            }
        }
        if dirty {
            let size = term.size()?;
            let areas = panel::layout(&app, size.into());
            app.page = areas.talk.height.saturating_sub(2) as usize;
            let max = panel::talk::max_scroll(&app, areas.talk);
            app.talks.clamp_scroll(max);
            term.draw(|f| panel::draw(f, &app))?;
            dirty = false;
        }
        if crossterm::event::poll(TICK)? {
            match crossterm::event::read()? {
                Event::Key(key) => {
                    if let Some(action) = keys::action(key, app.moment()) {
                        app.key(action, stamp());
                    }
                }
                Event::Paste(text) => app.paste(&text),
                Event::Resize(..) => term.autoresize()?,
                _ => {}
            }
            dirty = true;
        }
    }
}
