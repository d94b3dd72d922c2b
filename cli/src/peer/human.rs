//! Human output: one readable line (or a few) per event, and a progress bar
//! per transfer (indicatif; drawn on the terminal's standard error, hidden
//! when that is not a terminal, and finished when the transfer ends).
//!
//! [`line`] is pure, so each event's wording is unit-tested; [`HumanPrinter`]
//! adds the bars and prints lines without tearing them.
//!
//! Every text that came from the network is formatted through
//! [`Shown`], and every finished line through [`terminal_line`] in
//! [`HumanPrinter::say`], the only place that prints: names and group names
//! are checked on the wire (lowercase ASCII), anything else may hold escape
//! sequences. Reasons lose the engine's code names ([`plain`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use confab_engine::TransferId;
use confab_engine::peer::{
    DigestCheck, Direction, FoundBy, PeerCommand, PeerEvent, Target, TransferStatus, Via, WhoisFrom,
};
use confab_engine::wire::ErrorCode;
use confab_engine::wire::registry::{ShareKind, SharedFile, UserEntry};
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressStyle};

use super::chats::{Chats, Closed};
use super::columns::{Align, Table};
use super::context::Context;
use super::pace::Question;
use super::rate::Rates;
use super::words::{plain, registry_lost};
use crate::safe::{Shown, terminal_line};

