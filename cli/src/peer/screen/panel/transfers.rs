//! The transfers panel: one row per transfer under way, then the last few
//! finished: id, direction (↓ from, ↑ to), peer, name, a progress bar, the
//! percentage, how the bytes travel (`direct`; the relay will add `relay`),
//! and the rate with the time left, or how it ended.

use confab_engine::peer::Direction;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::border::block;
use crate::peer::screen::transfers::{Row, Stage, Transfers};
use crate::peer::screen::wrap::{fit, pad};

/// Cells of the progress bar.
const BAR: usize = 12;
/// Columns of the peer's name.
const PEER: usize = 8;
/// Columns of the rate and time left.
const SPEED: usize = 20;

/// `[=====>      ]` for `done` of `total`.
pub fn bar(done: u64, total: u64) -> String {
    let filled = if total == 0 {
        0
    } else {
        ((u128::from(done.min(total)) * BAR as u128) / u128::from(total)) as usize
    };
    let mut s = String::from("[");
    for i in 0..BAR {
        s.push(match i.cmp(&filled) {
            std::cmp::Ordering::Less => '=',
            std::cmp::Ordering::Equal if filled > 0 => '>',
            _ => ' ',
        });
    }
    s.push(']');
    s
}

fn row_line(r: &Row, width: usize) -> Line<'static> {
    let arrow = match r.direction {
        Some(Direction::Receive) => "↓",
        Some(Direction::Send) => "↑",
        None => " ",
    };
    let peer = r.peer.as_ref().map_or(String::new(), |p| p.to_string());
    let pct = match (r.done * 100).checked_div(r.total) {
        Some(p) => format!("{p:>3}%"),
        None => "  -%".to_owned(),
    };
    let (end, end_style) = match r.stage {
        Stage::Moving => (r.speed.clone(), Style::new()),
        Stage::Done => ("done".to_owned(), Style::new().fg(Color::Green)),
        Stage::Failed => ("failed".to_owned(), Style::new().fg(Color::Red)),
        Stage::Paused => ("paused".to_owned(), Style::new().fg(Color::Yellow)),
    };
    let name = r.name.clone().unwrap_or_else(|| "…".into());
    // id, arrow, peer, bar, percentage, via and speed are fixed; the name
    // takes the rest.
    let fixed = 6 + 2 + (PEER + 1) + (BAR + 3) + 5 + 7 + SPEED;
    let name_w = width.saturating_sub(fixed).max(4);
    let head = format!(
        "{:>5} {arrow} {} {} ",
        r.id.to_string(),
        pad(&peer, PEER),
        pad(&name, name_w),
    );
    Line::from(vec![
        Span::raw(head),
        Span::styled(
            format!("{} ", bar(r.done, r.total)),
            Style::new().fg(Color::Cyan),
        ),
        Span::raw(format!("{pct} {:<6} ", r.via.word())),
        Span::styled(fit(&end, SPEED), end_style),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, transfers: &Transfers) {
    let width = area.width.saturating_sub(2) as usize;
    let rows = transfers.rows();
    let shown = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = rows
        .iter()
        .take(shown)
        .map(|r| row_line(r, width))
        .collect();
    let more = rows.len().saturating_sub(shown);
    let title = if more > 0 {
        format!(" transfers (+{more} more: /transfers) ")
    } else {
        " transfers ".to_owned()
    };
    frame.render_widget(Paragraph::new(lines).block(block(title, false)), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_bytes() {
        assert_eq!(bar(0, 0), "[            ]");
        assert_eq!(bar(50, 100), "[======>     ]");
        assert_eq!(bar(100, 100), "[============]");
        assert_eq!(bar(u64::MAX, u64::MAX), "[============]");
    }
}
