//! The request panel: the oldest consent request still waiting (a chat, a
//! group invitation, a file offer), with the keys that answer it. It stays
//! above the input line until answered, whatever else arrives.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::peer::screen::prompts::Prompt;

pub fn draw(frame: &mut Frame, area: Rect, prompt: &Prompt, waiting: usize) {
    let title = if waiting > 1 {
        format!(" request (1 of {waiting}) ")
    } else {
        " request ".to_owned()
    };
    let key = Style::new().add_modifier(Modifier::REVERSED);
    let lines = vec![
        Line::styled(
            format!("? {}", prompt.question()),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Line::from(vec![
            Span::styled(" Ctrl+Y ", key),
            Span::raw(" accept   "),
            Span::styled(" Ctrl+N ", key),
            Span::raw(format!(
                " decline   (or /accept {0}, /decline {0})",
                prompt.id
            )),
        ]),
    ];
    let block = Block::bordered()
        .border_style(Style::new().fg(Color::Yellow))
        .title(title);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
