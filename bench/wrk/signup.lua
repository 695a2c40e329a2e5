-- Sign-up of a new, unique user per request.
dofile("common.lua")

local n = 0

function init(args)
  load_data(args)
end

function request()
  n = n + 1
  local name = string.format("su-%s-%d-%d", run, id, n)
  local body = string.format('{"email":"%s@bench.example","username":"%s","password":"%s"}', name, name, password)
  return wrk.format("POST", "/" .. slug .. "/v1/auth/signup", { ["Content-Type"] = "application/json" }, body)
end
