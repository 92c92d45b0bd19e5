/* Benchmark: the spectral norm, the C baseline for spectral.kl (same operations in the same
 * order). The size is the first argument (default 100). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double a(long i, long j) {
    return 1.0 / (double)((i + j) * (i + j + 1) / 2 + i + 1);
}

static void times_a(const double *v, double *out, long n) {
    for (long i = 0; i < n; i++) {
        double sum = 0.0;
        for (long j = 0; j < n; j++) {
            sum += a(i, j) * v[j];
        }
        out[i] = sum;
    }
}

static void times_a_transposed(const double *v, double *out, long n) {
    for (long i = 0; i < n; i++) {
        double sum = 0.0;
        for (long j = 0; j < n; j++) {
            sum += a(j, i) * v[j];
        }
        out[i] = sum;
    }
}

static void times_at_a(const double *v, double *out, double *tmp, long n) {
    times_a(v, tmp, n);
    times_a_transposed(tmp, out, n);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100;
    double *u = malloc(n * sizeof(double));
    double *v = malloc(n * sizeof(double));
    double *tmp = malloc(n * sizeof(double));
    if (!u || !v || !tmp) {
        return 1;
    }
    for (long i = 0; i < n; i++) {
        u[i] = 1.0;
        v[i] = 0.0;
    }
    for (int i = 0; i < 10; i++) {
        times_at_a(u, v, tmp, n);
        times_at_a(v, u, tmp, n);
    }
    double vbv = 0.0, vv = 0.0;
    for (long i = 0; i < n; i++) {
        vbv += u[i] * v[i];
        vv += v[i] * v[i];
    }
    printf("%.9f\n", sqrt(vbv / vv));
    free(u);
    free(v);
    free(tmp);
    return 0;
}
