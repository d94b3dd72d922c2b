//! End-to-end: a registry and up to three `confab peer --json` processes on
//! 127.0.0.1 with free ports, driven through their standard input; every
//! assertion is on the `--json` events of `docs/events.md`. One scenario per test.

mod support;

use serde_json::{Value, json};
use support::{Net, Proc, free_port, open_chat, password_of, peer_process, quit};

/// The `listen` address a peer announced in its `ready` event.
fn listen_of(p: &Proc) -> String {
    p.seen(&json!({"event": "ready"}))
        .first()
        .map(|v| v["listen"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{} never was ready", p.name))
}

/// The texts of the `message` events `p` has printed from `from` to `to`.
fn texts(p: &Proc, from: &str, to: &str) -> Vec<String> {
    p.seen(&json!({"event": "message", "from": from, "to": to}))
        .iter()
        .map(|v| v["text"].as_str().unwrap().to_owned())
        .collect()
}

/// `users` sorted by name, as (name, addr) pairs.
fn users(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_owned(),
                u["addr"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn consented_chat_carries_messages_both_ways_with_delivery() {
    let net = Net::new();
    let mut alice = net.peer("alice");
    let mut bob = net.peer("bob");

    alice.send("/chat bob");
    let req = bob.expect(json!({"event": "chat_request", "from": "alice"}));
    assert!(req["id"].is_u64(), "{req}");
    // Nothing opens before bob consents: alice's answer to a local command
    // comes after anything she printed before it.
    alice.send("/friends");
    alice.expect(json!({"event": "friends"}));
    assert!(alice.seen(&json!({"event": "chat_opened"})).is_empty());
    bob.send(&format!("/accept {}", req["id"]));
    bob.expect(json!({"event": "chat_opened", "with": "alice"}));
    alice.expect(json!({"event": "chat_opened", "with": "bob"}));

    // Plain text goes to the chat that just opened.
    alice.send("hello bob, with  two spaces");
    let sent = alice.expect(json!({"event": "sent", "to": "bob"}));
    bob.expect(json!({"event": "message", "from": "alice", "to": "bob", "text": "hello bob, with  two spaces"}));
    alice.expect(json!({"event": "delivered", "to": "bob", "seq": sent["seq"]}));

    bob.send("/msg alice hi alice");
    let sent = bob.expect(json!({"event": "sent", "to": "alice"}));
    alice.expect(json!({"event": "message", "from": "bob", "to": "alice", "text": "hi alice"}));
    bob.expect(json!({"event": "delivered", "to": "alice", "seq": sent["seq"]}));

    // Each message arrived exactly once.
    assert_eq!(texts(&bob, "alice", "bob"), ["hello bob, with  two spaces"]);
    assert_eq!(texts(&alice, "bob", "alice"), ["hi alice"]);

    bob.send("/close alice");
    alice.expect(json!({"event": "chat_closed", "with": "bob"}));
}

#[test]
fn a_burst_of_200_messages_arrives_complete_and_in_order() {
    let net = Net::new();
    let mut alice = net.peer("alice");
    let mut bob = net.peer("bob");
    open_chat(&mut alice, &mut bob);

    let expected: Vec<String> = (0..200).map(|i| format!("burst {i:03}")).collect();
    for text in &expected {
        alice.send(&format!("/msg bob {text}"));
    }
    bob.expect(json!({"event": "message", "from": "alice", "text": "burst 199"}));
    assert_eq!(texts(&bob, "alice", "bob"), expected);

    // Every one of them was accepted for sending, and the last is acknowledged.
    let mut last = Value::Null;
    for _ in 0..200 {
        last = alice.expect(json!({"event": "sent", "to": "bob"}));
    }
    alice.expect(json!({"event": "delivered", "to": "bob", "seq": last["seq"]}));
    assert!(alice.seen(&json!({"event": "error"})).is_empty());
}

#[test]
fn a_declined_chat_is_closed_with_a_reason_and_takes_no_messages() {
    let net = Net::new();
    let mut alice = net.peer("alice");
    let mut bob = net.peer("bob");

    alice.send("/chat bob");
    bob.expect(json!({"event": "chat_request", "from": "alice"}));
    bob.send("/decline");
    let closed = alice.expect(json!({"event": "chat_closed", "with": "bob"}));
    let reason = closed["reason"].as_str().unwrap();
    assert!(!reason.is_empty(), "{closed}");
    assert!(alice.seen(&json!({"event": "chat_opened"})).is_empty());

    alice.send("/msg bob are you there?");
    let err = alice.expect(json!({"event": "error"}));
    assert!(
        err["message"].as_str().unwrap().contains("/chat bob"),
        "{err}"
    );
    // bob's own barrier: a command answered after anything alice sent.
    bob.send("/history alice");
    let h = bob.expect(json!({"event": "history", "with": "alice"}));
    assert_eq!(h["messages"], json!([]));
    assert!(bob.seen(&json!({"event": "message"})).is_empty());
}

#[test]
fn a_group_of_three_hears_each_member_once() {
    let net = Net::new();
    let mut alice = net.peer("alice");
    let mut bob = net.peer("bob");
    let mut carol = net.peer("carol");

    alice.send("/group create #g");
    alice.expect(json!({"event": "group_joined", "group": "#g"}));
    alice.send("/invite #g bob");
    let inv = bob.expect(json!({"event": "group_invite", "from": "alice", "group": "#g"}));
    bob.send(&format!("/accept {}", inv["id"]));
    bob.expect(json!({"event": "group_joined", "group": "#g"}));
    alice.expect(json!({"event": "member_joined", "group": "#g", "name": "bob"}));

    alice.send("/invite #g carol");
    carol.expect(json!({"event": "group_invite", "from": "alice", "group": "#g"}));
    carol.send("/accept");
    let joined = carol.expect(json!({"event": "group_joined", "group": "#g"}));
    let mut members: Vec<&str> = joined["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    members.sort();
    assert_eq!(members, ["alice", "bob", "carol"]);
    // The new member is announced to the others.
    alice.expect(json!({"event": "member_joined", "group": "#g", "name": "carol"}));
    bob.expect(json!({"event": "member_joined", "group": "#g", "name": "carol"}));

    let mut all = [alice, bob, carol];
    for p in all.iter_mut() {
        let me = p.name.clone();
        p.send(&format!("/msg #g hello from {me}"));
        p.send(&format!("/msg #g last from {me}"));
    }
    for i in 0..3 {
        for j in 0..3 {
            if i == j {
                continue;
            }
            let from = all[j].name.clone();
            // Per sender order: once the last one is in, the first one is too.
            all[i].expect(json!({"event": "message", "from": from, "to": "#g", "text": format!("last from {from}")}));
        }
    }
    for p in &all {
        for q in &all {
            let got = texts(p, &q.name, "#g");
            if p.name == q.name {
                assert!(got.is_empty(), "{} heard itself: {got:?}", p.name);
            } else {
                let want = [
                    format!("hello from {}", q.name),
                    format!("last from {}", q.name),
                ];
                assert_eq!(got, want, "{} hearing {}", p.name, q.name);
            }
        }
    }
}

#[test]
fn who_and_search_list_peers_with_their_addresses() {
    let net = Net::new();
    let mut alice = net.peer("alice");
    let bob = net.peer("bob");
    let carol = net.peer("carol");

    alice.send("/who");
    let who = alice.expect(json!({"event": "users"}));
    let want: Vec<(String, String)> = [&alice, &bob, &carol]
        .iter()
        .map(|p| (p.name.clone(), listen_of(p)))
        .collect();
    assert_eq!(users(&who), want);

    alice.send("/search o");
    let found = alice.expect(json!({"event": "users"}));
    assert_eq!(users(&found), want[1..].to_vec(), "bob and carol hold an o");

    alice.send("/search zed");
    assert_eq!(alice.expect(json!({"event": "users"}))["users"], json!([]));
}

#[test]
fn whois_shows_the_profile_a_peer_set() {
    let net = Net::new();
    let mut alice = net.peer("alice");
    let mut bob = net.peer("bob");

    bob.send("/profile nick Bobby Tables");
    bob.expect(json!({"event": "profile", "nick": "Bobby Tables"}));
    bob.send("/profile bio likes tea");
    bob.expect(json!({"event": "profile", "nick": "Bobby Tables", "bio": "likes tea"}));
    bob.send("/profile");
    bob.expect(json!({"event": "profile", "nick": "Bobby Tables", "bio": "likes tea"}));
    // bob's own /whois travels on the same registry connection as the
    // profile it set, so once it shows the profile the registry has it.
    bob.send("/whois bob");
    bob.expect(json!({"event": "whois", "name": "bob", "bio": "likes tea"}));

    alice.send("/whois bob");
    let w = alice.expect(json!({"event": "whois", "name": "bob"}));
    assert_eq!(w["nick"], "Bobby Tables");
    assert_eq!(w["bio"], "likes tea");
    assert_eq!(w["online"], true);
    assert_eq!(w["addr"], listen_of(&bob).as_str());

    alice.send("/whois nobody");
    alice.expect(json!({"event": "error"}));
}

#[test]
fn a_wrong_password_is_refused_and_the_account_still_works() {
    let net = Net::new();
    let mut alice = net.peer("alice");
    quit(&mut alice);

    let mut mallory = net.start_peer_in("alice", "not-her-password", "mallory");
    mallory.expect(json!({"event": "stopped", "code": "WrongPassword"}));
    let status = mallory.wait_exit();
    assert!(!status.success(), "exit status {status}");
    let err = mallory.stderr_after_exit();
    assert!(
        err.contains("wrong password") && err.contains("CONFAB_PASSWORD"),
        "stderr: {err}"
    );
    assert!(mallory.seen(&json!({"event": "ready"})).is_empty());

    let mut alice = net.peer("alice");
    quit(&mut alice);
}

#[test]
fn peers_log_back_in_after_a_registry_restart_and_accounts_are_kept() {
    let mut net = Net::new();
    let mut peers = [net.peer("alice"), net.peer("bob"), net.peer("carol")];

    net.registry.as_mut().unwrap().kill();
    for p in peers.iter_mut() {
        p.expect(json!({"event": "registry_lost"}));
    }
    net.start_registry();
    for p in peers.iter_mut() {
        p.expect(json!({"event": "registry_back"}));
    }
    let [alice, bob, carol] = &mut peers;

    // Logged in again (not registered again) and listed.
    for p in [&*alice, &*bob, &*carol] {
        assert_eq!(
            p.seen(
                &json!({"event": "notice", "message": format!("registered the name {}", p.name)})
            )
            .len(),
            1,
            "{} registered once",
            p.name
        );
    }
    loop {
        // The others' log-ins may still be on their way: ask until all are in.
        alice.send("/who");
        let who = alice.expect(json!({"event": "users"}));
        if users(&who).len() == 3 {
            break;
        }
    }
    open_chat(alice, carol);
    alice.send("after the restart");
    carol.expect(json!({"event": "message", "from": "alice", "text": "after the restart"}));

    // The restarted registry still knows bob's password.
    let mut impostor = net.start_peer_in("bob", "guess", "impostor");
    impostor.expect(json!({"event": "stopped", "code": "WrongPassword"}));
    assert!(!impostor.wait_exit().success());
}

#[test]
fn quit_eof_and_sigterm_log_out_cleanly() {
    let net = Net::new();
    let mut watcher = net.peer("watcher");

    let mut a = net.peer("alice");
    quit(&mut a);
    watcher.expect(json!({"event": "presence", "name": "alice", "online": false}));

    let mut b = net.peer("bob");
    watcher.expect(json!({"event": "presence", "name": "bob", "online": true}));
    b.close_stdin();
    b.expect(json!({"event": "stopped", "code": "Normal"}));
    assert!(b.wait_exit().success());
    watcher.expect(json!({"event": "presence", "name": "bob", "online": false}));

    let mut c = net.peer("carol");
    watcher.expect(json!({"event": "presence", "name": "carol", "online": true}));
    c.signal(libc::SIGTERM);
    c.expect(json!({"event": "stopped", "code": "Normal"}));
    assert!(c.wait_exit().success());
    watcher.expect(json!({"event": "presence", "name": "carol", "online": false}));
}

#[test]
fn history_is_kept_in_order_across_a_restart() {
    let net = Net::new();
    let mut alice = net.peer("alice");
    let mut bob = net.peer("bob");
    open_chat(&mut alice, &mut bob);
    alice.send("one");
    bob.expect(json!({"event": "message", "text": "one"}));
    bob.send("two");
    alice.expect(json!({"event": "message", "text": "two"}));
    alice.send("three");
    bob.expect(json!({"event": "message", "text": "three"}));

    let want = json!([
        {"from": "alice", "text": "one"},
        {"from": "bob", "text": "two"},
        {"from": "alice", "text": "three"},
    ]);
    alice.send("/history bob");
    let h = alice.expect(json!({"event": "history", "with": "bob"}));
    assert!(support::matches(&h["messages"], &want), "{h}");
    assert!(h["messages"][0]["at"].as_u64().unwrap() > 1_600_000_000_000);

    alice.send("/history bob 2");
    let h = alice.expect(json!({"event": "history", "with": "bob"}));
    assert!(
        support::matches(&h["messages"], &json!([want[1], want[2]])),
        "{h}"
    );

    quit(&mut alice);
    let mut alice = net.peer("alice");
    alice.send("/history bob");
    let h = alice.expect(json!({"event": "history", "with": "bob"}));
    assert!(
        support::matches(&h["messages"], &want),
        "after a restart: {h}"
    );
}

#[test]
fn a_message_to_an_offline_friend_is_delivered_when_they_come_online() {
    let net = Net::new();
    let mut bob = net.peer("bob");
    bob.send("/friend add alice");
    bob.expect(json!({"event": "friends"}));
    quit(&mut bob);

    let mut alice = net.peer("alice");
    alice.send("/friend add bob");
    alice.expect(json!({"event": "friends", "friends": [{"name": "bob", "online": false}]}));
    alice.send("/msg bob while you were away");
    let sent = alice.expect(json!({"event": "sent", "to": "bob", "queued": true}));
    alice.send("/friends");
    alice.expect(json!({"event": "friends", "friends": [{"name": "bob", "queued": 1}]}));

    let mut bob = net.peer("bob");
    bob.expect(
        json!({"event": "message", "from": "alice", "to": "bob", "text": "while you were away"}),
    );
    alice.expect(json!({"event": "delivered", "to": "bob", "seq": sent["seq"]}));
    assert_eq!(texts(&bob, "alice", "bob").len(), 1);
}

#[test]
fn without_registry_the_first_peer_hosts_it_and_the_second_joins() {
    let dir = tempfile::tempdir().unwrap();
    let default = free_port().to_string();
    let env = [("CONFAB_DEFAULT_REGISTRY", default.as_str())];
    let home = |n: &str| dir.path().join(n);

    let mut alice = peer_process(
        "alice",
        &password_of("alice"),
        None,
        &home("alice"),
        &home("alice").join("share"),
        &env,
    );
    let hosting = alice.wait_for("the hosting notice", |v| {
        v["event"] == "notice" && v["message"].as_str().unwrap().contains("hosts one")
    });
    assert!(
        hosting["message"].as_str().unwrap().contains(&default),
        "{hosting}"
    );
    alice.expect(json!({"event": "ready", "name": "alice"}));
    assert!(home("alice").join("data/registry").is_dir());

    let mut bob = peer_process(
        "bob",
        &password_of("bob"),
        None,
        &home("bob"),
        &home("bob").join("share"),
        &env,
    );
    bob.expect(json!({"event": "ready", "name": "bob"}));
    assert!(
        bob.seen(&json!({"event": "notice"}))
            .iter()
            .all(|n| !n["message"].as_str().unwrap().contains("hosts one")),
        "bob joined, did not host"
    );
    bob.send("/who");
    let who = bob.expect(json!({"event": "users"}));
    let names: Vec<String> = users(&who).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["alice", "bob"]);
    open_chat(&mut bob, &mut alice);

    // The registry lived in alice's process: it goes when she does.
    quit(&mut alice);
    bob.expect(json!({"event": "registry_lost"}));
}

/// Runs `confab ARGS` to its end and returns its standard error, checking
/// that it failed.
fn fails(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut p = Proc::start("confab", args, env);
    let status = p.wait_exit();
    assert!(!status.success(), "{args:?} succeeded");
    assert!(p.seen(&json!({"event": "ready"})).is_empty());
    p.stderr_after_exit()
}

#[test]
fn fatal_errors_say_what_to_do() {
    let net = Net::new();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (data, share) = (data.to_str().unwrap(), net.share("x"));
    let share = share.to_str().unwrap();
    let registry = net.addr.to_string();
    let pw = [("CONFAB_PASSWORD", "pw")];
    let peer = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["peer", "--name", "x", "--data", data, "--json"];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect()
    };
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let args = peer(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&args, env)
    };

    let nothing = free_port().to_string();
    let err = run(&["--registry", &nothing, "--share", share], &pw);
    assert!(
        err.contains("cannot reach the registry") && err.contains("--registry"),
        "{err}"
    );

    let missing = dir.path().join("no-such-folder");
    let err = run(
        &[
            "--registry",
            &registry,
            "--share",
            missing.to_str().unwrap(),
        ],
        &pw,
    );
    assert!(err.contains("--share"), "{err}");

    let err = run(&["--registry", &registry, "--share", share], &[]);
    assert!(err.contains("CONFAB_PASSWORD"), "{err}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let err = run(
        &[
            "--registry",
            &registry,
            "--share",
            share,
            "--listen",
            &taken,
        ],
        &pw,
    );
    assert!(err.contains("in use") && err.contains("--listen"), "{err}");
}
