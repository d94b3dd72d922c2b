//! The registry's relay: streams carried between two logged-in peers that
//! cannot connect directly (see [`crate::wire::relay`] for the messages).
//!
//! The registry forwards opaque bytes (the peers' own end-to-end encrypted
//! channel) and sees only who talks to whom and how much. It keeps no bytes
//! itself: a `Data` is forwarded at once. What bounds its memory is credit:
//! each direction of a stream may have at most [`RELAY_WINDOW`] bytes sent
//! and not yet credited back by the receiver; a sender beyond it is closed
//! as a violation. The receiver's credit is forwarded to the sender no
//! faster than the operator's caps allow ([`RelayConfig`]): a per-peer and a
//! total rate, as token buckets refilled from the time given, shared round
//! robin between the streams owed credit (so one bulk transfer cannot starve
//! a chat on another stream). Over a cap nothing is lost: credit waits, and
//! with it the sender.
//!
//! Touches the directory (who is logged in, on which connection) and sends
//! through the registry's `send`; every stream ends with either end's
//! connection or session ([`Registry::relay_end_conn`]).
//!
//! Invariant: every stream's two ends are connections with a session (the
//! state and its other invariants: `relays`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::relays::{Bucket, End, RELAY_REPORT_EVERY, RelayConfig, RelayStatus, Stream};
use super::{Registry, RegistryEvent, Timer};
use crate::api::{ConnId, Output};
use crate::bounded::Text;
use crate::limits::{MAX_RELAY_PIECE, MAX_RELAY_STREAMS, MAX_RELAY_STREAMS_PER_PEER, RELAY_WINDOW};
use crate::wire::relay::RelayMessage;
use crate::wire::{Message, Name};

/// How often a sender held back by a cap is told so, at most.
const CAPPED_TOLD_EVERY: Duration = Duration::from_secs(60);

/// A rate as people read it (`16.0 MiB/s`, `no cap`).
fn rate(r: u64) -> String {
    if r == 0 {
        "no cap".into()
    } else {
        format!("{:.1} MiB/s", r as f64 / (1024.0 * 1024.0))
    }
}

/// How often credit held back by a cap is looked at again.
const RELEASE_TICK: Duration = Duration::from_millis(10);

fn reason(s: &str) -> crate::wire::Reason {
    Text::truncate(s)
}

impl Registry {
    /// What an operator sees of the relay now.
    pub fn relay_status(&self) -> RelayStatus {
        self.relays.status()
    }

    /// `Timer::RelayReport`: the relay's counts for the log, and the next
    /// report while any stream is still open.
    pub(super) fn relay_report(&mut self, now: Instant) {
        let status = self.relay_status();
        self.out
            .push_back(Output::Event(RegistryEvent::RelayStatus(status)));
        if !self.relays.streams.is_empty() {
            self.timers
                .set(Timer::RelayReport, now + RELAY_REPORT_EVERY);
        }
    }

    fn relay_send(&mut self, conn: ConnId, msg: RelayMessage) {
        self.send(conn, &Message::Relay(msg));
    }

