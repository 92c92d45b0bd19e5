/* Benchmark: the C baseline for fib_contract.kl, with the contract as an explicit check that
 * ends the program. */
#include <stdio.h>
#include <stdlib.h>

static long fib(long n) {
    if (n < 0) {
        fprintf(stderr, "contract violated: fib requires n >= 0\n");
        exit(1);
    }
    if (n < 2) {
        return n;
    }
    return fib(n - 1) + fib(n - 2);
}

int main(void) {
    printf("%ld\n", fib(32));
    return 0;
}
