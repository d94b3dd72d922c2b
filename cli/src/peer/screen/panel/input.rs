//! The input line and the key bar under it. The line scrolls sideways to
//! keep the cursor in view; its title says where plain text goes. What the
//! person typed (or completed from a file name) is drawn escaped, grapheme
//! by grapheme, so a pasted escape sequence shows as text, and the cursor
//! is placed by the columns actually drawn.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_segmentation::UnicodeSegmentation;

use super::border::block;
use crate::peer::screen::app::App;
use crate::peer::screen::keys::bar;
use crate::peer::screen::wrap::{fit, width};
use crate::safe::Shown;

/// The line as drawn, and the column of the cursor in it.
pub fn shown(text: &str, cursor: usize) -> (String, usize) {
    let mut out = String::new();
    let mut at = 0;
    for (i, g) in text.grapheme_indices(true) {
        if i == cursor {
            at = width(&out);
        }
        out.push_str(&Shown(g).to_string());
    }
    if cursor >= text.len() {
        at = width(&out);
    }
    (out, at)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let inner = area.width.saturating_sub(2) as usize;
    let (text, at) = shown(app.editor.text(), app.editor.cursor());
    // Scroll so the cursor stays inside, a quarter of the width of context.
    let skip = if at + 1 > inner {
        at + 1 - inner + inner / 4
    } else {
        0
    };
    let mut cols = 0;
    let mut visible = String::new();
    for g in text.graphemes(true) {
        let w = width(g);
        if cols >= skip && cols + w <= skip + inner {
            visible.push_str(g);
        }
        cols += w;
    }
    let title = match app.talks.current_target() {
        _ if app.stopping => " stopping… ".to_owned(),
        Some(t) => format!(" to {t} "),
        None => " /chat NAME to start; /help for commands ".to_owned(),
    };
    frame.render_widget(Paragraph::new(visible).block(block(title, true)), area);
    let x = area.x + 1 + (at - skip.min(at)) as u16;
    frame.set_cursor_position(Position::new(
        x.min(area.right().saturating_sub(2)),
        area.y + 1,
    ));
}

/// The key bar, or the hint of the moment in its place.
pub fn keys(frame: &mut Frame, area: Rect, app: &App) {
    let line = match &app.hint {
        Some(hint) => Line::styled(
            fit(hint, area.width as usize),
            Style::new().fg(Color::Yellow),
        ),
        None => {
            let mut spans = Vec::new();
            for (key, what) in bar(app.browser.open) {
                spans.push(Span::styled(
                    key,
                    Style::new().add_modifier(Modifier::REVERSED),
                ));
                spans.push(Span::raw(format!(" {what} ")));
            }
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_counts_drawn_columns() {
        assert_eq!(shown("日本", 3), ("日本".to_owned(), 2));
        assert_eq!(shown("a\x1bb", 2), ("a\\eb".to_owned(), 3));
        assert_eq!(shown("ab", 2), ("ab".to_owned(), 2));
    }
}