    /// A relay message from `conn`.
    pub(super) fn on_relay(&mut self, now: Instant, conn: ConnId, msg: RelayMessage) {
        let Some(me) = self.directory.name_of(conn).cloned() else {
            return self.violation(conn, "a relay message before logging in".into());
        };
        match msg {
            RelayMessage::Open { ask, to } => {
                self.relay_open(conn, me, ask, to);
                if !self.relays.streams.is_empty() && self.timers.get(&Timer::RelayReport).is_none()
                {
                    self.timers
                        .set(Timer::RelayReport, now + RELAY_REPORT_EVERY);
                }
            }
            RelayMessage::DialMe { to } => {
                // Only toward a peer online, and only with the address the
                // asker logged in with (it cannot name another).
                let from = self.directory.get(&me).map(|s| s.listen);
                let target = self.directory.get(&to).map(|s| s.conn);
                if let (Some(addr), Some(target)) = (from, target)
                    && addr.port() != 0
                    && to != me
                {
                    self.relay_send(target, RelayMessage::DialBack { from: me, addr });
                }
            }
            RelayMessage::Data { stream, bytes } => {
                let Some(i) = self.relays.end_of(stream, conn) else {
                    // Closed by the other end meanwhile: its `Close` is on
                    // its way to this peer.
                    return;
                };
                let len = bytes.len() as u64;
                let Some(s) = self.relays.streams.get_mut(&stream) else {
                    return;
                };
                let to = &mut s.ends[1 - i];
                if to.inflight + len > RELAY_WINDOW {
                    let why = format!(
                        "relayed beyond its credit: {} bytes in flight, window {RELAY_WINDOW}",
                        to.inflight + len
                    );
                    return self.violation(conn, why);
                }
                to.inflight += len;
                s.bytes += len;
                let dest = to.conn;
                #[cfg(feature = "testing")]
                if self.relays.fault.is_some() {
                    return self.relay_faulty(dest, stream, bytes);
                }
                self.relay_send(dest, RelayMessage::Data { stream, bytes });
            }
            RelayMessage::Credit { stream, bytes } => {
                let Some(i) = self.relays.end_of(stream, conn) else {
                    return;
                };
                let Some(s) = self.relays.streams.get_mut(&stream) else {
                    return;
                };
                // Never more than was in flight toward it: credit it did not
                // owe would let the sender overrun the window.
                let granted = bytes.min(s.ends[i].inflight);
                s.ends[i].inflight -= granted;
                let sender = &mut s.ends[1 - i];
                if granted == 0 {
                    return;
                }
                let was_owed = sender.owed > 0;
                sender.owed += granted;
                if !was_owed {
                    self.relays.ring.push_back((stream, 1 - i));
                }
                self.relay_release(now);
            }
            RelayMessage::Close { stream, .. } => {
                let Some(i) = self.relays.end_of(stream, conn) else {
                    return;
                };
                if let Some(s) = self.relays.remove(stream) {
                    let other = &s.ends[1 - i];
                    let why = format!("{me} closed the relayed stream");
                    let dest = other.conn;
                    self.relay_closed(stream, &s);
                    self.relay_send(
                        dest,
                        RelayMessage::Close {
                            stream,
                            reason: reason(&why),
                        },
                    );
                }
            }
            other @ (RelayMessage::Opened { .. }
            | RelayMessage::Refused { .. }
            | RelayMessage::Incoming { .. }
            | RelayMessage::Capped { .. }
            | RelayMessage::DialBack { .. }) => {
                self.violation(conn, format!("a peer does not send relay {}", other.kind()))
            }
        }
    }

    fn relay_open(&mut self, conn: ConnId, me: Name, ask: u32, to: Name) {
        let refuse = |why: String| RelayMessage::Refused {
            ask,
            reason: reason(&why),
        };
        if !self.config.relay.on {
            let why = "this registry does not relay (its operator turned the relay off)";
            return self.relay_send(conn, refuse(why.into()));
        }
        if to == me {
            return self.relay_send(conn, refuse("a stream to yourself".into()));
        }
        let Some(target) = self.directory.get(&to).map(|s| s.conn) else {
            return self.relay_send(conn, refuse(format!("{to} is not online")));
        };
        if self.relays.count_of(conn) >= MAX_RELAY_STREAMS_PER_PEER
            || self.relays.count_of(target) >= MAX_RELAY_STREAMS_PER_PEER
        {
            let why =
                format!("too many relayed streams (at most {MAX_RELAY_STREAMS_PER_PEER} per peer)");
            return self.relay_send(conn, refuse(why));
        }
        if self.relays.streams.len() >= MAX_RELAY_STREAMS {
            let why = format!("the relay is full ({MAX_RELAY_STREAMS} streams); try again later");
            return self.relay_send(conn, refuse(why));
        }
        self.relays.next += 1;
        self.relays.opened += 1;
        let stream = self.relays.next;
        let end = |conn, name| End {
            conn,
            name,
            inflight: 0,
            owed: 0,
            capped_told: None,
        };
        self.relays.streams.insert(
            stream,
            Stream {
                ends: [end(conn, me.clone()), end(target, to.clone())],
                bytes: 0,
            },
        );
        for c in [conn, target] {
            self.relays.by_conn.entry(c).or_default().insert(stream);
        }
        self.out
            .push_back(Output::Event(RegistryEvent::RelayOpened {
                stream,
                from: me.clone(),
                to,
                open: self.relays.streams.len(),
            }));
        self.relay_send(conn, RelayMessage::Opened { ask, stream });
        self.relay_send(target, RelayMessage::Incoming { stream, from: me });
    }

