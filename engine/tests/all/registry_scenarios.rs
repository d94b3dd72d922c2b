//! The registry role end to end in the in-memory world, spoken to by scripted
//! clients: every request, every refusal, heartbeats, replacement, restart.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use confab_engine::bounded::{List, Text};
use confab_engine::password::PasswordCost;
use confab_engine::registry::{OfflineReason, RegistryConfig, RegistryEvent};
use confab_engine::testing::{AnyEvent, HostId, ScriptCommand, ScriptEvent, World, WorldConfig};
use confab_engine::wire::Md5;
use confab_engine::wire::registry::{
    FileCursor, LoginStamp, Password, Presence, Profile, Reply, ReplyBody, Request, RequestBody,
    SharedFile,
};
use confab_engine::wire::{ErrorCode, FileName, Hello, Message, Name, PROTOCOL_VERSION, Role};
use confab_engine::{ConnId, Registry};

fn config() -> RegistryConfig {
    RegistryConfig {
        password_cost: PasswordCost::TESTING,
        ..RegistryConfig::default()
    }
}

struct Setup {
    world: World,
    registry: HostId,
}

fn setup(seed: u64) -> Setup {
    let mut world = World::new(seed, WorldConfig::default(), Instant::now());
    let registry = world.add_registry("registry", config());
    Setup { world, registry }
}

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn password(s: &str) -> Password {
    Password(Text::new(s).unwrap())
}

/// A scripted client with an open, greeted connection to the registry.
struct Client {
    host: HostId,
    conn: ConnId,
    next_id: u32,
}

impl Client {
    fn connect(s: &mut Setup, label: &str) -> Client {
        let host = s.world.add_script(label);
        let addr = s.world.addr(s.registry);
        s.world.script(host, ScriptCommand::Connect(addr));
        s.world.run_for(Duration::from_millis(10));
        let conn = ConnId(1);
        let hello = Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: None,
        };
        s.world
            .script(host, ScriptCommand::Send(conn, Message::Hello(hello)));
        s.world.run_for(Duration::from_millis(10));
        let events = s.world.take_events(host);
        assert!(
            events.iter().any(|e| matches!(e, AnyEvent::Script(ScriptEvent::Message(_, Message::Hello(h))) if h.role == Role::Registry)),
            "registry said hello: {events:?}"
        );
        Client {
            host,
            conn,
            next_id: 0,
        }
    }

    /// Sends one request and returns its reply, with any presence pushes
    /// that arrived meanwhile.
    fn ask(
        &mut self,
        s: &mut Setup,
        body: RequestBody,
    ) -> (
        Result<ReplyBody, confab_engine::wire::Refusal>,
        Vec<Presence>,
    ) {
        self.next_id += 1;
        let id = self.next_id;
        s.world.script(
            self.host,
            ScriptCommand::Send(self.conn, Message::Request(Request { id, body })),
        );
        let host = self.host;
        let got = s.world.run_until(Duration::from_secs(1), |w| {
            w.events(host).iter().any(|(_, e)| matches!(e, AnyEvent::Script(ScriptEvent::Message(_, Message::Reply(r))) if r.id == id))
        });
        assert!(got, "no reply to request {id}");
        let mut reply = None;
        let mut pushes = vec![];
        for e in s.world.take_events(host) {
            match e {
                AnyEvent::Script(ScriptEvent::Message(
                    _,
                    Message::Reply(Reply { id: rid, result }),
                )) if rid == id => reply = Some(result),
                AnyEvent::Script(ScriptEvent::Message(_, Message::Presence(p))) => pushes.push(p),
                _ => {}
            }
        }
        (reply.unwrap(), pushes)
    }

    fn login(
        &mut self,
        s: &mut Setup,
        who: &str,
        pw: &str,
    ) -> Result<ReplyBody, confab_engine::wire::Refusal> {
        self.login_stamped(s, who, pw, LoginStamp::default())
    }

    fn login_stamped(
        &mut self,
        s: &mut Setup,
        who: &str,
        pw: &str,
        stamp: LoginStamp,
    ) -> Result<ReplyBody, confab_engine::wire::Refusal> {
        let listen: SocketAddr = s.world.addr(self.host);
        let r = self
            .ask(
                s,
                RequestBody::Login {
                    name: name(who),
                    password: password(pw),
                    listen,
                    stamp,
                },
            )
            .0;
        // A log-in is answered with a certificate for the name logged in;
        // the tests compare the rest as `Done`.
        r.map(|body| match body {
            ReplyBody::Certified(cert) => {
                assert_eq!(cert.body.name, name(who), "certified for another name");
                ReplyBody::Done
            }
            other => panic!("a log-in answered with {other:?}"),
        })
    }

    fn register(
        &mut self,
        s: &mut Setup,
        who: &str,
        pw: &str,
    ) -> Result<ReplyBody, confab_engine::wire::Refusal> {
        self.ask(
            s,
            RequestBody::Register {
                name: name(who),
                password: password(pw),
            },
        )
        .0
    }

    fn code(r: Result<ReplyBody, confab_engine::wire::Refusal>) -> ErrorCode {
        r.expect_err("expected a refusal").code
    }
}

