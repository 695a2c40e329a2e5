-- A realistic mix: 90% GET /me, 8% refresh, 2% password sign-in (whose new refresh tokens
-- join the pool). Each class is timed on its own (see `timed` in common.lua).
dofile("common.lua")

local me, i = {}, 0

function init(args)
  load_data(args)
  for _, t in ipairs(access) do
    table.insert(me, template("GET", "/" .. slug .. "/v1/me", { Authorization = "Bearer " .. t }))
  end
end

function request()
  local roll = math.random(100)
  if roll <= 2 then
    return timed_signin("signin")
  elseif roll <= 10 then
    return timed_refresh("refresh")
  end
  i = i % #me + 1
  return timed("me", me[i])
end

function response(status, headers, body)
  record(status, headers)
  keep_refresh_token(status, body)
end
