//! The conversations panel: the status window, then each person and group,
//! with presence (● online, ○ offline), a call's stage (`☎` up, `…`
//! ringing, `?` asking this person), unread counts, and the one shown
//! highlighted. Names and group names are checked on the wire (lowercase
//! ASCII), so they are drawn as they are.

use confab_engine::peer::Target;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::border::block;
use crate::peer::screen::app::App;
use crate::peer::screen::calls::Stage as CallStage;
use crate::peer::screen::wrap::pad;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let inner = area.width.saturating_sub(2) as usize;
    let talks = app.talks.list();
    // Keep the one shown in view on a short panel.
    let rows = area.height.saturating_sub(2) as usize;
    let skip = (app.talks.selected() + 1).saturating_sub(rows);
    let lines: Vec<Line> = talks
        .iter()
        .enumerate()
        .skip(skip)
        .map(|(i, t)| {
            let (dot, dot_style) = match &t.target {
                Some(Target::User(n)) => match app.talks.online(n) {
                    Some(true) => ("●", Style::new().fg(Color::Green)),
                    Some(false) => ("○", Style::new().fg(Color::DarkGray)),
                    None => (" ", Style::new()),
                },
                Some(Target::Group(_)) => ("#", Style::new().fg(Color::Blue)),
                None => ("*", Style::new().fg(Color::DarkGray)),
            };
            let unread = if t.unread > 0 {
                format!(" {}", t.unread.min(999))
            } else {
                String::new()
            };
            let label = match &t.target {
                Some(Target::Group(g)) => g.as_str()[1..].to_owned(),
                _ => t.label(),
            };
            let call = match &t.target {
                Some(Target::User(n)) => match app.calls.stage(n) {
                    Some(CallStage::Up) => " ☎",
                    Some(CallStage::Ringing) => " …",
                    Some(CallStage::Asked) => " ?",
                    None => "",
                },
                _ => "",
            };
            let room = inner.saturating_sub(2 + unread.len() + call.chars().count());
            let mut style = Style::new();
            if t.open {
                style = style.add_modifier(Modifier::BOLD);
            }
            if i == app.talks.selected() {
                style = style.add_modifier(Modifier::REVERSED);
            }
            Line::from(vec![
                Span::styled(dot, dot_style),
                Span::raw(" "),
                Span::styled(pad(&label, room), style),
                Span::styled(call, Style::new().fg(Color::Magenta)),
                Span::styled(
                    unread,
                    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                ),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(block(" conversations ".into(), false)),
        area,
    );
}