#[test]
fn register_login_list_search_lookup() {
    let mut s = setup(1);
    let mut alice = Client::connect(&mut s, "alice");
    let mut bob = Client::connect(&mut s, "bob");
    assert_eq!(
        alice.register(&mut s, "alice", "pw-a").unwrap(),
        ReplyBody::Done
    );
    assert_eq!(
        Client::code(bob.register(&mut s, "alice", "other")),
        ErrorCode::NameTaken
    );
    assert_eq!(
        bob.register(&mut s, "bob", "pw-b").unwrap(),
        ReplyBody::Done
    );

    assert_eq!(
        Client::code(alice.login(&mut s, "alice", "nope")),
        ErrorCode::WrongPassword
    );
    assert_eq!(
        Client::code(alice.login(&mut s, "carol", "x")),
        ErrorCode::UnknownName
    );
    assert_eq!(
        Client::code(alice.ask(&mut s, RequestBody::List { after: None }).0),
        ErrorCode::NotLoggedIn
    );
    assert_eq!(
        alice.login(&mut s, "alice", "pw-a").unwrap(),
        ReplyBody::Done
    );
    assert_eq!(bob.login(&mut s, "bob", "pw-b").unwrap(), ReplyBody::Done);
    assert_eq!(
        Client::code(bob.login(&mut s, "bob", "pw-b")),
        ErrorCode::AlreadyLoggedIn
    );

    let (users, _) = alice.ask(&mut s, RequestBody::List { after: None });
    let ReplyBody::Users { users, more } = users.unwrap() else {
        panic!()
    };
    assert!(!more);
    let names: Vec<_> = users
        .iter()
        .map(|u| (u.name.as_str().to_owned(), u.addr))
        .collect();
    assert_eq!(
        names,
        vec![
            ("alice".into(), s.world.addr(alice.host)),
            ("bob".into(), s.world.addr(bob.host))
        ]
    );

    let (found, _) = alice.ask(
        &mut s,
        RequestBody::Search {
            text: Text::new("OB").unwrap(),
            after: None,
        },
    );
    let ReplyBody::Users { users, .. } = found.unwrap() else {
        panic!()
    };
    assert_eq!(
        users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["bob"]
    );

    let profile = Profile {
        nick: Text::new("Bobby").unwrap(),
        bio: Text::new("hi").unwrap(),
        ..Profile::default()
    };
    assert_eq!(
        bob.ask(
            &mut s,
            RequestBody::SetProfile {
                profile: profile.clone()
            }
        )
        .0
        .unwrap(),
        ReplyBody::Done
    );
    let (info, _) = alice.ask(&mut s, RequestBody::Lookup { name: name("bob") });
    let ReplyBody::Peer(info) = info.unwrap() else {
        panic!()
    };
    assert_eq!(info.profile, profile);
    assert_eq!(info.addr, Some(s.world.addr(bob.host)));
    assert_eq!(
        Client::code(
            alice
                .ask(&mut s, RequestBody::Lookup { name: name("zed") })
                .0
        ),
        ErrorCode::UnknownName
    );

    // No password in clear anywhere the registry wrote.
    let records = format!("{:?}", s.world.records(s.registry));
    let events = format!("{:?}", s.world.events(s.registry));
    for pw in ["pw-a", "pw-b", "nope"] {
        assert!(!records.contains(pw) && !events.contains(pw));
    }
}

