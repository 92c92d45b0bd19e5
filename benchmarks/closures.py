# Benchmark: closures.kl in Python: map, filter and fold (functools.reduce) with lambdas.
import sys
from functools import reduce

n = int(sys.argv[1]) if len(sys.argv) > 2 else 1000
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
xs = list(range(n))
k = 3
total = 0
for r in range(rounds):
    m = r + 1
    ys = filter(lambda x: x % 2 == 0, map(lambda x: x * k + m, xs))
    total += reduce(lambda acc, x: acc + x, ys, 0)
print(total)
