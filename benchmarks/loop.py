"""Benchmark: the sum of 1 through 100,000,000 in a while loop (CPython)."""

n = 100_000_000
total = 0
i = 1
while i <= n:
    total += i
    i += 1
print(total)
