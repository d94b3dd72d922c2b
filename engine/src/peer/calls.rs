//! Video calls ([`Calls`], issue 21): the signaling over the link (request,
//! accept, end, reports) and, for each call that is up, the media path of
//! [`crate::call`] (keys, sealing, fragments, jitter buffer, adaptation).
//! Owns each call's state and its timers (`CallRing`, `CallTick`,
//! `CallPlayout`); datagrams and events go straight to the [`Io`], and what
//! concerns the links or the questions comes back as [`CallOut`]s.
//!
//! A call with a peer is `Ringing` (we asked; the request goes out when a
//! link is open, and gives up after `ring_timeout`), `Asked` (they asked;
//! the user's question is `id`) or `Up`. At most one call per peer and
//! [`MAX_CALLS`] in all. Every end is reported once with `CallEnded`. Two
//! peers that call each other at once (crossed calls) end up in one call:
//! the one from the smaller name, taken without a question by the other
//! side, whose own call is dropped without a word.
//!
//! A call that is up lives beside the link, not on it: a link that drops
//! and comes back does not end it (datagrams keep flowing over UDP), but a
//! call that hears nothing from the other side, neither a datagram nor a
//! report, for `call_timeout` ends with reason "timeout".
//!
//! A datagram is dropped at bounded cost, before any allocation, unless its
//! header names a call that is up, it comes from that call's address, its
//! counter is fresh and its tag checks.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::api::Output;
use crate::bounded::Text;
use crate::call::adapt::Adapt;
use crate::call::datagram::{Fragment, Header};
use crate::call::fragment::split;
use crate::call::jitter::Receiver;
use crate::call::keys::{Opener, SECRET_LEN, Sealer, Way};
use crate::error::{CommandError, SelfAction};
use crate::ids::RequestId;
use crate::limits::{MAX_CALL_FRAME_LEN, MAX_CALLS, MAX_DATAGRAM_LEN};
use crate::peer::event::{CallStats, PeerEvent};
use crate::peer::io::{Io, Timer};
use crate::wire::Name;
use crate::wire::peer::{CallReport, PeerMessage};

/// How often a call that is up reports and checks the other side is there.
pub const TICK: Duration = Duration::from_secs(1);

/// A call's timing and starting quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallConfig {
    /// How long a call may ring unanswered.
    pub ring_timeout: Duration,
    /// How long a call that is up may hear nothing from the other side.
    pub call_timeout: Duration,
    /// The JPEG quality a sender starts at (and never exceeds).
    pub quality: u8,
    /// The frame rate a sender lets through at most.
    pub fps: u32,
}

impl Default for CallConfig {
    fn default() -> Self {
        Self {
            ring_timeout: Duration::from_secs(30),
            call_timeout: Duration::from_secs(10),
            quality: 80,
            fps: 30,
        }
    }
}

/// What the calls need done outside themselves, in order.
#[derive(Debug)]
pub(crate) enum CallOut {
    /// Send this over the peer's open link (lost if none).
    Send(Name, PeerMessage),
    /// Ask the user; then [`Calls::asked`].
    AskUser(Name),
    /// Question `id` is moot.
    Withdraw(RequestId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// We asked; `sent` once the request went out on a link.
    Ringing {
        sent: bool,
    },
    /// They asked; the user has not answered (question `id`, once asked).
    Asked(Option<RequestId>),
    Up,
}

#[derive(Debug)]
struct Media {
    sealer: Sealer,
    opener: Opener,
    receiver: Receiver,
    adapt: Adapt,
    next_frame: u32,
    /// The other side's last report: its `sent_us` and when it came.
    their_report: Option<(u64, Instant)>,
    rtt: Option<Duration>,
}

#[derive(Debug)]
struct Call {
    id: u64,
    stage: Stage,
    caller: bool,
    mine: [u8; SECRET_LEN],
    /// The other side's half of the keys and its UDP address, once known.
    theirs: Option<([u8; SECRET_LEN], u16)>,
    remote: Option<SocketAddr>,
    media: Option<Media>,
    start: Instant,
    heard: Instant,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Calls {
    config: CallConfig,
    /// This peer's UDP port (its listen port).
    port: u16,
    calls: BTreeMap<Name, Call>,
    by_id: BTreeMap<u64, Name>,
}

impl Calls {
    pub fn new(config: CallConfig, port: u16) -> Self {
        Self {
            config,
            port,
            calls: BTreeMap::new(),
            by_id: BTreeMap::new(),
        }
    }

