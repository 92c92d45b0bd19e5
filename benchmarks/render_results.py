#!/usr/bin/env python3
"""Renders benchmarks/RESULTS.md from the manifest and hyperfine JSON files that run.sh writes.

Usage: render_results.py MANIFEST.tsv RESULTS.md REPO_ROOT

When only some benchmarks were run, the sections of the others are kept from the existing
RESULTS.md, each marked with the date and commit of the run that measured it.

The manifest has one tab-separated row per (benchmark, implementation): benchmark, implementation,
status (ok, skipped, wrong, failed), command, hyperfine JSON path (when ok), note. This script only
formats: it runs no benchmark. It also records the machine (nproc, CPU model), the date and the
versions of the tools involved.
"""

import datetime
import json
import re
import subprocess
import sys

BENCHMARK_DESCRIPTIONS = {
    "fib": "recursive `fib(32)` (prints 2178309): calls, compares, int arithmetic",
    "fib_contract": "recursive `fib(32)` with `requires n >= 0` checked at every call (prints"
    " 2178309): Resilient's headline benchmark, run by Resilient's VM and JIT (`rz`, when on"
    " PATH) from `fib_contract.rz`; C, Lua and Python check explicitly",
    "loop": "sum of 1 through 100,000,000 in a `while` loop (prints 5000000050000000)",
    "nbody": "n-body simulation of the Jovian planets, 5,000,000 steps (prints -0.169075164 and"
    " -0.169083134): float arithmetic, `sqrt`, field updates of structs inside an array",
    "spectral": "spectral norm with N = 2,000 (prints 1.274224152): float arithmetic in loops over"
    " `[float]`, `to_float`, calls",
    "sieve": "sieve of Eratosthenes below 10,000,000, 25 times (prints 664579 and 9999991):"
    " `array_fill` of a large `[bool]`, element reads and writes (C uses one byte per flag,"
    " Keel 8)",
    "strings": "builds a 22.9 MB string from 2,000,000 pieces with `s = s + ...`, splits it at"
    " `,`, joins the parts with `;` and searches the result (Lua builds with `table.concat`:"
    " `..` in a loop is quadratic there)",
    "fannkuch": "fannkuch-redux with N = 10 (prints 73196 and Pfannkuchen(10) = 38): every"
    " permutation of 10 elements, each reversed by prefixes until 1 comes first: small `[int]`"
    " arrays read, written and swapped in tight loops",
    "mandelbrot": "the Mandelbrot set on a 2,000 x 2,000 grid, up to 50 iterations a point (prints"
    " 1588053 and 1589640053: the points in the set and a checksum of the rows): float"
    " multiply-adds and compares in a loop with an early exit",
    "binarytrees": "binary-trees with N = 16 (stretch tree of depth 17, 2^(16-d+4) trees of each depth"
    " d = 4, 6, ..., 16, a long-lived tree of depth 16): allocation and release of many small"
    " enum values (`enum Tree { Leaf, Node(Tree, Tree) }`), recursion and `match`; C mallocs"
    " and frees one node per `Node`",
    "closures": "50 rounds of `xs.map(...).filter(...).fold(...)` over 1,000,000 ints, each"
    " stage a closure (the map's capturing two variables); C is the hand-written loop that"
    " builds no arrays, which is what Keel fuses the pipeline into (`sema::fuse`)",
    "contracts": "100,000,000 calls of `divide(a, b)` with `requires b != 0`, checked at every call"
    " (the argument is not a constant; C, Lua and Python check explicitly)",
    "contracts_plain": "the same 100,000,000 calls without the contract: the difference to"
    " `contracts` is what checking it costs (see the overhead below)",
    "wordfreq": "word frequency: reads a 20 MB text (`wordfreq_text.py`: 2.7 million words, 50,000"
    " distinct), counts its words in a `map<string, int>` (Python a dict, Lua a table, C++ a"
    " `std::unordered_map`) and prints the 10 most frequent; the ratio is to g++ -O2",
}

# The row each table's ratios are to: C's, or C++'s where the peer is C++.
BASELINES = ("gcc -O2", "g++ -O2")


