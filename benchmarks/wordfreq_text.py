#!/usr/bin/env python3
"""Writes the word-frequency benchmark's input: about SIZE_MB megabytes of lowercase words.

Deterministic (a linear congruential generator, no library randomness), so every run of
benchmarks/run.sh counts the same text. The vocabulary is 50,000 words made of syllables;
words are drawn with a skewed (roughly Zipf-like) distribution, 12 to a line, separated by
single spaces, each line ending in a newline.

Usage: wordfreq_text.py OUT [SIZE_MB]   (default 20)
"""
import sys

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qui", "der", "an",
             "el", "or", "us", "bri", "sto", "gle", "fa"]
VOCABULARY = 50_000


def word(index):
    """The index-th word of the vocabulary: its digits in base 20, as syllables."""
    parts = []
    index += 1
    while index:
        index, digit = divmod(index, len(SYLLABLES))
        parts.append(SYLLABLES[digit])
    return "".join(parts)


def main():
    out = sys.argv[1]
    size = int(float(sys.argv[2]) * 1024 * 1024) if len(sys.argv) > 2 else 20 * 1024 * 1024
    words = [word(i) for i in range(VOCABULARY)]
    state = 0x2545F4914F6CDD1D
    written = 0
    lines = []
    while written < size:
        line = []
        for _ in range(12):
            state = (state * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
            u = (state >> 11) / float(1 << 53)
            line.append(words[int(VOCABULARY * u * u * u)])
        text = " ".join(line) + "\n"
        lines.append(text)
        written += len(text)
    with open(out, "w") as f:
        f.write("".join(lines))


if __name__ == "__main__":
    main()
