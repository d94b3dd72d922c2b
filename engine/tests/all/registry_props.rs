//! Random sequences of registry operations and faults keep the registry's
//! invariants, checked against a model after every step:
//! - the online set is exactly the clients whose connection is open, who
//!   logged in on it, and who have not been silent past the timeout;
//! - one session per name (a second log-in replaces the first);
//! - registration succeeds exactly when the name is free, log-in exactly when
//!   the password matches;
//! - the file listing is exactly what the online sessions last published.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use confab_engine::ConnId;
use confab_engine::Registry;
use confab_engine::bounded::{List, Text};
use confab_engine::password::PasswordCost;
use confab_engine::registry::RegistryConfig;
use confab_engine::testing::{AnyEvent, HostId, ScriptCommand, ScriptEvent, World, WorldConfig};
use confab_engine::wire::registry::{Password, Reply, ReplyBody, Request, RequestBody, SharedFile};
use confab_engine::wire::{ErrorCode, FileName, Hello, Md5, Message, Name, PROTOCOL_VERSION, Role};
use proptest::prelude::*;

const NAMES: [&str; 3] = ["ann", "bo", "cy"];
const PASSWORDS: [&str; 2] = ["pw1", "pw2"];
const CLIENTS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Connect(usize),
    Register(usize, usize, usize),
    Login(usize, usize, usize),
    Logout(usize),
    Heartbeat(usize),
    Publish(usize, Vec<u8>),
    Close(usize),
    Wait(u64),
    RestartRegistry,
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0..CLIENTS;
    prop_oneof![
        3 => c.clone().prop_map(Op::Connect),
        2 => (c.clone(), 0..NAMES.len(), 0..PASSWORDS.len()).prop_map(|(c, n, p)| Op::Register(c, n, p)),
        4 => (c.clone(), 0..NAMES.len(), 0..PASSWORDS.len()).prop_map(|(c, n, p)| Op::Login(c, n, p)),
        1 => c.clone().prop_map(Op::Logout),
        3 => c.clone().prop_map(Op::Heartbeat),
        2 => (c.clone(), proptest::collection::vec(0u8..6, 0..4)).prop_map(|(c, f)| Op::Publish(c, f)),
        1 => c.prop_map(Op::Close),
        2 => (0u64..45_000).prop_map(Op::Wait),
        1 => Just(Op::RestartRegistry),
    ]
}

#[derive(Debug, Default)]
struct ClientModel {
    conn: Option<ConnId>,
    next_conn: u64,
    session: Option<&'static str>,
    published: Vec<SharedFile>,
    next_id: u32,
}

fn shared(i: u8) -> SharedFile {
    SharedFile {
        kind: Default::default(),
        name: FileName::new(&format!("f{i}")).unwrap(),
        size: u64::from(i),
        md5: Md5::of(&[i]),
    }
}

struct Run {
    world: World,
    registry: HostId,
    hosts: Vec<HostId>,
    clients: Vec<ClientModel>,
    /// name -> password index of the account, as the model believes.
    accounts: BTreeMap<&'static str, usize>,
    timeout: Duration,
}

impl Run {
    fn new(seed: u64) -> Self {
        let config = RegistryConfig {
            password_cost: PasswordCost::TESTING,
            ..RegistryConfig::default()
        };
        let timeout = config.heartbeat_timeout;
        let mut world = World::new(seed, WorldConfig::default(), Instant::now());
        let registry = world.add_registry("registry", config);
        let hosts = (0..CLIENTS)
            .map(|i| world.add_script(&format!("client{i}")))
            .collect();
        let clients = (0..CLIENTS).map(|_| ClientModel::default()).collect();
        Run {
            world,
            registry,
            hosts,
            clients,
            accounts: BTreeMap::new(),
            timeout,
        }
    }

    /// Applies connection closes the clients have seen to the model.
    fn observe_closes(&mut self, events: &[AnyEvent], i: usize) {
        for e in events {
            if let AnyEvent::Script(ScriptEvent::Closed(conn)) = e
                && self.clients[i].conn == Some(*conn)
            {
                self.clients[i].conn = None;
                self.clients[i].session = None;
                self.clients[i].published.clear();
            }
        }
    }

    fn settle(&mut self, d: Duration) {
        self.world.run_for(d);
        for i in 0..CLIENTS {
            let events = self.world.take_events(self.hosts[i]);
            self.observe_closes(&events, i);
        }
    }

