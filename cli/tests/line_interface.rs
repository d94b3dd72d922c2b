//! End-to-end: the human line interface (no `--json`) that people, pipes and
//! `--plain` users see, on a registry and real `confab` processes on
//! 127.0.0.1 with free ports. What it must never do: pass a peer's escape
//! sequences to the terminal, run a piped script before the log-in, end a
//! failed log-in with status 0, or show the program's internal enum names.

mod support;

use std::net::SocketAddr;
use std::path::Path;

use serde_json::json;
use support::{Net, Proc, free_port, password_of, peer_process, quit};

/// Everything a hostile peer may put in a text: a screen wipe, a cursor move,
/// a colour, a carriage return, a bell, a right-to-left override, a
/// zero-width space and a bidirectional isolate.
const HOSTILE: &str = "\x1b[2J\x1b[H\x1b[31m\r\x07\u{202E}\u{200B}\u{2066}";

/// What must never reach a terminal from the network.
const FORBIDDEN: [char; 6] = ['\x1b', '\r', '\x07', '\u{202E}', '\u{200B}', '\u{2066}'];

/// The arguments of a human-mode `confab peer` with its folders below `home`.
fn human_args(name: &str, registry: Option<SocketAddr>, home: &Path) -> Vec<String> {
    let mut args = support::peer_args(name, registry, home, &home.join("share"));
    args.retain(|a| a != "--json");
    args
}

/// Starts `name` in human mode with `env` (its password unless `env` sets
/// one), without waiting.
fn start_human(
    name: &str,
    registry: Option<SocketAddr>,
    home: &Path,
    env: &[(&str, &str)],
) -> Proc {
    let args = human_args(name, registry, home);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let pw = password_of(name);
    let mut all = vec![("CONFAB_PASSWORD", pw.as_str())];
    all.extend_from_slice(env);
    Proc::start(name, &args, &all)
}

/// Starts `name` in human mode on `net` and waits until it has logged in.
fn human(net: &Net, name: &str) -> Proc {
    let mut p = start_human(name, Some(net.addr), &net.home(name), &[]);
    p.expect_line(&format!("logged in as {name}"));
    p
}

