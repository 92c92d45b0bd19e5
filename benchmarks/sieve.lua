-- Benchmark: the sieve of Eratosthenes (Lua 5.4 and LuaJIT), the same algorithm as sieve.kl.
-- Arguments: the limit (default 100000) and the number of repetitions (default 1).
local function count_primes(n)
    local composite = {}
    for i = 0, n - 1 do
        composite[i] = false
    end
    local count, largest = 0, 0
    for i = 2, n - 1 do
        if not composite[i] then
            count = count + 1
            largest = i
            local j = i * i
            while j < n do
                composite[j] = true
                j = j + i
            end
        end
    end
    return count, largest
end

local n = tonumber(arg and arg[1]) or 100000
local repeat_count = tonumber(arg and arg[2]) or 1
local count, largest = 0, 0
for _ = 1, repeat_count do
    count, largest = count_primes(n)
end
print(string.format("%d", count))
print(string.format("%d", largest))
