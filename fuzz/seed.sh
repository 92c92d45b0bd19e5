#!/usr/bin/env bash
# Seeds the fuzz corpora from the program suite: copies every tests/programs/**/*.kl (and the
# examples and benchmarks) into fuzz/corpus/TARGET/ for each target named (all four by default).
# Existing corpus files are kept, so a corpus grown by earlier runs is only topped up. Corpora
# are not committed (.gitignore): they are rebuilt from the suite, which is.
#
#   fuzz/seed.sh                 # lexer, parser, checker and pipeline
#   fuzz/seed.sh pipeline        # one target
#
# KEEL_FUZZ_CORPUS=DIR puts the corpora in DIR/TARGET instead (the smoke run uses a temporary
# directory).
set -euo pipefail

fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$fuzz_dir")"
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(lexer parser checker pipeline)
fi

for target in "${targets[@]}"; do
    corpus="${KEEL_FUZZ_CORPUS:-$fuzz_dir/corpus}/$target"
    mkdir -p "$corpus"
    count=0
    while IFS= read -r -d '' program; do
        # tests/programs/values/strings.kl -> seed-values-strings.kl (unique, readable).
        relative="${program#"$root"/}"
        relative="${relative#tests/programs/}"
        name="seed-${relative//\//-}"
        cp -L "$program" "$corpus/$name"
        count=$((count + 1))
    done < <(find -L "$root/tests/programs" "$root/examples" "$root/benchmarks" -name '*.kl' -print0 | sort -z)
    echo "$corpus: $count seed programs copied, $(find "$corpus" -type f | wc -l) files in all"
done
