//! confab's layering check: the rules of ARCHITECTURE's "one way down", run
//! as a test so CI enforces them (`cargo test -p confab-layers`).
//!
//! Reads source text only (no compiler, no dependencies): [`lex`] tokenizes,
//! [`parse`] finds a file's modules and paths, [`graph`] resolves them into a
//! file graph and finds its cycles, [`check`] applies the rules to the
//! workspace on disk.

pub mod check;
pub mod graph;
pub mod lex;
pub mod parse;

#[cfg(test)]
mod tests;