/// The text for `event`, or `None` for events shown otherwise (progress) or
/// not at all (delivery receipts); transfer speeds come from `rates` at `now`.
pub fn line(event: &PeerEvent, rates: &Rates, now: Instant) -> Option<String> {
    Some(match event {
        PeerEvent::Ready {
            name,
            listen,
            fingerprint,
        } => format!(
            "logged in as {name}, reachable at {listen}. Type /help for the commands.\n\
             Your key fingerprint is {}: others see it in /whois {name}.",
            Shown(fingerprint)
        ),
        PeerEvent::Users { users } if users.is_empty() => "nobody is online".into(),
        PeerEvent::Users { users } => format!("online ({}):{}", users.len(), users_table(users)),
        PeerEvent::Found { peers } => super::lan::found_lines(peers),
        PeerEvent::Files { files } if files.is_empty() => "no shared files".into(),
        PeerEvent::Files { files } => {
            let mut t = Table::new(&[
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Right,
                Align::Left,
            ]);
            for f in files {
                t.row(vec![
                    f.owner.to_string(),
                    shared_name(&f.file),
                    folder_files(&f.file),
                    HumanBytes(f.file.size).to_string(),
                    f.file.md5.to_string(),
                ]);
            }
            format!("shared files ({}):{}", files.len(), t.render())
        }
        PeerEvent::Whois { info, files, from } => {
            let mut s = match info.addr {
                Some(a) => format!("{} is online at {a}", info.name),
                None => format!("{} is offline", info.name),
            };
            if let Some(key) = info.key {
                // Compare it with what they see in their `ready` line, out
                // of band: the registry could certify a false key.
                let _ = write!(s, "\n  key fingerprint: {}", key.fingerprint());
            }
            if !info.profile.nick.is_empty() {
                let _ = write!(s, "\n  nick: {}", Shown(info.profile.nick.as_str()));
            }
            if !info.profile.bio.is_empty() {
                let _ = write!(s, "\n  bio: {}", Shown(info.profile.bio.as_str()));
            }
            if !info.profile.avatar.is_empty() {
                let _ = write!(
                    s,
                    "\n  avatar: {} (/avatar {} saves it to a file)",
                    HumanBytes(info.profile.avatar.len() as u64),
                    info.name
                );
            }
            for f in files {
                let files = match folder_files(f) {
                    n if n.is_empty() => String::new(),
                    n => format!("{n}, "),
                };
                let _ = write!(
                    s,
                    "\n  shares {} ({files}{})",
                    shared_name(f),
                    HumanBytes(f.size)
                );
            }
            if let WhoisFrom::Peer { by, digest } = from {
                s.push_str(&whois_from_peer(info.name.as_str(), *by, *digest));
            }
            s
        }
        PeerEvent::Presence { name, online: true } => format!("* {name} is online"),
        PeerEvent::Presence {
            name,
            online: false,
        } => format!("* {name} went offline"),
        PeerEvent::ChatRequest { id, from } => {
            format!("? {from} asks for a chat: /accept {id} or /decline {id}")
        }
        PeerEvent::ChatOpened { with, via } => format!(
            "* chat with {with} is open{}; plain lines go to {with}",
            via_note(*via)
        ),
        PeerEvent::Path { with, via } => match via {
            Via::Direct => format!("* talking with {with} directly"),
            Via::Relay => format!(
                "* talking with {with} through the registry's relay (still end-to-end encrypted; \
                 the registry sees only who talks to whom and how much)"
            ),
        },
        PeerEvent::ChatClosed { with, reason } => {
            format!("* chat with {with} closed: {}", Shown(&plain(reason)))
        }
        PeerEvent::GroupInvite { id, from, group } => {
            format!("? {from} invites you into {group}: /accept {id} or /decline {id}")
        }
        PeerEvent::GroupJoined { group, members } => {
            let names: Vec<&str> = members.iter().map(|m| m.as_str()).collect();
            format!("* you are in {group} with {}", names.join(", "))
        }
        PeerEvent::MemberJoined { group, name } => format!("* {name} joined {group}"),
        PeerEvent::MemberLeft { group, name } => format!("* {name} left {group}"),
        PeerEvent::Message {
            from,
            to: Target::Group(g),
            text,
        } => format!("[{g}] {from}: {}", Shown(text)),
        PeerEvent::Message { from, text, .. } => format!("[{from}] {}", Shown(text)),
        PeerEvent::Delivered { .. } | PeerEvent::TransferProgress { .. } => return None,
        PeerEvent::Sent { queued: false, .. } => return None,
        PeerEvent::Sent { to, .. } => {
            format!("({to} is offline; the message waits and goes when they are back)")
        }
        PeerEvent::FileOffer {
            id,
            from,
            name,
            size,
            transfer,
        } => format!(
            "? {from} offers {} ({}) as transfer {transfer}: /accept {id} or /decline {id}",
            Shown(name),
            HumanBytes(*size)
        ),
        PeerEvent::TransferDone {
            direction: Direction::Receive,
            name,
            path,
            md5,
            folder: false,
            via,
            ..
        } => format!(
            "✓ received {} into {} (md5 {md5}){}",
            Shown(name),
            Shown(path),
            via_note(*via)
        ),
        PeerEvent::TransferDone {
            direction: Direction::Send,
            name,
            md5,
            folder: false,
            via,
            ..
        } => format!("✓ sent {} (md5 {md5}){}", Shown(name), via_note(*via)),
        PeerEvent::TransferDone {
            direction,
            name,
            path,
            md5,
            folder: true,
            files,
            size,
            via,
            ..
        } => {
            let what = format!(
                "folder {}/ ({files} {}, {}, every file verified; folder digest {md5}){}",
                Shown(name),
                if *files == 1 { "file" } else { "files" },
                HumanBytes(*size),
                via_note(*via)
            );
            match direction {
                Direction::Receive => format!("✓ received {what} into {}/", Shown(path)),
                Direction::Send => format!("✓ sent {what}"),
            }
        }
        PeerEvent::TransferFailed { id, reason } => {
            format!("✗ transfer {id} failed: {}", Shown(&plain(reason)))
        }
        PeerEvent::TransferPaused { id, reason } => {
            format!("‖ transfer {id} {}", Shown(&plain(reason)))
        }
        e @ (PeerEvent::CallRequest { .. }
        | PeerEvent::CallStarted { .. }
        | PeerEvent::CallStats { .. }
        | PeerEvent::CallEnded { .. }
        | PeerEvent::CallFrame { .. }
        | PeerEvent::CallAdapt { .. }) => return super::call_json::line(e, None),
        PeerEvent::Transfers { transfers } if transfers.is_empty() => "no transfers".into(),
        PeerEvent::Transfers { transfers } => {
            use Align::{Left, Right};
            let mut table = Table::new(&[Right, Left, Left, Right, Left, Left]);
            for t in transfers {
                let way = match t.direction {
                    Direction::Send => "to",
                    Direction::Receive => "from",
                };
                // A total of 0 before the size is known is not "100%".
                let size = match (t.done * 100).checked_div(t.total) {
                    Some(pct) => format!("{pct}% of {}", HumanBytes(t.total)),
                    None if t.state == "over" => "0 B".to_owned(),
                    None => "size not known yet".to_owned(),
                };
                // Only the exception is named: most transfers are direct.
                let via = match t.via {
                    confab_engine::peer::Via::Direct => "",
                    confab_engine::peer::Via::Relay => " (relay)",
                };
                table.row(vec![
                    t.id.to_string(),
                    Shown(&t.name).to_string(),
                    format!("{way} {}{via}", t.peer),
                    size,
                    rates.shown(t.id, now, t.done, t.total),
                    Shown(&t.state).to_string(),
                ]);
            }
            format!("transfers:{}", table.render())
        }
        PeerEvent::History { with, messages } if messages.is_empty() => {
            format!("no messages with {with} yet")
        }
        PeerEvent::History { with, messages } => {
            let mut s = format!("history with {with}:");
            for m in messages {
                let _ = write!(s, "\n  {} {}: {}", utc(m.at), m.from, Shown(&m.text));
            }
            s
        }
        PeerEvent::Friends { friends } if friends.is_empty() => {
            "no friends yet; /friend add NAME".into()
        }
        PeerEvent::Friends { friends } => {
            let mut t = Table::new(&[Align::Left, Align::Left]);
            for f in friends {
                let mut state = String::from(if f.online { "online" } else { "offline" });
                if f.queued > 0 {
                    let _ = write!(state, ", {} messages waiting", f.queued);
                }
                t.row(vec![f.name.to_string(), state]);
            }
            format!("friends:{}", t.render())
        }
        PeerEvent::Profile { profile } => format!(
            "nick: {}\nbio: {}\navatar: {}",
            Shown(profile.nick.as_str()),
            Shown(profile.bio.as_str()),
            HumanBytes(profile.avatar.len() as u64)
        ),
        PeerEvent::RegistryLost { reason } => {
            format!(
                "! the registry went away ({}); reconnecting",
                Shown(&registry_lost(reason))
            )
        }
        PeerEvent::RegistryBack => "* the registry is back".into(),
        PeerEvent::RegistryKey {
            registry,
            fingerprint,
        } => registry_key_line(*registry, fingerprint, None),
        PeerEvent::RegistryHeard {
            name,
            registry,
            fingerprint,
            used: true,
        } => format!(
            "* using the registry announced on the LAN at {registry} (key {}); logging in as {name}",
            Shown(fingerprint)
        ),
        PeerEvent::RegistryHeard {
            name,
            registry,
            fingerprint,
            used: false,
        } => format!(
            "* a registry announces itself on the LAN at {registry} (key {fp}). To log in to              it, start confab with:\n  confab peer --name {name} --registry lan --registry-key {fp}",
            fp = Shown(fingerprint)
        ),
        PeerEvent::KeyChanged { name, old, new } => format!(
            "WARNING: {n}'s key changed: it was {old}, it is now {new}. \
             If {n} did not reinstall confab or move to another machine, \
             someone (or the registry) may be posing as {n}: compare \
             fingerprints with {n} in person or by phone (/whois {n}).",
            n = Shown(name.as_str()),
            old = Shown(old),
            new = Shown(new),
        ),
        PeerEvent::KeyPinned { name, old, new } => key_pinned_line(name.as_str(), old, new),
        PeerEvent::Error { message } => format!("error: {}", Shown(&plain(message))),
        PeerEvent::Notice { message } => format!("* {}", Shown(&plain(message))),
        PeerEvent::Stopped {
            code: ErrorCode::Normal,
            ..
        } => "bye".into(),
        PeerEvent::Stopped { reason, .. } => format!("stopped: {}", Shown(&plain(reason))),
    })
}

