-- Shared by every Rampart wrk script (loaded with dofile; the runner starts wrk in this
-- directory). Arguments after `--`: slug, data file, thread count, then per-script ones.
--
-- The data file has one item per line, `<kind> <value>`: A = an end-user access token,
-- R = a refresh token, P = an account (platform) access token, U = the user count,
-- W = the shared password, N = a run id for unique sign-up names. Each wrk thread keeps
-- the A/R/P lines whose index modulo the thread count is its own.

local next_id = 0
-- Every thread, for `done()` to gather what each one counted.
local threads = {}

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
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

json = { ["Content-Type"] = "application/json" }

-- A JSON POST to the app's `/v1/auth/<what>`, as the arguments of `wrk.format` and `template`.
local function auth_post(what, body)
  return "POST", "/" .. slug .. "/v1/auth/" .. what, json, body
end

function signin_body()
  return string.format('{"identifier":"user%05d","password":"%s"}', math.random(0, users - 1), password)
end

function signin_request()
  return wrk.format(auth_post("signin", signin_body()))
end

-- The same, timed as `class` (see `timed`).
function timed_signin(class)
  return timed(class, template(auth_post("signin", signin_body())))
end

local dead_refresh = '{"refresh_token":"rt_exhausted_pool_this_counts_as_an_error"}'

-- Refresh with a token from the pool; the answer's successor goes back into it. The pool
-- holds more tokens than the thread has connections, so it only runs dry after errors,
-- and then the request is one that fails (and is counted as an error).
function refresh_body()
  local token = table.remove(refresh)
  return token and ('{"refresh_token":"' .. token .. '"}') or dead_refresh
end

function refresh_request()
  return wrk.format(auth_post("refresh", refresh_body()))
end

function timed_refresh(class)
  return timed(class, template(auth_post("refresh", refresh_body())))
end

function keep_refresh_token(status, body)
  if status == 200 then
    local token = body:match('"refresh_token":"([^"]+)"')
    if token then table.insert(refresh, token) end
  end
end

-- ---- Per-class timing ----
-- wrk times requests only all together. A script that mixes kinds of request times each
-- kind itself: the request carries an `X-Request-Id` naming its class (the server echoes
-- it), the send time is kept under that id, and the answer's time goes into the class's
-- histogram. The clock is the same monotonic one wrk uses, through LuaJIT's ffi.

local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } rampart_timespec;
  int clock_gettime(int clock, rampart_timespec *ts);
]]
local timespec = ffi.new("rampart_timespec")
local CLOCK_MONOTONIC = 1

function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

-- Per class, in one flat table (wrk's `thread:get` cannot copy nested ones): answers by
-- status, `<class>.ok` (2xx), `.refused` (401), `.shed` (503), `.other`, and a histogram
-- of latencies, `<class>.<µs>` = count, exact below 1 ms and to 1% above.
timings = {}
local sent, seq = {}, 0

local function bucket(us)
  local width = 1
  while us >= 1000 * width do width = width * 10 end
  return us - us % width
end

-- A request template with a place for the id: `prefix .. id .. suffix` is the request.
function template(method, path, headers, body)
  local with_id = { ["X-Request-Id"] = "\1" }
  for k, v in pairs(headers or {}) do with_id[k] = v end
  local prefix, suffix = wrk.format(method, path, with_id, body):match("^(.-)\1(.*)$")
  return { prefix = prefix, suffix = suffix }
end

-- The request of `class` (letters only) from `tpl` (see `template`), its send time kept.
function timed(class, tpl)
  seq = seq + 1
  local rid = class .. "." .. id .. "." .. seq
  sent[rid] = now_us()
  return tpl.prefix .. rid .. tpl.suffix
end

local function count(key, n)
  timings[key] = (timings[key] or 0) + n
end

-- Files an answer under its class; answers without a timed id are not counted here.
function record(status, headers)
  local rid = headers["x-request-id"] or headers["X-Request-Id"]
  local started = rid and sent[rid]
  if not started then return end
  sent[rid] = nil
  local class = rid:match("^(%a+)%.")
  local outcome = "other"
  if status >= 200 and status < 300 then
    outcome = "ok"
  elseif status == 401 then
    outcome = "refused"
  elseif status == 503 then
    outcome = "shed"
  end
  count(class .. "." .. outcome, 1)
  count(class .. "." .. bucket(now_us() - started), 1)
end

-- p50, p90, p99, max and mean of a histogram (µs → count).
local function percentiles(hist)
  local keys, total, sum = {}, 0, 0
  for us, n in pairs(hist) do
    table.insert(keys, us)
    total = total + n
    sum = sum + us * n
  end
  table.sort(keys)
  local out, seen, wanted, w = {}, 0, { 50, 90, 99 }, 1
  for _, us in ipairs(keys) do
    seen = seen + hist[us]
    while w <= #wanted and seen >= total * wanted[w] / 100 do
      out[wanted[w]] = us
      w = w + 1
    end
  end
  return out[50] or 0, out[90] or 0, out[99] or 0, keys[#keys] or 0, total > 0 and sum / total or 0
end

-- Every thread's timings, merged, as JSON: `{"<class>":{"ok":…,"p99_us":…},…}`.
local function classes_json()
  local merged = {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("timings") or {}) do
      local class, what = key:match("^(%a+)%.(.+)$")
      local m = merged[class]
      if not m then
        m = { ok = 0, refused = 0, shed = 0, other = 0, hist = {} }
        merged[class] = m
      end
      local us = tonumber(what)
      if us then
        m.hist[us] = (m.hist[us] or 0) + n
      else
        m[what] = m[what] + n
      end
    end
  end
  local parts = {}
  for class, m in pairs(merged) do
    local p50, p90, p99, max, mean = percentiles(m.hist)
    table.insert(parts, string.format(
      '"%s":{"ok":%d,"refused":%d,"shed":%d,"other":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
      '"mean_us":%.1f}',
      class, m.ok, m.refused, m.shed, m.other, p50, p90, p99, max, mean))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"classes":%s}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    classes_json()))
end
