//! The registry role for the engine driver ([`crate::driver`]).
//!
//! Its remotes are peers dialing it ([`Role::remote`] below): honest ones
//! (no pin, or the registry's own key pinned), one without a channel (an
//! old client), and forged ones: pinned to another key, claiming to be a
//! registry, or proving a registry's payload.
//!
//! The registry's own invariants, checked after every operation:
//! - it holds exactly the connections the driver thinks are open;
//! - every session is on a connection whose encrypted handshake completed
//!   (nothing from an unauthenticated connection reaches the directory);
//! - every session belongs to an open connection, and the two directory maps
//!   agree (the name of a session's connection is that session's name), so a
//!   name has at most one session and a connection at most one;
//! - every session was heard from within the heartbeat timeout (expired ones
//!   are closed before anything else is handled) and never in the future;
//! - a session's files are sorted, unique by name, and within the limit;
//! - every online name has an account, and every account was persisted;
//! - every reply answers a request the connection sent and had no answer to
//!   yet, oldest first: exactly one reply per request, in order.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use arbitrary::Arbitrary;
use confab_engine::limits::MAX_SHARED_FILES;
use confab_engine::password::PasswordCost;
use confab_engine::registry::RegistryEvent;
use confab_engine::secure::certificate::bind;
use confab_engine::secure::{Expect, Local, SecureConfig, SigningSecret, StaticSecret};
use confab_engine::wire::identity::{Fingerprint, HandshakePayload};
use confab_engine::wire::{Message, Role as WireRole};
use confab_engine::{ConnId, Record, Registry, RegistryCommand, RegistryConfig};

use crate::driver::{Model, Role};
use crate::remote::{RemoteSpec, Speaks};

/// The registry's commands, as the fuzzer picks them.
#[derive(Debug, Arbitrary)]
pub enum GRegistryCommand {
    Shutdown,
    /// The operator asks for the relay's counts.
    RelayStatus,
}

/// Ids of the requests each connection sent that have no reply yet, oldest first.
#[derive(Debug, Default)]
pub struct Unanswered(BTreeMap<ConnId, VecDeque<u32>>);

/// The configuration every registry target uses: the default timeouts,
/// the cheapest password hashing so that a log-in costs microseconds, and
/// keys of its own (the same every run).
pub fn config(unix_ms: u64) -> RegistryConfig {
    RegistryConfig {
        password_cost: PasswordCost::TESTING,
        secure: SecureConfig {
            static_key: Some(StaticSecret::from_bytes([0x11; 32])),
            signing_key: Some(SigningSecret::from_bytes([0x22; 32])),
            registry_pin: None,
            entropy: Some([0x33; 32]),
        },
        unix_ms_at_start: unix_ms,
        ..RegistryConfig::default()
    }
}

/// A peer's static key: one per remote number, so two connections from
/// one remote are one installation.
fn peer_key(remote: u8) -> StaticSecret {
    StaticSecret::from_bytes([remote.wrapping_add(0x80); 32])
}

impl Role for Registry {
    type GenCommand = GRegistryCommand;
    type State = Unanswered;

    fn on_delivered(state: &mut Unanswered, conn: ConnId, msg: &Message) {
        if let Message::Request(r) = msg {
            state.0.entry(conn).or_default().push_back(r.id);
        }
    }

    fn check_sent(&self, state: &mut Unanswered, conn: ConnId, msg: &Message, _: &Model) {
        let Message::Reply(reply) = msg else {
            return;
        };
        let queue = state.0.entry(conn).or_default();
        let Some(pos) = queue.iter().position(|&id| id == reply.id) else {
            panic!("{conn} got reply {} to no unanswered request", reply.id);
        };
        assert_eq!(
            pos,
            0,
            "{conn} got reply {} before the replies to {:?}, sent earlier",
            reply.id,
            queue.iter().take(pos).collect::<Vec<_>>()
        );
        queue.pop_front();
    }

    const ROLE: WireRole = WireRole::Registry;

