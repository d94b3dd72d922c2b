//! Prints the full trace of one seed with the planted heartbeat bug:
//! `cargo run -p confab-sim --example planted_trace --features planted-bugs -- SEED`.

use std::time::Duration;

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let config = confab_sim::SimConfig {
        peers: 6,
        duration: Duration::from_secs(40),
        heal: Duration::from_secs(30),
        keep_trace: true,
        plant: Some(confab_engine::registry::PlantedBug::NeverExpireHeartbeat),
        ..confab_sim::SimConfig::default()
    };
    let outcome = confab_sim::run(seed, &config);
    for line in outcome.full_trace.iter().flatten() {
        println!("{line}");
    }
    println!("{outcome}");
}