fn file(n: &str, size: u64) -> SharedFile {
    SharedFile {
        kind: Default::default(),
        name: FileName::new(n).unwrap(),
        size,
        md5: Md5::of(n.as_bytes()),
    }
}

#[test]
fn published_files_are_listed_while_their_owner_is_online() {
    let mut s = setup(2);
    let mut alice = Client::connect(&mut s, "alice");
    let mut bob = Client::connect(&mut s, "bob");
    alice.register(&mut s, "alice", "a").unwrap();
    bob.register(&mut s, "bob", "b").unwrap();
    alice.login(&mut s, "alice", "a").unwrap();
    bob.login(&mut s, "bob", "b").unwrap();
    let files = List::new(vec![file("z.txt", 3), file("a.bin", 1)]).unwrap();
    assert_eq!(
        alice.ask(&mut s, RequestBody::Publish { files }).0.unwrap(),
        ReplyBody::Done
    );
    let dup = List::new(vec![file("x", 1), file("x", 2)]).unwrap();
    assert_eq!(
        Client::code(bob.ask(&mut s, RequestBody::Publish { files: dup }).0),
        ErrorCode::InvalidRequest
    );
    bob.ask(
        &mut s,
        RequestBody::Publish {
            files: List::new(vec![file("m.txt", 9)]).unwrap(),
        },
    )
    .0
    .unwrap();

    let (all, _) = bob.ask(
        &mut s,
        RequestBody::Files {
            owner: None,
            after: None,
        },
    );
    let ReplyBody::Files { files, more } = all.unwrap() else {
        panic!()
    };
    assert!(!more);
    let listed: Vec<_> = files
        .iter()
        .map(|f| format!("{}/{}", f.owner, f.file.name))
        .collect();
    assert_eq!(listed, ["alice/a.bin", "alice/z.txt", "bob/m.txt"]);

    let cursor = FileCursor {
        owner: name("alice"),
        name: FileName::new("a.bin").unwrap(),
    };
    let (page, _) = bob.ask(
        &mut s,
        RequestBody::Files {
            owner: None,
            after: Some(cursor),
        },
    );
    let ReplyBody::Files { files, .. } = page.unwrap() else {
        panic!()
    };
    assert_eq!(files.len(), 2);

    // Alice drops off: her files leave the listing.
    s.world.script(alice.host, ScriptCommand::Close(alice.conn));
    s.world.run_for(Duration::from_millis(10));
    let (all, _) = bob.ask(
        &mut s,
        RequestBody::Files {
            owner: None,
            after: None,
        },
    );
    let ReplyBody::Files { files, .. } = all.unwrap() else {
        panic!()
    };
    assert_eq!(
        files.iter().map(|f| f.owner.as_str()).collect::<Vec<_>>(),
        ["bob"]
    );
    assert_eq!(
        Client::code(
            bob.ask(
                &mut s,
                RequestBody::Files {
                    owner: Some(name("alice")),
                    after: None
                }
            )
            .0
        ),
        ErrorCode::NotFound
    );
}

