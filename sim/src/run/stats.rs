//! What a run exercised, counted from its observations for the report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use confab_engine::peer::Direction;
use confab_engine::{PeerCommand, PeerEvent, RegistryEvent};

use crate::attacker::AttackEvent;
use crate::client::ClientEvent;
use crate::faults::{FaultKind, RelayMangled};
use crate::files::StorageOp;
use crate::observe::{Observation, Observed, SimCommand, SimEvent};

/// Counts of what happened.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Requests clients sent (heartbeats included).
    pub requests: u64,
    /// Of which heartbeats.
    pub heartbeats: u64,
    /// Replies clients received.
    pub replies: u64,
    /// Presence pushes clients received.
    pub presence: u64,
    /// Sessions started (registry).
    pub logins: u64,
    /// Sessions ended, by reason (registry).
    pub offline: BTreeMap<String, u64>,
    /// Accounts created.
    pub registrations: u64,
    /// Commands the workload gave.
    pub commands: u64,
    /// Connections opened (accepted plus connected).
    pub connections: u64,
    /// Bytes received by all hosts.
    pub bytes: u64,
    /// Links lost, as clients saw it.
    pub losses: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<FaultKind, u64>,
    /// What the registry's relay fault did to relayed data.
    pub relay_mangled: RelayMangled,
    /// Peer commands refused (the engine had moved on).
    pub refused: u64,
    /// Messages accepted for sending (`Sent`), of which queued.
    pub sent: u64,
    /// Of `sent`, queued (no open chat or no connection yet).
    pub queued: u64,
    /// Messages shown by receivers (a group message counts once per member).
    pub shown: u64,
    /// `Delivered` reports.
    pub delivered: u64,
    /// Chat requests, chats opened (counted at each end) and closed.
    pub chat_requests: u64,
    /// Chats opened.
    pub chats_opened: u64,
    /// Chats closed, by either end, for any reason.
    pub chats_closed: u64,
    /// Groups created.
    pub groups_created: u64,
    /// Group invitations received, and members joined.
    pub invites: u64,
    /// Members joining a group, as members saw it.
    pub joins: u64,
    /// Peers that quit, and restarts of peers that quit.
    pub quits: u64,
    /// Restarts of peers that quit.
    pub restarts: u64,
    /// Transfers started: `/get`s and `/send`s the engines took.
    pub xfer_started: u64,
    /// Of those, offers.
    pub xfer_offers: u64,
    /// `TransferDone`s of receivers.
    pub xfer_received: u64,
    /// `TransferDone`s of senders.
    pub xfer_sent: u64,
    /// `TransferFailed`s, either side.
    pub xfer_failed: u64,
    /// `/cancel`s the engines took.
    pub xfer_cancels: u64,
    /// Bytes written into `.part` files.
    pub xfer_bytes: u64,
    /// Calls up (counted at each end), and frames shown in them.
    pub calls: u64,
    /// Call frames shown.
    pub call_frames: u64,
    /// The attacker's strikes (connections).
    pub attacks: u64,
    /// The attacker's strikes by kind.
    pub attack_kinds: BTreeMap<&'static str, u64>,
    /// Certificates it copied from peers' handshakes.
    pub captured: u64,
    /// Registry violations (connections it closed for breaking the
    /// protocol, the attacker's among them).
    pub violations: u64,
    /// Streams the registry relayed between peers a partition kept apart
    /// (issue 19), and the bytes they carried.
    pub relayed: u64,
    pub relayed_bytes: u64,
    /// `/who` lists answered from what was heard on the LAN (`Found`: no
    /// registry session at the time).
    pub lan_lookups: u64,
    /// Registry sessions peers restored on their own (`RegistryBack`).
    pub registry_back: u64,
    /// Simulated time the registry was down or partitioned away from
    /// every host in all (overlaps counted twice), in milliseconds.
    pub registry_down_ms: u64,
    /// Messages accepted for sending, and shown, while the registry was
    /// down; chunks written meanwhile.
    pub sent_registry_down: u64,
    pub shown_registry_down: u64,
    pub chunks_registry_down: u64,
    /// Times the registry was partitioned away from every host (hybrid).
    pub registry_away: u64,
    /// Since when the registry is down, if it is.
    registry_down_since: Option<std::time::Duration>,
    /// Until when the registry is partitioned away (hybrid runs).
    registry_away_until: std::time::Duration,
}

