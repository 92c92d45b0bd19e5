/* Benchmark: the C baseline for contracts.kl, with the contract as an explicit check that
 * ends the program. The bound comes from the command line, so nothing is computed at compile
 * time; the optimiser may inline `divide`, as Keel's does. */
#include <stdio.h>
#include <stdlib.h>

static long long divide(long long a, long long b) {
    if (b == 0) {
        fprintf(stderr, "contract violated: divide requires b != 0\n");
        exit(1);
    }
    return a / b;
}

int main(int argc, char **argv) {
    long long n = argc > 1 ? atoll(argv[1]) : 1000;
    long long total = 0;
    for (long long i = 0; i < n; i++) {
        total += divide(i, (i & 7) + 1);
    }
    printf("%lld\n", total);
    return 0;
}