def command_output(args):
    """First line of a command's output (stdout or stderr), or 'not installed'."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def read_manifest(path):
    rows = []
    with open(path, encoding="utf-8") as manifest:
        for line in manifest:
            fields = line.rstrip("\n").split("\t")
            bench, name, status, command, json_path, note = (fields + [""] * 6)[:6]
            row = {"bench": bench, "name": name, "status": status, "command": command, "note": note}
            if status == "ok" and json_path:
                with open(json_path, encoding="utf-8") as data:
                    result = json.load(data)["results"][0]
                row["mean"] = result["mean"]
                row["stddev"] = result.get("stddev") or 0.0
                row["runs"] = len(result.get("times") or [])
                row["min"] = result.get("min") or result["mean"]
            rows.append(row)
    return rows


def format_seconds(seconds):
    if seconds >= 1.0:
        return f"{seconds:.3f} s"
    return f"{seconds * 1000:.1f} ms"


def shorten_command(command, repo_root):
    command = command.replace(repo_root + "/", "")
    # Native executables live in a temporary directory: show only their name.
    command = re.sub(r"/\S*/(\w+-(?:keel|c|cpp))\b", r"./\1", command)
    # The generated input of `wordfreq`, also in the temporary directory.
    return re.sub(r"/\S*/(wordfreq\.txt)\b", r"\1", command)


def render_table(rows, repo_root):
    baseline = next((r for r in rows if r["name"] in BASELINES and "mean" in r), None)
    baseline_name = baseline["name"] if baseline else BASELINES[0]
    lines = [
        f"| Implementation | Mean ± σ | Min | × {baseline_name} | Runs | Command |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        command = f"`{shorten_command(row['command'], repo_root)}`"
        if "mean" in row:
            timing = f"{format_seconds(row['mean'])} ± {format_seconds(row['stddev'])}"
            ratio = f"{row['mean'] / baseline['mean']:.2f}" if baseline else "n/a"
            fastest = format_seconds(row["min"])
            lines.append(
                f"| {row['name']} | {timing} | {fastest} | {ratio} | {row['runs']} | {command} |"
            )
        else:
            reason = {"skipped": "skipped", "wrong": "WRONG ANSWER", "failed": "FAILED"}.get(
                row["status"], row["status"]
            )
            note = f": {row['note']}" if row["note"] else ""
            lines.append(f"| {row['name']} | {reason}{note} | | | | {command} |")
    return "\n".join(lines)


def timed_rows(rows):
    """The rows with a timing, by (benchmark, implementation)."""
    return {(r["bench"], r["name"]): r for r in rows if "mean" in r}


def geometric_mean(values):
    product = 1.0
    for value in values:
        product *= value
    return product ** (1.0 / len(values))


def contract_overhead(rows):
    """Lines comparing each implementation's `contracts` time with its `contracts_plain` time."""
    timed = timed_rows(rows)
    lines = []
    for row in rows:
        if row["bench"] != "contracts" or "mean" not in row:
            continue
        plain = timed.get(("contracts_plain", row["name"]))
        if plain is None:
            continue
        overhead = (row["mean"] / plain["mean"] - 1.0) * 100.0
        fastest = (row["min"] / plain["min"] - 1.0) * 100.0
        lines.append(f"- {row['name']}: {overhead:+.1f}% (mean), {fastest:+.1f}% (min)")
    if not lines:
        return []
    return ["", "Contract overhead (`contracts` over `contracts_plain`):", ""] + lines


def ratio_line(bench, row, base):
    """One table line of `row`'s time over `base`'s, and the ratio of their means."""
    ratio = row["mean"] / base["mean"]
    line = (
        f"| {bench} | {format_seconds(row['mean'])} | {format_seconds(base['mean'])} "
        f"| {ratio:.2f} | {row['min'] / base['min']:.2f} |"
    )
    return ratio, line


