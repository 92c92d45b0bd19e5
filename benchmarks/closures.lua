-- Benchmark: closures.kl in Lua: map, filter and fold as functions over arrays, with closures.
local function map(xs, f) local out = {} for i = 1, #xs do out[i] = f(xs[i]) end return out end
local function filter(xs, keep)
    local out, n = {}, 0
    for i = 1, #xs do if keep(xs[i]) then n = n + 1; out[n] = xs[i] end end
    return out
end
local function fold(xs, init, f) local acc = init for i = 1, #xs do acc = f(acc, xs[i]) end return acc end
local n = tonumber(arg[1] or "1000")
local rounds = tonumber(arg[2] or "3")
local xs = {}
for i = 0, n - 1 do xs[i + 1] = i end
local k = 3
local total = 0
for r = 0, rounds - 1 do
    local m = r + 1
    local ys = filter(map(xs, function(x) return x * k + m end), function(x) return x % 2 == 0 end)
    total = total + fold(ys, 0, function(acc, x) return acc + x end)
end
print(string.format("%d", total))
