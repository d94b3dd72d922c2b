//! Where each panel goes, from the terminal's size and what there is to
//! show. Pure; the same function serves the screen and the snapshot tests.
//!
//! ```text
//! ┌conversations┐┌ the conversation shown (or the files browser) ───┐
//! │             ││                                                  │
//! └─────────────┘└──────────────────────────────────────────────────┘
//! ┌ transfers (only while there are some) ──────────────────────────┐
//! ┌ request (only while one waits; it stays until answered) ────────┐
//! ┌ input line ─────────────────────────────────────────────────────┐
//!  keys (or the hint of the moment)
//! ```
//!
//! Calls (issue 21) add a video panel: it takes the right half of the
//! conversation row while a call is up ([`Areas::video`], `None` otherwise
//! or when the row is too narrow to share), so the panels below keep their
//! places.

use ratatui::layout::{Constraint, Layout, Rect};

/// Width of the conversation list.
const LIST: u16 = 20;
/// The conversation row is shared with the video only from this width.
const VIDEO_FROM: u16 = 40;
/// Rows of transfers shown at most.
const TRANSFER_ROWS: u16 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub list: Rect,
    pub talk: Rect,
    /// Where a call's video goes, while one is up.
    pub video: Option<Rect>,
    pub transfers: Option<Rect>,
    pub prompt: Option<Rect>,
    pub input: Rect,
    pub keys: Rect,
}

/// The areas for a terminal of `size` with `transfers` rows to show, a
/// request waiting (`prompt`) and a call up (`video`).
pub fn areas(size: Rect, transfers: usize, prompt: bool, video: bool) -> Areas {
    let transfers = (transfers as u16).min(TRANSFER_ROWS);
    let transfer_h = if transfers > 0 { transfers + 2 } else { 0 };
    let prompt_h = if prompt { 4 } else { 0 };
    let [main, t, p, input, keys] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(transfer_h),
        Constraint::Length(prompt_h),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(size);
    let list_w = LIST.min(main.width / 3);
    let [list, right] =
        Layout::horizontal([Constraint::Length(list_w), Constraint::Min(10)]).areas(main);
    let (talk, video) = if video && right.width >= VIDEO_FROM {
        let [t, v] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(right);
        (t, Some(v))
    } else {
        (right, None)
    };
    Areas {
        list,
        talk,
        video,
        transfers: (transfer_h > 0).then_some(t),
        prompt: prompt.then_some(p),
        input,
        keys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_fits_in_80_by_24() {
        let a = areas(Rect::new(0, 0, 80, 24), 9, true, false);
        assert_eq!(a.transfers.unwrap().height, 6);
        assert_eq!(a.prompt.unwrap().height, 4);
        assert_eq!(a.input.height, 3);
        assert_eq!(a.keys.y, 23);
        assert!(a.talk.height >= 8, "{a:?}");
        assert_eq!(a.list.width + a.talk.width, 80);
        let bare = areas(Rect::new(0, 0, 80, 24), 0, false, false);
        assert_eq!(
            (bare.transfers, bare.prompt, bare.video),
            (None, None, None)
        );
        let call = areas(Rect::new(0, 0, 80, 24), 0, false, true);
        let v = call.video.unwrap();
        assert_eq!(call.talk.width + v.width, 80 - call.list.width);
        assert_eq!((v.y, v.height), (call.talk.y, call.talk.height));
        let narrow = areas(Rect::new(0, 0, 50, 24), 0, false, true);
        assert_eq!(narrow.video, None, "too narrow to share: no video");
    }
}
