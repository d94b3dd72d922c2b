//! Snapshot tests of the interface: the state is built from the same feeds
//! the peer sends, drawn with ratatui's test backend, and compared with the
//! committed `.snap` files in `snapshots/`. A changed rendering fails (insta
//! writes nothing when `CI` is set, and `.ci/run` sets `INSTA_UPDATE=no`);
//! review a new one with `cargo insta review` or by reading the
//! `.snap.new` file, then commit it.

use std::time::{Duration, Instant};

use confab_engine::TransferId;
use confab_engine::peer::{
    CallStats, Direction, PeerCommand, PeerEvent, RequestId, Target, TransferStatus,
};
use confab_engine::wire::registry::{FileEntry, ShareKind, SharedFile};
use confab_engine::wire::{ErrorCode, FileName, GroupName, Md5, Name};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::{Frame, Terminal};
use unicode_width::UnicodeWidthStr;

use super::app::{App, Stamp};
use super::calls::Stage as CallStage;
use super::feed::Feed;
use super::keys::Action;
use super::panel;
use super::prompts::{Ask, Prompt};
use crate::peer::call::decoder::Picture;

/// 2024-02-29 12:34 UTC.
const T0_MS: u64 = 1_709_210_096_000;

fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn g(s: &str) -> GroupName {
    GroupName::new(s).unwrap()
}

/// A clock for one test: `at(s)` is `s` seconds after its start.
struct Clock(Instant);

impl Clock {
    fn new() -> Self {
        Self(Instant::now())
    }
    fn at(&self, secs: u64) -> Stamp {
        Stamp {
            at: self.0 + Duration::from_secs(secs),
            unix_ms: T0_MS + secs * 1000,
        }
    }
}

fn event(app: &mut App, e: PeerEvent, at: Stamp) {
    app.feed(Feed::Event(e, None), at);
}

fn typed(app: &mut App, text: &str, at: Stamp) {
    for c in text.chars() {
        app.key(Action::Insert(c), at);
    }
}

