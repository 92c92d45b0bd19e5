"""Benchmark: the spectral norm (CPython), same operations in the same order as spectral.kl.
The size is the first argument (default 100)."""

import sys
from math import sqrt


def a(i, j):
    return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)


def times_a(v):
    n = len(v)
    out = [0.0] * n
    for i in range(n):
        total = 0.0
        for j in range(n):
            total += a(i, j) * v[j]
        out[i] = total
    return out


def times_a_transposed(v):
    n = len(v)
    out = [0.0] * n
    for i in range(n):
        total = 0.0
        for j in range(n):
            total += a(j, i) * v[j]
        out[i] = total
    return out


def times_at_a(v):
    return times_a_transposed(times_a(v))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    u = [1.0] * n
    v = [0.0] * n
    for _ in range(10):
        v = times_at_a(u)
        u = times_at_a(v)
    vbv = vv = 0.0
    for i in range(n):
        vbv += u[i] * v[i]
        vv += v[i] * v[i]
    print(f"{sqrt(vbv / vv):.9f}")


main()
