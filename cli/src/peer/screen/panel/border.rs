//! The frame every panel draws around itself. Pure.

use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Block;

/// A panel's frame: its title, highlighted when it has the keys.
pub fn block(title: String, focused: bool) -> Block<'static> {
    let style = if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    Block::bordered()
        .border_style(style)
        .title(title)
        .title_style(Style::new().add_modifier(Modifier::BOLD))
}
