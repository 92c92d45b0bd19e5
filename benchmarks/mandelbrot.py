"""Benchmark: the Mandelbrot set (CPython): the same grid, iterations, escape test, count and
checksum as mandelbrot.kl. The size is the first argument (default 200)."""
import sys


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    inside = checksum = 0
    scale = 2.0 / n
    for y in range(n):
        ci = y * scale - 1.0
        row = 0
        for x in range(n):
            cr = x * scale - 1.5
            zr = zi = tr = ti = 0.0
            i = 0
            while i < 50 and tr + ti <= 4.0:
                zi = 2.0 * zr * zi + ci
                zr = tr - ti + cr
                tr = zr * zr
                ti = zi * zi
                i += 1
            if tr + ti <= 4.0:
                row += 1
        inside += row
        checksum += row * (y + 1)
    print(inside)
    print(checksum)


main()
