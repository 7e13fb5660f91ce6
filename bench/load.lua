-- wrk script for the load mix: paths of one class of request from the file in $LOAD_PATHS (one per line),
-- taken in turn from a random start per thread; statuses counted over all threads.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(os.getenv("LOAD_PATHS")) do
    paths[#paths + 1] = line
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
  counter = math.random(#paths)
  ok, busy, limited, client, server = 0, 0, 0, 0, 0
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end

function response(status, headers, body)
  if status >= 200 and status < 400 then ok = ok + 1
  elseif status == 503 then busy = busy + 1
  elseif status == 429 then limited = limited + 1
  elseif status < 500 then client = client + 1
  else server = server + 1 end
end

function done(summary, latency, requests)
  local a, b, c, d, e = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("ok"); b = b + t:get("busy"); c = c + t:get("limited"); d = d + t:get("client"); e = e + t:get("server")
  end
  io.write(string.format("STATUS ok=%d busy=%d limited=%d client=%d server=%d\n", a, b, c, d, e))
  io.write(string.format("LATENCY p50=%.1f p95=%.1f p99=%.1f max=%.1f\n", latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("TOTAL requests=%d seconds=%.1f errors_connect=%d errors_read=%d errors_timeout=%d\n", summary.requests, summary.duration / 1e6, summary.errors.connect, summary.errors.read, summary.errors.timeout))
end
