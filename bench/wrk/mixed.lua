-- A realistic mix: 90% GET /me, 8% refresh, 2% password sign-in (whose new refresh tokens
-- join the pool).
dofile("common.lua")

local me, i = {}, 0

function init(args)
  load_data(args)
  for _, t in ipairs(access) do
    table.insert(me, wrk.format("GET", "/" .. slug .. "/v1/me", { Authorization = "Bearer " .. t }))
  end
end

function request()
  local roll = math.random(100)
  if roll <= 2 then
    return signin_request()
  elseif roll <= 10 then
    return refresh_request()
  end
  i = i % #me + 1
  return me[i]
end

function response(status, headers, body)
  keep_refresh_token(status, body)
end
