/* Benchmark: the C baseline for contracts_plain.kl: the same calls without the check. The bound
 * comes from the command line, so nothing is computed at compile time. */
#include <stdio.h>
#include <stdlib.h>

static long long divide(long long a, long long b) {
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
