#!/usr/bin/env bash
# Soak: CONNECTIONS concurrent clients of mixed traffic for SECONDS against one release
# instance. Passes when no response is a 5xx and resident memory is flat: the peak of
# the last 20 s is less than 10% above the peak of the first 20 s.
#
#   scripts/soak.sh [SECONDS] [CONNECTIONS]                     # SQLite
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/pulse_soak scripts/soak.sh
#
# A PostgreSQL database must exist and be empty. Needs wrk and curl; port 18031.
source "$(dirname "$0")/lib.sh"
need wrk; need curl
SECONDS_TOTAL=${1:-60}
CONNECTIONS=${2:-200}
PORT=18031
URL="http://127.0.0.1:$PORT"
SITE=soak.example

build_release
create_user soak admin@example.com
start_pulse soak "$PORT"
PID=${BENCH_PIDS[-1]}
cookie=$(sign_in "$PORT" admin@example.com)
add_site "$PORT" "$cookie" "$SITE"
read -r login_cookie login_token < <(csrf_session "$PORT")

cat >"$BENCH_DIR/mixed.lua" <<LUA
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  server_errors = 0
  n = 0
  local signed_in = { ["Cookie"] = "pulse_session=$cookie" }
  local event = { ["Content-Type"] = "application/json", ["User-Agent"] = "Mozilla/5.0 soak" }
  local login = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "pulse_session=$login_cookie",
    ["Origin"] = "$URL",
  }
  local body = '{"domain":"$SITE","url":"https://$SITE/a","referrer":"https://ref.example/"}'
  reqs = {
    wrk.format("GET", "/health"),
    wrk.format("GET", "/"),
    wrk.format("GET", "/dashboard", signed_in),
    wrk.format("GET", "/admin/report.json", signed_in),
    wrk.format("POST", "/api/event", event, body),
    wrk.format("POST", "/api/event", event, body),
    wrk.format("GET", "/sites/$SITE?range=7d", signed_in),
    wrk.format("GET", "/static/style.css"),
  }
  login_req = wrk.format("POST", "/login", login,
    "email=admin%40example.com&password=benchmark+password+1234&csrf_token=$login_token")
end
function request()
  n = n + 1
  if n % 200 == 0 then return login_req end
  return reqs[(n % #reqs) + 1]
end
function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("server_errors") end
  io.write(string.format("server errors (5xx): %d\n", total))
end
LUA

: >"$BENCH_DIR/rss"
( for _ in $(seq "$SECONDS_TOTAL"); do
    awk '/VmRSS/ { print $2 }' "/proc/$PID/status" >>"$BENCH_DIR/rss" 2>/dev/null
    sleep 1
  done ) &
sampler=$!
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_TOTAL}s" --timeout 10s --latency -s "$BENCH_DIR/mixed.lua" "$URL" \
  | tee "$BENCH_DIR/wrk.txt" | grep -E "Requests/sec|99%|server errors|Socket errors"
wait "$sampler" || true

first=$(head -n 20 "$BENCH_DIR/rss" | sort -n | tail -n 1)
last=$(tail -n 20 "$BENCH_DIR/rss" | sort -n | tail -n 1)
growth=$(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')
errors=$(awk '/server errors/ { print $4 }' "$BENCH_DIR/wrk.txt")
alive=$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")
echo "peak RSS first 20 s: $((first / 1024)) MB, last 20 s: $((last / 1024)) MB (growth $growth%)"
echo "5xx: ${errors:-?}; /health afterwards: $alive"
if [ "${errors:-1}" = 0 ] && [ "$alive" = 200 ] && awk -v g="$growth" 'BEGIN { exit !(g < 10) }'; then
  echo "PASS"
else
  echo "FAIL"; exit 1
fi
