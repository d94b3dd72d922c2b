//! Drawing: the whole screen from the interface's state, by pure functions
//! (one per panel, in `panel/`) onto a ratatui frame. Nothing here changes
//! state or touches the terminal; the screen loop and the snapshot tests
//! call the same [`draw`].
//!
//! Every text drawn was made safe when it entered the state, except what
//! the person types, which the input panel escapes as it draws.

pub mod border;
pub mod files;
pub mod input;
pub mod list;
pub mod prompt;
pub mod talk;
pub mod transfers;
pub mod video;

use ratatui::Frame;

use super::app::App;
use super::layout::{Areas, areas};

/// The areas for `app` on a screen of `size`.
pub fn layout(app: &App, size: ratatui::layout::Rect) -> Areas {
    areas(
        size,
        app.transfers.rows().len(),
        app.prompts.first().is_some(),
        app.calls.shown().is_some(),
    )
}

/// Draws everything.
pub fn draw(frame: &mut Frame, app: &App) {
    let a = layout(app, frame.area());
    list::draw(frame, a.list, app);
    if app.browser.open {
        files::draw(frame, a.talk, &app.browser);
    } else {
        talk::draw(frame, a.talk, app);
    }
    if let (Some(area), Some((with, call))) = (a.video, app.calls.shown()) {
        video::draw(frame, area, with, call);
    }
    if let Some(area) = a.transfers {
        transfers::draw(frame, area, &app.transfers);
    }
    if let (Some(area), Some(p)) = (a.prompt, app.prompts.first()) {
        prompt::draw(frame, area, p, app.prompts.len());
    }
    input::draw(frame, a.input, app);
    input::keys(frame, a.keys, app);
}
