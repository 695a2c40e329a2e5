-- Refresh-token rotation: every request presents a token once and keeps its successor.
dofile("common.lua")

function init(args)
  load_data(args)
end

request = refresh_request

function response(status, headers, body)
  keep_refresh_token(status, body)
end
