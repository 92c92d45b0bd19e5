-- Benchmark: fib_contract.kl in Lua 5.4 / LuaJIT, the contract as an explicit check.
local function fib(n)
    if n < 0 then
        error("contract violated: fib requires n >= 0")
    end
    if n < 2 then
        return n
    end
    return fib(n - 1) + fib(n - 2)
end
print(fib(32))
