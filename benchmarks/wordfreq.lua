-- Benchmark: word frequency, the Lua baseline for wordfreq.kl (a table).
local text = "the cat and the hat\nand the bat sat\non the mat with the cat\n"
if arg[1] then
    local file = assert(io.open(arg[1], "r"))
    text = file:read("a")
    file:close()
end
local counts = {}
for word in text:gmatch("%S+") do
    counts[word] = (counts[word] or 0) + 1
end
local entries = {}
for word, count in pairs(counts) do
    entries[#entries + 1] = { word, count }
end
table.sort(entries, function(a, b)
    if a[2] ~= b[2] then
        return a[2] > b[2]
    end
    return a[1] < b[1]
end)
for i = 1, math.min(10, #entries) do
    print(entries[i][1] .. " " .. entries[i][2])
end
