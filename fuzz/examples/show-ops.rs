//! Prints a fuzz input as the operation script the `peer` target plays, then
//! plays it on a peer engine with every check of `confab_fuzz::driver`: the
//! quickest way to see what a crash input did (`CONFAB_FUZZ_SHOW=1` also
//! prints every output the engine polls).
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example show-ops -- fuzz/artifacts/peer/crash-...
//! ```

fn main() {
    let path = std::env::args().nth(1).expect("give the input file");
    let bytes = std::fs::read(&path).expect("a readable input file");
    let ops = confab_fuzz::ops::parse(&bytes);
    for op in &ops {
        println!("{op:?}");
    }
    confab_fuzz::driver::run::<confab_engine::Peer>(&ops);
    println!("played {} operations: every check held", ops.len());
}
