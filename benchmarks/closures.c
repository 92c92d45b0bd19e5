/* Benchmark: the C baseline for closures.kl, a hand-written loop: for each round, the sum of
 * the x * 3 + m (m the round number from 1) that are even, over x in 0..N. No arrays are built:
 * this is what the Keel pipeline of map, filter and fold computes. Sizes from the arguments
 * (N ROUNDS, default 1000 3). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long long n = argc > 2 ? atoll(argv[1]) : 1000;
    long long rounds = argc > 2 ? atoll(argv[2]) : 3;
    long long total = 0;
    for (long long r = 0; r < rounds; r++) {
        long long m = r + 1;
        for (long long x = 0; x < n; x++) {
            long long y = x * 3 + m;
            if (y % 2 == 0) {
                total += y;
            }
        }
    }
    printf("%lld\n", total);
    return 0;
}
