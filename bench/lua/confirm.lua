-- Each request confirms the next pending signature from WRK_TOKENS_FILE.
dofile(os.getenv("WRK_LUA_DIR") .. "/report.lua")
local token = os.getenv("WRK_FORM_TOKEN")
local origin = os.getenv("WRK_ORIGIN")
local threads_total = tonumber(os.getenv("WRK_THREADS") or "2")
-- Each run (WRK_PART of WRK_PARTS) confirms its own share of the file.
local part = tonumber(os.getenv("WRK_PART") or "0")
local parts = tonumber(os.getenv("WRK_PARTS") or "2")
local paths = {}
local next_index = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = origin
wrk.headers["Sec-Fetch-Site"] = "same-origin"
wrk.body = "csrf_token=" .. token .. "&given_name=Bench&family_name=Person&country=GB&email_opt_in=y"
function init(args)
  local i = 0
  for line in io.lines(os.getenv("WRK_TOKENS_FILE")) do
    if i % (threads_total * parts) == id + threads_total * part then table.insert(paths, line) end
    i = i + 1
  end
end
function request()
  next_index = next_index + 1
  local path = paths[next_index] or paths[#paths]
  return wrk.format(nil, path)
end