#[test]
fn silent_sessions_expire_and_watchers_are_told() {
    let mut s = setup(3);
    let mut alice = Client::connect(&mut s, "alice");
    let mut bob = Client::connect(&mut s, "bob");
    alice.register(&mut s, "alice", "a").unwrap();
    bob.register(&mut s, "bob", "b").unwrap();
    alice.login(&mut s, "alice", "a").unwrap();
    alice
        .ask(&mut s, RequestBody::WatchPresence { on: true })
        .0
        .unwrap();
    bob.login(&mut s, "bob", "b").unwrap();

    // Alice keeps heartbeating; Bob goes silent.
    let timeout = config().heartbeat_timeout;
    let mut pushes = vec![];
    for _ in 0..6 {
        s.world.run_for(timeout / 4);
        pushes.extend(alice.ask(&mut s, RequestBody::Heartbeat).1);
    }
    assert!(
        s.world
            .engine::<Registry>(s.registry)
            .directory()
            .get(&name("bob"))
            .is_none()
    );
    assert!(
        s.world
            .engine::<Registry>(s.registry)
            .directory()
            .get(&name("alice"))
            .is_some()
    );
    let events = s.world.take_events(alice.host);
    pushes.extend(events.into_iter().filter_map(|e| match e {
        AnyEvent::Script(ScriptEvent::Message(_, Message::Presence(p))) => Some(p),
        _ => None,
    }));
    let online: Vec<_> = pushes
        .iter()
        .map(|p| (p.name.as_str().to_owned(), p.online))
        .collect();
    assert!(online.contains(&("bob".into(), false)), "{online:?}");
    let registry_events = s.world.take_events(s.registry);
    assert!(
        registry_events.contains(&AnyEvent::Registry(RegistryEvent::Offline {
            name: name("bob"),
            reason: OfflineReason::TimedOut
        }))
    );
}

#[test]
fn a_second_login_replaces_the_first_session_which_is_told_why() {
    let mut s = setup(4);
    let mut first = Client::connect(&mut s, "laptop");
    let mut second = Client::connect(&mut s, "desktop");
    first.register(&mut s, "alice", "a").unwrap();
    first.login(&mut s, "alice", "a").unwrap();
    second.login(&mut s, "alice", "a").unwrap();
    s.world.run_for(Duration::from_millis(20));
    let events = s.world.take_events(first.host);
    let goodbye = events.iter().find_map(|e| match e {
        AnyEvent::Script(ScriptEvent::Message(_, Message::Goodbye(g))) => Some(g.clone()),
        _ => None,
    });
    let goodbye = goodbye.expect("the first session was told");
    assert_eq!(goodbye.code, ErrorCode::SessionReplaced);
    assert!(
        goodbye.reason.contains("logged in again"),
        "{}",
        goodbye.reason
    );
    assert!(events.contains(&AnyEvent::Script(ScriptEvent::Closed(first.conn))));
    let dir = s.world.engine::<Registry>(s.registry).directory();
    assert_eq!(dir.len(), 1);
    assert_eq!(
        dir.get(&name("alice")).unwrap().listen,
        s.world.addr(second.host)
    );
}

/// A peer restarted and logged in again while its earlier log-in was still
/// on the way (a latency spike): that older log-in, arriving last, must not
/// end the newer session. A log-in from another installation still does.
#[test]
fn an_overtaken_login_from_the_same_installation_is_refused() {
    let mut s = setup(5);
    let mut late = Client::connect(&mut s, "before-restart");
    let mut live = Client::connect(&mut s, "after-restart");
    late.register(&mut s, "alice", "a").unwrap();
    let stamp = |device, count| LoginStamp { device, count };
    live.login_stamped(&mut s, "alice", "a", stamp(7, 5))
        .unwrap();

    let refused = late
        .login_stamped(&mut s, "alice", "a", stamp(7, 4))
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::StaleLogin, "{refused}");
    s.world.run_for(Duration::from_millis(20));
    let told = s.world.take_events(live.host);
    assert!(
        !told.iter().any(|e| matches!(
            e,
            AnyEvent::Script(ScriptEvent::Message(_, Message::Goodbye(_)))
        )),
        "the live session was left alone: {told:?}"
    );
    let dir = s.world.engine::<Registry>(s.registry).directory();
    let addr = dir.get(&name("alice")).unwrap().listen;
    assert_eq!(addr, s.world.addr(live.host));

    // Another installation (or a newer log-in of this one) replaces it.
    let mut other = Client::connect(&mut s, "desktop");
    other
        .login_stamped(&mut s, "alice", "a", stamp(9, 1))
        .unwrap();
    let dir = s.world.engine::<Registry>(s.registry).directory();
    let addr = dir.get(&name("alice")).unwrap().listen;
    assert_eq!(addr, s.world.addr(other.host));
}

