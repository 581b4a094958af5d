-- Each request signs with a new address; the form token is the page's.
dofile(os.getenv("WRK_LUA_DIR") .. "/report.lua")
local token = os.getenv("WRK_FORM_TOKEN")
local origin = os.getenv("WRK_ORIGIN")
-- The peak run and the paced run are separate wrk runs: WRK_PART keeps
-- their addresses apart, or the paced run would only sign again.
local run = (os.getenv("WRK_RUN") or "0") .. "-" .. (os.getenv("WRK_PART") or "0")
local count = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = origin
wrk.headers["Sec-Fetch-Site"] = "same-origin"
function request()
  count = count + 1
  local body = "given_name=Load&family_name=Tester&country=GB&email_opt_in=y&email=load-" .. run .. "-" ..
    id .. "-" .. count .. "%40example.org&csrf_token=" .. token
  return wrk.format(nil, nil, nil, body)
end
