-- Benchmark: the spectral norm (Lua 5.4 and LuaJIT), same operations in the same order as
-- spectral.kl. The size is the first argument (default 100).
local function a(i, j)
    -- (i + j)(i + j + 1) is even, so the division by 2 is exact in floats too.
    local ij = i + j
    return 1.0 / (ij * (ij + 1) / 2 + i + 1)
end

local function times_a(v, n)
    local out = {}
    for i = 0, n - 1 do
        local sum = 0.0
        for j = 0, n - 1 do
            sum = sum + a(i, j) * v[j]
        end
        out[i] = sum
    end
    return out
end

local function times_a_transposed(v, n)
    local out = {}
    for i = 0, n - 1 do
        local sum = 0.0
        for j = 0, n - 1 do
            sum = sum + a(j, i) * v[j]
        end
        out[i] = sum
    end
    return out
end

local function times_at_a(v, n)
    return times_a_transposed(times_a(v, n), n)
end

local n = tonumber(arg and arg[1]) or 100
local u, v = {}, {}
for i = 0, n - 1 do
    u[i] = 1.0
    v[i] = 0.0
end
for _ = 1, 10 do
    v = times_at_a(u, n)
    u = times_at_a(v, n)
end
local vbv, vv = 0.0, 0.0
for i = 0, n - 1 do
    vbv = vbv + u[i] * v[i]
    vv = vv + v[i] * v[i]
end
print(string.format("%.9f", math.sqrt(vbv / vv)))
