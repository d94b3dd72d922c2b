//! End-to-end: keys and trust as a person meets them, with real `confab`
//! processes on 127.0.0.1: the identity key in the data folder (private,
//! kept), the registry's key pinned on first contact or with
//! `--registry-key` and refused when it changes, and the fingerprints
//! people compare (`ready`, `/whois`, the join command).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::{
    Net, Proc, free_port, password_of, peer_args, peer_process, quit, registry_key_of,
    start_registry,
};

/// Starts `name` with the folders of `home` on `net`, with `extra` flags.
fn start_with(net: &Net, name: &str, home: &str, extra: &[&str]) -> Proc {
    let mut args = peer_args(name, Some(net.addr), &net.home(home), &net.share(home));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Proc::start(name, &args, &[("CONFAB_PASSWORD", &password_of(name))])
}

/// The fingerprint in `p`'s `ready` event.
fn fingerprint_of(p: &mut Proc) -> String {
    let ready = p.expect(json!({"event": "ready"}));
    let fp = ready["fingerprint"].as_str().unwrap_or_default().to_owned();
    assert_eq!(fp.len(), 32, "{ready}");
    fp
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn known_registries(net: &Net, home: &str) -> PathBuf {
    net.home(home).join("data/known_registries")
}

/// Waits for `p` to exit with status 1 and returns its standard error.
fn fails_with_1(p: &mut Proc) -> String {
    let status = p.wait_exit();
    assert_eq!(status.code(), Some(1), "{}: exit status {status}", p.name);
    assert!(p.seen(&json!({"event": "ready"})).is_empty(), "never ready");
    p.stderr_after_exit()
}

fn assert_names(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "{w:?} is not in:\n{text}");
    }
}

#[test]
fn the_identity_key_is_private_and_kept_and_the_registry_pinned_on_first_contact() {
    let net = Net::new();
    let mut alice = start_with(&net, "alice", "alice", &[]);
    // First contact: the registry's key is trusted, said, and kept.
    let kept = known_registries(&net, "alice");
    alice.expect(json!({
        "event": "registry_key",
        "registry": net.addr.to_string(),
        "fingerprint": net.key,
        "file": kept.display().to_string(),
    }));
    let first = fingerprint_of(&mut alice);
    quit(&mut alice);

    let key_file = net.home("alice").join("data/identity.key");
    assert_eq!(mode(&key_file), 0o600);
    let text = std::fs::read_to_string(&kept).unwrap();
    let line = format!("{} {}", net.addr, net.key);
    assert_eq!(text.lines().filter(|l| *l == line).count(), 1, "{text}");

    let mut again = start_with(&net, "alice", "alice", &[]);
    assert_eq!(
        fingerprint_of(&mut again),
        first,
        "the same key after a restart"
    );
    quit(&mut again);
    assert!(
        again.seen(&json!({"event": "registry_key"})).is_empty(),
        "no second first contact"
    );
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        text,
        "nothing added"
    );
}

#[test]
fn a_key_file_others_may_read_refuses_to_start_and_says_the_fix() {
    let net = Net::new();
    let mut alice = net.peer("alice");
    quit(&mut alice);
    let key_file = net.home("alice").join("data/identity.key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let mut alice = start_with(&net, "alice", "alice", &[]);
    let err = fails_with_1(&mut alice);
    assert_names(&err, &[&format!("chmod 600 {}", key_file.display())]);
    assert_eq!(mode(&key_file), 0o640, "left as it was");

    // A registry's key file, the same.
    let data = tempfile::tempdir().unwrap();
    let (mut r, _) = start_registry("127.0.0.1:0", data.path());
    r.signal(libc::SIGTERM);
    assert!(r.wait_exit().success());
    let key_file = data.path().join("registry.key");
    assert_eq!(mode(&key_file), 0o600);
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o604)).unwrap();
    let mut r = Proc::start(
        "registry",
        &[
            "registry",
            "--listen",
            "127.0.0.1:0",
            "--data",
            data.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.wait_exit().code(), Some(1));
    let err = r.stderr_after_exit();
    assert_names(&err, &[&format!("chmod 600 {}", key_file.display())]);
}

