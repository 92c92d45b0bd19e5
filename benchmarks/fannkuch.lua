-- Benchmark: fannkuch-redux (Lua 5.4 and LuaJIT), the same counting scheme, flips and checksum
-- as fannkuch.kl, on 0-based tables. The size is the first argument (default 7).
local n = tonumber(arg and arg[1]) or 7
local perm, perm1, count = {}, {}, {}
for i = 0, n - 1 do
    perm[i], perm1[i], count[i] = 0, i, 0
end
local max_flips, checksum, permutation = 0, 0, 0
local r = n
while true do
    while r ~= 1 do
        count[r - 1] = r
        r = r - 1
    end
    for i = 0, n - 1 do
        perm[i] = perm1[i]
    end
    local flips = 0
    local k = perm[0]
    while k ~= 0 do
        local lo, hi = 0, k
        while lo < hi do
            perm[lo], perm[hi] = perm[hi], perm[lo]
            lo, hi = lo + 1, hi - 1
        end
        flips = flips + 1
        k = perm[0]
    end
    if flips > max_flips then
        max_flips = flips
    end
    if permutation % 2 == 0 then
        checksum = checksum + flips
    else
        checksum = checksum - flips
    end
    while true do
        if r == n then
            print(checksum)
            print("Pfannkuchen(" .. n .. ") = " .. max_flips)
            return
        end
        local first = perm1[0]
        for i = 0, r - 1 do
            perm1[i] = perm1[i + 1]
        end
        perm1[r] = first
        count[r] = count[r] - 1
        if count[r] > 0 then
            break
        end
        r = r + 1
    end
    permutation = permutation + 1
end
