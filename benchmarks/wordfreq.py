"""Benchmark: word frequency, the Python baseline for wordfreq.kl (a dict)."""
import sys

text = open(sys.argv[1]).read() if len(sys.argv) > 1 else \
    "the cat and the hat\nand the bat sat\non the mat with the cat\n"
counts = {}
for word in text.split():
    counts[word] = counts.get(word, 0) + 1
top = sorted(counts.items(), key=lambda entry: (-entry[1], entry[0]))
for word, count in top[:10]:
    print(word, count)