/// Every line `p` printed on standard output, read to its end.
fn all_output(p: &mut Proc) -> String {
    p.drain();
    p.log
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `out` holds none of the characters of [`FORBIDDEN`], and shows the
/// hostile text escaped.
fn assert_escaped(out: &str) {
    for c in FORBIDDEN {
        assert!(
            !out.contains(c),
            "U+{:04X} reached the terminal:\n{out}",
            c as u32
        );
    }
    for shown in [
        "\\e[2J", "\\e[31m", "\\r", "\\x07", "U+202E", "U+200B", "U+2066",
    ] {
        assert!(out.contains(shown), "{shown} not shown:\n{out}");
    }
}

#[test]
fn hostile_text_from_every_field_reaches_the_terminal_escaped() {
    let net = Net::new();
    let evil_shared = format!("shared{HOSTILE}txt.exe").replace(['\x1b', '\r', '\x07'], "");
    std::fs::write(net.share("mallory").join(&evil_shared), b"shared").unwrap();
    let outbox = net.home("mallory").join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    // File names may not hold control characters; invisible ones they may.
    let evil_offer = "offer\u{202E}gpj.exe";
    std::fs::write(outbox.join(evil_offer), b"offered").unwrap();

    let mut mallory = net.peer("mallory");
    mallory.send(&format!("/profile nick nick{HOSTILE}end"));
    mallory.expect(json!({"event": "profile"}));
    mallory.send(&format!("/profile bio bio{HOSTILE}end"));
    mallory.expect(json!({"event": "profile", "bio": format!("bio{HOSTILE}end")}));
    mallory.send("/whois mallory");
    mallory.expect(json!({"event": "whois", "name": "mallory", "bio": format!("bio{HOSTILE}end")}));

    let mut alice = human(&net, "alice");
    mallory.send("/chat alice");
    alice.expect_line("mallory asks for a chat");
    alice.send("/accept");
    mallory.expect(json!({"event": "chat_opened", "with": "alice"}));
    mallory.send(&format!(
        "/msg alice hello{HOSTILE}* alice: your password expired"
    ));
    alice.expect_line("[mallory] hello");

    alice.send("/whois mallory");
    alice.expect_line("bio: bio");
    alice.send("/files mallory");
    alice.expect_line("shared");

    mallory.send(&format!(
        "/send alice {}",
        outbox.join(evil_offer).display()
    ));
    alice.expect_line("mallory offers offer");
    alice.send("/accept");
    alice.expect_line("received offer");

    mallory.send("/group create #mal");
    mallory.expect(json!({"event": "group_joined", "group": "#mal"}));
    mallory.send("/invite #mal alice");
    alice.expect_line("mallory invites you into #mal");
    alice.send("/accept");
    mallory.expect(json!({"event": "member_joined", "group": "#mal", "name": "alice"}));
    mallory.send(&format!("/msg #mal group{HOSTILE}end"));
    alice.expect_line("[#mal] mallory: group");

    alice.send("/quit");
    alice.expect_line("bye");
    assert!(alice.wait_exit().success());
    let mut out = all_output(&mut alice);

    // The stored history replays what came, escaped again.
    let mut alice = human(&net, "alice");
    alice.send("/history mallory");
    alice.expect_line("history with mallory");
    alice.expect_line("* alice: your password expired");
    alice.send("/quit");
    alice.expect_line("bye");
    out.push('\n');
    out.push_str(&all_output(&mut alice));

    assert_escaped(&out);
    for field in ["nick: nick\\e[2J", "bio: bio\\e[2J", "offerU+202Egpj.exe"] {
        assert!(out.contains(field), "{field} not shown:\n{out}");
    }
    quit(&mut mallory);
}

#[test]
fn json_keeps_the_exact_text() {
    let net = Net::new();
    let mut mallory = net.peer("mallory");
    let mut alice = net.peer("alice");
    support::open_chat(&mut mallory, &mut alice);
    mallory.send(&format!("/msg alice x{HOSTILE}y"));
    alice.expect(json!({"event": "message", "from": "mallory", "text": format!("x{HOSTILE}y")}));
}

#[test]
fn a_piped_script_waits_for_the_log_in_and_its_answers() {
    let net = Net::new();
    let _bob = net.peer("bob");
    // `echo /who | confab peer --name dave`: the script is all there before
    // the log-in has even started.
    let mut dave = start_human("dave", Some(net.addr), &net.home("dave"), &[]);
    dave.send("/who");
    dave.close_stdin();
    let status = dave.wait_exit();
    let out = all_output(&mut dave);
    assert!(status.success(), "exit status {status}:\n{out}");
    assert!(
        out.contains("online (2):") && out.contains("bob") && out.contains("dave"),
        "{out}"
    );
    assert!(!out.contains("error"), "{out}");
    assert!(out.ends_with("bye"), "{out}");
}

#[test]
fn a_wrong_password_from_a_pipe_fails_loudly() {
    let net = Net::new();
    let mut dave = net.peer("dave");
    quit(&mut dave);

    for script in [&[][..], &["/who"][..]] {
        let mut impostor = start_human(
            "dave",
            Some(net.addr),
            &net.home("impostor"),
            &[("CONFAB_PASSWORD", "not-daves")],
        );
        for line in script {
            impostor.send(line);
        }
        impostor.close_stdin();
        let status = impostor.wait_exit();
        let err = impostor.stderr_after_exit();
        let out = all_output(&mut impostor);
        assert_eq!(status.code(), Some(1), "{script:?}: {out}\n{err}");
        assert!(
            err.contains("confab: error:") && err.contains("wrong password"),
            "{script:?}: stderr: {err}"
        );
        assert!(!out.contains("bye") && !out.contains("online"), "{out}");
    }
}

/// The `(CamelCase)` words in `out`: enum names a person must never see.
fn enum_names(out: &str) -> Vec<&str> {
    out.split('(')
        .skip(1)
        .filter_map(|s| s.split(')').next())
        .filter(|w| {
            w.len() > 1
                && w.chars().all(|c| c.is_ascii_alphabetic())
                && w.starts_with(|c: char| c.is_ascii_uppercase())
                && w.chars().skip(1).any(|c| c.is_ascii_uppercase())
        })
        .collect()
}

#[test]
fn when_the_registry_host_leaves_the_others_are_told_in_plain_words() {
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
    alice.expect(json!({"event": "ready", "name": "alice"}));
    let mut bob = start_human("bob", None, &home("bob"), &env);
    bob.expect_line("logged in as bob");
    alice.send("/chat bob");
    bob.expect_line("alice asks for a chat");
    bob.send("/accept");
    alice.expect(json!({"event": "chat_opened", "with": "bob"}));

    quit(&mut alice);
    bob.expect_line("the registry went away (the registry is shutting down)");
    bob.send("/quit");
    bob.expect_line("bye");
    assert!(bob.wait_exit().success());
    let out = all_output(&mut bob);
    assert!(!out.contains("ShuttingDown"), "{out}");
    assert_eq!(enum_names(&out), Vec::<&str>::new(), "{out}");
}

#[test]
fn a_search_that_finds_nobody_and_a_missing_file_say_what_happened() {
    let net = Net::new();
    let _bob = net.peer("bob");
    let mut alice = human(&net, "alice");
    alice.send("/search zzz");
    let found = alice.expect_line("zzz");
    assert_eq!(found, "no name online contains \"zzz\"");
    alice.send("/search bo");
    alice.expect_line("online with \"bo\" in their name (1):");

    alice.send("/send bob nope.bin");
    let err = alice.expect_line("nope.bin");
    assert!(err.starts_with("error: cannot send nope.bin"), "{err}");
    alice.send("/quit");
    alice.expect_line("bye");
    let out = all_output(&mut alice);
    assert!(!out.contains("nobody is online"), "{out}");
    assert!(!out.contains("offering"), "{out}");
}

#[test]
fn chats_and_groups_say_what_happened_and_where_lines_go() {
    let net = Net::new();
    let mut bob = net.peer("bob");
    let mut alice = human(&net, "alice");

    // A request is acknowledged at once; one that never opened did not
    // "close".
    alice.send("/chat dave");
    alice.expect_line("asked dave for a chat; waiting for the answer");
    let no = alice.expect_line("dave");
    assert!(no.starts_with("* no chat with dave: "), "{no}");

    alice.send("/chat bob");
    alice.expect_line("asked bob for a chat");
    let req = bob.expect(json!({"event": "chat_request", "from": "alice"}));
    bob.send(&format!("/accept {}", req["id"]));
    alice.expect_line("chat with bob is open");

    // Joining a group does not take the open chat's place.
    bob.send("/group create #g");
    bob.expect(json!({"event": "group_joined", "group": "#g"}));
    bob.send("/invite #g alice");
    alice.expect_line("bob invites you into #g");
    alice.send("/accept");
    let joined = alice.expect_line("you are in #g");
    assert!(
        joined.ends_with("write to it with /msg #g TEXT"),
        "{joined}"
    );
    alice.send("still for bob");
    bob.expect(json!({"event": "message", "from": "alice", "to": "bob", "text": "still for bob"}));
    alice.send("/invite #g carol");
    alice.expect_line("invited carol into #g; waiting for the answer");
    quit(&mut bob);
}

#[test]
fn transfers_lists_the_ones_finished_this_session() {
    let net = Net::new();
    std::fs::write(net.share("bob").join("notes.txt"), b"some notes").unwrap();
    let _bob = net.peer("bob");
    let mut alice = human(&net, "alice");
    alice.send("/get bob notes.txt");
    alice.expect_line("received notes.txt");
    alice.send("/transfers");
    alice.expect_line("no transfers under way");
    alice.expect_line("finished this session:");
    alice.expect_line("✓ received notes.txt into ");
}

#[test]
fn avatar_saves_the_avatar_to_a_file() {
    let net = Net::new();
    let png = b"\x89PNG\r\n\x1a\n-not-really-an-image-";
    let pic = net.home("bob").join("me.png");
    std::fs::create_dir_all(net.home("bob")).unwrap();
    std::fs::write(&pic, png).unwrap();
    let mut bob = net.peer("bob");
    bob.send(&format!("/profile avatar {}", pic.display()));
    bob.expect(json!({"event": "profile", "avatar_size": png.len()}));
    bob.send("/whois bob");
    bob.expect(json!({"event": "whois", "name": "bob", "avatar_size": png.len()}));

    let mut alice = human(&net, "alice");
    alice.send("/avatar bob");
    let saved = alice.expect_line("saved bob's avatar");
    let path = saved.rsplit(" to ").next().unwrap();
    assert_eq!(std::fs::read(path).unwrap(), png, "{saved}");
    assert!(path.ends_with("bob.png"), "{path}");

    let mut carol = net.peer("carol");
    carol.send("/avatar bob");
    let v = carol.expect(json!({"event": "avatar", "name": "bob", "size": png.len()}));
    assert_eq!(std::fs::read(v["path"].as_str().unwrap()).unwrap(), png);
    carol.send("/avatar alice");
    carol.expect(json!({"event": "avatar", "name": "alice", "size": 0, "path": null}));
}

#[test]
fn after_a_restart_plain_lines_go_to_the_chat_still_open() {
    let net = Net::new();
    let mut bob = net.peer("bob");
    let mut alice = human(&net, "alice");
    alice.send("/chat bob");
    let req = bob.expect(json!({"event": "chat_request", "from": "alice"}));
    bob.send(&format!("/accept {}", req["id"]));
    alice.expect_line("chat with bob is open");
    alice.send("/quit");
    alice.expect_line("bye");
    assert!(alice.wait_exit().success());

    let mut alice = human(&net, "alice");
    assert!(
        alice.log.iter().any(|l| l
            .as_str()
            .is_some_and(|s| s.contains("your chat with bob is still open"))),
        "{:?}",
        alice.log
    );
    alice.send("where were we");
    bob.expect(json!({"event": "message", "from": "alice", "to": "bob", "text": "where were we"}));
}

#[test]
fn a_get_that_resumes_says_from_where() {
    let net = Net::new();
    let data = support::bytes(7, 300_000);
    std::fs::write(net.share("bob").join("big.bin"), &data).unwrap();
    let _bob = net.peer("bob");
    std::fs::create_dir_all(net.downloads("alice")).unwrap();
    std::fs::write(
        net.downloads("alice").join("big.bin.part"),
        &data[..100_000],
    )
    .unwrap();
    let mut alice = human(&net, "alice");
    alice.send("/get bob big.bin");
    alice.expect_line("big.bin.part already holds 97.66 KiB: the download resumes from there");
    alice.expect_line("received big.bin");
    let got = std::fs::read(net.downloads("alice").join("big.bin")).unwrap();
    assert!(got == data, "the resumed file differs");
}

#[test]
fn a_friend_without_an_account_is_pointed_out() {
    let net = Net::new();
    let mut bob = net.peer("bob");
    quit(&mut bob);
    let mut alice = human(&net, "alice");
    alice.send("/friend add ghost");
    let warned = alice.expect_line("ghost is added as a friend");
    assert!(
        warned.contains("the registry does not know them")
            && warned.contains("/friend remove ghost"),
        "{warned}"
    );
    // bob is offline, but he has an account: nothing to point out.
    alice.send("/friend add bob");
    alice.send("/friends");
    alice.expect_line("friends:");
    let listed = alice.expect_line("bob");
    assert!(listed.contains("offline"), "{listed}");
    alice.send("/quit");
    alice.expect_line("bye");
    let out = all_output(&mut alice);
    assert!(!out.contains("bob is added"), "{out}");
}

/// The transfer id a line names after `* ` (`* t4821: asking ...`).
fn transfer_id_in(line: &str) -> String {
    let rest = line
        .split("* t")
        .nth(1)
        .unwrap_or_else(|| panic!("no id in {line:?}"));
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    assert!(!digits.is_empty(), "no id in {line:?}");
    format!("t{digits}")
}

/// `/pause` in plain line mode, between two real peers: both sides say so
/// under the same id, the `.part` stays, and `/resume` finishes the file,
/// MD5 verified, fetching only what was missing.
#[test]
fn pause_keeps_the_part_and_resume_finishes_it() {
    // Large enough that a debug build on a loaded machine is still moving
    // it when `/pause` lands (the test says so if it is not).
    const SIZE: usize = 192 << 20;
    let net = Net::new();
    let data = support::bytes(11, SIZE);
    let md5 = confab_engine::wire::Md5::of(&data).to_hex();
    std::fs::write(net.share("alice").join("big.bin"), &data).unwrap();
    let mut alice = human(&net, "alice");
    let mut bob = human(&net, "bob");

    bob.send("/get alice big.bin");
    let id = transfer_id_in(&bob.expect_line(": asking alice for big.bin"));
    // The sender names it the same.
    alice.expect_line(&format!("* {id}: bob is downloading big.bin"));
    // Wait (on /transfers answers) until some of it has arrived.
    loop {
        bob.send("/transfers");
        let row = bob.wait_for("bob's row in /transfers", |v| {
            v.as_str().is_some_and(|s| {
                s.contains(&format!("{id} ")) && s.contains("from alice")
                    || s.contains("received big.bin")
            })
        });
        let row = row.as_str().unwrap().to_owned();
        assert!(
            !row.contains("received"),
            "the download ended before /pause; make SIZE larger"
        );
        let pct: u64 = row
            .split_whitespace()
            .find_map(|w| w.strip_suffix('%').and_then(|n| n.parse().ok()))
            .unwrap_or(0);
        if pct >= 1 && row.contains("receiving") {
            break;
        }
    }
    bob.send(&format!("/pause {id}"));
    let here = bob.expect_line(&format!("‖ transfer {id} paused"));
    assert!(
        here.contains("big.bin.part") && here.contains(&format!("/resume {id}")),
        "{here}"
    );
    alice.expect_line(&format!("‖ transfer {id} paused by bob"));
    let part = net.downloads("bob").join("big.bin.part");
    let kept = std::fs::metadata(&part).expect("the .part is kept").len();
    assert!(kept > 0 && kept < SIZE as u64, "{kept}");
    // Still listed, as paused.
    bob.send("/transfers");
    bob.wait_for("the paused row", |v| {
        v.as_str()
            .is_some_and(|s| s.contains(&format!("{id} ")) && s.contains("paused: /resume"))
    });

    bob.send(&format!("/resume {id}"));
    // Resumed as a new transfer: the notice names the new id.
    bob.expect_line(&format!("* {id}: asking alice for big.bin again as t"));
    let done = bob.expect_line("✓ received big.bin into ");
    assert!(done.contains(&format!("md5 {md5}")), "{done}");
    alice.expect_line(&format!("✓ sent big.bin (md5 {md5})"));
    let got = std::fs::read(net.downloads("bob").join("big.bin")).unwrap();
    assert!(got == data, "the resumed file differs");
    assert!(
        !part.exists(),
        "the .part is gone once the file is in place"
    );
}