/// Guessing passwords gets slow: after a few wrong ones from one address,
/// that address must wait (twice as long each time) before the registry
/// even checks another; other addresses are not affected, and waiting out
/// the lockout lets the right password in.
#[test]
fn wrong_passwords_from_one_address_lock_it_out_for_a_while() {
    let mut s = setup(6);
    let mut owner = Client::connect(&mut s, "owner");
    owner.register(&mut s, "alice", "right").unwrap();
    let mut guesser = Client::connect(&mut s, "guesser");
    for i in 0..6 {
        let r = guesser
            .login(&mut s, "alice", &format!("guess{i}"))
            .unwrap_err();
        assert_eq!(r.code, ErrorCode::WrongPassword, "guess {i}: {r}");
    }
    let locked = guesser.login(&mut s, "alice", "right").unwrap_err();
    assert_eq!(locked.code, ErrorCode::Busy, "{locked}");
    assert!(
        locked.message.contains("too many wrong passwords"),
        "{locked}"
    );
    owner.login(&mut s, "alice", "right").unwrap();
    s.world.run_for(Duration::from_secs(2));
    guesser.login(&mut s, "alice", "right").unwrap();
}

#[test]
fn accounts_survive_a_registry_restart() {
    let mut s = setup(5);
    let mut alice = Client::connect(&mut s, "alice");
    alice.register(&mut s, "alice", "secret").unwrap();
    s.world.restart(s.registry);
    let mut again = Client::connect(&mut s, "alice2");
    assert_eq!(
        Client::code(again.register(&mut s, "alice", "other")),
        ErrorCode::NameTaken
    );
    assert_eq!(
        Client::code(again.login(&mut s, "alice", "wrong")),
        ErrorCode::WrongPassword
    );
    assert_eq!(
        again.login(&mut s, "alice", "secret").unwrap(),
        ReplyBody::Done
    );
}

#[test]
fn version_mismatch_is_explained_then_closed() {
    let mut s = setup(6);
    let host = s.world.add_script("old");
    let addr = s.world.addr(s.registry);
    s.world.script(host, ScriptCommand::Connect(addr));
    s.world.run_for(Duration::from_millis(10));
    let hello = Hello {
        version: PROTOCOL_VERSION + 1,
        role: Role::Peer,
        name: None,
    };
    s.world
        .script(host, ScriptCommand::Send(ConnId(1), Message::Hello(hello)));
    s.world.run_for(Duration::from_millis(10));
    let events = s.world.take_events(host);
    let goodbye = events.iter().find_map(|e| match e {
        AnyEvent::Script(ScriptEvent::Message(_, Message::Goodbye(g))) => Some(g.clone()),
        _ => None,
    });
    let goodbye = goodbye.expect("told why");
    assert_eq!(goodbye.code, ErrorCode::VersionMismatch);
    assert!(goodbye.reason.contains("protocol"));
    assert!(events.contains(&AnyEvent::Script(ScriptEvent::Closed(ConnId(1)))));
}

#[test]
fn garbage_closes_only_the_offending_connection() {
    let mut s = setup(7);
    let mut alice = Client::connect(&mut s, "alice");
    alice.register(&mut s, "alice", "a").unwrap();
    alice.login(&mut s, "alice", "a").unwrap();
    let evil = s.world.add_script("evil");
    let addr = s.world.addr(s.registry);
    s.world.script(evil, ScriptCommand::Connect(addr));
    s.world.run_for(Duration::from_millis(10));
    // Inside the encrypted stream, a frame length far over the limit.
    s.world.script(
        evil,
        ScriptCommand::SendPlain(ConnId(1), vec![0xff, 0xff, 0xff, 0xff, 1, 2, 3]),
    );
    s.world.run_for(Duration::from_millis(10));
    let events = s.world.take_events(evil);
    assert!(
        events.contains(&AnyEvent::Script(ScriptEvent::Closed(ConnId(1)))),
        "{events:?}"
    );
    let registry_events = s.world.take_events(s.registry);
    assert!(registry_events.iter().any(|e| matches!(e, AnyEvent::Registry(RegistryEvent::Violation { reason, .. }) if reason.contains("over the limit"))));
    // Alice is untouched.
    assert_eq!(
        alice.ask(&mut s, RequestBody::Heartbeat).0.unwrap(),
        ReplyBody::Done
    );
}