/// What a line about a chat or transfer adds when its bytes go through the
/// registry's relay; nothing on the direct path (the usual one).
fn via_note(via: Via) -> &'static str {
    match via {
        Via::Direct => "",
        Via::Relay => " (via relay)",
    }
}

/// The registry at `registry` proved `fingerprint` on first contact, and
/// it was `kept` in that file (or not, and why; `None`: not known here).
pub fn registry_key_line(
    registry: SocketAddr,
    fingerprint: &str,
    kept: Option<Result<&Path, &str>>,
) -> String {
    let trusting = format!(
        "* trusting registry {registry} with key {} (first contact)",
        Shown(fingerprint)
    );
    match kept {
        Some(Ok(path)) => format!("{trusting}; kept in {}", path.display()),
        Some(Err(e)) => format!("{trusting}\n! {}", Shown(e)),
        None => trusting,
    }
}

/// The answer to `/search TEXT`: unlike `/who`'s, an empty one says that
/// nobody matched, not that nobody is online.
pub fn search_line(text: &str, users: &[UserEntry]) -> String {
    if users.is_empty() {
        format!("no name online contains \"{}\"", Shown(text))
    } else {
        format!(
            "online with \"{}\" in their name ({}):{}",
            Shown(text),
            users.len(),
            users_table(users)
        )
    }
}

fn users_table(users: &[UserEntry]) -> String {
    let mut t = Table::new(&[Align::Left, Align::Left]);
    for u in users {
        // Port 0: it takes no incoming connections (`--listen off`);
        // others reach it through the registry's relay.
        let addr = if u.addr.port() == 0 {
            "no incoming connections (relay)".to_owned()
        } else {
            u.addr.to_string()
        };
        t.row(vec![u.name.to_string(), addr]);
    }
    t.render()
}

/// `at` (milliseconds since the Unix epoch) as `YYYY-MM-DD HH:MM` in UTC.
pub fn utc(at_ms: u64) -> String {
    let secs = at_ms / 1000;
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}")
}

/// Prints lines and keeps one progress bar per transfer.
#[derive(Debug, Default)]
pub struct HumanPrinter {
    bars: MultiProgress,
    transfers: HashMap<TransferId, ProgressBar>,
    rates: Rates,
    /// After `Stopped` no bar is drawn again (it would follow `bye`).
    stopped: bool,
    chats: Chats,
    /// This session's finished transfers, as they were reported. The
    /// engine's `/transfers` keeps one a short while (as "over"), then
    /// forgets it; `/transfers` shows them apart, always.
    finished: Vec<(TransferId, String)>,
}

