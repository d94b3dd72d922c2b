//! End-to-end: the full-screen interface, read off a real terminal. Two
//! `confab peer` processes run without `--json` inside tmux (a pseudo-
//! terminal and a screen to read, with keys sent as a person types them),
//! on a registry on 127.0.0.1 with free ports and temporary folders. One
//! asks for a chat, the other accepts with a key; they write to each other;
//! a file offer is accepted with a key and its row in the transfers panel
//! fills to done; a line being typed survives a message arriving; Ctrl+C
//! stops the peer and gives the terminal back.
//!
//! Every wait polls the screen until what it looks for is there, with a
//! deadline that only turns a hang into a failure. Skipped, with the
//! reason printed, where tmux is not installed (`.ci/run` installs it).

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use support::{CONFAB, Net, PATIENCE, bytes, password_of};

/// How often a wait looks at the screen again.
const POLL: Duration = Duration::from_millis(50);

/// A tmux server of this test's own (its own socket, no user config).
struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn new() -> Self {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let socket = format!(
            "confab-test-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let t = Self { socket };
        // A session that keeps the server up, and panes kept after their
        // program ends, to read the last screen.
        t.run(&["new-session", "-d", "-s", "keep", "-x", "80", "-y", "24"]);
        t.run(&["set-option", "-g", "remain-on-exit", "on"]);
        t
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Where the exit status of the program in window `name` is written.
    fn status_file(&self, name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("{}-{name}.status", self.socket))
    }

    /// The exit status of the program in window `name`, once it ended. Read
    /// from a file its shell wrapper writes: tmux can mark a pane dead
    /// before it knows the status, and on a busy machine never did within a
    /// minute.
    fn exit_status(&self, name: &str) -> Option<String> {
        let s = std::fs::read_to_string(self.status_file(name)).ok()?;
        s.ends_with('\n').then(|| s.trim().to_owned())
    }

    /// Starts `program args` in a new `w` x `h` window named `name`.
    fn start(
        &self,
        name: &str,
        w: u16,
        h: u16,
        env: &[(&str, &str)],
        program: &str,
        args: &[String],
    ) {
        let status = self.status_file(name);
        let _ = std::fs::remove_file(&status);
        let wrapper = format!("\"$@\"; echo $? > '{}'", status.display());
        let mut cmd: Vec<String> = vec!["sh".into(), "-c".into(), wrapper, "sh".into()];
        cmd.push("env".into());
        cmd.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.push(program.into());
        cmd.extend(args.iter().cloned());
        let (w, h) = (w.to_string(), h.to_string());
        let mut all = vec!["new-session", "-d", "-s", name, "-x", &w, "-y", &h, "--"];
        all.extend(cmd.iter().map(String::as_str));
        self.run(&all);
    }

    fn screen(&self, name: &str) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", name]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` as it is.
    fn typed(&self, name: &str, text: &str) {
        self.run(&["send-keys", "-t", name, "-l", text]);
    }

    /// Presses `key` (tmux's names: `Enter`, `C-y`, ...).
    fn key(&self, name: &str, key: &str) {
        self.run(&["send-keys", "-t", name, key]);
    }

    fn pane(&self, name: &str, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", name, format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Waits until `name`'s screen satisfies `ok`; returns that screen.
    fn wait(&self, name: &str, what: &str, log: &Path, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen(name);
            if ok(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!("{name}: no {what} on the screen:\n{screen}\n--- its log:\n{log}");
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// `confab peer` for `name` in full-screen mode (no `--json`).
fn start_peer(tmux: &Tmux, net: &Net, name: &str) {
    let mut args = support::peer_args(name, Some(net.addr), &net.home(name), &net.share(name));
    args.retain(|a| a != "--json");
    let pw = password_of(name);
    let env = [("CONFAB_PASSWORD", pw.as_str()), ("RUST_LOG", "info")];
    tmux.start(name, 100, 30, &env, CONFAB, &args);
}

#[test]
fn two_people_chat_and_share_a_file_in_the_full_screen_interface() {
    if !Tmux::available() {
        eprintln!(
            "skipped: tmux is not installed (apt-get install tmux); it gives the test a terminal to read"
        );
        return;
    }
    let net = Net::new();
    let tmux = Tmux::new();
    let log = |name: &str| net.home(name).join("data").join("confab.log");
    let (alice_log, bob_log) = (log("alice"), log("bob"));
    let data = bytes(22, 6 << 20);
    let file = net.home("bob").join("big.bin");
    std::fs::create_dir_all(net.home("bob")).unwrap();
    std::fs::write(&file, &data).unwrap();

    start_peer(&tmux, &net, "alice");
    start_peer(&tmux, &net, "bob");
    tmux.wait("alice", "log-in", &alice_log, |s| {
        s.contains("logged in as alice")
    });
    tmux.wait("bob", "log-in", &bob_log, |s| {
        s.contains("logged in as bob")
    });

    // A chat, asked for and accepted with a key.
    tmux.typed("alice", "/chat bob");
    tmux.key("alice", "Enter");
    tmux.wait("bob", "chat request", &bob_log, |s| {
        s.contains("alice asks for a chat") && s.contains("Ctrl+Y")
    });
    tmux.key("bob", "C-y");
    tmux.wait("bob", "open chat", &bob_log, |s| {
        s.contains("chat with alice is open")
    });
    tmux.wait("alice", "open chat", &alice_log, |s| {
        s.contains("chat with bob is open")
    });

    // Messages both ways; alice's is marked delivered once bob's peer
    // acknowledged it.
    tmux.typed("alice", "hello bob, 日本語 too");
    tmux.key("alice", "Enter");
    tmux.wait("bob", "alice's message", &bob_log, |s| {
        s.contains("alice: hello bob, 日本語 too")
    });
    tmux.wait("alice", "delivery mark", &alice_log, |s| {
        s.contains("hello bob, 日本語 too ✓")
    });
    // What alice is typing stays while bob's answer arrives.
    tmux.typed("alice", "half a thought");
    tmux.typed("bob", "hi alice");
    tmux.key("bob", "Enter");
    let screen = tmux.wait("alice", "bob's message", &alice_log, |s| {
        s.contains("bob: hi alice")
    });
    assert!(
        screen.contains("half a thought"),
        "the typed line was lost:\n{screen}"
    );
    tmux.key("alice", "C-u");

    // A file offer, accepted with a key; its row fills to done.
    tmux.typed("bob", &format!("/send alice {}", file.display()));
    tmux.key("bob", "Enter");
    tmux.wait("alice", "file offer", &alice_log, |s| {
        s.contains("bob offers big.bin") && s.contains("Ctrl+Y")
    });
    tmux.key("alice", "C-y");
    let screen = tmux.wait("alice", "finished transfer", &alice_log, |s| {
        s.lines()
            .any(|l| l.contains("big.bin") && l.contains("[============]") && l.contains("done"))
            && s.contains("received big.bin")
    });
    assert!(screen.contains("direct"), "{screen}");
    eprintln!("alice's screen once the file arrived:\n{screen}");
    let got = std::fs::read(net.downloads("alice").join("big.bin")).unwrap();
    assert!(got == data, "the received file differs");
    tmux.wait("bob", "sent file", &bob_log, |s| s.contains("sent big.bin"));

    // Ctrl+C stops the peer (status 0) and leaves the alternate screen.
    for name in ["alice", "bob"] {
        tmux.key(name, "C-c");
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = tmux.exit_status(name) {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not stop:\n{}",
                tmux.screen(name)
            );
            std::thread::sleep(POLL);
        };
        assert_eq!(status, "0", "{name}'s exit status");
        assert_eq!(
            tmux.pane(name, "#{alternate_on}"),
            "0",
            "{name} left the alternate screen on"
        );
    }
}

#[test]
fn plain_keeps_the_line_interface_on_a_terminal() {
    if !Tmux::available() {
        eprintln!(
            "skipped: tmux is not installed (apt-get install tmux); it gives the test a terminal to read"
        );
        return;
    }
    let net = Net::new();
    let tmux = Tmux::new();
    let mut args = support::peer_args(
        "carol",
        Some(net.addr),
        &net.home("carol"),
        &net.share("carol"),
    );
    args.retain(|a| a != "--json");
    args.push("--plain".into());
    let pw = password_of("carol");
    tmux.start("carol", 80, 24, &[("CONFAB_PASSWORD", &pw)], CONFAB, &args);
    let no_log = net.home("carol").join("no log in line mode");
    let screen = tmux.wait("carol", "log-in", &no_log, |s| {
        s.contains("logged in as carol")
    });
    assert!(!screen.contains("conversations"), "{screen}");
    assert_eq!(tmux.pane("carol", "#{alternate_on}"), "0");
    tmux.typed("carol", "/quit");
    tmux.key("carol", "Enter");
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = tmux.exit_status("carol") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "carol did not stop:\n{}",
            tmux.screen("carol")
        );
        std::thread::sleep(POLL);
    };
    assert_eq!(status, "0", "carol's exit status");
    assert!(tmux.screen("carol").contains("bye"));
}
