//! The engine stays sans-IO: its source reads no clock, opens no socket or
//! file, spawns no thread, keeps no per-thread state, draws no unseeded
//! randomness, and iterates no unordered map; and no I/O runtime is among
//! its dependencies.
//!
//! Test modules (`#[cfg(test)]` to the end of a file, or a whole file that
//! starts with `#![cfg(test)]`) are exempt: tests may read a clock to get a
//! starting `Instant`.

use std::path::Path;

const FORBIDDEN: &[(&str, &str)] = &[
    ("Instant::now", "reads the clock"),
    ("SystemTime", "reads the wall clock"),
    ("std::fs", "touches files"),
    ("File::", "touches files"),
    ("TcpStream", "opens sockets"),
    ("TcpListener", "opens sockets"),
    ("UdpSocket", "opens sockets"),
    ("std::thread", "spawns threads"),
    (
        "thread_local!",
        "keeps state per thread, shared by engines on it",
    ),
    ("thread_rng", "draws unseeded randomness"),
    ("rand::random", "draws unseeded randomness"),
    ("getrandom", "draws unseeded randomness"),
    ("OsRng", "draws unseeded randomness"),
    ("HashMap", "iterates in an unstable order"),
    ("HashSet", "iterates in an unstable order"),
    ("std::env", "reads the environment"),
    ("std::process", "runs processes"),
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn engine_source_does_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(files.len() > 10, "found the sources");
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let code = code.split("#![cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            let line = line.split("//").next().unwrap_or("");
            for (token, why) in FORBIDDEN {
                if line.contains(token) {
                    found.push(format!("{}:{}: `{token}` {why}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the engine must stay sans-IO:\n{}",
        found.join("\n")
    );
}

#[test]
fn engine_depends_on_no_io_runtime() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap_or("");
    let deps = deps.split("\n[").next().unwrap_or("");
    for runtime in ["mio", "tokio", "turmoil", "async-std", "smol", "getrandom"] {
        assert!(
            !deps.lines().any(|l| l.trim_start().starts_with(runtime)),
            "the engine must not depend on {runtime}"
        );
    }
}