impl HumanPrinter {
    /// Shows `event`.
    pub fn event(&mut self, event: &PeerEvent, context: &Context) {
        let now = Instant::now();
        let closed = self.chats.follow(event);
        if self.stopped && matches!(event, PeerEvent::TransferProgress { .. }) {
            return;
        }
        self.bars(event, now);
        let Some(text) = self.text(event, context, closed, now) else {
            return;
        };
        if let PeerEvent::TransferDone { id, .. }
        | PeerEvent::TransferFailed { id, .. }
        | PeerEvent::TransferPaused { id, .. } = event
        {
            self.finished.push((*id, text.clone()));
        }
        self.say(&text);
    }

    /// Keeps one bar per transfer under way, none after the stop.
    fn bars(&mut self, event: &PeerEvent, now: Instant) {
        match event {
            PeerEvent::TransferProgress {
                id,
                done,
                total,
                via,
                ..
            } => {
                self.rates.record(*id, now, *done);
                let bar = self.transfers.entry(*id).or_insert_with(|| {
                    let bar = self.bars.add(ProgressBar::new(*total));
                    // Not indicatif's own speed and eta: the same figure as
                    // `/transfers` (see `super::rate`), in the prefix.
                    let style = ProgressStyle::with_template(
                        "{msg:14} [{bar:30}] {bytes}/{total_bytes} {prefix}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                    bar.set_style(style);
                    bar
                });
                bar.set_length(*total);
                bar.set_position(*done);
                bar.set_prefix(self.rates.shown(*id, now, *done, *total));
                bar.set_message(format!("transfer {id}{}", via_note(*via)));
            }
            PeerEvent::TransferDone { id, .. }
            | PeerEvent::TransferFailed { id, .. }
            | PeerEvent::TransferPaused { id, .. } => {
                self.rates.forget(*id);
                if let Some(bar) = self.transfers.remove(id) {
                    bar.finish_and_clear();
                    self.bars.remove(&bar);
                }
            }
            PeerEvent::Stopped { .. } => {
                self.stopped = true;
                for (_, bar) in self.transfers.drain() {
                    bar.finish_and_clear();
                    self.bars.remove(&bar);
                }
            }
            _ => {}
        }
    }

    /// [`line`], worded with what this session knows beyond the event.
    fn text(
        &self,
        event: &PeerEvent,
        context: &Context,
        closed: Option<Closed>,
        now: Instant,
    ) -> Option<String> {
        match (event, &context.asked) {
            (PeerEvent::Users { users }, Some(Question::Search(q))) => Some(search_line(q, users)),
            (PeerEvent::ChatClosed { with, reason }, _) if closed == Some(Closed::NeverOpened) => {
                Some(format!("* no chat with {with}: {}", Shown(&plain(reason))))
            }
            (PeerEvent::Transfers { transfers }, _) if !self.finished.is_empty() => {
                Some(self.transfers_and_finished(transfers, now))
            }
            (PeerEvent::GroupJoined { group, .. }, _) => line(event, &self.rates, now).map(|l| {
                if context.now_current {
                    format!("{l}; plain lines go to {group}")
                } else {
                    format!("{l}; write to it with /msg {group} TEXT")
                }
            }),
            _ => line(event, &self.rates, now),
        }
    }

    /// `/transfers`: those under way (or paused), then those finished
    /// this session. A row the engine still lists as over is shown once,
    /// as finished.
    fn transfers_and_finished(&self, transfers: &[TransferStatus], now: Instant) -> String {
        let transfers: Vec<TransferStatus> = transfers
            .iter()
            .filter(|t| t.state != "over" || self.finished.iter().all(|(id, _)| *id != t.id))
            .cloned()
            .collect();
        let under_way = if transfers.is_empty() {
            "no transfers under way".to_owned()
        } else {
            line(&PeerEvent::Transfers { transfers }, &self.rates, now).unwrap_or_default()
        };
        let done: Vec<&str> = self.finished.iter().map(|(_, l)| l.as_str()).collect();
        format!(
            "{under_way}\nfinished this session:\n  {}",
            done.join("\n  ")
        )
    }

    /// Acknowledges a command whose answer comes from another person.
    pub fn sent(&mut self, cmd: &PeerCommand) {
        let text = match cmd {
            PeerCommand::Chat(name) => self.chats.asking(name),
            PeerCommand::Invite { group, name } => Some(format!(
                "* invited {name} into {group}; waiting for the answer"
            )),
            _ => None,
        };
        if let Some(text) = text {
            self.say(&text);
        }
    }

    /// Prints a line above the bars. Whatever `text` holds, only its line
    /// breaks reach the terminal as they are ([`terminal_line`]).
    pub fn say(&self, text: &str) {
        let text = terminal_line(text);
        self.bars.suspend(|| println!("{text}"));
    }
}

/// A shared entry's name as listings show it: a folder ends in `/`.
fn shared_name(f: &SharedFile) -> String {
    match f.kind {
        ShareKind::File => Shown(f.name.as_str()).to_string(),
        ShareKind::Folder { .. } => format!("{}/", Shown(f.name.as_str())),
    }
}

/// "12 files" for a shared folder; nothing for a file.
fn folder_files(f: &SharedFile) -> String {
    match f.kind {
        ShareKind::File => String::new(),
        ShareKind::Folder { files: 1 } => "1 file".into(),
        ShareKind::Folder { files } => format!("{files} files"),
    }
}

/// The lines a `/whois` answered by the peer itself adds (issue 20):
/// where it came from, and whether it matches what the peer announced.
fn whois_from_peer(name: &str, by: Option<FoundBy>, digest: DigestCheck) -> String {
    let by = by.map_or_else(String::new, |b| format!(", found by {}", b.as_str()));
    let mut s = format!(
        "\n  (no registry: told by {name} itself over its link{by}; its shared files: /files {name})"
    );
    if digest == DigestCheck::Differs {
        let _ = write!(
            s,
            "\n  note: this profile is not the one {name} last announced: it changed since \
             (the next announcement will match), or {name} announced another"
        );
    }
    s
}

/// The text of a `key_pinned` event (`/trust` or `/forget`).
fn key_pinned_line(name: &str, old: &Option<String>, new: &Option<String>) -> String {
    let n = Shown(name);
    match (old, new) {
        (Some(o), Some(k)) if o == k => {
            format!(
                "* {n} was already trusted with the key {}; nothing changed",
                Shown(k)
            )
        }
        (Some(o), Some(k)) => format!(
            "* {n} is now trusted with the key {} (it was {}): a connection claiming \
             {n} must prove the new key",
            Shown(k),
            Shown(o)
        ),
        (None, Some(k)) => format!(
            "* {n} is now trusted with the key {} (no key was kept for {n} before)",
            Shown(k)
        ),
        (Some(o), None) => format!(
            "* forgot the key {} kept for {n}: the next key to claim {n} is trusted on \
             first use (compare its fingerprint with {n} out of band)",
            Shown(o)
        ),
        (None, None) => format!(
            "* no key was kept for {n}; nothing to forget (the next key to claim {n} is \
             trusted on first use)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`super::line`] with no transfer measured yet.
    fn line(event: &PeerEvent) -> Option<String> {
        super::line(event, &Rates::default(), Instant::now())
    }
    use confab_engine::peer::RequestId;
    use confab_engine::wire::{GroupName, Md5, Name};

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    #[test]
    fn requests_say_how_to_answer() {
        let s = line(&PeerEvent::ChatRequest {
            id: RequestId(4),
            from: n("bob"),
        })
        .unwrap();
        assert_eq!(s, "? bob asks for a chat: /accept 4 or /decline 4");
        let s = line(&PeerEvent::FileOffer {
            id: RequestId(5),
            from: n("bob"),
            name: "a.iso".into(),
            size: 2048,
            transfer: TransferId(4321),
        })
        .unwrap();
        assert!(
            s.contains("a.iso")
                && s.contains("2.00 KiB")
                && s.contains("/accept 5")
                && s.contains("transfer t4321"),
            "{s}"
        );
    }

    #[test]
    fn messages_show_who_and_where() {
        let direct = PeerEvent::Message {
            from: n("bob"),
            to: Target::User(n("alice")),
            text: "hi".into(),
        };
        assert_eq!(line(&direct).unwrap(), "[bob] hi");
        let group = PeerEvent::Message {
            from: n("bob"),
            to: Target::Group(GroupName::new("#team").unwrap()),
            text: "hi".into(),
        };
        assert_eq!(line(&group).unwrap(), "[#team] bob: hi");
    }

    #[test]
    fn relayed_chats_and_transfers_say_so_and_who_shows_who_listens() {
        let open = |via| {
            line(&PeerEvent::ChatOpened {
                with: n("bob"),
                via,
            })
            .unwrap()
        };
        assert_eq!(
            open(Via::Relay),
            "* chat with bob is open (via relay); plain lines go to bob"
        );
        assert_eq!(
            open(Via::Direct),
            "* chat with bob is open; plain lines go to bob"
        );
        let done = |via| {
            line(&PeerEvent::TransferDone {
                id: TransferId(1),
                direction: Direction::Send,
                name: "f".into(),
                path: "/d/f".into(),
                md5: Md5::of(b""),
                folder: false,
                files: 1,
                size: 0,
                via,
            })
            .unwrap()
        };
        assert!(
            done(Via::Relay).ends_with(" (via relay)"),
            "{}",
            done(Via::Relay)
        );
        assert!(
            !done(Via::Direct).contains("relay"),
            "{}",
            done(Via::Direct)
        );
        let s = line(&PeerEvent::Users {
            users: vec![
                UserEntry {
                    name: n("bob"),
                    addr: "10.0.0.2:0".parse().unwrap(),
                },
                UserEntry {
                    name: n("carol"),
                    addr: "10.0.0.3:5".parse().unwrap(),
                },
            ],
        })
        .unwrap();
        let bob = s.lines().find(|l| l.contains("bob")).unwrap();
        let carol = s.lines().find(|l| l.contains("carol")).unwrap();
        assert!(bob.contains("no incoming connections"), "{s}");
        assert!(
            carol.contains("10.0.0.3:5") && !carol.contains("incoming"),
            "{s}"
        );
    }

    #[test]
    fn listings_and_quiet_events() {
        let s = line(&PeerEvent::Users {
            users: vec![UserEntry {
                name: n("bob"),
                addr: "10.0.0.2:5".parse().unwrap(),
            }],
        })
        .unwrap();
        assert!(s.starts_with("online (1):") && s.contains("bob") && s.contains("10.0.0.2:5"));
        assert_eq!(
            line(&PeerEvent::Users { users: vec![] }).unwrap(),
            "nobody is online"
        );
        assert_eq!(
            line(&PeerEvent::Delivered {
                to: Target::User(n("bob")),
                seq: 1
            }),
            None
        );
        let done = PeerEvent::TransferDone {
            id: TransferId(1),
            direction: Direction::Receive,
            name: "f".into(),
            path: "/d/f".into(),
            md5: Md5::of(b""),
            folder: false,
            files: 1,
            size: 0,
            via: confab_engine::peer::Via::Direct,
        };
        assert!(
            line(&done)
                .unwrap()
                .contains("d41d8cd98f00b204e9800998ecf8427e")
        );
    }

    /// Every text field an event can carry from the network, hostile.
    #[test]
    fn every_network_text_is_escaped() {
        use confab_engine::bounded::Text;
        use confab_engine::peer::{HistoryEntry, TransferStatus};
        use confab_engine::wire::FileName;
        use confab_engine::wire::registry::{FileEntry, PeerInfo, Profile, SharedFile};

        const EVIL: &str = "\x1b[2J\x1b[31m\r\x07\u{9b}\u{202E}\u{200B}\nfake: line";
        let file = FileName::new("f\u{202E}\u{2066}.txt").unwrap();
        let profile = Profile {
            nick: Text::new(EVIL.to_owned()).unwrap(),
            bio: Text::new(EVIL.to_owned()).unwrap(),
            avatar: Default::default(),
        };
        let shared = SharedFile {
            kind: Default::default(),
            name: file.clone(),
            size: 1,
            md5: Md5::of(b""),
        };
        let text = || EVIL.to_owned();
        let events = [
            PeerEvent::Files {
                files: vec![FileEntry {
                    owner: n("bob"),
                    file: shared.clone(),
                }],
            },
            PeerEvent::Whois {
                info: PeerInfo {
                    name: n("bob"),
                    addr: None,
                    profile: profile.clone(),
                    key: None,
                },
                files: vec![shared],
                from: WhoisFrom::Registry,
            },
            PeerEvent::ChatClosed {
                with: n("bob"),
                reason: text(),
            },
            PeerEvent::Message {
                from: n("bob"),
                to: Target::User(n("me")),
                text: text(),
            },
            PeerEvent::Message {
                from: n("bob"),
                to: Target::Group(GroupName::new("#g").unwrap()),
                text: text(),
            },
            PeerEvent::FileOffer {
                id: RequestId(1),
                from: n("bob"),
                name: text(),
                size: 1,
                transfer: TransferId(1),
            },
            PeerEvent::TransferDone {
                id: TransferId(1),
                direction: Direction::Receive,
                name: text(),
                path: text(),
                md5: Md5::of(b""),
                folder: false,
                files: 1,
                size: 1,
                via: confab_engine::peer::Via::Direct,
            },
            PeerEvent::TransferDone {
                id: TransferId(1),
                direction: Direction::Send,
                name: text(),
                path: text(),
                md5: Md5::of(b""),
                folder: false,
                files: 1,
                size: 1,
                via: confab_engine::peer::Via::Direct,
            },
            PeerEvent::TransferFailed {
                id: TransferId(1),
                reason: text(),
            },
            PeerEvent::Transfers {
                transfers: vec![TransferStatus {
                    id: TransferId(1),
                    direction: Direction::Receive,
                    peer: n("bob"),
                    name: text(),
                    done: 1,
                    total: 2,
                    rate: 0,
                    state: text(),
                    via: confab_engine::peer::Via::Direct,
                }],
            },
            PeerEvent::History {
                with: Target::User(n("bob")),
                messages: vec![HistoryEntry {
                    from: n("bob"),
                    text: text(),
                    at: 0,
                }],
            },
            PeerEvent::Profile { profile },
            PeerEvent::RegistryLost { reason: text() },
            PeerEvent::Error { message: text() },
            PeerEvent::Notice { message: text() },
            PeerEvent::Stopped {
                code: ErrorCode::WrongPassword,
                reason: text(),
            },
        ];
        for e in &events {
            let s = line(e).unwrap();
            assert_eq!(terminal_line(&s), s, "{e:?} left something raw: {s:?}");
            assert!(s.contains("U+202E"), "{e:?}: {s}");
            assert!(
                !s.lines().any(|l| l.starts_with("fake:")),
                "{e:?} let the network start a line: {s}"
            );
        }
    }

    #[test]
    fn files_line_up_by_display_width() {
        use confab_engine::wire::FileName;
        use confab_engine::wire::registry::{FileEntry, SharedFile};
        use unicode_width::UnicodeWidthStr;
        let entry = |owner: &str, name: &str| FileEntry {
            owner: n(owner),
            file: SharedFile {
                kind: Default::default(),
                name: FileName::new(name).unwrap(),
                size: 1000,
                md5: Md5::of(name.as_bytes()),
            },
        };
        let s = line(&PeerEvent::Files {
            files: vec![
                entry("bob", "日本語の資料.pdf"),
                entry("carol", "notes.txt"),
            ],
        })
        .unwrap();
        let md5_at: Vec<usize> = s
            .lines()
            .skip(1)
            .map(|l| l[..l.rfind(' ').unwrap()].width())
            .collect();
        assert_eq!(md5_at[0], md5_at[1], "{s}");
    }

    #[test]
    fn folders_are_shown_as_folders() {
        use confab_engine::wire::FileName;
        use confab_engine::wire::registry::FileEntry;
        let folder = SharedFile {
            name: FileName::new("photos").unwrap(),
            size: 34_500_000,
            md5: Md5::of(b"d"),
            kind: ShareKind::Folder { files: 12 },
        };
        let s = line(&PeerEvent::Files {
            files: vec![FileEntry {
                owner: n("bob"),
                file: folder,
            }],
        })
        .unwrap();
        assert!(s.contains("photos/") && s.contains("12 files"), "{s}");
        let done = line(&PeerEvent::TransferDone {
            id: TransferId(3),
            direction: Direction::Receive,
            name: "photos".into(),
            path: "/d/photos".into(),
            md5: Md5::of(b"d"),
            folder: true,
            files: 12,
            size: 34_500_000,
            via: confab_engine::peer::Via::Direct,
        })
        .unwrap();
        for want in [
            "folder photos/",
            "12 files",
            "/d/photos/",
            &Md5::of(b"d").to_hex(),
        ] {
            assert!(done.contains(want), "{want}: {done}");
        }
    }

    #[test]
    fn no_bar_is_drawn_after_the_stop() {
        let mut p = HumanPrinter::default();
        let progress = PeerEvent::TransferProgress {
            id: TransferId(3),
            done: 10,
            total: 100,
            rate: 1 << 40,
            via: confab_engine::peer::Via::Direct,
        };
        p.event(&progress, &Context::default());
        assert_eq!(p.transfers.len(), 1);
        let stop = PeerEvent::Stopped {
            code: ErrorCode::Normal,
            reason: "quit".into(),
        };
        p.event(&stop, &Context::default());
        assert!(p.transfers.is_empty(), "cleared before bye");
        p.event(&progress, &Context::default());
        assert!(p.transfers.is_empty(), "nothing drawn after bye");
    }

    #[test]
    fn a_search_that_finds_nobody_says_so() {
        assert_eq!(search_line("zzz", &[]), "no name online contains \"zzz\"");
        let bob = UserEntry {
            name: n("bob"),
            addr: "10.0.0.2:5".parse().unwrap(),
        };
        let s = search_line("bo", &[bob]);
        assert!(
            s.starts_with("online with \"bo\" in their name (1):"),
            "{s}"
        );
    }

    #[test]
    fn transfers_keeps_the_finished_ones() {
        let mut p = HumanPrinter::default();
        p.event(
            &PeerEvent::TransferFailed {
                id: TransferId(4),
                reason: "bob cancelled".into(),
            },
            &Context::default(),
        );
        let list = PeerEvent::Transfers { transfers: vec![] };
        let now = Instant::now();
        assert_eq!(super::line(&list, &p.rates, now).unwrap(), "no transfers");
        assert_eq!(
            p.finished,
            [(
                TransferId(4),
                "✗ transfer t4 failed: bob cancelled".to_owned()
            )]
        );
    }

    fn row(id: u64, total: u64, state: &str) -> TransferStatus {
        TransferStatus {
            id: TransferId(id),
            direction: Direction::Receive,
            peer: n("bob"),
            name: "big.bin".into(),
            done: 0,
            total,
            rate: 0,
            state: state.into(),
            via: confab_engine::peer::Via::Direct,
        }
    }

    #[test]
    fn a_size_not_known_yet_is_not_100_percent() {
        let list = PeerEvent::Transfers {
            transfers: vec![row(1234, 0, "starting")],
        };
        let s = line(&list).unwrap();
        assert!(
            s.contains("t1234") && s.contains("size not known yet") && !s.contains('%'),
            "{s}"
        );
    }

    /// A paused download is listed under way (with how to go on), also
    /// when its pause is among the finished lines; an over one only there.
    #[test]
    fn transfers_lists_a_paused_download_under_way() {
        let mut p = HumanPrinter::default();
        let paused = PeerEvent::TransferPaused {
            id: TransferId(1234),
            reason: "paused; kept 1 MiB in big.bin.part".into(),
        };
        p.event(&paused, &Context::default());
        let done = PeerEvent::TransferFailed {
            id: TransferId(1500),
            reason: "bob cancelled".into(),
        };
        p.event(&done, &Context::default());
        let rows = vec![
            row(1234, 10, "paused: /resume t1234 continues"),
            row(1500, 10, "over"),
        ];
        let s = p.transfers_and_finished(&rows, Instant::now());
        let (under_way, finished) = s.split_once("finished this session:").unwrap();
        assert!(under_way.contains("paused: /resume t1234"), "{s}");
        assert!(!under_way.contains("t1500"), "{s}");
        assert!(finished.contains("transfer t1500 failed"), "{s}");
    }

    #[test]
    fn identities_are_shown() {
        use confab_engine::wire::identity::PublicKey;
        use confab_engine::wire::registry::PeerInfo;
        let fp = "0f".repeat(16);
        let s = line(&PeerEvent::Ready {
            name: n("alice"),
            listen: "10.0.0.1:5".parse().unwrap(),
            fingerprint: fp.clone(),
        })
        .unwrap();
        assert!(
            s.starts_with("logged in as alice") && s.contains(&fp),
            "{s}"
        );
        let key = PublicKey([9; 32]);
        let s = line(&PeerEvent::Whois {
            info: PeerInfo {
                name: n("bob"),
                addr: None,
                profile: Default::default(),
                key: Some(key),
            },
            files: vec![],
            from: WhoisFrom::Registry,
        })
        .unwrap();
        assert!(
            s.contains(&format!("key fingerprint: {}", key.fingerprint())),
            "{s}"
        );
        let addr: SocketAddr = "10.0.0.9:7300".parse().unwrap();
        let kept = registry_key_line(addr, &fp, Some(Ok(Path::new("/d/known_registries"))));
        assert_eq!(
            kept,
            format!(
                "* trusting registry 10.0.0.9:7300 with key {fp} (first contact); \
                 kept in /d/known_registries"
            )
        );
        let lost = registry_key_line(addr, &fp, Some(Err("cannot write")));
        assert!(lost.ends_with("\n! cannot write"), "{lost}");
    }

    #[test]
    fn a_registry_heard_gives_the_command_that_uses_it() {
        let fp = "ab".repeat(16);
        let heard = |used| PeerEvent::RegistryHeard {
            name: Name::new("alice").unwrap(),
            registry: "10.0.0.9:7300".parse().unwrap(),
            fingerprint: fp.clone(),
            used,
        };
        let told = line(&heard(false)).unwrap();
        assert!(
            told.ends_with(&format!(
                "confab peer --name alice --registry lan --registry-key {fp}"
            )),
            "{told}"
        );
        let used = line(&heard(true)).unwrap();
        assert!(
            used.contains("10.0.0.9:7300") && used.contains("logging in as alice"),
            "{used}"
        );
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00");
        assert_eq!(utc(1_709_210_096_000), "2024-02-29 12:34");
    }

    #[test]
    fn whois_told_by_the_peer_itself_says_so_and_a_digest_mismatch_is_noted() {
        use confab_engine::wire::registry::PeerInfo;
        let info = PeerInfo {
            name: n("bob"),
            addr: Some("10.0.0.2:7000".parse().unwrap()),
            profile: Default::default(),
            key: None,
        };
        let whois = |digest| PeerEvent::Whois {
            info: info.clone(),
            files: vec![],
            from: WhoisFrom::Peer {
                by: Some(FoundBy::Lan),
                digest,
            },
        };
        let s = line(&whois(DigestCheck::Matches)).unwrap();
        assert!(
            s.contains("told by bob itself over its link, found by lan")
                && s.contains("/files bob")
                && !s.contains("note:"),
            "{s}"
        );
        let s = line(&whois(DigestCheck::Differs)).unwrap();
        assert!(
            s.contains("note: this profile is not the one bob last announced"),
            "{s}"
        );
        let s = line(&PeerEvent::Whois {
            info,
            files: vec![],
            from: WhoisFrom::Registry,
        })
        .unwrap();
        assert!(!s.contains("told by"), "{s}");
    }

    #[test]
    fn trust_and_forget_say_what_they_did_with_both_keys() {
        let (old, new) = ("00".repeat(16), "11".repeat(16));
        let pinned = |o: Option<&String>, k: Option<&String>| {
            line(&PeerEvent::KeyPinned {
                name: n("bob"),
                old: o.cloned(),
                new: k.cloned(),
            })
            .unwrap()
        };
        let moved = pinned(Some(&old), Some(&new));
        assert!(
            moved.contains(&format!(
                "bob is now trusted with the key {new} (it was {old})"
            )),
            "{moved}"
        );
        assert!(pinned(None, Some(&new)).contains("no key was kept for bob before"));
        assert!(pinned(Some(&new), Some(&new)).contains("already trusted"));
        let forgot = pinned(Some(&old), None);
        assert!(
            forgot.contains(&format!("forgot the key {old} kept for bob"))
                && forgot.contains("trusted on first use"),
            "{forgot}"
        );
        assert!(pinned(None, None).contains("nothing to forget"));
    }
}