    /// Whether a call with `name` needs a link (to ring, or to report).
    pub fn wants(&self, name: &Name) -> bool {
        self.calls.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &Name> {
        self.calls.keys()
    }

    /// `/call NAME`.
    pub fn call(&mut self, io: &mut Io, me: &Name, name: Name) -> Result<(), CommandError> {
        if &name == me {
            return Err(CommandError::Yourself(SelfAction::Call));
        }
        if self.calls.contains_key(&name) {
            return Err(CommandError::AlreadyInCall(name));
        }
        if self.calls.len() >= MAX_CALLS {
            return Err(CommandError::TooManyCalls);
        }
        let mut id = io.rng.next_u64();
        while id == 0 || self.by_id.contains_key(&id) {
            id = io.rng.next_u64();
        }
        let mut mine = [0u8; SECRET_LEN];
        io.rng.fill(&mut mine);
        self.by_id.insert(id, name.clone());
        io.set_timer(Timer::CallRing(name.clone()), self.config.ring_timeout);
        self.calls.insert(
            name,
            Call {
                id,
                stage: Stage::Ringing { sent: false },
                caller: true,
                mine,
                theirs: None,
                remote: None,
                media: None,
                start: io.now,
                heard: io.now,
            },
        );
        Ok(())
    }

    /// A link to `name` is open (`remote` its address): a ringing call's
    /// request goes out now.
    pub fn sync(&mut self, name: &Name, remote: Option<SocketAddr>) -> Vec<CallOut> {
        let Some(c) = self.calls.get_mut(name) else {
            return vec![];
        };
        if let Some(addr) = remote
            && c.remote.is_none()
            && c.stage != Stage::Up
        {
            c.remote = Some(addr);
        }
        match c.stage {
            Stage::Ringing { .. } => {
                c.stage = Stage::Ringing { sent: true };
                vec![CallOut::Send(
                    name.clone(),
                    PeerMessage::CallRequest {
                        call: c.id,
                        port: self.port,
                        secret: c.mine,
                    },
                )]
            }
            _ => vec![],
        }
    }

    /// `name` asks for call `call`; `remote` is its link's address; `me`
    /// is this peer's name (which of two crossed calls wins).
    #[allow(clippy::too_many_arguments)]
    pub fn on_request(
        &mut self,
        io: &mut Io,
        me: &Name,
        name: &Name,
        remote: Option<SocketAddr>,
        call: u64,
        port: u16,
        secret: [u8; SECRET_LEN],
    ) -> Vec<CallOut> {
        let end = |reason: &str| {
            vec![CallOut::Send(
                name.clone(),
                PeerMessage::CallEnd {
                    call,
                    reason: Text::truncate(reason),
                },
            )]
        };
        let mut crossed = false;
        if let Some(c) = self.calls.get(name) {
            // The same request again (a resend after a reconnect) changes nothing.
            if c.id == call {
                return vec![];
            }
            let Stage::Ringing { sent } = c.stage else {
                return end("busy");
            };
            // Crossed calls: both sides asked at once. As with crossed dials,
            // the call from the smaller name wins; the other is dropped
            // quietly on both sides, and the winner is taken without asking
            // the user, who has just asked for this very call.
            if me < name {
                // Ours wins: the other side drops its call when ours reaches it.
                return if sent {
                    vec![]
                } else {
                    self.sync(name, remote)
                };
            }
            if remote.is_none() {
                return vec![];
            }
            let id = c.id;
            self.calls.remove(name);
            self.by_id.remove(&id);
            io.timers.cancel(&Timer::CallRing(name.clone()));
            crossed = true;
        }
        if self.calls.len() >= MAX_CALLS || self.by_id.contains_key(&call) || call == 0 {
            return end("busy");
        }
        let Some(remote) = remote else {
            return vec![];
        };
        let mut mine = [0u8; SECRET_LEN];
        io.rng.fill(&mut mine);
        self.by_id.insert(call, name.clone());
        self.calls.insert(
            name.clone(),
            Call {
                id: call,
                stage: Stage::Asked(None),
                caller: false,
                mine,
                theirs: Some((secret, port)),
                remote: Some(SocketAddr::new(remote.ip(), port)),
                media: None,
                start: io.now,
                heard: io.now,
            },
        );
        if crossed {
            return self.answer(io, name, true);
        }
        vec![CallOut::AskUser(name.clone())]
    }

    /// The user was asked about `name`'s call: question `id`.
    pub fn asked(&mut self, io: &mut Io, name: &Name, id: RequestId) {
        if let Some(c) = self.calls.get_mut(name) {
            c.stage = Stage::Asked(Some(id));
            io.event(PeerEvent::CallRequest {
                id,
                from: name.clone(),
            });
        }
    }

    /// The user answered `name`'s call.
    pub fn answer(&mut self, io: &mut Io, name: &Name, yes: bool) -> Vec<CallOut> {
        let Some(c) = self.calls.get_mut(name) else {
            return vec![];
        };
        if !matches!(c.stage, Stage::Asked(_)) {
            return vec![];
        }
        if !yes {
            let call = c.id;
            self.end(io, name, "declined");
            return vec![CallOut::Send(
                name.clone(),
                PeerMessage::CallEnd {
                    call,
                    reason: Text::truncate("declined"),
                },
            )];
        }
        let msg = PeerMessage::CallAccept {
            call: c.id,
            port: self.port,
            secret: c.mine,
        };
        self.start_media(io, name);
        vec![CallOut::Send(name.clone(), msg)]
    }

    /// The question about `name`'s call expired unanswered.
    pub fn question_expired(&mut self, io: &mut Io, name: &Name) -> Vec<CallOut> {
        let Some(c) = self.calls.get(name) else {
            return vec![];
        };
        let call = c.id;
        self.end(io, name, "not answered");
        vec![CallOut::Send(
            name.clone(),
            PeerMessage::CallEnd {
                call,
                reason: Text::truncate("not answered"),
            },
        )]
    }

    /// `name` accepted our call.
    pub fn on_accept(
        &mut self,
        io: &mut Io,
        name: &Name,
        call: u64,
        port: u16,
        secret: [u8; SECRET_LEN],
    ) {
        let Some(c) = self.calls.get_mut(name) else {
            return;
        };
        if c.id != call || !matches!(c.stage, Stage::Ringing { .. }) {
            return;
        }
        let Some(remote) = c.remote else {
            return;
        };
        c.theirs = Some((secret, port));
        c.remote = Some(SocketAddr::new(remote.ip(), port));
        io.timers.cancel(&Timer::CallRing(name.clone()));
        self.start_media(io, name);
    }

    fn start_media(&mut self, io: &mut Io, name: &Name) {
        let Some(c) = self.calls.get_mut(name) else {
            return;
        };
        let Some((theirs, _)) = c.theirs else {
            return;
        };
        let (caller, callee) = if c.caller {
            (&c.mine, &theirs)
        } else {
            (&theirs, &c.mine)
        };
        let (out, back) = if c.caller {
            (Way::CallerToCallee, Way::CalleeToCaller)
        } else {
            (Way::CalleeToCaller, Way::CallerToCallee)
        };
        c.media = Some(Media {
            sealer: Sealer::new(c.id, caller, callee, out),
            opener: Opener::new(c.id, caller, callee, back),
            receiver: Receiver::new(io.now),
            adapt: Adapt::new(self.config.quality, self.config.fps),
            next_frame: 0,
            their_report: None,
            rtt: None,
        });
        c.stage = Stage::Up;
        c.start = io.now;
        c.heard = io.now;
        io.set_timer(Timer::CallTick(name.clone()), TICK);
        io.event(PeerEvent::CallStarted { with: name.clone() });
        io.event(PeerEvent::CallAdapt {
            with: name.clone(),
            quality: self.config.quality,
            fps: self.config.fps,
        });
    }

    /// `name` ended call `call` (or would not take it).
    pub fn on_end(&mut self, io: &mut Io, name: &Name, call: u64, reason: &str) {
        if self.calls.get(name).is_some_and(|c| c.id == call) {
            self.end(io, name, &format!("{name}: {reason}"));
        }
    }

    /// `name`'s report on the media we sent it.
    pub fn on_report(&mut self, io: &mut Io, name: &Name, call: u64, r: CallReport) {
        let Some(c) = self.calls.get_mut(name) else {
            return;
        };
        let Some(m) = c.media.as_mut().filter(|_| c.id == call) else {
            return;
        };
        c.heard = io.now;
        let now_us = io.now.saturating_duration_since(c.start).as_micros() as u64;
        if r.echo_us > 0 {
            let rtt = now_us.saturating_sub(r.echo_us).saturating_sub(r.held_us);
            m.rtt = Some(Duration::from_micros(rtt));
        }
        m.their_report = Some((r.sent_us, io.now));
        if m.adapt.on_report(r.shown, r.lost) {
            io.event(PeerEvent::CallAdapt {
                with: name.clone(),
                quality: m.adapt.quality,
                fps: m.adapt.fps,
            });
        }
    }

    /// `/hangup`: the name of the only call, if there is exactly one.
    pub fn only(&self) -> Option<&Name> {
        let mut names = self.calls.keys();
        match (names.next(), names.next()) {
            (Some(n), None) => Some(n),
            _ => None,
        }
    }

    /// `/hangup NAME`.
    pub fn hangup(&mut self, io: &mut Io, name: &Name) -> Result<Vec<CallOut>, CommandError> {
        let Some(c) = self.calls.get(name) else {
            return Err(CommandError::NoCall(name.clone()));
        };
        let call = c.id;
        let outs = self.end(io, name, "hung up");
        let mut v = outs;
        v.push(CallOut::Send(
            name.clone(),
            PeerMessage::CallEnd {
                call,
                reason: Text::truncate("hung up"),
            },
        ));
        Ok(v)
    }

    /// The call with `name` is over: reported once, its timers gone.
    fn end(&mut self, io: &mut Io, name: &Name, reason: &str) -> Vec<CallOut> {
        let Some(c) = self.calls.remove(name) else {
            return vec![];
        };
        self.by_id.remove(&c.id);
        for t in [
            Timer::CallRing(name.clone()),
            Timer::CallTick(name.clone()),
            Timer::CallPlayout(name.clone()),
        ] {
            io.timers.cancel(&t);
        }
        let (received, lost) = c
            .media
            .as_ref()
            .map_or((0, 0), |m| (m.receiver.total.shown, m.receiver.total.lost));
        io.event(PeerEvent::CallEnded {
            with: name.clone(),
            reason: reason.to_owned(),
            frames_received: received,
            frames_lost: lost,
        });
        match c.stage {
            Stage::Asked(Some(id)) => vec![CallOut::Withdraw(id)],
            _ => vec![],
        }
    }

    /// Everything ends (the peer stops).
    pub fn end_all(&mut self, io: &mut Io, reason: &str) -> Vec<CallOut> {
        let names: Vec<Name> = self.calls.keys().cloned().collect();
        let mut outs = vec![];
        for name in names {
            let call = self.calls[&name].id;
            outs.extend(self.end(io, &name, reason));
            outs.push(CallOut::Send(
                name,
                PeerMessage::CallEnd {
                    call,
                    reason: Text::truncate(reason),
                },
            ));
        }
        outs
    }

    /// `Timer::CallRing`: nobody answered.
    pub fn on_ring_timer(&mut self, io: &mut Io, name: &Name) -> Vec<CallOut> {
        let Some(c) = self.calls.get(name) else {
            return vec![];
        };
        let call = c.id;
        let mut outs = self.end(io, name, "no answer");
        outs.push(CallOut::Send(
            name.clone(),
            PeerMessage::CallEnd {
                call,
                reason: Text::truncate("no answer"),
            },
        ));
        outs
    }

    /// `Timer::CallTick`: stats, a report, and the check that the other
    /// side is still there.
    pub fn on_tick(&mut self, io: &mut Io, name: &Name) -> Vec<CallOut> {
        let timeout = self.config.call_timeout;
        let Some(c) = self.calls.get_mut(name) else {
            return vec![];
        };
        if io.now.saturating_duration_since(c.heard) >= timeout {
            self.end(io, name, "timeout");
            return vec![];
        }
        let Some(m) = c.media.as_mut() else {
            return vec![];
        };
        let period = m.receiver.take_period();
        let held = period.held_us.checked_div(period.shown).unwrap_or(0);
        let one_way = m.rtt.map_or(0, |r| r.as_micros() as u64 / 2);
        io.event(PeerEvent::CallStats {
            with: name.clone(),
            stats: CallStats {
                fps: period.shown as u32,
                frames: m.receiver.total.shown,
                lost: m.receiver.total.lost,
                period_lost: period.lost,
                jitter_us: m.receiver.jitter().as_micros() as u64,
                latency_us: one_way + held,
                kbps: period.bytes * 8 / 1000,
            },
        });
        let now_us = io.now.saturating_duration_since(c.start).as_micros() as u64;
        let (echo_us, held_us) = m.their_report.map_or((0, 0), |(sent, at)| {
            (
                sent,
                io.now.saturating_duration_since(at).as_micros() as u64,
            )
        });
        let report = CallReport {
            shown: m.receiver.total.shown,
            lost: m.receiver.total.lost,
            jitter_us: m.receiver.jitter().as_micros() as u64,
            sent_us: now_us.max(1),
            echo_us,
            held_us,
        };
        io.set_timer(Timer::CallTick(name.clone()), TICK);
        vec![CallOut::Send(
            name.clone(),
            PeerMessage::CallReport { call: c.id, report },
        )]
    }

    /// A frame from the driver for `name`, captured at `captured`: sealed
    /// into datagrams, unless the current frame rate says to skip it.
    /// `Ok(false)`: skipped.
    pub fn frame(
        &mut self,
        io: &mut Io,
        name: &Name,
        jpeg: &[u8],
        captured: Instant,
    ) -> Result<bool, CommandError> {
        if jpeg.is_empty() || jpeg.len() > MAX_CALL_FRAME_LEN {
            return Err(CommandError::FrameSize { len: jpeg.len() });
        }
        // A frame for a call that just ended is the driver's race with the
        // end, not a mistake: skipped.
        let Some(c) = self.calls.get_mut(name) else {
            return Ok(false);
        };
        let (Some(m), Some(to)) = (c.media.as_mut(), c.remote) else {
            return Ok(false);
        };
        let captured_us = captured.saturating_duration_since(c.start).as_micros() as u64;
        if !m.adapt.pass(captured_us) {
            return Ok(false);
        }
        let frame = m.next_frame;
        m.next_frame = m.next_frame.wrapping_add(1);
        let parts =
            split(frame, captured_us, jpeg).ok_or(CommandError::FrameSize { len: jpeg.len() })?;
        let mut plain = Vec::with_capacity(MAX_DATAGRAM_LEN);
        for f in parts {
            plain.clear();
            f.write(&mut plain);
            let Some(bytes) = m.sealer.seal(&plain) else {
                break;
            };
            io.out.push_back(Output::SendDatagram { to, bytes });
        }
        Ok(true)
    }

    /// A datagram from `from`. Dropped unless it opens as a fragment of a
    /// call that is up with that address.
    pub fn on_datagram(&mut self, io: &mut Io, from: SocketAddr, bytes: &[u8]) {
        let Some(header) = Header::parse(bytes) else {
            return;
        };
        let Some(name) = self.by_id.get(&header.call) else {
            return;
        };
        let Some(c) = self.calls.get_mut(name) else {
            return;
        };
        if c.remote != Some(from) {
            return;
        }
        let Some(m) = c.media.as_mut() else {
            return;
        };
        let mut buf = [0u8; MAX_DATAGRAM_LEN];
        let Ok(plain) = m.opener.open(header, bytes, &mut buf) else {
            return;
        };
        let Some(f) = Fragment::parse(plain) else {
            return;
        };
        c.heard = io.now;
        m.receiver.push(io.now, f);
        let name = name.clone();
        self.play(io, &name);
    }

    /// Shows what the jitter buffer lets out now, and sets the timer for
    /// the next frame that waits.
    pub fn play(&mut self, io: &mut Io, name: &Name) {
        let Some(m) = self.calls.get_mut(name).and_then(|c| c.media.as_mut()) else {
            return;
        };
        for s in m.receiver.poll(io.now) {
            io.event(PeerEvent::CallFrame {
                with: name.clone(),
                frame: s.frame,
                captured_us: s.captured_us,
                jpeg: s.jpeg,
            });
        }
        let t = Timer::CallPlayout(name.clone());
        match m.receiver.next_deadline() {
            Some(at) => io.timers.set(t, at.max(io.now)),
            None => io.timers.cancel(&t),
        }
    }
}