impl Stats {
    /// Counts one observation.
    pub fn count(&mut self, obs: &Observation) {
        // Host 0 is the registry.
        if obs.host == 0 {
            match obs.what {
                Observed::Crashed { .. } if self.registry_down_since.is_none() => {
                    self.registry_down_since = Some(obs.at);
                }
                Observed::Started { .. } => {
                    if let Some(since) = self.registry_down_since.take() {
                        self.registry_down_ms += obs.at.saturating_sub(since).as_millis() as u64;
                    }
                }
                Observed::Fault { ref what } if what.starts_with("partition-away") => {
                    // "partition-away registry from N hosts for M ms"
                    let ms = what
                        .rsplit(' ')
                        .nth(1)
                        .and_then(|m| m.parse::<u64>().ok())
                        .unwrap_or(0);
                    self.registry_down_ms += ms;
                    self.registry_away += 1;
                    self.registry_away_until = obs.at + std::time::Duration::from_millis(ms);
                }
                _ => {}
            }
        }
        let down = self.registry_down_since.is_some() || obs.at < self.registry_away_until;
        match &obs.what {
            Observed::Storage(StorageOp::Write { .. }) if down => self.chunks_registry_down += 1,
            Observed::Event(SimEvent::Peer(PeerEvent::Sent { .. })) if down => {
                self.sent_registry_down += 1
            }
            Observed::Event(SimEvent::Peer(PeerEvent::Message { .. })) if down => {
                self.shown_registry_down += 1
            }
            Observed::Event(SimEvent::Peer(PeerEvent::Found { .. })) => self.lan_lookups += 1,
            Observed::Event(SimEvent::Peer(PeerEvent::RegistryBack)) => self.registry_back += 1,
            _ => {}
        }
        match &obs.what {
            Observed::Accepted { .. } | Observed::Connected { .. } => self.connections += 1,
            Observed::Received { len, .. } => self.bytes += *len as u64,
            Observed::Restarted => self.restarts += 1,
            Observed::Storage(StorageOp::Write { data, .. }) => {
                self.xfer_bytes += data.0.len() as u64;
            }
            Observed::Command { cmd, refused } => {
                self.commands += 1;
                if let SimCommand::Peer(cmd) = cmd {
                    self.refused += u64::from(refused.is_some());
                    let ok = refused.is_none();
                    match cmd {
                        PeerCommand::GroupCreate(_) if ok => self.groups_created += 1,
                        PeerCommand::Quit if ok => self.quits += 1,
                        PeerCommand::Get { .. } if ok => self.xfer_started += 1,
                        PeerCommand::SendFile { .. } if ok => {
                            self.xfer_started += 1;
                            self.xfer_offers += 1;
                        }
                        PeerCommand::Cancel(_) if ok => self.xfer_cancels += 1,
                        _ => {}
                    }
                }
            }
            Observed::Event(SimEvent::Peer(e)) => match e {
                PeerEvent::Sent { queued, .. } => {
                    self.sent += 1;
                    self.queued += u64::from(*queued);
                }
                PeerEvent::Message { .. } => self.shown += 1,
                PeerEvent::Delivered { .. } => self.delivered += 1,
                PeerEvent::ChatRequest { .. } => self.chat_requests += 1,
                PeerEvent::ChatOpened { .. } => self.chats_opened += 1,
                PeerEvent::ChatClosed { .. } => self.chats_closed += 1,
                PeerEvent::GroupInvite { .. } => self.invites += 1,
                PeerEvent::MemberJoined { .. } => self.joins += 1,
                PeerEvent::TransferDone { direction, .. } => match direction {
                    Direction::Receive => self.xfer_received += 1,
                    Direction::Send => self.xfer_sent += 1,
                },
                PeerEvent::TransferFailed { .. } => self.xfer_failed += 1,
                PeerEvent::CallStarted { .. } => self.calls += 1,
                PeerEvent::CallFrame { .. } => self.call_frames += 1,
                PeerEvent::RegistryBack | PeerEvent::RegistryLost { .. } => {}
                _ => {}
            },
            Observed::Event(SimEvent::Client(e)) => match e {
                ClientEvent::Asked { what, .. } => {
                    self.requests += 1;
                    self.heartbeats += u64::from(*what == "heartbeat");
                }
                ClientEvent::Users { .. }
                | ClientEvent::Answered { .. }
                | ClientEvent::Refused { .. }
                | ClientEvent::Registered
                | ClientEvent::LoggedIn { .. }
                | ClientEvent::LoggedOut => self.replies += 1,
                ClientEvent::Presence { .. } => self.presence += 1,
                ClientEvent::Lost { .. } => self.losses += 1,
                _ => {}
            },
            Observed::Event(SimEvent::Attacker(e)) => match e {
                AttackEvent::Struck { kind, .. } => {
                    self.attacks += 1;
                    *self.attack_kinds.entry(kind).or_default() += 1;
                }
                AttackEvent::Captured { .. } => self.captured += 1,
                _ => {}
            },
            Observed::Event(SimEvent::Registry(e)) => match e {
                RegistryEvent::Violation { .. } => self.violations += 1,
                RegistryEvent::Online { .. } => self.logins += 1,
                RegistryEvent::Registered { .. } => self.registrations += 1,
                RegistryEvent::RelayOpened { .. } => self.relayed += 1,
                RegistryEvent::RelayClosed { bytes, .. } => self.relayed_bytes += bytes,
                RegistryEvent::Offline { reason, .. } => {
                    *self.offline.entry(format!("{reason:?}")).or_default() += 1;
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// The fault counts in one line.
    pub fn faults_line(&self) -> String {
        let mut s = String::new();
        for kind in FaultKind::ALL {
            let n = self.faults.get(&kind).copied().unwrap_or(0);
            let _ = write!(s, "{} {n}, ", kind.label());
        }
        let m = self.relay_mangled;
        if m.windows > 0 {
            let _ = write!(s, "(relay mangled {} of {} pieces), ", m.mangled, m.relayed);
        }
        s.trim_end_matches(", ").to_string()
    }

    /// The attacker's strikes by kind in one line.
    pub fn attacks_line(&self) -> String {
        let parts: Vec<String> = self
            .attack_kinds
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        format!("{} strikes ({})", self.attacks, parts.join(", "))
    }

    /// Session ends by reason in one line.
    pub fn offline_line(&self) -> String {
        let parts: Vec<String> = self
            .offline
            .iter()
            .map(|(r, n)| format!("{} {n}", r.to_lowercase()))
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}