/// What `draw` puts on a `w` x `h` screen, one text line per row (a wide
/// character's second cell is not repeated; trailing spaces are cut).
fn render(w: u16, h: u16, draw: impl FnOnce(&mut Frame)) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(draw).unwrap();
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        let mut x = 0;
        while x < w {
            let s = buf[(x, y)].symbol();
            line.push_str(s);
            x += s.width().max(1) as u16;
        }
        assert!(
            !line.contains(['\x1b', '\u{202E}', '\r', '\x07']),
            "row {y} holds a raw control: {line:?}"
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn whole(app: &App, w: u16, h: u16) -> String {
    render(w, h, |f| panel::draw(f, app))
}

/// alice, chatting with bob, in #team, with carol's offer waiting and a
/// download under way: a busy moment.
fn busy() -> (App, Clock) {
    let c = Clock::new();
    let mut app = App::default();
    let e = |app: &mut App, ev, s| event(app, ev, c.at(s));
    e(
        &mut app,
        PeerEvent::Ready {
            name: n("alice"),
            listen: "127.0.0.1:7301".parse().unwrap(),
            fingerprint: "0f".repeat(16),
        },
        0,
    );
    e(
        &mut app,
        PeerEvent::Presence {
            name: n("bob"),
            online: true,
        },
        1,
    );
    e(
        &mut app,
        PeerEvent::Presence {
            name: n("carol"),
            online: false,
        },
        1,
    );
    app.key(Action::Insert('x'), c.at(1));
    app.key(Action::Backspace, c.at(1));
    typed(&mut app, "/chat bob", c.at(2));
    app.key(Action::Submit, c.at(2));
    app.feed(
        Feed::Sent(confab_engine::peer::PeerCommand::Chat(n("bob"))),
        c.at(2),
    );
    e(
        &mut app,
        PeerEvent::ChatOpened {
            with: n("bob"),
            via: confab_engine::peer::Via::Direct,
        },
        3,
    );
    e(
        &mut app,
        PeerEvent::Message {
            from: n("bob"),
            to: Target::User(n("alice")),
            text: "hi alice! the photos are in my share: 日本の写真".into(),
        },
        60,
    );
    typed(&mut app, "thanks, fetching them now", c.at(70));
    app.key(Action::Submit, c.at(70));
    e(
        &mut app,
        PeerEvent::Sent {
            to: Target::User(n("bob")),
            seq: 1,
            queued: false,
        },
        70,
    );
    e(
        &mut app,
        PeerEvent::Delivered {
            to: Target::User(n("bob")),
            seq: 1,
        },
        71,
    );
    typed(&mut app, "and the café menu?", c.at(80));
    app.key(Action::Submit, c.at(80));
    e(
        &mut app,
        PeerEvent::GroupJoined {
            group: g("#team"),
            members: vec![n("alice"), n("bob"), n("dave")],
        },
        90,
    );
    for (s, text) in [(100, "standup in 5"), (101, "who has the notes?")] {
        e(
            &mut app,
            PeerEvent::Message {
                from: n("dave"),
                to: Target::Group(g("#team")),
                text: text.into(),
            },
            s,
        );
    }
    e(
        &mut app,
        PeerEvent::FileOffer {
            id: RequestId(7),
            from: n("carol"),
            name: "quarterly report.pdf".into(),
            size: 3 << 20,
            transfer: TransferId(5012),
        },
        110,
    );
    for (s, done) in [(120, 0u64), (121, 40 << 20), (122, 80 << 20)] {
        e(
            &mut app,
            PeerEvent::TransferProgress {
                id: TransferId(4001),
                done,
                total: 200 << 20,
                rate: 0,
                via: confab_engine::peer::Via::Direct,
            },
            s,
        );
    }
    // The interface asked for names; the engine's list answers.
    assert_eq!(
        app.take_out().last(),
        Some(&super::app::Out::Line("/transfers".into()))
    );
    e(
        &mut app,
        PeerEvent::Transfers {
            transfers: vec![TransferStatus {
                id: TransferId(4001),
                direction: Direction::Receive,
                peer: n("bob"),
                name: "photos".into(),
                done: 80 << 20,
                total: 200 << 20,
                rate: 0,
                state: "receiving".into(),
                via: confab_engine::peer::Via::Direct,
            }],
        },
        122,
    );
    e(
        &mut app,
        PeerEvent::TransferDone {
            id: TransferId(3999),
            direction: Direction::Send,
            name: "notes.txt".into(),
            path: "/home/alice/share/notes.txt".into(),
            md5: Md5::of(b"notes"),
            folder: false,
            files: 1,
            size: 1234,
            via: confab_engine::peer::Via::Direct,
        },
        123,
    );
    // Joining #team showed it (nothing was being typed); back to bob.
    assert_eq!(app.talks.current().label(), "#team");
    app.key(Action::Conversation(1), c.at(124));
    e(
        &mut app,
        PeerEvent::Message {
            from: n("bob"),
            to: Target::Group(g("#team")),
            text: "notes are in #team's folder".into(),
        },
        124,
    );
    typed(&mut app, "half typed, not lost: 日本語", c.at(124));
    (app, c)
}

#[test]
fn the_whole_screen_at_80_by_24() {
    let (app, _) = busy();
    insta::assert_snapshot!("whole_80x24", whole(&app, 80, 24));
}

#[test]
fn a_wider_screen_after_a_resize() {
    let (app, _) = busy();
    insta::assert_snapshot!("whole_120x30", whole(&app, 120, 30));
}

#[test]
fn the_conversation_list() {
    let (mut app, c) = busy();
    app.key(Action::NextConversation, c.at(130));
    let s = render(20, 7, |f| panel::list::draw(f, f.area(), &app));
    insta::assert_snapshot!("list", s);
}

#[test]
fn the_conversation_with_wide_and_combining_characters() {
    let (app, _) = busy();
    let s = render(44, 12, |f| panel::talk::draw(f, f.area(), &app));
    insta::assert_snapshot!("talk", s);
}

#[test]
fn a_conversation_scrolled_back() {
    let (mut app, c) = busy();
    for i in 0..30 {
        event(
            &mut app,
            PeerEvent::Message {
                from: n("bob"),
                to: Target::User(n("alice")),
                text: format!("line {i}"),
            },
            c.at(200 + i),
        );
    }
    app.page = 8;
    app.key(Action::ScrollUp, c.at(300));
    app.key(Action::ScrollUp, c.at(300));
    let s = render(44, 10, |f| panel::talk::draw(f, f.area(), &app));
    insta::assert_snapshot!("talk_scrolled", s);
    let area = Rect::new(0, 0, 44, 10);
    assert!(panel::talk::max_scroll(&app, area) > 14);
}

#[test]
fn the_transfers_panel() {
    let (app, _) = busy();
    let s = render(80, 4, |f| {
        panel::transfers::draw(f, f.area(), &app.transfers)
    });
    insta::assert_snapshot!("transfers", s);
}

#[test]
fn each_request_prompt() {
    let prompts = [
        ("prompt_chat", Ask::Chat { from: n("bob") }),
        (
            "prompt_group",
            Ask::Group {
                from: n("dave"),
                group: g("#team"),
            },
        ),
        (
            "prompt_file",
            Ask::File {
                from: n("carol"),
                name: "quarterly\u{202E}fdp.exe".into(),
                size: 3 << 20,
                transfer: TransferId(5012),
            },
        ),
        ("prompt_call", Ask::Call { from: n("bob") }),
    ];
    for (name, ask) in prompts {
        let mut list = super::prompts::Prompts::default();
        list.ask(RequestId(7), ask);
        let p: Prompt = list.first().unwrap().clone();
        let s = render(80, 4, |f| panel::prompt::draw(f, f.area(), &p, 2));
        insta::assert_snapshot!(name, s);
    }
}

#[test]
fn the_files_browser() {
    let (mut app, c) = busy();
    let entry = |owner: &str, name: &str, kind, size| FileEntry {
        owner: n(owner),
        file: SharedFile {
            kind,
            name: FileName::new(name).unwrap(),
            size,
            md5: Md5::of(name.as_bytes()),
        },
    };
    event(
        &mut app,
        PeerEvent::Files {
            files: vec![
                entry("bob", "photos", ShareKind::Folder { files: 12 }, 34_500_000),
                entry("bob", "日本語の資料.pdf", ShareKind::File, 1_000_000),
                entry("carol", "recipe.txt", ShareKind::File, 900),
            ],
        },
        c.at(130),
    );
    app.key(Action::Close, c.at(131));
    app.key(Action::Files, c.at(131));
    app.editor.take();
    let m = app.moment();
    assert!(m.browser_open && m.line_empty);
    app.key(Action::BrowserDown, c.at(132));
    insta::assert_snapshot!("files", whole(&app, 80, 24));
    app.key(Action::Fetch, c.at(133));
    assert_eq!(
        app.take_out(),
        [super::app::Out::Line("/get bob 日本語の資料.pdf".into())]
    );
}

#[test]
fn the_help() {
    let (mut app, c) = busy();
    app.key(Action::Conversation(0), c.at(130));
    app.feed(Feed::Help(crate::peer::parse::HELP.into()), c.at(130));
    app.page = 40;
    let s = render(80, 40, |f| panel::talk::draw(f, f.area(), &app));
    insta::assert_snapshot!("help", s);
}

#[test]
fn keys_answer_the_request_and_text_goes_where_it_was_typed() {
    let (mut app, c) = busy();
    app.take_out();
    app.key(Action::Accept, c.at(130));
    assert_eq!(app.take_out(), [super::app::Out::Line("/accept 7".into())]);
    assert!(app.prompts.first().is_none());
    // Plain text typed in bob's window is addressed to bob when entered.
    app.editor.take();
    typed(&mut app, "/me waves", c.at(131));
    app.key(Action::Home, c.at(131));
    app.key(Action::Insert('/'), c.at(131));
    app.key(Action::Submit, c.at(131));
    assert_eq!(
        app.take_out(),
        [super::app::Out::Line("/msg bob /me waves".into())]
    );
    typed(&mut app, "/ac", c.at(132));
    app.key(Action::Complete, c.at(132));
    assert_eq!(app.editor.text(), "/accept ");
}

#[test]
fn hostile_text_is_drawn_escaped() {
    let (mut app, c) = busy();
    event(
        &mut app,
        PeerEvent::Message {
            from: n("bob"),
            to: Target::User(n("alice")),
            text: "\x1b[2J\x1b[31mred\r\x07\u{202E}gnp.exe".into(),
        },
        c.at(130),
    );
    app.editor.take();
    app.paste("pasted\x1b[2J");
    let s = whole(&app, 80, 24);
    assert!(s.contains("\\e[2J\\e[31mred\\r\\x07U+202Egnp.exe"), "{s}");
    assert!(s.contains("pasted\\e[2J"), "{s}");
}

#[test]
fn the_stop_is_shown() {
    let (mut app, c) = busy();
    event(
        &mut app,
        PeerEvent::Stopped {
            code: ErrorCode::Normal,
            reason: "quit".into(),
        },
        c.at(130),
    );
    assert!(app.stopping);
    assert!(whole(&app, 80, 24).contains("stopping"));
}

#[test]
fn the_input_line_scrolls_to_its_cursor() {
    let (mut app, c) = busy();
    app.editor.take();
    typed(
        &mut app,
        "a long line that does not fit: 日本語の資料 and café, typed on",
        c.at(130),
    );
    for _ in 0..4 {
        app.key(Action::Left, c.at(130));
    }
    let s = render(40, 4, |f| {
        let [input, keys] = ratatui::layout::Layout::vertical([
            ratatui::layout::Constraint::Length(3),
            ratatui::layout::Constraint::Length(1),
        ])
        .areas(f.area());
        panel::input::draw(f, input, &app);
        panel::input::keys(f, keys, &app);
    });
    insta::assert_snapshot!("input", s);
}

/// A 16x12 picture in four quadrants: red, green / blue, white.
fn quadrants() -> Picture {
    let (w, h) = (16, 12);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            rgb.extend(match (x < w / 2, y < h / 2) {
                (true, true) => [255, 0, 0],
                (false, true) => [0, 255, 0],
                (true, false) => [0, 0, 255],
                (false, false) => [255, 255, 255],
            });
        }
    }
    Picture {
        width: w,
        height: h,
        rgb,
    }
}

