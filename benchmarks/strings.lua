-- Benchmark: string building and splitting (Lua 5.4 and LuaJIT), the same steps as strings.kl.
-- Lua strings are immutable and `s = s .. x` in a loop copies the whole string every time
-- (quadratic), so the string is built the idiomatic Lua way: pieces in a table, then
-- table.concat. The count is the first argument (default 1000).
local n = tonumber(arg and arg[1]) or 1000
local pieces = {}
for i = 0, n - 1 do
    pieces[#pieces + 1] = "item" .. string.format("%d", i) .. ","
end
local s = table.concat(pieces)
local parts = {}
local start = 1
while true do
    local at = string.find(s, ",", start, true)
    if not at then
        parts[#parts + 1] = string.sub(s, start)
        break
    end
    parts[#parts + 1] = string.sub(s, start, at - 1)
    start = at + 1
end
local total = 0
for i = 1, #parts do
    total = total + #parts[i]
end
local joined = table.concat(parts, ";")
local found = string.find(joined, "item" .. string.format("%d", n - 1) .. ";", 1, true)
print(string.format("%d", #s))
print(string.format("%d", #parts))
print(string.format("%d", total))
print(string.format("%d", #joined))
print(string.format("%d", found and found - 1 or -1))
