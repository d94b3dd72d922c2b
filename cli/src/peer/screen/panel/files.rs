//! The files browser: the last `/files` answer as a table (owner, name, a
//! folder's file count, size), the chosen row highlighted and kept in view.
//! It takes the conversation's place while open. File names come from the
//! network and are escaped ([`Shown`]).

use indicatif::HumanBytes;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::border::block;
use crate::peer::screen::browser::Browser;
use crate::peer::screen::wrap::pad;
use crate::safe::Shown;
use confab_engine::wire::registry::ShareKind;

pub fn draw(frame: &mut Frame, area: Rect, browser: &Browser) {
    let width = area.width.saturating_sub(2) as usize;
    let rows = area.height.saturating_sub(2) as usize;
    let skip = (browser.chosen + 1).saturating_sub(rows);
    // Owner, count and size columns, and the spaces between.
    let name_w = width.saturating_sub(11 + 1 + 1 + 10 + 1 + 10);
    let mut lines: Vec<Line> = browser
        .files
        .iter()
        .enumerate()
        .skip(skip)
        .take(rows)
        .map(|(i, f)| {
            let (name, count) = match f.file.kind {
                ShareKind::File => (Shown(f.file.name.as_str()).to_string(), String::new()),
                ShareKind::Folder { files } => (
                    format!("{}/", Shown(f.file.name.as_str())),
                    format!("{files} files"),
                ),
            };
            let text = format!(
                "{} {} {:>10} {:>10}",
                pad(f.owner.as_str(), 11),
                pad(&name, name_w),
                count,
                HumanBytes(f.file.size).to_string(),
            );
            let style = if i == browser.chosen {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            Line::styled(text, style)
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::raw("nobody shares anything"));
    }
    let title = format!(
        " shared files ({}): Enter fetches, Esc closes ",
        browser.files.len()
    );
    frame.render_widget(Paragraph::new(lines).block(block(title, true)), area);
}
