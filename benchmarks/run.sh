#!/usr/bin/env bash
# Runs Keel's benchmarks against C (gcc -O2), Lua 5.4, LuaJIT and CPython (and Resilient, when `rz`
# is on PATH), and writes RESULTS.md.
#
# Steps: build the compiler (cargo build --release), compile each .kl to a native executable with
# `keel build` (freestanding, the default) and `keel build --libc` (linked with glibc), and each
# .c with gcc -O2, run every implementation once and check that it prints the
# expected answer, time each one with hyperfine, then render benchmarks/RESULTS.md with
# render_results.py. A tool that is not installed is reported and skipped, never faked; a wrong
# answer is reported in the table and makes this script exit with status 1.
#
# `keel run --vm` and `keel run --jit` are timed as a user runs them: compile time is included.
# Each benchmark program takes its size from its arguments (see bench_args below); without
# arguments it runs at the small size that its copy in tests/programs/values/bench_*.kl checks on
# every backend, and this script warns when such a copy differs from the benchmark.
# With some BENCHes only, RESULTS.md keeps the other sections from its previous run (marked so).
# Usage: benchmarks/run.sh [BENCH...]  (from anywhere; needs hyperfine and python3; default: all)
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
# Commands slower than this get a single timed run and no warm-up.
very_slow_ms=30000

echo "== building keel (release)"
keel=""
if (cd "$repo_root" && cargo build --release --quiet); then
    keel="$repo_root/target/release/keel"
else
    echo "run.sh: cargo build --release failed; Keel rows are skipped" >&2
fi

all_benchmarks=(fib fib_contract loop nbody spectral sieve strings fannkuch mandelbrot contracts
    contracts_plain binarytrees closures wordfreq)
