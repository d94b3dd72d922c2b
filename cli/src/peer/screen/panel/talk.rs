//! The conversation panel: the one shown, newest at the bottom, each entry
//! as `HH:MM who: text` wrapped to the panel's width (continuation lines
//! indented under the text), with the delivery mark of each message sent:
//! `…` on its way, `✓` once the other side acknowledged it, `⏳` waiting for
//! an offline friend, `✗` refused. PgUp/PgDn scroll it; a title says so
//! while it is scrolled back. Times are UTC, as in `/history`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::border::block;
use crate::peer::human::utc;
use crate::peer::screen::app::App;
use crate::peer::screen::talk::{Entry, Mark, Talk, Who};
use crate::peer::screen::wrap::wrap;

/// Columns of `HH:MM `.
const TIME: usize = 6;

/// The screen lines of `talk` at `width` columns, oldest first.
pub fn lines(talk: &Talk, me: Option<&str>, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for e in &talk.entries {
        out.extend(entry_lines(e, me, width));
    }
    out
}

fn entry_lines(e: &Entry, me: Option<&str>, width: usize) -> Vec<Line<'static>> {
    let time = utc(e.at_ms)[11..16].to_owned();
    let (who, who_style) = match &e.who {
        Who::Peer(n) => (
            format!("{n}: "),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ),
        Who::Me => (
            format!("{}: ", me.unwrap_or("me")),
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ),
        Who::Notice | Who::Error => (String::new(), Style::new()),
    };
    let text_style = match e.who {
        Who::Notice => Style::new().fg(Color::Gray),
        Who::Error => Style::new().fg(Color::Red),
        _ => Style::new(),
    };
    let mark = match e.mark {
        Mark::None | Mark::Sent(_) => "",
        Mark::Pending => " …",
        Mark::Queued(_) => " ⏳",
        Mark::Delivered => " ✓",
        Mark::Failed => " ✗",
    };
    let whole = format!("{time} {who}{}{mark}", e.text);
    let head = TIME + who.len();
    let rows = wrap(&whole, width, TIME);
    let last = rows.len() - 1;
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let mut spans = Vec::new();
            let mut rest = row.as_str();
            if i == 0 && rest.len() >= head && rest.is_char_boundary(head) {
                spans.push(Span::styled(
                    rest[..TIME].to_owned(),
                    Style::new().fg(Color::DarkGray),
                ));
                spans.push(Span::styled(rest[TIME..head].to_owned(), who_style));
                rest = &rest[head..];
            }
            if i == last && !mark.is_empty() && rest.ends_with(mark.trim_start()) {
                let at = rest.len() - mark.trim_start().len();
                spans.push(Span::styled(rest[..at].to_owned(), text_style));
                spans.push(Span::styled(
                    rest[at..].to_owned(),
                    Style::new().fg(Color::Green),
                ));
            } else {
                spans.push(Span::styled(rest.to_owned(), text_style));
            }
            Line::from(spans)
        })
        .collect()
}

/// How far the shown conversation can scroll back in `area`.
pub fn max_scroll(app: &App, area: Rect) -> usize {
    let width = area.width.saturating_sub(2) as usize;
    let height = area.height.saturating_sub(2) as usize;
    let me = app.me.as_ref().map(|n| n.as_str());
    lines(app.talks.current(), me, width)
        .len()
        .saturating_sub(height)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let width = area.width.saturating_sub(2) as usize;
    let height = area.height.saturating_sub(2) as usize;
    let talk = app.talks.current();
    let me = app.me.as_ref().map(|n| n.as_str());
    let all = lines(talk, me, width);
    let scroll = talk.scroll.min(all.len().saturating_sub(height));
    let end = all.len() - scroll;
    let start = end.saturating_sub(height);
    let shown: Vec<Line> = all[start..end].to_vec();
    let mut title = match &talk.target {
        None => " status ".to_owned(),
        Some(t) if talk.open => format!(" {t} "),
        Some(t) => format!(" {t} (not open) "),
    };
    if scroll > 0 {
        title.push_str(&format!("· {scroll} lines back (PgDn) "));
    }
    frame.render_widget(Paragraph::new(shown).block(block(title, true)), area);
}