#[test]
fn a_connection_that_never_says_hello_is_closed() {
    let mut s = setup(8);
    let host = s.world.add_script("mute");
    let addr = s.world.addr(s.registry);
    s.world.script(host, ScriptCommand::Connect(addr));
    s.world
        .run_for(config().hello_timeout + Duration::from_secs(1));
    assert!(
        s.world
            .take_events(host)
            .contains(&AnyEvent::Script(ScriptEvent::Closed(ConnId(1))))
    );
    assert_eq!(s.world.engine::<Registry>(s.registry).connection_count(), 0);
}

#[test]
fn a_crowd_of_logins_is_refused_as_busy_beyond_the_password_job_cap() {
    let mut world = World::new(9, WorldConfig::default(), Instant::now());
    let cap = 3;
    let registry = world.add_registry(
        "registry",
        RegistryConfig {
            max_password_jobs: cap,
            ..config()
        },
    );
    let mut s = Setup { world, registry };
    let mut owner = Client::connect(&mut s, "owner");
    owner.register(&mut s, "alice", "pw").unwrap();
    // Five connections ask at once; only `cap` get their password checked.
    let mut crowd: Vec<Client> = (0..5)
        .map(|i| Client::connect(&mut s, &format!("c{i}")))
        .collect();
    for c in &mut crowd {
        let body = RequestBody::Login {
            name: name("alice"),
            password: password("guess"),
            listen: s.world.addr(c.host),
            stamp: Default::default(),
        };
        s.world.script(
            c.host,
            ScriptCommand::Send(c.conn, Message::Request(Request { id: 1, body })),
        );
    }
    s.world.run_for(Duration::from_millis(50));
    let mut codes = vec![];
    for c in &crowd {
        for e in s.world.take_events(c.host) {
            if let AnyEvent::Script(ScriptEvent::Message(_, Message::Reply(r))) = e {
                codes.push(r.result.unwrap_err().code);
            }
        }
    }
    codes.sort();
    assert_eq!(
        codes,
        [ErrorCode::WrongPassword; 3]
            .into_iter()
            .chain([ErrorCode::Busy; 2])
            .collect::<Vec<_>>()
    );
    // Once the checks are done, logging in works again.
    assert_eq!(owner.login(&mut s, "alice", "pw").unwrap(), ReplyBody::Done);
}

/// confab before protocol 2 spoke plaintext: such a client gets the
/// registry's hello (which it reads as "another version") and a plaintext
/// goodbye saying why, then the connection closes.
#[test]
fn a_plaintext_client_of_the_old_protocol_is_told_why() {
    let mut s = setup(11);
    let host = s.world.add_script("old");
    let addr = s.world.addr(s.registry);
    s.world.script(host, ScriptCommand::ConnectPlain(addr));
    s.world.run_for(Duration::from_millis(10));
    let hello = Hello {
        version: 1,
        role: Role::Peer,
        name: None,
    };
    s.world
        .script(host, ScriptCommand::Send(ConnId(1), Message::Hello(hello)));
    s.world.run_for(Duration::from_millis(100));
    let events = s.world.take_events(host);
    assert!(events.iter().any(|e| matches!(e,
        AnyEvent::Script(ScriptEvent::Message(_, Message::Hello(h))) if h.version == PROTOCOL_VERSION)));
    let bye = events.iter().find_map(|e| match e {
        AnyEvent::Script(ScriptEvent::Message(_, Message::Goodbye(g))) => Some(g.clone()),
        _ => None,
    });
    assert!(
        bye.as_ref()
            .is_some_and(|g| g.code == ErrorCode::VersionMismatch
                && g.reason.as_str().contains("protocol 1")),
        "{events:?}"
    );
    assert!(events.contains(&AnyEvent::Script(ScriptEvent::Closed(ConnId(1)))));
}
