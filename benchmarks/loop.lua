-- Benchmark: the sum of 1 through 100,000,000 in a while loop (Lua 5.4 and LuaJIT).
-- LuaJIT computes with doubles; every partial sum is below 2^53, so the result is exact.
local n = 100000000
local sum = 0
local i = 1
while i <= n do
    sum = sum + i
    i = i + 1
end
print(string.format("%d", sum))