    fn relay_closed(&mut self, stream: u64, s: &Stream) {
        self.out
            .push_back(Output::Event(RegistryEvent::RelayClosed {
                stream,
                from: s.ends[0].name.clone(),
                to: s.ends[1].name.clone(),
                bytes: s.bytes,
                open: self.relays.streams.len(),
            }));
    }

    /// `conn` or its session is gone: its streams end, and the other ends
    /// are told.
    pub(super) fn relay_end_conn(&mut self, conn: ConnId) {
        let Some(streams) = self.relays.by_conn.get(&conn).cloned() else {
            return;
        };
        for stream in streams {
            let Some(i) = self.relays.end_of(stream, conn) else {
                continue;
            };
            if let Some(s) = self.relays.remove(stream) {
                let other = s.ends[1 - i].conn;
                let why = format!("{}'s registry session ended", s.ends[i].name);
                self.relay_closed(stream, &s);
                self.relay_send(
                    other,
                    RelayMessage::Close {
                        stream,
                        reason: reason(&why),
                    },
                );
            }
        }
    }

    /// Makes this registry misbehave as `fault` says (tests only).
    #[cfg(feature = "testing")]
    pub fn set_relay_fault(&mut self, fault: super::RelayFault) {
        self.relays.fault = Some((fault, 0, None));
    }

    /// Makes this registry a faithful relay again (tests only); answers how
    /// many pieces it relayed under the fault (a piece held back for
    /// `Reorder` is dropped: its stream already broke).
    #[cfg(feature = "testing")]
    pub fn clear_relay_fault(&mut self) -> u64 {
        self.relays.fault.take().map_or(0, |(_, n, _)| n)
    }

    /// Forwards a piece as a misbehaving relay would.
    #[cfg(feature = "testing")]
    fn relay_faulty(
        &mut self,
        dest: ConnId,
        stream: u64,
        mut bytes: crate::wire::relay::RelayBytes,
    ) {
        use super::RelayFault;
        let Some((fault, count, held)) = self.relays.fault.as_mut() else {
            return;
        };
        *count += 1;
        let n = *count;
        let hit = |every: u64| every > 0 && n % every == 0;
        let data = |stream, bytes| RelayMessage::Data { stream, bytes };
        match *fault {
            RelayFault::Alter { every } if hit(every) => {
                let mut v = bytes.into_vec();
                if let Some(b) = v.last_mut() {
                    *b ^= 0x20;
                }
                bytes = crate::bounded::Blob::new(v).unwrap_or_default();
                self.relay_send(dest, data(stream, bytes));
            }
            RelayFault::Drop { every } if hit(every) => {}
            RelayFault::Duplicate { every } if hit(every) => {
                self.relay_send(dest, data(stream, bytes.clone()));
                self.relay_send(dest, data(stream, bytes));
            }
            RelayFault::Reorder { every } if hit(every) && held.is_none() => {
                *held = Some((stream, bytes));
            }
            _ => {
                let late = match held {
                    Some((s, _)) if *s == stream => held.take(),
                    _ => None,
                };
                self.relay_send(dest, data(stream, bytes));
                if let Some((s, b)) = late {
                    self.relay_send(dest, data(s, b));
                }
            }
        }
    }

