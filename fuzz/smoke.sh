#!/usr/bin/env bash
# Smoke run of the fuzz targets, for CI: builds the four targets (nightly Rust, cargo-fuzz,
# AddressSanitizer) and runs each for SECONDS seconds (default 10) on a fresh copy of the seed
# programs, so that a target that no longer builds, or that crashes on the program suite or
# soon after, fails the run. Nothing is kept but what a crash leaves in fuzz/artifacts/TARGET/.
#
#   fuzz/smoke.sh [SECONDS]
#
# libFuzzer runs every seed once before it starts mutating, whatever the time limit, so each
# target takes at least as long as one pass over the program suite (a few seconds). Installs the
# nightly toolchain (minimal profile) and cargo-fuzz when they are missing, like .ci/run installs
# what it needs. Long runs: fuzz/run.sh and docs/fuzzing.md.
set -euo pipefail

seconds="${1:-10}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: fuzz/smoke.sh [SECONDS]" >&2
    exit 2
fi
fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
cd "$fuzz_dir/.."

start=$SECONDS
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
rustup run nightly rustc --version
cargo fuzz --version
echo "fuzz tools ready in $((SECONDS - start)) s"

corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
export KEEL_FUZZ_CORPUS="$corpus"
"$fuzz_dir/seed.sh" >/dev/null

start=$SECONDS
nice -n 19 cargo +nightly fuzz build
echo "fuzz targets built in $((SECONDS - start)) s"
for target in lexer parser checker pipeline; do
    echo "== fuzz smoke run: $target, ${seconds} s"
    start=$SECONDS
    log="$corpus/$target.log"
    # libFuzzer's progress lines are many: on success only its summary is shown, on a crash the
    # end of the log (the report and the input's file name).
    if ! "$fuzz_dir/run.sh" "$target" -max_total_time="$seconds" >"$log" 2>&1; then
        tail -n 100 "$log"
        echo "fuzz smoke run: $target failed (the input is in fuzz/artifacts/$target/;" \
            "docs/fuzzing.md says how to reproduce it)" >&2
        exit 1
    fi
    grep -aE '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))' \
        "$log" || true
    echo "$target: passed in $((SECONDS - start)) s"
done
