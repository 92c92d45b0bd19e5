"""Benchmark: the sieve of Eratosthenes (CPython), the same algorithm as sieve.kl, in plain
loops. Arguments: the limit (default 100000) and the number of repetitions (default 1)."""

import sys


def count_primes(n):
    composite = [False] * n
    count = 0
    largest = 0
    for i in range(2, n):
        if not composite[i]:
            count += 1
            largest = i
            j = i * i
            while j < n:
                composite[j] = True
                j += i
    return count, largest


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    count, largest = 0, 0
    for _ in range(repeat):
        count, largest = count_primes(n)
    print(count)
    print(largest)


main()
