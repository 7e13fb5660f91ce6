-- wrk script: a different 20°×10° box (and year) on every request, so no cached filter result helps.
local counter = 0
request = function()
  counter = counter + 1
  local w = (counter * 37) % 300 - 150
  local s = -50 + (counter * 3) % 15
  local y = 2008 + counter % 5
  local path = string.format("%s?bbox=%d,%d,%d,%d&datetime=%d-01-01T00:00:00Z/%d-12-31T23:59:59Z&limit=100",
    wrk.path, w, s, w + 20, s + 10, y, y)
  return wrk.format("GET", path)
end
