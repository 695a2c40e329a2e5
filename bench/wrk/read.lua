-- Authenticated reads, cycling over many sessions. Extra argument: the path under the app
-- (`me`, `me/permissions`), or `introspect` (the account API), or `jwks`, or `health`.
dofile("common.lua")

local requests, i = {}, 0

function init(args)
  load_data(args)
  local what = args[4]
  if what == "health" then
    requests = { wrk.format("GET", "/health") }
  elseif what == "jwks" then
    requests = { wrk.format("GET", "/" .. slug .. "/v1/.well-known/jwks.json") }
  elseif what == "introspect" then
    for _, t in ipairs(platform) do
      table.insert(requests, wrk.format("GET", "/api/v1/introspect/apps/" .. slug, { Authorization = "Bearer " .. t }))
    end
  else
    for _, t in ipairs(access) do
      table.insert(requests, wrk.format("GET", "/" .. slug .. "/v1/" .. what, { Authorization = "Bearer " .. t }))
    end
  end
end

function request()
  i = i % #requests + 1
  return requests[i]
end
