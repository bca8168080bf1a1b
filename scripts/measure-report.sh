#!/usr/bin/env bash
# Measures the engagement report on an existing database: serves it with the release
# binary, waits for the first computation, then times GET /admin/report.json.
#
#   DATABASE_URL=sqlite://pulse.db scripts/measure-report.sh [requests] [port] [pause]
#
# Prints how long the full computations took (from the server's log) and the median,
# 90th percentile and slowest response of `requests` sequential requests, `pause`
# seconds apart (0 by default; spread them over a minute to include a background
# recomputation). Then times one /admin page and one full /admin/users.csv.
set -euo pipefail
cd "$(dirname "$0")/.."

requests="${1:-100}"
port="${2:-18080}"
pause="${3:-0}"
binary=target/release/pulse
: "${DATABASE_URL:?set DATABASE_URL to the database to measure}"
[[ -x "$binary" ]] || { echo "build first: cargo build --release" >&2; exit 1; }

log="$(mktemp)"
RUST_LOG=info PULSE_BIND="127.0.0.1:$port" "$binary" serve >"$log" 2>&1 &
server=$!
finish() {
    local status=$?
    if ((status != 0)); then
        echo "failed; the server's last lines:" >&2
        tail -n 20 "$log" >&2
    fi
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    rm -f "$log"
}
trap finish EXIT

base="http://127.0.0.1:$port"
until curl -fsS "$base/health" >/dev/null 2>&1; do
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.2
done

# The first request waits for the computation started at start-up.
first=$(curl -fsS -o /dev/null -w '%{time_total}' "$base/admin/report.json")
echo "first request (waits for the start-up computation): ${first} s"

times="$(mktemp)"
for _ in $(seq "$requests"); do
    curl -fsS -o /dev/null -w '%{time_total}\n' "$base/admin/report.json" >>"$times"
    sleep "$pause"
done

grep -o 'engagement report computed in [0-9]* ms' "$log" \
    | sed 's/^/server: /' || echo "server: no computation logged"
sort -n "$times" | awk -v n="$requests" '
    { t[NR] = $1 * 1000 }
    END {
        median = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
        printf "report.json over %d requests: median %.2f ms, p90 %.2f ms, max %.2f ms\n",
            n, median, t[int(n * 0.9)], t[n]
    }'
rm -f "$times"

curl -fsS -o /dev/null -w 'GET /admin: %{time_total} s\n' "$base/admin"
curl -fsS -o /dev/null -w 'GET /admin/users.csv: %{time_total} s, %{size_download} bytes\n' \
    "$base/admin/users.csv"