#[test]
fn a_registry_showing_another_key_is_refused_naming_both_keys_and_the_file() {
    let net = Net::new();
    let mut alice = net.peer("alice");
    quit(&mut alice);
    let kept = known_registries(&net, "alice");
    let good = std::fs::read_to_string(&kept).unwrap();

    // Another registry's key, as if someone else answered at this address.
    let other_dir = tempfile::tempdir().unwrap();
    let (mut other, _) = start_registry("127.0.0.1:0", other_dir.path());
    let other_key = registry_key_of(&mut other);
    assert_ne!(other_key, net.key);

    // The file says the other key: the real registry is now the stranger.
    std::fs::write(&kept, good.replace(&net.key, &other_key)).unwrap();
    let mut alice = start_with(&net, "alice", "alice", &[]);
    alice.expect(json!({"event": "stopped", "code": "UntrustedKey"}));
    let err = fails_with_1(&mut alice);
    assert_names(
        &err,
        &[
            &net.key,
            &other_key,
            &kept.display().to_string(),
            &format!("{} {other_key}", net.addr),
        ],
    );

    // --registry-key that contradicts the file: refused before connecting.
    std::fs::write(&kept, &good).unwrap();
    let mut alice = start_with(&net, "alice", "alice", &["--registry-key", &other_key]);
    let err = fails_with_1(&mut alice);
    assert_names(&err, &[&net.key, &other_key, &kept.display().to_string()]);
    assert!(alice.seen(&json!({"event": "stopped"})).is_empty());

    // --registry-key of another registry, nothing in the file yet.
    let mut bob = start_with(&net, "bob", "bob", &["--registry-key", &other_key]);
    bob.expect(json!({"event": "stopped", "code": "UntrustedKey"}));
    let err = fails_with_1(&mut bob);
    assert_names(&err, &[&net.key, &other_key, "--registry-key"]);
    assert!(
        !known_registries(&net, "bob").exists(),
        "nothing trusted, nothing kept"
    );
}

#[test]
fn a_registry_whose_key_changes_under_a_running_peer_stops_it() {
    let mut net = Net::new();
    let mut alice = net.peer("alice");
    let old_key = net.key.clone();
    net.registry.as_mut().unwrap().kill();
    alice.expect(json!({"event": "registry_lost"}));
    // A new key at the same address: a new registry, or an impostor.
    std::fs::remove_file(net.dir.path().join("registry/registry.key")).unwrap();
    net.start_registry();
    assert_ne!(net.key, old_key);

    alice.expect(json!({"event": "stopped", "code": "UntrustedKey"}));
    let status = alice.wait_exit();
    assert_eq!(status.code(), Some(1), "exit status {status}");
    let err = alice.stderr_after_exit();
    let kept = known_registries(&net, "alice");
    assert_names(
        &err,
        &[
            &old_key,
            &net.key,
            &kept.display().to_string(),
            &format!("{} {old_key}", net.addr),
        ],
    );
    assert!(alice.seen(&json!({"event": "registry_back"})).is_empty());
}

#[test]
fn whois_shows_the_key_the_other_peer_shows_in_ready() {
    let net = Net::new();
    let mut alice = start_with(&net, "alice", "alice", &[]);
    let alice_fp = fingerprint_of(&mut alice);
    let mut bob = start_with(&net, "bob", "bob", &[]);
    let bob_fp = fingerprint_of(&mut bob);
    assert_ne!(alice_fp, bob_fp);

    alice.send("/whois bob");
    let w = alice.expect(json!({"event": "whois", "name": "bob"}));
    assert_eq!(w["fingerprint"], Value::from(bob_fp.as_str()), "{w}");
    bob.send("/whois alice");
    let w = bob.expect(json!({"event": "whois", "name": "alice"}));
    assert_eq!(w["fingerprint"], Value::from(alice_fp.as_str()), "{w}");
}

#[test]
fn a_hosting_peer_gives_a_join_command_that_pins_its_registry() {
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
    let hint = hosting["message"].as_str().unwrap();
    let words: Vec<&str> = hint.split_whitespace().collect();
    let after = |flag: &str| {
        let i = words.iter().position(|w| *w == flag);
        i.map(|i| words[i + 1].to_owned())
            .unwrap_or_else(|| panic!("no {flag} in {hint}"))
    };
    let (addr, key) = (after("--registry"), after("--registry-key"));
    alice.expect(json!({"event": "ready", "name": "alice"}));
    // Its own registry is pinned directly: no first contact to report.
    assert!(alice.seen(&json!({"event": "registry_key"})).is_empty());
    let registry_file = home("alice").join("data/registry/registry.key");
    assert_eq!(mode(&registry_file), 0o600);
    assert!(
        std::fs::read_to_string(&registry_file)
            .unwrap()
            .contains(&key)
    );

    // bob pastes the command (the address is the machine's, so he is told
    // the loopback one this test listens on; the key is what matters).
    let mut args = peer_args(
        "bob",
        Some(default.parse().unwrap()),
        &home("bob"),
        &home("bob").join("share"),
    );
    args.extend(["--registry-key".to_owned(), key.clone()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut bob = Proc::start("bob", &args, &[("CONFAB_PASSWORD", &password_of("bob"))]);
    bob.expect(json!({"event": "ready", "name": "bob"}));
    assert!(bob.seen(&json!({"event": "registry_key"})).is_empty());
    let kept = bob.wait_for("the kept notice", |v| {
        v["event"] == "notice" && v["message"].as_str().unwrap().contains("--registry-key")
    });
    assert!(kept["message"].as_str().unwrap().contains(&key), "{kept}");
    let text = std::fs::read_to_string(home("bob").join("data/known_registries")).unwrap();
    assert!(text.contains(&format!("{default} {key}")), "{text}");
    assert!(!addr.is_empty());
    quit(&mut bob);
    quit(&mut alice);
}
