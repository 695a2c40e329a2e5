-- A password spray: sign-ins to many identifiers (half of them seeded users, half unknown),
-- each with one of a few common passwords or, one time in four, the right one, sent at a
-- set rate whatever the answers (wrk's `delay` holds each connection back until the next
-- send is due). Extra argument: the rate, requests a second, across all threads.
dofile("common.lua")

local guesses
local interval_ms, due_ms

function init(args)
  load_data(args)
  guesses = { password, "Summer2024!", "Password1", "letmein123" }
  interval_ms = 1000 * (tonumber(args[3]) or 1) / tonumber(args[4])
end

-- The time until this thread's next send is due. A schedule that fell behind (every
-- connection busy) starts again from now rather than catching up in a burst.
function delay()
  local now = now_us() / 1000
  if not due_ms or due_ms < now then due_ms = now end
  local wait = due_ms - now
  due_ms = due_ms + interval_ms
  return wait
end

function request()
  local n = math.random(0, 2 * users - 1)
  local who = n < users and string.format("user%05d", n) or string.format("nobody%05d", n - users)
  local body = string.format('{"identifier":"%s","password":"%s"}', who, guesses[math.random(#guesses)])
  return timed("signin", template("POST", "/" .. slug .. "/v1/auth/signin", json, body))
end

function response(status, headers, body)
  record(status, headers)
end
