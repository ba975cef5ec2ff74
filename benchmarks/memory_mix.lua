-- wrk script for memory.py: a rotating mix of hits whose values never repeat.
-- usage: wrk -t1 -c32 -d10s -s memory_mix.lua http://127.0.0.1:PORT OFFSET
-- OFFSET (the number of requests already sent) keeps the unique values unique across runs.

local n = 0

function init(args)
  n = tonumber(args[1] or "0") or 0
end

function request()
  n = n + 1
  local kind = n % 5
  if kind == 0 then
    return wrk.format("GET", "/items/" .. (n % 5000 + 1), { ["X-Request-Id"] = tostring(n) })
  elseif kind == 1 then
    return wrk.format("GET", "/items/2500")
  elseif kind == 2 then
    return wrk.format("GET", string.format("/api/v2/res%04d/%d", n % 250, n))
  elseif kind == 3 then
    return wrk.format("GET", string.format("/api/v2/res%04d/%d/history", n % 250, n))
  else
    return wrk.format("GET", "/api/v1/search0042?q=term2&page=1&r=" .. n)
  end
end