    /// Sends a request and returns the reply, if the connection survives.
    fn ask(&mut self, i: usize, body: RequestBody) -> Option<Result<ReplyBody, ErrorCode>> {
        let conn = self.clients[i].conn?;
        self.clients[i].next_id += 1;
        let id = self.clients[i].next_id;
        let host = self.hosts[i];
        self.world.script(
            host,
            ScriptCommand::Send(conn, Message::Request(Request { id, body })),
        );
        self.world.run_until(Duration::from_millis(100), |w| {
            w.events(host).iter().any(|(_, e)| {
                matches!(e, AnyEvent::Script(ScriptEvent::Message(_, Message::Reply(r))) if r.id == id)
                    || matches!(e, AnyEvent::Script(ScriptEvent::Closed(_)))
            })
        });
        let events = self.world.take_events(host);
        let reply = events.iter().find_map(|e| match e {
            AnyEvent::Script(ScriptEvent::Message(
                _,
                Message::Reply(Reply { id: rid, result }),
            )) if *rid == id => Some(result.clone().map_err(|r| r.code)),
            _ => None,
        });
        self.observe_closes(&events, i);
        // Other clients may have lost their sessions meanwhile.
        self.settle(Duration::ZERO);
        reply
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Connect(i) => {
                if self.clients[i].conn.is_some() {
                    return Ok(());
                }
                let host = self.hosts[i];
                let addr = self.world.addr(self.registry);
                self.clients[i].next_conn += 1;
                let conn = ConnId(self.clients[i].next_conn);
                self.world.script(host, ScriptCommand::Connect(addr));
                let hello = Hello {
                    version: PROTOCOL_VERSION,
                    role: Role::Peer,
                    name: None,
                };
                self.world
                    .script(host, ScriptCommand::Send(conn, Message::Hello(hello)));
                self.clients[i].conn = Some(conn);
                self.settle(Duration::from_millis(10));
            }
            Op::Register(i, n, p) => {
                let name = Name::new(NAMES[n]).unwrap();
                let password = Password(Text::new(PASSWORDS[p]).unwrap());
                if let Some(r) = self.ask(i, RequestBody::Register { name, password }) {
                    let free = !self.accounts.contains_key(NAMES[n]);
                    prop_assert_eq!(r.is_ok(), free, "register {} answered {:?}", NAMES[n], r);
                    if free {
                        self.accounts.insert(NAMES[n], p);
                    }
                }
            }
            Op::Login(i, n, p) => {
                let name = Name::new(NAMES[n]).unwrap();
                let password = Password(Text::new(PASSWORDS[p]).unwrap());
                let listen = self.world.addr(self.hosts[i]);
                let had = self.clients[i].session;
                if let Some(r) = self.ask(
                    i,
                    RequestBody::Login {
                        name,
                        password,
                        listen,
                        stamp: Default::default(),
                    },
                ) {
                    let expected = match (had, self.accounts.get(NAMES[n])) {
                        (Some(_), _) => Err(ErrorCode::AlreadyLoggedIn),
                        (None, None) => Err(ErrorCode::UnknownName),
                        (None, Some(&q)) if q != p => Err(ErrorCode::WrongPassword),
                        (None, Some(_)) => Ok(ReplyBody::Done),
                    };
                    // Success is a certificate for the name (compared as `Done`).
                    let r = r.map(|body| match body {
                        ReplyBody::Certified(c) if c.body.name.as_str() == NAMES[n] => {
                            ReplyBody::Done
                        }
                        other => other,
                    });
                    prop_assert_eq!(&r, &expected, "login {} by client {}", NAMES[n], i);
                    if r.is_ok() {
                        self.clients[i].session = Some(NAMES[n]);
                        self.clients[i].published.clear();
                        // The replaced session learns of it and loses its connection.
                        self.settle(Duration::from_millis(10));
                    }
                }
            }
            Op::Logout(i) => {
                let had = self.clients[i].session;
                if let Some(r) = self.ask(i, RequestBody::Logout) {
                    prop_assert_eq!(r.is_ok(), had.is_some());
                    self.clients[i].session = None;
                    self.clients[i].published.clear();
                }
            }
            Op::Heartbeat(i) => {
                let had = self.clients[i].session;
                if let Some(r) = self.ask(i, RequestBody::Heartbeat) {
                    prop_assert_eq!(r.is_ok(), had.is_some());
                }
            }
            Op::Publish(i, ref files) => {
                let mut list: Vec<SharedFile> = files.iter().map(|&f| shared(f)).collect();
                list.sort();
                let unique = list.windows(2).all(|w| w[0].name != w[1].name);
                let had = self.clients[i].session;
                let files = List::new(list.clone()).unwrap();
                if let Some(r) = self.ask(i, RequestBody::Publish { files }) {
                    prop_assert_eq!(
                        r.is_ok(),
                        had.is_some() && unique,
                        "publish answered {:?}",
                        r
                    );
                    if r.is_ok() {
                        self.clients[i].published = list;
                    }
                }
            }
            Op::Close(i) => {
                if let Some(conn) = self.clients[i].conn.take() {
                    self.world.script(self.hosts[i], ScriptCommand::Close(conn));
                    self.clients[i].session = None;
                    self.clients[i].published.clear();
                    self.settle(Duration::from_millis(10));
                }
            }
            Op::Wait(ms) => self.settle(Duration::from_millis(ms)),
            Op::RestartRegistry => {
                self.world.restart(self.registry);
                self.settle(Duration::from_millis(10));
            }
        }
        self.check()
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let registry: &Registry = self.world.engine(self.registry);
        let now = self.world.now();
        let mut expected: BTreeMap<&str, Vec<SharedFile>> = BTreeMap::new();
        for c in &self.clients {
            if let Some(name) = c.session {
                prop_assert!(
                    expected.insert(name, c.published.clone()).is_none(),
                    "model: {} twice",
                    name
                );
            }
        }
        let online: BTreeMap<&str, Vec<SharedFile>> = registry
            .directory()
            .iter()
            .map(|(n, s)| (n.as_str(), s.files.clone()))
            .collect();
        prop_assert_eq!(&online, &expected, "online sessions and their files");
        for (name, s) in registry.directory().iter() {
            prop_assert!(
                now - s.last_seen <= self.timeout,
                "{} silent for {:?}",
                name,
                now - s.last_seen
            );
        }
        let (files, more) = registry.directory().files_page(None, None);
        prop_assert!(!more);
        let listed: Vec<(String, SharedFile)> = files
            .iter()
            .map(|e| (e.owner.to_string(), e.file.clone()))
            .collect();
        let wanted: Vec<(String, SharedFile)> = expected
            .iter()
            .flat_map(|(n, fs)| fs.iter().map(move |f| (n.to_string(), f.clone())))
            .collect();
        prop_assert_eq!(listed, wanted);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn registry_keeps_its_invariants(seed in any::<u64>(), ops in proptest::collection::vec(op(), 1..60)) {
        let mut run = Run::new(seed);
        for op in &ops {
            run.apply(op)?;
        }
    }
}
