"""Benchmark: contracts_plain.kl in CPython: the same calls without the check."""

import sys


def divide(a, b):
    return a // b


n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
total = 0
for i in range(n):
    total += divide(i, (i & 7) + 1)
print(total)
