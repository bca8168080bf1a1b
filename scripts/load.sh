#!/usr/bin/env bash
# The load harness: one release build, one instance, and in one run the throughput
# (median of three rounds), p99 latency and peak memory of each kind of request, each
# as a ratio to GET /health.
#
#   scripts/load.sh [SECONDS_PER_ROUND] [CONNECTIONS]
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/pulse_load scripts/load.sh
#
# With DATABASE_URL naming PostgreSQL the database must exist and be empty; otherwise a
# fresh SQLite file is used. Needs wrk and curl; ports 18021 and up on loopback.
source "$(dirname "$0")/lib.sh"
need wrk; need curl
SECONDS_PER_ROUND=${1:-5}
CONNECTIONS=${2:-32}
PORT=18021
URL="http://127.0.0.1:$PORT"
SITE=load.example

build_release
create_user load admin@example.com
start_pulse load "$PORT"
PID=${BENCH_PIDS[-1]}
cookie=$(sign_in "$PORT" admin@example.com)
add_site "$PORT" "$cookie" "$SITE"
login_lua "$PORT" "$BENCH_DIR/login.lua"
cat >"$BENCH_DIR/event.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"domain":"$SITE","url":"https://$SITE/pricing","referrer":"https://news.example/"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) load-harness"
LUA

signed_in_lua() {
  cat >"$BENCH_DIR/$1.lua" <<LUA
wrk.headers["Cookie"] = "pulse_session=$cookie"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() unexpected = 0 end
function response(status) if status ~= 200 then unexpected = unexpected + 1 end end
function done()
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("unexpected") end
  if total > 0 then io.write("Non-2xx or 3xx responses: " .. total .. "\\n") end
end
LUA
}
signed_in_lua dashboard
signed_in_lua admin_report

names=(health landing dashboard admin_report event login)
declare -A args=(
  [health]="$URL/health"
  [landing]="$URL/"
  [dashboard]="-s $BENCH_DIR/dashboard.lua $URL/dashboard"
  [admin_report]="-s $BENCH_DIR/admin_report.lua $URL/admin/report.json"
  [event]="-s $BENCH_DIR/event.lua $URL/api/event"
  [login]="-s $BENCH_DIR/login.lua $URL/login"
)
declare -A rps_of p99_of peak_of status_of

# Only what answers as expected is measured: a missing route shows as not measured.
probe() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
status_of[health]=$(probe "$URL/health")
status_of[landing]=$(probe "$URL/")
status_of[dashboard]=$(probe -H "Cookie: pulse_session=$cookie" "$URL/dashboard")
status_of[admin_report]=$(probe -H "Cookie: pulse_session=$cookie" "$URL/admin/report.json")
status_of[event]=$(probe -H 'Content-Type: application/json' \
  --data "{\"domain\":\"$SITE\",\"url\":\"https://$SITE/\",\"referrer\":\"\"}" "$URL/api/event")
status_of[login]=303

for round in 1 2 3; do
  for name in "${names[@]}"; do
    case "${status_of[$name]}" in 200|202|303) ;; *) continue ;; esac
    # shellcheck disable=SC2086
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_ROUND}s" --latency ${args[$name]} 2>&1)
    rps_of[$name]="${rps_of[$name]:-} $(awk '/Requests\/sec/ { print $2 }' <<<"$out")"
    p99_of[$name]="${p99_of[$name]:-} $(awk '$1 == "99%" { print $2 }' <<<"$out")"
    peak_of[$name]=$(awk '/VmHWM/ { print $2 }' "/proc/$PID/status")
    bad=$(awk '/Non-2xx or 3xx/ { print $5 }' <<<"$out")
    [ -n "$bad" ] && echo "round $round $name: $bad responses that were not 2xx/3xx" >&2
  done
  echo "round $round done" >&2
done

to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f\n", v }'; }
median_ms() { printf '%s\n' "$@" | to_ms | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# shellcheck disable=SC2086
base=$(median ${rps_of[health]})
printf '\n%-14s %12s %8s %10s %8s %12s\n' request "req/s" ratio "p99 ms" ratio "peak RSS MB"
# shellcheck disable=SC2086
base_p99=$(median_ms ${p99_of[health]})
for name in "${names[@]}"; do
  if [ -z "${rps_of[$name]:-}" ]; then
    printf '%-14s %12s   (answered %s; not measured)\n' "$name" "-" "${status_of[$name]}"
    continue
  fi
  # shellcheck disable=SC2086
  r=$(median ${rps_of[$name]}); p=$(median_ms ${p99_of[$name]})
  printf '%-14s %12.0f %8s %10s %8s %12.1f\n' "$name" "$r" "$(ratio "$r" "$base")" \
    "$p" "$(ratio "$p" "$base_p99")" "$(awk -v k="${peak_of[$name]}" 'BEGIN { print k / 1024 }')"
done