    /// `mode % 8`: 0 and 7 an honest peer, 5 one that pinned this
    /// registry's key, 6 one that shows a certificate anyway; 1 no channel;
    /// 2 pinned to another key; 3 says it is a registry; 4 proves a
    /// registry's payload instead of a peer's.
    fn remote(&self, _: &Model, remote: u8, _: Option<SocketAddr>, mode: u8) -> RemoteSpec {
        let secret = peer_key(remote);
        let mine = self.signing_key().fingerprint();
        let mut local = Local {
            role: WireRole::Peer,
            secret: secret.clone(),
            payload: HandshakePayload::Peer { certificate: None },
        };
        let mut expect = Expect::Registry { pin: None };
        let mode = mode % 8;
        match mode {
            1 => {
                return RemoteSpec {
                    speaks: Speaks::Clear,
                    honest: false,
                };
            }
            2 => {
                expect = Expect::Registry {
                    pin: Some(Fingerprint([0xee; 16])),
                }
            }
            3 => local.role = WireRole::Registry,
            4 => {
                let signer = SigningSecret::from_bytes([remote; 32]);
                local.payload = HandshakePayload::Registry {
                    signing_key: signer.public(),
                    binding: bind(&signer, &secret.public()),
                };
            }
            5 => expect = Expect::Registry { pin: Some(mine) },
            6 => {
                local.payload = HandshakePayload::Peer {
                    certificate: Some(crate::samples::certificate("bob", secret.public())),
                }
            }
            _ => {}
        }
        RemoteSpec {
            speaks: Speaks::Channel {
                local: Box::new(local),
                expect,
            },
            honest: !(2..=4).contains(&mode),
        }
    }

    fn start(records: Vec<Record>, now: Instant, unix_ms: u64) -> Self {
        Registry::new(config(unix_ms), records, now, 0)
    }

    fn command(&self, g: &GRegistryCommand, _model: &Model) -> Option<RegistryCommand> {
        match g {
            GRegistryCommand::Shutdown => Some(RegistryCommand::Shutdown),
            GRegistryCommand::RelayStatus => Some(RegistryCommand::RelayStatus),
        }
    }

    fn check_event(&self, event: &RegistryEvent, model: &Model) {
        match event {
            RegistryEvent::Online { conn, .. } => assert!(
                model.open.contains(conn),
                "{conn} came online but is not open"
            ),
            RegistryEvent::Registered { name } => assert!(
                self.accounts().get(name).is_some(),
                "{name} registered without an account"
            ),
            RegistryEvent::RelayOpened { from, to, .. } => assert!(
                from != to
                    && self.directory().get(from).is_some()
                    && self.directory().get(to).is_some(),
                "a relayed stream opened between {from} and {to}, not two logged-in peers"
            ),
            RegistryEvent::Offline { .. }
            | RegistryEvent::Refused { .. }
            | RegistryEvent::Violation { .. }
            | RegistryEvent::RelayClosed { .. } => {}
            RegistryEvent::RelayStatus(status) => assert!(
                status.streams.len() <= confab_engine::limits::MAX_RELAY_STREAMS
                    && status.capped <= status.streams.len()
                    && status.streams.iter().all(|(_, a, b, _)| a != b),
                "an impossible relay status: {status:?}"
            ),
        }
    }

