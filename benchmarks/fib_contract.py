"""Benchmark: fib_contract.kl in CPython, the contract as an explicit check."""


def fib(n):
    if n < 0:
        raise ValueError("contract violated: fib requires n >= 0")
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


print(fib(32))
