-- wrk script: the items + STAC read mix of the PostgreSQL bench. Odd requests: an items page of the
-- collection named by ODAS_MIX_COLLECTION at an offset that moves; even: a STAC search with a new
-- 20° box and year. Boxes and offsets change every request, so no cached answer serves them.
local collection = os.getenv("ODAS_MIX_COLLECTION") or "argo-profiles"
local counter = 0
request = function()
  counter = counter + 1
  if counter % 2 == 1 then
    local offset = (counter * 7919) % 20000
    return wrk.format("GET", string.format("/collections/%s/items?limit=100&offset=%d", collection, offset))
  end
  local w = (counter * 37) % 320 - 160
  local s = -60 + (counter * 13) % 100
  local y = 2003 + counter % 20
  return wrk.format("GET", string.format(
    "/stac/search?bbox=%d,%d,%d,%d&datetime=%d-01-01T00:00:00Z/%d-12-31T23:59:59Z&limit=10",
    w, s, w + 20, s + 20, y, y + 2))
end
