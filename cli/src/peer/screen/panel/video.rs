//! The video panel, while a call is up: the last decoded picture, scaled
//! to fit the panel with its shape kept, two pixels a cell (`▀` with the
//! upper pixel as the foreground colour and the lower as the background),
//! and a line of the call's statistics under it. Nearest-neighbour
//! sampling: a few thousand pixels a frame, cheap on the interface's
//! thread.

use confab_engine::peer::CallStats;
use confab_engine::wire::Name;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::border::block;
use crate::peer::call::decoder::Picture;
use crate::peer::screen::calls::Call;

pub fn draw(frame: &mut Frame, area: Rect, with: &Name, call: &Call) {
    let b = block(format!(" video: {with} "), false);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let pic_area = Rect {
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let stats_area = Rect {
        y: inner.y + inner.height - 1,
        height: 1,
        ..inner
    };
    match &call.picture {
        Some(p) => paint(frame.buffer_mut(), pic_area, p),
        None => frame.render_widget(Paragraph::new("waiting for video…"), pic_area),
    }
    frame.render_widget(
        Paragraph::new(Line::raw(stats_line(call.stats))),
        stats_area,
    );
}

/// `30 fps  loss 0.5%  12 ms  900 kb/s` (the most wanted first, as a
/// narrow panel cuts the end), or what is known before the first stats.
pub fn stats_line(stats: Option<CallStats>) -> String {
    let Some(s) = stats else {
        return "no statistics yet".into();
    };
    let seen = s.frames + s.lost;
    let loss = if seen == 0 {
        0.0
    } else {
        s.lost as f64 * 100.0 / seen as f64
    };
    format!(
        "{} fps  loss {loss:.1}%  {} ms  {} kb/s",
        s.fps,
        s.latency_us / 1000,
        s.kbps
    )
}

/// The largest size (in cells) with the picture's shape that fits `area`,
/// a cell being two pixels high.
fn fit(p: &Picture, area: Rect) -> (u16, u16) {
    let (w, h) = (p.width.max(1) as u64, p.height.max(1) as u64);
    let (aw, ah) = (u64::from(area.width), u64::from(area.height) * 2);
    let (cols, px_rows) = if aw * h <= ah * w {
        (aw, (aw * h / w).max(1))
    } else {
        ((ah * w / h).max(1), ah)
    };
    (cols as u16, px_rows.div_ceil(2) as u16)
}

/// Draws `p` scaled into `area`, centred.
pub fn paint(buf: &mut Buffer, area: Rect, p: &Picture) {
    if p.width == 0 || p.height == 0 || p.rgb.len() < p.width * p.height * 3 {
        return;
    }
    let (cols, rows) = fit(p, area);
    if cols == 0 || rows == 0 {
        return;
    }
    let x0 = area.x + (area.width - cols) / 2;
    let y0 = area.y + (area.height - rows) / 2;
    let px_rows = usize::from(rows) * 2;
    let pixel = |cx: u16, py: usize| {
        let sx = usize::from(cx) * p.width / usize::from(cols);
        let sy = (py * p.height / px_rows).min(p.height - 1);
        let i = (sy * p.width + sx) * 3;
        Color::Rgb(p.rgb[i], p.rgb[i + 1], p.rgb[i + 2])
    };
    for cy in 0..rows {
        for cx in 0..cols {
            let top = pixel(cx, usize::from(cy) * 2);
            let bottom = pixel(cx, usize::from(cy) * 2 + 1);
            if let Some(cell) = buf.cell_mut((x0 + cx, y0 + cy)) {
                cell.set_symbol("▀")
                    .set_style(Style::new().fg(top).bg(bottom));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picture_keeps_its_shape() {
        let p = Picture {
            width: 640,
            height: 480,
            rgb: vec![0; 640 * 480 * 3],
        };
        assert_eq!(fit(&p, Rect::new(0, 0, 40, 30)), (40, 15));
        assert_eq!(fit(&p, Rect::new(0, 0, 100, 12)), (32, 12));
        assert_eq!(fit(&p, Rect::new(0, 0, 1, 1)), (1, 1));
    }
}
