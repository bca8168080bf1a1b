#!/usr/bin/env bash
# Measures the site dashboard's latency over EVENTS pageviews of one site, and
# /api/event throughput against GET /health, on one backend.
#
#   cargo build --release --bin pulse --example bench-fill
#   scripts/sites-bench.sh sqlite:///tmp/pulse-sites-bench.db 18101 10000000
#   createdb -h 127.0.0.1 -U postgres pulse_sites_bench
#   scripts/sites-bench.sh postgres://postgres@127.0.0.1:5432/pulse_sites_bench 18102 10000000
#   dropdb -h 127.0.0.1 -U postgres pulse_sites_bench
#
# A fourth argument `fill` or `measure` runs one half; the default runs both.
set -euo pipefail
url=$1 port=$2 events=${3:-10000000} phase=${4:-all}
base=http://127.0.0.1:$port
domain=bench.example.com
email=bench@example.com
password="bench password 12345"
cd "$(dirname "$0")/.."

DATABASE_URL=$url PULSE_BIND=127.0.0.1:$port RUST_LOG=warn target/release/pulse serve &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
until curl -sf "$base/health" >/dev/null; do sleep 0.2; done

session_of() { grep -i '^set-cookie: pulse_session=' | head -1 | sed 's/^[^=]*=\([^;]*\).*/\1/'; }

# Signs in through a form page (register or login) and prints the session cookie.
sign_in() {
  local page cookie token
  page=$(curl -si "$base/$1")
  cookie=$(session_of <<<"$page")
  token=$(grep -o 'name="csrf_token" value="[^"]*"' <<<"$page" | head -1 | sed 's/.*value="//; s/"$//')
  curl -si "$base/$1" -H "Cookie: pulse_session=$cookie" -H "Origin: $base" \
    --data-urlencode "email=$email" --data-urlencode "password=$password" \
    --data-urlencode "csrf_token=$token" | session_of
}

if [[ $phase != measure ]]; then
  sign_in register >/dev/null
  echo "== filling $events events"
  target/release/examples/bench-fill "$url" "$email" "$domain" "$events" 30
fi
[[ $phase == fill ]] && exit 0

cookie=$(sign_in login)
for range in day 7d 30d; do
  echo "== GET /sites/$domain?range=$range (1 connection, 20 s)"
  wrk -t1 -c1 -d20s --latency -H "Cookie: pulse_session=$cookie" \
    "$base/sites/$domain?range=$range" | grep -E 'requests in|Requests/sec|50%|99%|Non-2xx'
done

echo "== GET /health (32 connections, 20 s)"
wrk -t2 -c32 -d20s "$base/health" | grep -E 'requests in|Requests/sec|Non-2xx'
echo "== POST /api/event (32 connections, 20 s)"
wrk -t2 -c32 -d20s -s scripts/event.lua "$base/api/event" | grep -E 'requests in|Requests/sec|Non-2xx'