/// alice in a call with bob that is up, a picture and stats received.
fn in_a_call() -> (App, Clock) {
    let c = Clock::new();
    let mut app = App::default();
    let ready = PeerEvent::Ready {
        name: n("alice"),
        listen: "127.0.0.1:7301".parse().unwrap(),
        fingerprint: "0f".repeat(16),
    };
    event(&mut app, ready, c.at(0));
    event(
        &mut app,
        PeerEvent::ChatOpened {
            with: n("bob"),
            via: confab_engine::peer::Via::Direct,
        },
        c.at(1),
    );
    let req = PeerEvent::CallRequest {
        id: RequestId(9),
        from: n("bob"),
    };
    event(&mut app, req, c.at(2));
    assert!(whole(&app, 80, 24).contains("bob is calling you (video)"));
    assert_eq!(app.calls.stage(&n("bob")), Some(CallStage::Asked));
    app.key(Action::Accept, c.at(3));
    assert_eq!(app.take_out(), [super::app::Out::Line("/accept 9".into())]);
    event(&mut app, PeerEvent::CallStarted { with: n("bob") }, c.at(3));
    app.calls.picture(&n("bob"), quadrants());
    let stats = CallStats {
        fps: 30,
        frames: 300,
        lost: 3,
        period_lost: 0,
        jitter_us: 1_500,
        latency_us: 12_400,
        kbps: 2_400,
    };
    let e = PeerEvent::CallStats {
        with: n("bob"),
        stats,
    };
    event(&mut app, e, c.at(13));
    (app, c)
}

