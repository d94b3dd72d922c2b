//! The role machine's routing for video calls: commands, messages,
//! datagrams and timers to the `calls` room, and carrying out what it asks
//! of the links and the questions ([`CallOut`]). Kept apart from `route`
//! so the calls touch the shared routing only through a few match arms.
//! May touch every field of [`Peer`].

use std::net::SocketAddr;
use std::time::Instant;

use crate::error::CommandError;
use crate::peer::Peer;
use crate::peer::calls::CallOut;
use crate::peer::questions::Question;
use crate::wire::Name;
use crate::wire::peer::PeerMessage;

impl Peer {
    /// Carries out what the calls asked for, in order.
    pub(super) fn apply_call(&mut self, outs: Vec<CallOut>) {
        for out in outs {
            match out {
                CallOut::Send(name, msg) => {
                    self.links.send(&mut self.io, &name, msg);
                }
                CallOut::AskUser(from) => {
                    let q = Question::Call(from.clone());
                    let id = self
                        .questions
                        .ask(&mut self.io, q, self.config.request_timeout);
                    self.calls.asked(&mut self.io, &from, id);
                }
                CallOut::Withdraw(id) => self.questions.withdraw(&mut self.io, id),
            }
        }
    }

    /// `/call NAME`: rings once a link is open.
    pub(super) fn cmd_call(&mut self, name: Name) -> Result<(), CommandError> {
        let me = self.config.name.clone();
        self.calls.call(&mut self.io, &me, name.clone())?;
        if self.links.is_open(&name) {
            self.call_sync(&name);
        } else {
            self.ensure_link(&name);
        }
        Ok(())
    }

    /// `/hangup [NAME]`.
    pub(super) fn cmd_hangup(&mut self, name: Option<Name>) -> Result<(), CommandError> {
        let name = match name {
            Some(n) => n,
            None => self.calls.only().cloned().ok_or(CommandError::WhichCall)?,
        };
        let outs = self.calls.hangup(&mut self.io, &name)?;
        self.apply_call(outs);
        Ok(())
    }

    /// A frame from the driver.
    pub(super) fn cmd_call_frame(
        &mut self,
        with: Name,
        jpeg: &[u8],
        captured: Instant,
    ) -> Result<(), CommandError> {
        self.calls.frame(&mut self.io, &with, jpeg, captured)?;
        Ok(())
    }

    /// A link to `name` opened: a ringing call's request goes out.
    pub(super) fn call_sync(&mut self, name: &Name) {
        let remote = self.links.remote_of(name);
        let outs = self.calls.sync(name, remote);
        self.apply_call(outs);
    }

    /// A call message from `from`.
    pub(super) fn on_call_message(&mut self, from: &Name, msg: PeerMessage) {
        match msg {
            PeerMessage::CallRequest { call, port, secret } => {
                let remote = self.links.remote_of(from);
                let me = self.config.name.clone();
                let outs =
                    self.calls
                        .on_request(&mut self.io, &me, from, remote, call, port, secret);
                self.apply_call(outs);
            }
            PeerMessage::CallAccept { call, port, secret } => {
                self.calls.on_accept(&mut self.io, from, call, port, secret)
            }
            PeerMessage::CallEnd { call, reason } => {
                self.calls.on_end(&mut self.io, from, call, reason.as_str())
            }
            PeerMessage::CallReport { call, report } => {
                self.calls.on_report(&mut self.io, from, call, report)
            }
            _ => {}
        }
    }

    /// `/accept` or `/decline` of `from`'s call.
    pub(super) fn answer_call(&mut self, from: &Name, yes: bool) {
        let outs = self.calls.answer(&mut self.io, from, yes);
        self.apply_call(outs);
    }

    /// The question about `from`'s call expired.
    pub(super) fn call_question_expired(&mut self, from: &Name) {
        let outs = self.calls.question_expired(&mut self.io, from);
        self.apply_call(outs);
    }

    pub(super) fn on_datagram(&mut self, from: SocketAddr, bytes: &[u8]) {
        self.calls.on_datagram(&mut self.io, from, bytes);
    }

    pub(super) fn on_call_ring_timer(&mut self, name: &Name) {
        let outs = self.calls.on_ring_timer(&mut self.io, name);
        self.apply_call(outs);
    }

    pub(super) fn on_call_tick(&mut self, name: &Name) {
        let outs = self.calls.on_tick(&mut self.io, name);
        self.apply_call(outs);
    }

    /// The peer stops: every call ends.
    pub(super) fn end_calls(&mut self, reason: &str) {
        let outs = self.calls.end_all(&mut self.io, reason);
        self.apply_call(outs);
    }
}
