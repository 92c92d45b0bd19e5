#!/usr/bin/env bash
# Runs one fuzz target with the settings documented in docs/fuzzing.md: niced, on its corpus
# (fuzz/corpus/TARGET, seeded first if missing), with the Keel dictionary, the target's input
# size limit and a per-input timeout. Further arguments go to libFuzzer, e.g.
#
#   fuzz/run.sh checker -runs=1000000          # a million executions, then stop
#   fuzz/run.sh pipeline -max_total_time=3600  # an hour
#
# Crashes are written to fuzz/artifacts/TARGET/ and end the run (exit status 1).
# KEEL_FUZZ_CORPUS=DIR uses DIR/TARGET as the corpus (see seed.sh).
set -euo pipefail

fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
if (($# < 1)); then
    echo "usage: fuzz/run.sh lexer|parser|checker|pipeline [libFuzzer options...]" >&2
    exit 2
fi
target="$1"
shift

# Why these sizes: each target's cost grows with the input, and nothing the targets look for
# needs a long one. 8 KiB holds every construct of the grammar many times over and nesting past
# the parser's limit (syntax::parser::MAX_NESTING, 1,000 levels: about 2 KiB of brackets); the
# chain limit (MAX_CHAIN, 100,000 operators) needs 200 KiB and is covered by the program suite
# (regressions/long_sum.kl) instead. A run of the pipeline costs its fuel, so its inputs matter
# only as programs: 4 KiB is a long one.
case "$target" in
    lexer | parser | checker) options=(-max_len=8192) ;;
    # Program output goes to /dev/null (fd 1 and 2; sanitizer reports still show); reproduce a
    # crash without this mask to see a panic's message.
    pipeline) options=(-max_len=4096 -close_fd_mask=3) ;;
    *)
        echo "unknown fuzz target: $target (lexer, parser, checker, pipeline)" >&2
        exit 2
        ;;
esac

corpus="${KEEL_FUZZ_CORPUS:-$fuzz_dir/corpus}/$target"
if [[ ! -d "$corpus" ]]; then
    "$fuzz_dir/seed.sh" "$target"
fi

cd "$fuzz_dir/.."
exec nice -n 19 cargo +nightly fuzz run "$target" "$corpus" -- \
    -dict="$fuzz_dir/keel.dict" -timeout=10 -print_final_stats=1 "${options[@]}" "$@"