#[test]
fn a_call_is_asked_then_shown_with_its_video_and_stats() {
    let (mut app, c) = in_a_call();
    insta::assert_snapshot!("call_whole_80x24", whole(&app, 80, 24));
    // The colours of the video panel: two letters a cell, upper and
    // lower pixel (R red, G green, B blue, W white, . not a picture cell).
    let area = Rect::new(0, 0, 20, 8);
    let mut t = Terminal::new(TestBackend::new(20, 8)).unwrap();
    let call = app.calls.shown().unwrap().1.clone();
    t.draw(|f| panel::video::draw(f, area, &n("bob"), &call))
        .unwrap();
    let buf = t.backend().buffer();
    let letter = |c: ratatui::style::Color| match c {
        ratatui::style::Color::Rgb(255, 0, 0) => 'R',
        ratatui::style::Color::Rgb(0, 255, 0) => 'G',
        ratatui::style::Color::Rgb(0, 0, 255) => 'B',
        ratatui::style::Color::Rgb(255, 255, 255) => 'W',
        _ => '?',
    };
    let mut colours = String::new();
    for y in 0..8 {
        let (mut top, mut bottom) = (String::new(), String::new());
        for x in 0..20 {
            let cell = &buf[(x, y)];
            let (a, b) = if cell.symbol() == "▀" {
                (letter(cell.fg), letter(cell.bg))
            } else {
                ('.', '.')
            };
            top.push(a);
            bottom.push(b);
        }
        colours.push_str(&format!("{top}\n{bottom}\n"));
    }
    insta::assert_snapshot!("call_video_colours", colours);
    // The call ends: the video goes, the conversation says why.
    let end = PeerEvent::CallEnded {
        with: n("bob"),
        reason: "bob: hung up".into(),
        frames_received: 300,
        frames_lost: 3,
    };
    event(&mut app, end, c.at(20));
    assert!(app.calls.shown().is_none());
    let s = whole(&app, 80, 24);
    assert!(!s.contains("video: bob"), "{s}");
    assert!(s.contains("call with bob ended"), "{s}");
}

#[test]
fn a_call_placed_here_rings_in_the_list_and_a_request_is_dropped_when_it_ends() {
    let c = Clock::new();
    let mut app = App::default();
    app.feed(Feed::Sent(PeerCommand::Call(n("carol"))), c.at(0));
    assert_eq!(app.calls.stage(&n("carol")), Some(CallStage::Ringing));
    let list = render(20, 6, |f| panel::list::draw(f, f.area(), &app));
    let row = list
        .lines()
        .find(|l| l.contains("carol"))
        .unwrap_or_default();
    assert!(
        row.trim_end_matches('│').trim_end().ends_with('…'),
        "{list}"
    );
    let req = PeerEvent::CallRequest {
        id: RequestId(4),
        from: n("dave"),
    };
    event(&mut app, req, c.at(1));
    let end = PeerEvent::CallEnded {
        with: n("dave"),
        reason: "dave: not answered".into(),
        frames_received: 0,
        frames_lost: 0,
    };
    event(&mut app, end, c.at(2));
    assert!(
        app.prompts.first().is_none(),
        "the request went with the call"
    );
    // A picture of a call that is not up is not kept.
    app.calls.picture(&n("carol"), quadrants());
    assert!(app.calls.shown().is_none());
}
