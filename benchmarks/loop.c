/* Benchmark: the sum of 1 through 100,000,000 in a while loop, the C baseline for loop.kl.
 *
 * Fairness note: the bound is read from a volatile variable. With a constant bound gcc -O2 may
 * compute the whole sum at compile time and the benchmark would time an empty program. This is the
 * only such trick in the benchmark programs: Keel compiles the constant bound as written, and the
 * Lua and Python versions use a plain constant. The loop body itself is left to the optimiser. */
#include <stdio.h>

static volatile long long bound = 100000000;

int main(void) {
    long long n = bound;
    long long sum = 0;
    long long i = 1;
    while (i <= n) {
        sum += i;
        i += 1;
    }
    printf("%lld\n", sum);
    return 0;
}
