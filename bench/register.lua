-- Register a new, unique user per request.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local counter = 0
local prefix
function init(args)
  prefix = "u" .. tostring(id or 0) .. "x" .. tostring(math.random(1, 1e9))
end
request = function()
  counter = counter + 1
  local name = prefix .. "n" .. counter
  local body = string.format('{"username":"%s","email":"%s@example.com","password":"Vq7#kPz!rw-load"}', name, name)
  return wrk.format("POST", "/user/register/", { ["Content-Type"] = "application/json" }, body)
end
