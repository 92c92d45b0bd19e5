"""Benchmark: string building and splitting (CPython), the same steps as strings.kl. The string
grows with `s += ...`, which CPython appends in place when nothing else refers to the string.
The count is the first argument (default 1000)."""

import sys


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    s = ""
    for i in range(n):
        s += "item" + str(i) + ","
    parts = s.split(",")
    total = 0
    for part in parts:
        total += len(part)
    joined = ";".join(parts)
    print(len(s))
    print(len(parts))
    print(total)
    print(len(joined))
    print(joined.find("item" + str(n - 1) + ";"))


main()
