// Benchmark: fannkuch-redux, the C baseline for fannkuch.kl (gcc -O2): the same counting
// scheme, flips and checksum. The size is the first argument (default 7).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 7;
    int *perm = calloc(n, sizeof(int)), *perm1 = calloc(n, sizeof(int));
    int *count = calloc(n, sizeof(int));
    for (int i = 0; i < n; i++) {
        perm1[i] = i;
    }
    long max_flips = 0, checksum = 0, permutation = 0;
    int r = n;
    for (;;) {
        while (r != 1) {
            count[r - 1] = r;
            r--;
        }
        for (int i = 0; i < n; i++) {
            perm[i] = perm1[i];
        }
        long flips = 0;
        int k = perm[0];
        while (k != 0) {
            for (int lo = 0, hi = k; lo < hi; lo++, hi--) {
                int t = perm[lo];
                perm[lo] = perm[hi];
                perm[hi] = t;
            }
            flips++;
            k = perm[0];
        }
        if (flips > max_flips) {
            max_flips = flips;
        }
        checksum += permutation % 2 == 0 ? flips : -flips;
        for (;;) {
            if (r == n) {
                printf("%ld\nPfannkuchen(%d) = %ld\n", checksum, n, max_flips);
                return 0;
            }
            int first = perm1[0];
            for (int i = 0; i < r; i++) {
                perm1[i] = perm1[i + 1];
            }
            perm1[r] = first;
            if (--count[r] > 0) {
                break;
            }
            r++;
        }
        permutation++;
    }
}
