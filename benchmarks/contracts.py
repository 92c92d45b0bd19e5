"""Benchmark: contracts.kl in CPython, the contract as an explicit check."""

import sys


def divide(a, b):
    if b == 0:
        raise ValueError("contract violated: divide requires b != 0")
    return a // b


n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
total = 0
for i in range(n):
    total += divide(i, (i & 7) + 1)
print(total)
