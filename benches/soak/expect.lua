-- wrk script: counts responses whose status is not one of EXPECT
-- (comma-separated), across all threads. Request method, path and headers
-- come from the command line (-H, the URL) and METHOD.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  expected = {}
  for code in string.gmatch(os.getenv("EXPECT") or "200", "[^,]+") do
    expected[tonumber(code)] = true
  end
  counts = {}
  unexpected = 0
  wrk.method = os.getenv("METHOD") or "GET"
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if not expected[status] then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total, all = 0, {}
  for _, t in ipairs(threads) do
    total = total + t:get("unexpected")
    local c = t:get("counts")
    for status, n in pairs(c) do
      all[status] = (all[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(all) do
    table.insert(parts, status .. "=" .. n)
  end
  table.sort(parts)
  io.write("statuses " .. table.concat(parts, " ") .. "\n")
  io.write("unexpected " .. total .. "\n")
end
