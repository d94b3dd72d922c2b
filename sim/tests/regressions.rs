//! Replays every seed listed in `sim/regressions.txt`; each must pass.

mod common;

use std::time::Duration;

use confab_sim::{SimConfig, run};

fn parse(line: &str) -> Option<(u64, SimConfig)> {
    let line = line.split('#').next()?.trim();
    let mut words = line.split_whitespace();
    let seed = words.next()?.parse().ok()?;
    let mut config = SimConfig::default();
    for word in words {
        let (key, value) = word
            .split_once('=')
            .unwrap_or_else(|| panic!("regressions.txt: {word:?} is not key=value"));
        let secs = || Duration::from_secs_f64(value.parse().expect("seconds"));
        match key {
            "peers" => config.peers = value.parse().expect("a number of peers"),
            "duration" => config.duration = secs(),
            "heal" => config.heal = secs(),
            "faults" => config.faults = value.parse().expect("a fault level"),
            "attacker" => {
                config.attacker = match value {
                    "on" => Some(true),
                    "off" => Some(false),
                    _ => panic!("regressions.txt: attacker is on or off, not {value:?}"),
                }
            }
            "names" => {
                config.same_names = match value {
                    "same" => true,
                    "distinct" => false,
                    _ => panic!("regressions.txt: names is same or distinct, not {value:?}"),
                }
            }
            "calls" => {
                config.calls = match value {
                    "on" => true,
                    "off" => false,
                    _ => panic!("regressions.txt: calls is on or off, not {value:?}"),
                }
            }
            "lan" => {
                config.lan = match value {
                    "on" => true,
                    "off" => false,
                    _ => panic!("regressions.txt: lan is on or off, not {value:?}"),
                }
            }
            "hybrid" => {
                config.hybrid = match value {
                    "on" => true,
                    "off" => false,
                    _ => panic!("regressions.txt: hybrid is on or off, not {value:?}"),
                }
            }
            other => panic!("regressions.txt: unknown key {other:?}"),
        }
    }
    Some((seed, config))
}

#[test]
fn regression_seeds_pass() {
    let text = include_str!("../regressions.txt");
    let runs: Vec<(u64, SimConfig)> = text.lines().filter_map(parse).collect();
    assert!(!runs.is_empty(), "regressions.txt lists no seeds");
    for (seed, config) in runs {
        let outcome = run(seed, &config);
        common::assert_ok(&outcome);
        println!("{}", outcome.line());
    }
}
