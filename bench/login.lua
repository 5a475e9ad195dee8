-- Log in with the right password, or as an unknown user (BENCH_USERNAME).
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local body = string.format('{"username":"%s","password":"Vq7#kPz!rw-load"}', os.getenv("BENCH_USERNAME"))
request = function()
  return wrk.format("POST", "/user/login/", { ["Content-Type"] = "application/json" }, body)
end
