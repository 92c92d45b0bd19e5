-- Benchmark: the Mandelbrot set (Lua 5.4 and LuaJIT): the same grid, iterations, escape test,
-- count and checksum as mandelbrot.kl. The size is the first argument (default 200).
local n = tonumber(arg and arg[1]) or 200
local inside, checksum = 0, 0
local scale = 2.0 / n
for y = 0, n - 1 do
    local ci = y * scale - 1.0
    local row = 0
    for x = 0, n - 1 do
        local cr = x * scale - 1.5
        local zr, zi, tr, ti = 0.0, 0.0, 0.0, 0.0
        local i = 0
        while i < 50 and tr + ti <= 4.0 do
            zi = 2.0 * zr * zi + ci
            zr = tr - ti + cr
            tr = zr * zr
            ti = zi * zi
            i = i + 1
        end
        if tr + ti <= 4.0 then
            row = row + 1
        end
    end
    inside = inside + row
    checksum = checksum + row * (y + 1)
end
print(inside)
print(checksum)
