#!/usr/bin/env bash
# Measures sign-ins per second (argon2id at the OWASP parameters) and what a flood of
# sign-ins does to everything else: the p99 of GET /health alone and during 64
# concurrent sign-ins.
#
#   scripts/bench-login.sh [SECONDS]
#
# Needs wrk and curl; builds the release binary first.
source "$(dirname "$0")/lib.sh"
need wrk; need curl
SECONDS_PER_RUN=${1:-10}
PORT=18011

build_release
create_user login admin@example.com
start_pulse login "$PORT"
login_lua "$PORT" "$BENCH_DIR/login.lua"

p99() { awk '$1 == "99%" { print $2 }'; }
url="http://127.0.0.1:$PORT"

health_alone=$(wrk -t1 -c4 -d"${SECONDS_PER_RUN}s" --latency "$url/health" | p99)

wrk -t2 -c64 -d"$((SECONDS_PER_RUN + 2))s" -s "$BENCH_DIR/login.lua" "$url/login" \
  >"$BENCH_DIR/logins.txt" 2>&1 &
flood=$!
sleep 1
health_during=$(wrk -t1 -c4 -d"${SECONDS_PER_RUN}s" --latency "$url/health" | p99)
wait "$flood"

logins=$(awk '/Requests\/sec/ { print $2 }' "$BENCH_DIR/logins.txt")
failed=$(awk '/Non-2xx or 3xx/ { print $5 }' "$BENCH_DIR/logins.txt")
echo "sign-ins per second (64 concurrent):  $logins  (failed: ${failed:-0})"
echo "GET /health p99 alone:                $health_alone"
echo "GET /health p99 during the sign-ins:  $health_during"
