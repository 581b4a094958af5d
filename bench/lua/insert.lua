-- The bare INSERT app: each request posts a new key (unique per run, part,
-- thread and request, like sign.lua's addresses), so each stores a row.
dofile(os.getenv("WRK_LUA_DIR") .. "/report.lua")
local part = os.getenv("WRK_PART") or "0"
local run = (os.getenv("WRK_RUN") or "0") .. "-" .. part
local count = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
function request()
  local body = "key=" .. run .. "-" .. id .. "-" .. count
  count = count + 1
  return wrk.format(nil, nil, nil, body)
end
