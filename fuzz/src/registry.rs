//! The registry role for the engine driver ([`crate::driver`]).
//!
//! The registry's own invariants, checked after every operation:
//! - it holds exactly the connections the driver thinks are open;
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
use std::time::Instant;

use arbitrary::Arbitrary;
use confab_engine::limits::MAX_SHARED_FILES;
use confab_engine::password::PasswordCost;
use confab_engine::registry::RegistryEvent;
use confab_engine::wire::Message;
use confab_engine::{ConnId, Record, Registry, RegistryCommand, RegistryConfig};

use crate::driver::{Model, Role};

/// The registry's commands, as the fuzzer picks them.
#[derive(Debug, Arbitrary)]
pub enum GRegistryCommand {
    Shutdown,
}

/// Ids of the requests each connection sent that have no reply yet, oldest first.
#[derive(Debug, Default)]
pub struct Unanswered(BTreeMap<ConnId, VecDeque<u32>>);

/// The configuration every registry target uses: the default timeouts, and
/// the cheapest password hashing so that a log-in costs microseconds.
pub fn config() -> RegistryConfig {
    RegistryConfig {
        password_cost: PasswordCost::TESTING,
        ..RegistryConfig::default()
    }
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

    fn start(records: Vec<Record>, now: Instant) -> Self {
        Registry::new(config(), records, now, 0)
    }

    fn command(&self, g: &GRegistryCommand, _model: &Model) -> Option<RegistryCommand> {
        match g {
            GRegistryCommand::Shutdown => Some(RegistryCommand::Shutdown),
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
            RegistryEvent::Offline { .. }
            | RegistryEvent::Refused { .. }
            | RegistryEvent::Violation { .. } => {}
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
    use confab_engine::Registry;
    use confab_engine::wire::registry::{Password, RequestBody};
    use confab_engine::wire::{Message, Name, encode};

    use crate::driver;
    use crate::ops::{ConnRef, Op};
    use crate::samples;

    fn frame(msg: &Message) -> Op {
        Op::Frame {
            conn: ConnRef(0),
            split: 0,
            body: encode(msg)[4..].to_vec(),
        }
    }

    #[test]
    fn a_request_during_a_registration_is_answered_after_it() {
        let register = RequestBody::Register {
            name: Name::new("alice").unwrap(),
            password: Password(confab_engine::bounded::Text::new("pw").unwrap()),
        };
        driver::run::<Registry>(&[
            Op::Accept { remote: 0 },
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
