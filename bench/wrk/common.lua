-- Shared by every Rampart wrk script (loaded with dofile; the runner starts wrk in this
-- directory). Arguments after `--`: slug, data file, thread count, then per-script ones.
--
-- The data file has one item per line, `<kind> <value>`: A = an end-user access token,
-- R = a refresh token, P = an account (platform) access token, U = the user count,
-- W = the shared password, N = a run id for unique sign-up names. Each wrk thread keeps
-- the A/R/P lines whose index modulo the thread count is its own.

local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function load_data(args)
  slug = args[1]
  local nthreads = tonumber(args[3]) or 1
  access, refresh, platform = {}, {}, {}
  users, password, run = 0, "", "r"
  local n = 0
  for line in io.lines(args[2]) do
    local kind, value = line:match("^(%u) (.+)$")
    if kind == "U" then
      users = tonumber(value)
    elseif kind == "W" then
      password = value
    elseif kind == "N" then
      run = value
    elseif kind then
      if n % nthreads == id then
        if kind == "A" then table.insert(access, value) end
        if kind == "R" then table.insert(refresh, value) end
        if kind == "P" then table.insert(platform, value) end
      end
      n = n + 1
    end
  end
  math.randomseed(os.time() + id * 7919)
end

function signin_request()
  local body = string.format('{"identifier":"user%05d","password":"%s"}', math.random(0, users - 1), password)
  return wrk.format("POST", "/" .. slug .. "/v1/auth/signin", { ["Content-Type"] = "application/json" }, body)
end

local dead_refresh = '{"refresh_token":"rt_exhausted_pool_this_counts_as_an_error"}'

-- Refresh with a token from the pool; the answer's successor goes back into it. The pool
-- holds more tokens than the thread has connections, so it only runs dry after errors,
-- and then the request is one that fails (and is counted as an error).
function refresh_request()
  local token = table.remove(refresh)
  local body = token and ('{"refresh_token":"' .. token .. '"}') or dead_refresh
  return wrk.format("POST", "/" .. slug .. "/v1/auth/refresh", { ["Content-Type"] = "application/json" }, body)
end

function keep_refresh_token(status, body)
  if status == 200 then
    local token = body:match('"refresh_token":"([^"]+)"')
    if token then table.insert(refresh, token) end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
