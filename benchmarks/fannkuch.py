"""Benchmark: fannkuch-redux (CPython), the same counting scheme, flips and checksum as
fannkuch.kl. The size is the first argument (default 7)."""
import sys


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    perm = [0] * n
    perm1 = list(range(n))
    count = [0] * n
    max_flips = checksum = permutation = 0
    r = n
    while True:
        while r != 1:
            count[r - 1] = r
            r -= 1
        perm[:] = perm1
        flips = 0
        k = perm[0]
        while k != 0:
            lo, hi = 0, k
            while lo < hi:
                perm[lo], perm[hi] = perm[hi], perm[lo]
                lo += 1
                hi -= 1
            flips += 1
            k = perm[0]
        if flips > max_flips:
            max_flips = flips
        checksum += flips if permutation % 2 == 0 else -flips
        while True:
            if r == n:
                print(checksum)
                print(f"Pfannkuchen({n}) = {max_flips}")
                return
            first = perm1[0]
            for i in range(r):
                perm1[i] = perm1[i + 1]
            perm1[r] = first
            count[r] -= 1
            if count[r] > 0:
                break
            r += 1
        permutation += 1


main()