    fn check(&self, model: &Model) {
        assert_eq!(
            self.connection_count(),
            model.open.len(),
            "the registry holds {} connections, the driver sees {} open",
            self.connection_count(),
            model.open.len()
        );
        let timeout = self.config().heartbeat_timeout;
        let mut conns = BTreeSet::new();
        for (name, s) in self.directory().iter() {
            assert!(
                model.open.contains(&s.conn),
                "{name}'s session is on {}, which is not open",
                s.conn
            );
            assert!(
                model.secure.contains(&s.conn),
                "{name}'s session is on {}, whose handshake never completed",
                s.conn
            );
            assert!(conns.insert(s.conn), "two sessions on {}", s.conn);
            assert_eq!(
                self.directory().name_of(s.conn),
                Some(name),
                "the directory's maps disagree about {}",
                s.conn
            );
            assert!(s.last_seen <= model.now, "{name} was seen in the future");
            assert!(
                s.last_seen + timeout > model.now,
                "{name} is online though silent for {:?}",
                model.now - s.last_seen
            );
            assert!(s.files.len() <= MAX_SHARED_FILES);
            assert!(
                s.files.windows(2).all(|w| w[0].name < w[1].name),
                "{name}'s files are not sorted and unique"
            );
            assert!(
                self.accounts().get(name).is_some(),
                "{name} is online without an account"
            );
        }
        assert_eq!(
            self.accounts().len(),
            model.records.len(),
            "every account is persisted, and only accounts are"
        );
        for record in model.records.values() {
            match record {
                Record::Account(a) => assert!(
                    self.accounts().get(&a.name).is_some(),
                    "a persisted account {} is unknown",
                    a.name
                ),
                #[allow(unreachable_patterns)]
                other => panic!("a registry persisted {:?}", other.key()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use confab_engine::registry::RegistryEvent;
    use confab_engine::wire::registry::{Password, RequestBody};
    use confab_engine::wire::{Message, Name, encode};
    use confab_engine::{Output, Registry};

    use crate::driver::{self, Seen};
    use crate::ops::{ConnRef, Op};
    use crate::samples;

    fn frame(msg: &Message) -> Op {
        Op::Frame {
            conn: ConnRef(0),
            split: 0,
            body: encode(msg)[4..].to_vec(),
        }
    }

    /// Hello, register and log in alice on the first connection, from a
    /// far end speaking as `mode` says; then `more`. Returns how many times
    /// she came online and how many connections the registry closed.
    fn log_in(mode: u8, more: &[Op]) -> (usize, usize) {
        let name = Name::new("alice").unwrap();
        let password = Password(confab_engine::bounded::Text::new("pw").unwrap());
        let mut ops = vec![
            Op::Accept { remote: 0, mode },
            frame(&samples::hello()),
            frame(&samples::request(
                1,
                RequestBody::Register {
                    name: name.clone(),
                    password: password.clone(),
                },
            )),
            Op::Password {
                job: 0,
                fail: false,
            },
            frame(&samples::request(
                2,
                RequestBody::Login {
                    name,
                    password,
                    listen: "10.0.1.1:7000".parse().unwrap(),
                    stamp: Default::default(),
                },
            )),
            Op::Password {
                job: 0,
                fail: false,
            },
        ];
        ops.extend_from_slice(more);
        let (mut online, mut closed) = (0, 0);
        driver::run_observed::<Registry>(&ops, &mut |s| match s {
            Seen::Output(Output::Event(RegistryEvent::Online { .. })) => online += 1,
            Seen::Output(Output::Close { .. }) => closed += 1,
            _ => {}
        });
        (online, closed)
    }

    #[test]
    fn a_log_in_through_the_channel_goes_online_and_a_replay_ends_it() {
        assert_eq!(log_in(0, &[]), (1, 0));
        let replay = Op::Tamper {
            conn: ConnRef(0),
            how: 0,
        };
        assert_eq!(log_in(0, &[replay]), (1, 1));
    }

    #[test]
    fn a_far_end_without_a_channel_or_with_a_wrong_pin_never_logs_in() {
        assert_eq!(log_in(1, &[]).0, 0);
        assert_eq!(log_in(2, &[]).0, 0);
    }

    #[test]
    fn a_request_during_a_registration_is_answered_after_it() {
        let register = RequestBody::Register {
            name: Name::new("alice").unwrap(),
            password: Password(confab_engine::bounded::Text::new("pw").unwrap()),
        };
        driver::run::<Registry>(&[
            Op::Accept { remote: 0, mode: 0 },
            frame(&samples::hello()),
            frame(&samples::request(1, register)),
            frame(&samples::request(2, RequestBody::Heartbeat)),
            Op::Password {
                job: 0,
                fail: false,
            },
        ]);
    }
}