def freestanding_summary(rows):
    """A section comparing each benchmark's freestanding executable with its --libc one."""
    timed = timed_rows(rows)
    lines = []
    ratios = []
    for row in rows:
        if row["name"] != "Keel native" or "mean" not in row:
            continue
        libc = timed.get((row["bench"], "Keel native --libc"))
        if libc is None:
            continue
        ratio, line = ratio_line(row["bench"], row, libc)
        ratios.append(ratio)
        lines.append(line)
    if not lines:
        return None
    return [
        "## freestanding and glibc",
        "",
        "The same program's native executable both ways, from this run: `keel build` (static, no C",
        "library: Keel's own system calls and heap) over `keel build --libc` (glibc's malloc and",
        f"system call wrappers). Geomean of the mean ratios: {geometric_mean(ratios):.2f}.",
        "",
        "| Benchmark | freestanding | --libc | × (mean) | × (min) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ] + lines


def resilient_race(rows):
    """Lines comparing Keel's JIT with Resilient's on `fib_contract` (issue #15's target: at
    most 0.7 of Resilient's time), from this run."""
    timed = timed_rows(rows)
    keel = timed.get(("fib_contract", "Keel JIT"))
    resilient = timed.get(("fib_contract", "Resilient JIT"))
    if keel is None:
        return []
    if resilient is None:
        return ["", "Resilient's JIT was not timed in this run (`rz` is not on PATH)."]
    ratio = keel["mean"] / resilient["mean"]
    verdict = "met" if ratio <= 0.7 else "not met"
    return [
        "",
        f"Keel's JIT over Resilient's JIT, by the means: {ratio:.2f} (issue #15's target: at"
        f" most 0.7, {verdict}); by the minima: {keel['min'] / resilient['min']:.2f}.",
    ]


def wordfreq_targets(rows):
    """Lines saying how the native word count meets issue #13's targets, from this run."""
    timed = timed_rows(rows)
    native = timed.get(("wordfreq", "Keel native"))
    peers = {name: timed.get(("wordfreq", name)) for name in ("python3", "lua5.4", "g++ -O2")}
    if native is None or any(peer is None for peer in peers.values()):
        return []
    faster_than_python = peers["python3"]["mean"] / native["mean"]
    faster_than_lua = peers["lua5.4"]["mean"] / native["mean"]
    over_cpp = native["mean"] / peers["g++ -O2"]["mean"]

    def verdict(met):
        return "met" if met else "not met"

    return [
        "",
        f"Issue #13's targets, by the means: at least 5× faster than python3"
        f" ({faster_than_python:.2f}×: {verdict(faster_than_python >= 5.0)}), faster than lua5.4"
        f" ({faster_than_lua:.2f}×: {verdict(faster_than_lua > 1.0)}), at most 2× g++ -O2"
        f" ({over_cpp:.2f}×: {verdict(over_cpp <= 2.0)}).",
    ]


# The benchmarks of issue #15's native target: their geomean against gcc -O2 at most 1.3, none
# of them above 2.
NATIVE_TARGET_BENCHMARKS = (
    "fib",
    "loop",
    "nbody",
    "spectral",
    "sieve",
    "strings",
    "fannkuch",
    "mandelbrot",
    "binarytrees",
)


def native_summary(rows):
    """A section with each native executable's ratio to gcc -O2 and their geomean, from this
    run; None when this run timed none of them."""
    timed = timed_rows(rows)
    lines = []
    ratios = []
    missing = []
    for bench in NATIVE_TARGET_BENCHMARKS:
        keel = timed.get((bench, "Keel native"))
        gcc = timed.get((bench, "gcc -O2"))
        if keel is None or gcc is None:
            missing.append(bench)
            continue
        ratio, line = ratio_line(bench, keel, gcc)
        ratios.append(ratio)
        lines.append(line)
    if not lines:
        return None
    geomean = geometric_mean(ratios)
    worst = max(ratios)
    verdict = "met" if not missing and geomean <= 1.3 and worst <= 2.0 else "not met"
    text = [
        "## native against C",
        "",
        "Keel's native executables (`keel build`, every check on) over gcc -O2, from this run.",
        f"Geomean of the mean ratios: {geomean:.2f}; the largest: {worst:.2f}. Issue #15's target",
        f"(geomean at most 1.3 over the nine benchmarks below, none above 2): {verdict}.",
    ]
    if missing:
        text.append(f"Not timed in this run: {', '.join(missing)}.")
    return text + [
        "",
        "| Benchmark | Keel native | gcc -O2 | × (mean) | × (min) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ] + lines


# Sections of RESULTS.md that run.sh does not measure: kept as they are, each saying how it was
# measured (the eval section: Criterion, `cargo bench -p keel-eval-bench`; compile speed:
# benchmarks/compile_speed.py).
MEASURED_ELSEWHERE = {"eval", "compile speed"}


def earlier_sections(path, rerun):
    """The `## bench` sections of an existing RESULTS.md whose benchmark is not in `rerun`,
    each marked with the run that measured it."""
    try:
        with open(path, encoding="utf-8") as results:
            text = results.read()
    except OSError:
        return []
    date = re.search(r"^- Date: (.*)$", text, re.MULTILINE)
    commit = re.search(r"^- Keel commit: (.*)$", text, re.MULTILINE)
    origin = (
        f"_Kept from an earlier run ({date.group(1) if date else 'date unknown'}, Keel commit"
        f" {commit.group(1) if commit else 'unknown'})._"
    )
    kept = []
    for section in re.split(r"^(?=## )", text, flags=re.MULTILINE)[1:]:
        name = section.splitlines()[0][3:].strip()
        if name in rerun:
            continue
        body = section.rstrip("\n").splitlines()
        if name in MEASURED_ELSEWHERE:
            kept.append((name, body))
            continue
        if not any(line.startswith("_Kept from an earlier run") for line in body):
            body[1:1] = ["", origin]
        kept.append((name, body))
    return kept


def main():
    manifest_path, output_path, repo_root = sys.argv[1:4]
    rows = read_manifest(manifest_path)
    commit = command_output(["git", "-C", repo_root, "rev-parse", "--short", "HEAD"])
    dirty = command_output(["git", "-C", repo_root, "status", "--porcelain"])
    if dirty not in ("unknown", "not installed"):
        commit += " (with uncommitted changes)"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    versions = [
        ("keel", command_output([f"{repo_root}/target/release/keel", "--version"])),
        ("rustc", command_output(["rustc", "--version"])),
        ("gcc", command_output(["gcc", "--version"])),
        ("lua5.4", command_output(["lua5.4", "-v"])),
        ("luajit", command_output(["luajit", "-v"])),
        ("python3", command_output(["python3", "--version"])),
        ("hyperfine", command_output(["hyperfine", "--version"])),
    ]
    out = [
        "# Benchmark results",
        "",
        "Written by `benchmarks/run.sh` (do not edit by hand; re-run the script).",
        "Each time is the wall-clock time of one whole process as measured by hyperfine (`-N`, no",
        "shell): `keel run --vm` and `keel run --jit` include compiling the program; the native and",
        "gcc executables were built beforehand. The ratio is the mean divided by gcc -O2's mean.",
        "On a busy machine the minimum is the steadier figure; the mean and σ show the noise.",
        "Slow commands (over one second) get 3 runs after 1 warm-up, very slow ones (over 30",
        "seconds) a single run, the others at least 10 runs after 3 warm-ups.",
        "",
        f"- Date: {now}",
        f"- Machine: {command_output(['nproc'])} CPUs (`nproc`), {cpu_model()}",
        f"- Keel commit: {commit}",
    ]
    out += [f"- {tool}: {version}" for tool, version in versions]
    benches = []
    for row in rows:
        if row["bench"] not in benches:
            benches.append(row["bench"])
    sections = {}
    for bench in benches:
        section = [f"## {bench}", ""]
        if bench in BENCHMARK_DESCRIPTIONS:
            section += [BENCHMARK_DESCRIPTIONS[bench], ""]
        section.append(render_table([r for r in rows if r["bench"] == bench], repo_root))
        if bench == "contracts":
            section += contract_overhead(rows)
        if bench == "wordfreq":
            section += wordfreq_targets(rows)
        if bench == "fib_contract":
            section += resilient_race(rows)
        sections[bench] = section
    for name, body in earlier_sections(output_path, set(benches)):
        sections[name] = body
    # The summaries across benchmarks come from a run of them all; a run of some keeps the
    # earlier ones (marked so) rather than a summary of a few.
    if set(BENCHMARK_DESCRIPTIONS) <= set(benches):
        for name, summary in (
            ("native against C", native_summary(rows)),
            ("freestanding and glibc", freestanding_summary(rows)),
        ):
            if summary:
                sections[name] = summary
    order = list(BENCHMARK_DESCRIPTIONS) + sorted(set(sections) - set(BENCHMARK_DESCRIPTIONS))
    for bench in order:
        if bench in sections:
            out += [""] + sections[bench]
    with open(output_path, "w", encoding="utf-8") as results:
        results.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
