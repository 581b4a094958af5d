-- Each request signs with a new address; the form token is the page's.
-- With WRK_AGAIN=n set, each request signs again with a different address
-- that already has a pending signature (pending<i>@example.net, seeded by
-- bench.load; run k of a scenario takes i from k*n on), so the supporter
-- is sent the confirmation once more.
dofile(os.getenv("WRK_LUA_DIR") .. "/report.lua")
local token = os.getenv("WRK_FORM_TOKEN")
local origin = os.getenv("WRK_ORIGIN")
local again = os.getenv("WRK_AGAIN")
local threads_total = tonumber(os.getenv("WRK_THREADS") or "2")
-- A scenario's runs (peak runs, then the paced one) are separate wrk runs:
-- WRK_PART keeps their addresses apart, or later runs would only sign again.
local part = os.getenv("WRK_PART") or "0"
local run = (os.getenv("WRK_RUN") or "0") .. "-" .. part
local count = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = origin
wrk.headers["Sec-Fetch-Site"] = "same-origin"
function request()
  local email
  if again then
    email = "pending" .. (tonumber(part) * tonumber(again) + count * threads_total + id) .. "%40example.net"
  else
    email = "load-" .. run .. "-" .. id .. "-" .. count .. "%40example.org"
  end
  count = count + 1
  local body = "given_name=Load&family_name=Tester&country=GB&email_opt_in=y&email=" .. email ..
    "&csrf_token=" .. token
  return wrk.format(nil, nil, nil, body)
end
