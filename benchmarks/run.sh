#!/usr/bin/env bash
# Runs Keel's benchmarks against C (gcc -O2), Lua 5.4, LuaJIT and CPython, and writes RESULTS.md.
#
# Steps: build the compiler (cargo build --release), compile each .kl to a native executable with
# `keel build` and each .c with gcc -O2, run every implementation once and check that it prints the
# expected answer, time each one with hyperfine, then render benchmarks/RESULTS.md with
# render_results.py. A tool that is not installed is reported and skipped, never faked; a wrong
# answer is reported in the table and makes this script exit with status 1.
#
# `keel run --vm` and `keel run --jit` are timed as a user runs them: compile time is included.
# Usage: benchmarks/run.sh            (from anywhere; needs hyperfine and python3)
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$bench_dir/.." && pwd)"
cd "$bench_dir"

if ! command -v hyperfine >/dev/null 2>&1; then
    echo "run.sh: hyperfine is not installed (apt-get install -y hyperfine)" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
manifest="$work/manifest.tsv"
: >"$manifest"

# Commands slower than this (one run, in milliseconds) get --runs 3 --warmup 1.
slow_ms=1000

echo "== building keel (release)"
keel=""
if (cd "$repo_root" && cargo build --release --quiet); then
    keel="$repo_root/target/release/keel"
else
    echo "run.sh: cargo build --release failed; Keel rows are skipped" >&2
fi

benchmarks=(fib loop)
declare -A expected=([fib]=2178309 [loop]=5000000050000000)

# Builds the native programs of one benchmark into $work; failures leave the file missing.
build_native() {
    local bench="$1"
    if [[ -n "$keel" ]]; then
        "$keel" build "$bench.kl" -o "$work/$bench-keel" ||
            echo "run.sh: keel build $bench.kl failed" >&2
    fi
    if command -v gcc >/dev/null 2>&1; then
        gcc -O2 -o "$work/$bench-c" "$bench.c" || echo "run.sh: gcc failed on $bench.c" >&2
    fi
}

# Appends one row to the manifest: bench, implementation, status, command, json file, note.
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$manifest"
}

wrong_answers=0

# Checks and times one implementation. $3 is the tool that must exist, $4.. the command.
measure() {
    local bench="$1" name="$2" tool="$3"
    shift 3
    local command="$*"
    if [[ -z "$tool" ]] || { ! command -v "$tool" >/dev/null 2>&1 && [[ ! -x "$tool" ]]; }; then
        local reason="$tool is not installed"
        if [[ -z "$tool" ]]; then
            reason="keel did not build"
        elif [[ "$tool" == "$work"/* ]]; then
            reason="$(basename "$tool") was not built"
        fi
        echo "   $name: skipped ($reason)"
        record "$bench" "$name" skipped "${command:-keel}" "" "$reason"
        return
    fi
    local start end elapsed_ms output status=0
    start=$(date +%s%N)
    output="$("$@" 2>"$work/stderr")" || status=$?
    if ((status != 0)); then
        echo "   $name: FAILED (exit status $status): $(head -c 300 "$work/stderr")"
        record "$bench" "$name" failed "$command" "" "exit status $status"
        wrong_answers=$((wrong_answers + 1))
        return
    fi
    end=$(date +%s%N)
    elapsed_ms=$(((end - start) / 1000000))
    if [[ "$output" != "${expected[$bench]}" ]]; then
        echo "   $name: WRONG ANSWER: printed '$output', expected '${expected[$bench]}'"
        record "$bench" "$name" wrong "$command" "" "printed $output"
        wrong_answers=$((wrong_answers + 1))
        return
    fi
    local runs=(--warmup 3)
    if ((elapsed_ms > slow_ms)); then
        runs=(--runs 3 --warmup 1)
    fi
    local json="$work/$bench-${name//[^A-Za-z0-9]/_}.json"
    echo "   $name: answer ok (${elapsed_ms} ms), timing: $command"
    hyperfine --style basic -N "${runs[@]}" --export-json "$json" --command-name "$name" \
        "$command" >"$work/hyperfine.log" 2>&1 || {
        echo "   $name: hyperfine failed: $(tail -n 3 "$work/hyperfine.log")"
        record "$bench" "$name" failed "$command" "" "hyperfine failed"
        return
    }
    record "$bench" "$name" ok "$command" "$json" ""
}

for bench in "${benchmarks[@]}"; do
    echo "== $bench (expected answer ${expected[$bench]})"
    build_native "$bench"
    measure "$bench" "Keel VM" "$keel" "${keel:-keel}" run --vm "$bench.kl"
    measure "$bench" "Keel JIT" "$keel" "${keel:-keel}" run --jit "$bench.kl"
    measure "$bench" "Keel native" "$work/$bench-keel" "$work/$bench-keel"
    measure "$bench" "gcc -O2" "$work/$bench-c" "$work/$bench-c"
    measure "$bench" "lua5.4" lua5.4 lua5.4 "$bench.lua"
    measure "$bench" "luajit" luajit luajit "$bench.lua"
    measure "$bench" "python3" python3 python3 "$bench.py"
done

python3 "$bench_dir/render_results.py" "$manifest" "$bench_dir/RESULTS.md" "$repo_root"
echo "== wrote $bench_dir/RESULTS.md"
if ((wrong_answers > 0)); then
    echo "run.sh: $wrong_answers implementation(s) failed or printed a wrong answer" >&2
    exit 1
fi
