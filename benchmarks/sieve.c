/* Benchmark: the sieve of Eratosthenes, the C baseline for sieve.kl. Arguments: the limit
 * (default 100000) and the number of repetitions (default 1). The flags are one byte each, the
 * natural C choice (Keel's [bool] uses 8 bytes per element). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long count_primes(long n, long *largest) {
    char *composite = calloc(n > 0 ? n : 1, 1);
    if (!composite) {
        exit(1);
    }
    long count = 0;
    for (long i = 2; i < n; i++) {
        if (!composite[i]) {
            count += 1;
            *largest = i;
            for (long j = i * i; j < n; j += i) {
                composite[j] = 1;
            }
        }
    }
    free(composite);
    return count;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    long repeat = argc > 2 ? atol(argv[2]) : 1;
    long count = 0, largest = 0;
    for (long r = 0; r < repeat; r++) {
        count = count_primes(n, &largest);
    }
    printf("%ld\n%ld\n", count, largest);
    return 0;
}