    /// Gives senders the credit they are owed, as far as the caps allow,
    /// one piece per stream in turn; the rest waits for
    /// [`Timer::RelayRelease`].
    pub(super) fn relay_release(&mut self, now: Instant) {
        let RelayConfig {
            peer_rate,
            total_rate,
            ..
        } = self.config.relay;
        let mut total = if total_rate == 0 {
            u64::MAX
        } else {
            self.relays
                .total_bucket
                .get_or_insert(Bucket {
                    tokens: total_rate,
                    at: now,
                })
                .fill(now, total_rate)
        };
        let mut grants: Vec<(ConnId, u64, u64)> = Vec::new();
        let mut spent_total = 0u64;
        let mut passes_without_grant = 0;
        while let Some((stream, i)) = self.relays.ring.pop_front() {
            if total == 0 {
                self.relays.ring.push_front((stream, i));
                break;
            }
            let Some(s) = self.relays.streams.get_mut(&stream) else {
                continue;
            };
            let sender = &mut s.ends[i];
            let peer = if peer_rate == 0 {
                u64::MAX
            } else {
                self.relays
                    .peer_buckets
                    .entry(sender.name.clone())
                    .or_insert(Bucket {
                        tokens: peer_rate,
                        at: now,
                    })
                    .fill(now, peer_rate)
            };
            let capped = peer_rate != 0 || total_rate != 0;
            let quantum = if capped {
                MAX_RELAY_PIECE as u64
            } else {
                u64::MAX
            };
            let give = sender.owed.min(peer).min(total).min(quantum);
            if give > 0 {
                sender.owed -= give;
                total = total.saturating_sub(give);
                spent_total += give;
                if peer_rate != 0
                    && let Some(b) = self.relays.peer_buckets.get_mut(&sender.name)
                {
                    b.tokens -= give;
                }
                grants.push((sender.conn, stream, give));
                passes_without_grant = 0;
            } else {
                passes_without_grant += 1;
            }
            if sender.owed > 0 {
                self.relays.ring.push_back((stream, i));
            }
            if passes_without_grant > self.relays.ring.len() {
                break;
            }
        }
        if total_rate != 0
            && let Some(b) = self.relays.total_bucket.as_mut()
        {
            b.tokens = b.tokens.saturating_sub(spent_total);
        }
        // One credit per stream and sender, however many turns it had.
        let mut merged: BTreeMap<(ConnId, u64), u64> = BTreeMap::new();
        for (conn, stream, give) in grants {
            *merged.entry((conn, stream)).or_default() += give;
        }
        for ((conn, stream), bytes) in merged {
            self.relay_send(conn, RelayMessage::Credit { stream, bytes });
        }
        // Whoever is still owed credit is held back by a cap: tell them
        // why (once a minute), so a slow transfer has a reason.
        let mut tell = Vec::new();
        for &(stream, i) in &self.relays.ring {
            if let Some(s) = self.relays.streams.get_mut(&stream) {
                let end = &mut s.ends[i];
                if end.capped_told.is_none_or(|t| now >= t + CAPPED_TOLD_EVERY) {
                    end.capped_told = Some(now);
                    tell.push((end.conn, stream));
                }
            }
        }
        for (conn, stream) in tell {
            let why = format!(
                "the registry's operator caps the relay at {} per peer and {} in all",
                rate(peer_rate),
                rate(total_rate)
            );
            self.relay_send(
                conn,
                RelayMessage::Capped {
                    stream,
                    reason: reason(&why),
                },
            );
        }
        if self.relays.ring.is_empty() {
            self.timers.cancel(&Timer::RelayRelease);
        } else if self.timers.get(&Timer::RelayRelease).is_none() {
            self.timers.set(Timer::RelayRelease, now + RELEASE_TICK);
        }
    }
}
