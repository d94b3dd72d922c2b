#!/usr/bin/env bash
# CI's short fuzz pass: every cargo-fuzz target in fuzz/ for a fixed time
# (30 s each unless FUZZ_SECONDS says otherwise), from the generated seed
# corpus, with the memory limits that make a large allocation a finding.
#
# Works on the stable toolchain: `-s none` (no sanitizer) is the only mode that
# needs no nightly flag, and cargo-fuzz then passes rustc only stable `-C`
# options, so RUSTC_BOOTSTRAP is not needed. libFuzzer's own -malloc_limit_mb
# relies on sanitizer malloc hooks; without a sanitizer the fuzz crate's
# allocator (fuzz/src/alloc_guard.rs) reads and enforces the same flag.
#
# Exit status: 0 if every target ran clean; otherwise 1, after running the
# others, with the failing targets' logs tail printed and their crashing
# inputs in fuzz/artifacts/<target>/ (reproduce with the command printed).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-30}"
# No single allocation may exceed 4 MiB: under four frames (MAX_FRAME_LEN is
# 1.06 MiB). A whole process over 256 MiB is a leak or unbounded growth: a run
# stays under 60 MiB.
rss_limit_mb=256
malloc_limit_mb=4
dict=fuzz/dict/confab.dict
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

echo "== cargo-fuzz"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
cargo fuzz --version

echo "== seed corpus"
cargo run --quiet --manifest-path fuzz/Cargo.toml --example gen-corpus

echo "== fuzz crate's own tests (samples, dictionary, script format, harness regressions)"
cargo test --quiet --manifest-path fuzz/Cargo.toml --lib

echo "== build (release, coverage instrumentation, debug assertions)"
# -a: debug assertions (and overflow checks) on, so the engine's
# debug_assert! invariants are checked too.
build_flags=(-s none -a)
cargo fuzz build "${build_flags[@]}"

failed=()
for target in $(cargo fuzz list); do
    echo "== fuzz $target for ${seconds}s"
    log="$logs/$target.log"
    # New inputs go to fuzz/corpus/<target> (ignored by git), so a CI cache
    # of that directory makes each run start where the last one stopped.
    if cargo fuzz run "${build_flags[@]}" "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" \
        -rss_limit_mb="$rss_limit_mb" \
        -malloc_limit_mb="$malloc_limit_mb" \
        -timeout=10 \
        -dict="$dict" \
        -print_final_stats=1 >"$log" 2>&1; then
        # The summary: coverage at start and end, executions, speed, peak memory.
        grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
    else
        echo "!! $target failed; the end of its log:"
        tail -n 60 "$log"
        failed+=("$target")
    fi
done

if ((${#failed[@]})); then
    echo "== fuzzing found problems in: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "== fuzzing clean"