if (($# > 0)); then
    benchmarks=("$@")
else
    benchmarks=("${all_benchmarks[@]}")
fi
# The arguments every implementation of a benchmark gets, and the output it must print.
declare -A bench_args=(
    [fib]=""
    [fib_contract]=""
    [loop]=""
    [nbody]="5000000"
    [spectral]="2000"
    [sieve]="10000000 25"
    [strings]="2000000"
    [fannkuch]="10"
    [mandelbrot]="2000"
    [contracts]="100000000"
    [contracts_plain]="100000000"
    [binarytrees]="16"
    [closures]="1000000 50"
    [wordfreq]="$work/wordfreq.txt"
)
declare -A expected=(
    [fib]=2178309
    [fib_contract]=2178309
    [loop]=5000000050000000
    [nbody]=$'-0.169075164\n-0.169083134'
    [spectral]=1.274224152
    [sieve]=$'664579\n9999991'
    [strings]=$'22888890\n2000001\n20888890\n22888890\n22888878'
    [contracts]=1698660597083333
    [contracts_plain]=1698660597083333
    [closures]=37500600000000
    [fannkuch]=$'73196\nPfannkuchen(10) = 38'
    [mandelbrot]=$'1588053\n1589640053'
    [wordfreq]=$'lo 71401\nmi 18512\nne 12998\nru 10572\nsa 8640\nti 7592\nvo 6839\nze 6117\npa 5668\nqui 5224'
    [binarytrees]=$'stretch tree of depth 17\t check: 262143\n65536\t trees of depth 4\t check: 2031616\n16384\t trees of depth 6\t check: 2080768\n4096\t trees of depth 8\t check: 2093056\n1024\t trees of depth 10\t check: 2096128\n256\t trees of depth 12\t check: 2096896\n64\t trees of depth 14\t check: 2097088\n16\t trees of depth 16\t check: 2097136\nlong lived tree of depth 16\t check: 131071'
)
for bench in "${benchmarks[@]}"; do
    if [[ -z "${expected[$bench]+set}" ]]; then
        echo "run.sh: unknown benchmark '$bench' (known: ${all_benchmarks[*]})" >&2
        exit 1
    fi
    test_copy="$repo_root/tests/programs/values/bench_$bench.kl"
    if [[ -f "$test_copy" ]] && ! cmp -s "$bench.kl" "$test_copy"; then
        echo "run.sh: warning: $test_copy differs from benchmarks/$bench.kl" >&2
    fi
done

# Builds the native programs of one benchmark into $work; failures leave the file missing.
build_native() {
    local bench="$1"
    if [[ -n "$keel" ]]; then
        "$keel" build "$bench.kl" -o "$work/$bench-keel" ||
            echo "run.sh: keel build $bench.kl failed" >&2
        "$keel" build --libc "$bench.kl" -o "$work/$bench-keel-libc" ||
            echo "run.sh: keel build --libc $bench.kl failed" >&2
    fi
    if [[ -f "$bench.c" ]] && command -v gcc >/dev/null 2>&1; then
        gcc -O2 -o "$work/$bench-c" "$bench.c" -lm || echo "run.sh: gcc failed on $bench.c" >&2
    fi
    if [[ -f "$bench.cpp" ]] && command -v g++ >/dev/null 2>&1; then
        g++ -O2 -o "$work/$bench-cpp" "$bench.cpp" || echo "run.sh: g++ failed on $bench.cpp" >&2
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
    local answer="${expected[$bench]}"
    if [[ "$name" == Resilient* ]]; then
        # rz ends every successful run with this line on standard output.
        answer+=$'\nProgram executed successfully'
    fi
    if [[ "$output" != "$answer" ]]; then
        local shown="${output//$'\n'/ \/ }" wanted="${answer//$'\n'/ \/ }"
        echo "   $name: WRONG ANSWER: printed '$shown', expected '$wanted'"
        record "$bench" "$name" wrong "$command" "" "printed ${shown:0:200}"
        wrong_answers=$((wrong_answers + 1))
        return
    fi
    local runs=(--warmup 3)
    if ((elapsed_ms > very_slow_ms)); then
        runs=(--runs 1)
    elif ((elapsed_ms > slow_ms)); then
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
    if [[ "$bench" == wordfreq ]]; then
        echo "== generating the word-frequency text (benchmarks/wordfreq_text.py)"
        python3 wordfreq_text.py "$work/wordfreq.txt" 20
    fi
    read -r -a args <<<"${bench_args[$bench]}"
    keel_args=()
    if ((${#args[@]} > 0)); then
        keel_args=(-- "${args[@]}")
    fi
    echo "== $bench ${args[*]} (expected answer ${expected[$bench]//$'\n'/ \/ })"
    build_native "$bench"
    measure "$bench" "Keel VM" "$keel" "${keel:-keel}" run --vm "$bench.kl" "${keel_args[@]}"
    measure "$bench" "Keel JIT" "$keel" "${keel:-keel}" run --jit "$bench.kl" "${keel_args[@]}"
    measure "$bench" "Keel native" "$work/$bench-keel" "$work/$bench-keel" "${args[@]}"
    measure "$bench" "Keel native --libc" "$work/$bench-keel-libc" "$work/$bench-keel-libc" \
        "${args[@]}"
    if [[ -f "$bench.cpp" ]]; then
        measure "$bench" "g++ -O2" "$work/$bench-cpp" "$work/$bench-cpp" "${args[@]}"
    else
        measure "$bench" "gcc -O2" "$work/$bench-c" "$work/$bench-c" "${args[@]}"
    fi
    # Resilient, the language Keel's surface comes from, where a benchmark has its program:
    # an optional peer, timed when `rz` (built with `cargo build --release --features jit` from
    # its public repository) is on PATH.
    if [[ -f "$bench.rz" ]]; then
        measure "$bench" "Resilient VM" rz rz --vm "$bench.rz" "${args[@]}"
        measure "$bench" "Resilient JIT" rz rz --jit "$bench.rz" "${args[@]}"
    fi
    measure "$bench" "lua5.4" lua5.4 lua5.4 "$bench.lua" "${args[@]}"
    measure "$bench" "luajit" luajit luajit "$bench.lua" "${args[@]}"
    measure "$bench" "python3" python3 python3 "$bench.py" "${args[@]}"
done

python3 "$bench_dir/render_results.py" "$manifest" "$bench_dir/RESULTS.md" "$repo_root"
echo "== wrote $bench_dir/RESULTS.md"
if ((wrong_answers > 0)); then
    echo "run.sh: $wrong_answers implementation(s) failed or printed a wrong answer" >&2
    exit 1
fi
