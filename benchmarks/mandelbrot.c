// Benchmark: the Mandelbrot set, the C baseline for mandelbrot.kl (gcc -O2): the same grid,
// iterations, escape test, count and checksum. The size is the first argument (default 200).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200;
    long inside = 0, checksum = 0;
    double scale = 2.0 / (double)n;
    for (long y = 0; y < n; y++) {
        double ci = (double)y * scale - 1.0;
        long row = 0;
        for (long x = 0; x < n; x++) {
            double cr = (double)x * scale - 1.5;
            double zr = 0.0, zi = 0.0, tr = 0.0, ti = 0.0;
            for (int i = 0; i < 50 && tr + ti <= 4.0; i++) {
                zi = 2.0 * zr * zi + ci;
                zr = tr - ti + cr;
                tr = zr * zr;
                ti = zi * zi;
            }
            if (tr + ti <= 4.0) {
                row++;
            }
        }
        inside += row;
        checksum += row * (y + 1);
    }
    printf("%ld\n%ld\n", inside, checksum);
    return 0;
}
