//! The role machine's side of the registry session: what the session
//! reports (up, down, replies, pushed presence, relay messages) and what a
//! look-up's answer asks of the rooms. Split from `peer.rs` so the role
//! file keeps to its fields, construction and the [`Engine`] impl. May
//! touch every field of [`Peer`]; `registry_link` itself never touches
//! another room.

use crate::peer::Peer;
use crate::peer::event::PeerEvent;
use crate::peer::io::Timer;
use crate::peer::lookups::{Answer, Query};
use crate::peer::registry_link::RegOut;
use crate::wire::registry::RequestBody;

impl Peer {
    /// A look-up the user asked for: said to fail at once with no session.
    pub(super) fn ask_registry(&mut self, (q, body): (Query, RequestBody)) {
        if !self.reg.request(&mut self.io, q, body) {
            self.io
                .error("not connected to the registry (reconnecting); try again shortly");
        }
    }

    /// What the registry session reports.
    pub(super) fn on_registry(&mut self, outs: Vec<RegOut<Query>>) {
        for out in outs {
            match out {
                RegOut::Up { first } => self.registry_up(first),
                RegOut::Down { reason, abandoned } => {
                    for q in abandoned {
                        if let Some(name) = q.abandoned(&mut self.io) {
                            self.links.set_looking_up(&name, false);
                        }
                    }
                    self.presence.registry_lost(&mut self.io);
                    self.relay_lost();
                    self.io.event(PeerEvent::RegistryLost { reason });
                }
                RegOut::Stopped { code, reason } => self.stop(code, reason),
                RegOut::Reply(q, result) => {
                    let answer = q.on_reply(&mut self.io, result);
                    self.on_answer(answer);
                }
                RegOut::Relay(msg) => self.on_relay(msg),
                RegOut::Presence(p) => {
                    self.presence.pushed(&mut self.io, &p.name, p.online);
                    if p.online && self.links.is_open(&p.name) && self.chats.get(&p.name).is_none()
                    {
                        // Messages waiting for it to come online: the open
                        // link means no reconnection will come to ask again.
                        self.chat_sync(&p.name);
                    }
                    if p.online && self.wants(&p.name) && !self.links.is_underway(&p.name) {
                        // Whatever backoff there was, now is the time.
                        self.io.timers.cancel(&Timer::Dial(p.name.clone()));
                        self.ensure_link(&p.name);
                    }
                }
            }
        }
    }

    /// The session is up: publish, refresh presence, resume dials and checks.
    pub(super) fn registry_up(&mut self, first: bool) {
        let me = self.me().clone();
        // `--registry lan` said it was ready at start.
        if first && self.config.registry_lan.is_none() {
            let fingerprint = self.io.keys.public().fingerprint().to_string();
            self.io.event(PeerEvent::Ready {
                name: me.clone(),
                listen: self.config.listen,
                fingerprint,
            });
        } else {
            self.io.event(PeerEvent::RegistryBack);
        }
        match self.profile.clone() {
            Some(profile) => {
                let body = RequestBody::SetProfile { profile };
                self.reg.request(&mut self.io, Query::SetProfile, body);
            }
            None => {
                let body = RequestBody::Lookup { name: me };
                self.reg.request(&mut self.io, Query::OwnProfile, body);
            }
        }
        let (q, body) = Query::roster();
        self.reg.request(&mut self.io, q, body);
        for name in self.wanted() {
            self.ensure_link(&name);
        }
    }

    /// Carries out what a look-up's answer needs.
    pub(super) fn on_answer(&mut self, answer: Answer) {
        match answer {
            Answer::Done => {}
            Answer::Next(q, body) => {
                self.reg.request(&mut self.io, q, body);
            }
            Answer::Dial(name, addr) => match addr {
                Some(addr) if self.wants(&name) => self.dial_or_relay(name, addr),
                Some(_) => self.links.set_looking_up(&name, false),
                None => {
                    self.links.set_looking_up(&name, false);
                    // An open link proves the peer online: the answer trailed
                    // its restart and must not end what the link carried.
                    if !self.links.is_open(&name) {
                        self.peer_offline(&name);
                        self.transfers.offline(&mut self.io, &name);
                    }
                }
            },
            Answer::Unknown(name, why) => {
                self.links.set_looking_up(&name, false);
                self.peer_unknown(&name, &why);
                let outs = self.transfers.unknown(&mut self.io, &name, &why);
                self.apply_transfer(outs);
            }
            Answer::DialFailed(name) => self.links.lookup_failed(&mut self.io, &name),
            Answer::OwnProfile(profile) => {
                if self.profile.is_none() {
                    self.profile = Some(profile);
                }
            }
            Answer::Roster(online) => {
                let times = self.config.session;
                self.presence.roster(&mut self.io, &times, online)
            }
        }
    }
}
