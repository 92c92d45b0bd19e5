-- Benchmark: binary-trees (Lua 5.4 and LuaJIT), the same algorithm as binarytrees.kl: a node is
-- a table {left, right}, a leaf node the empty table. The maximum depth N is the first argument
-- (default 10). Only Lua 5.1 syntax (no `<<`), so that LuaJIT runs it too.
local function bottom_up(depth)
    if depth == 0 then
        return {}
    end
    depth = depth - 1
    return { bottom_up(depth), bottom_up(depth) }
end

local function check(tree)
    local left = tree[1]
    if left == nil then
        return 1
    end
    return 1 + check(left) + check(tree[2])
end

local n = tonumber(arg and arg[1]) or 10
local min_depth = 4
local max_depth = math.max(min_depth + 2, n)
local stretch_depth = max_depth + 1

print(string.format("stretch tree of depth %d\t check: %d", stretch_depth,
    check(bottom_up(stretch_depth))))

local long_lived = bottom_up(max_depth)
for depth = min_depth, max_depth, 2 do
    local iterations = math.floor(2 ^ (max_depth - depth + min_depth)) -- LuaJIT has no <<
    local total = 0
    for _ = 1, iterations do
        total = total + check(bottom_up(depth))
    end
    print(string.format("%d\t trees of depth %d\t check: %d", iterations, depth, total))
end
print(string.format("long lived tree of depth %d\t check: %d", max_depth, check(long_lived)))
