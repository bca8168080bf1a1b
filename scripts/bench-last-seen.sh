#!/usr/bin/env bash
# Measures what recording last-seen costs a signed-in page, in one run:
# the same /dashboard with tracking off, throttled (1h, the default) and writing on
# every request (0s), three interleaved rounds, and prints the median ratios to "off".
#
#   scripts/bench-last-seen.sh [SECONDS_PER_ROUND] [CONNECTIONS] [ROUNDS]
#
# Throughput on a shared 2-core machine drifts by 20% over tens of seconds; many short
# interleaved rounds (ROUNDS, default 3) make the medians stable.
# Needs wrk and curl; builds the release binary first.
source "$(dirname "$0")/lib.sh"
need wrk; need curl
SECONDS_PER_ROUND=${1:-5}
CONNECTIONS=${2:-8}
ROUNDS=${3:-3}

build_release
modes=(off 1h 0s)
declare -A port cookie results
next_port=18001
for mode in "${modes[@]}"; do
  port[$mode]=$next_port; next_port=$((next_port + 1))
  create_user "$mode" "bench@example.com" PULSE_LAST_SEEN_INTERVAL="$mode"
  start_pulse "$mode" "${port[$mode]}" PULSE_LAST_SEEN_INTERVAL="$mode"
  cookie[$mode]=$(sign_in "${port[$mode]}" bench@example.com)
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: pulse_session=${cookie[$mode]}" \
    "http://127.0.0.1:${port[$mode]}/dashboard")
  [ "$code" = 200 ] || { echo "sign-in failed for $mode ($code)" >&2; exit 1; }
done

for round in $(seq "$ROUNDS"); do
  for mode in "${modes[@]}"; do
    r=$(rps -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_ROUND}s" \
      -H "Cookie: pulse_session=${cookie[$mode]}" "http://127.0.0.1:${port[$mode]}/dashboard")
    results[$mode]="${results[$mode]:-} $r"
    printf 'round %d  %-4s %10s req/s\n' "$round" "$mode" "$r"
  done
done

echo; echo "medians of $ROUNDS rounds of ${SECONDS_PER_ROUND} s, $CONNECTIONS connections"
# shellcheck disable=SC2086
off=$(median ${results[off]}); throttled=$(median ${results[1h]}); every=$(median ${results[0s]})
echo
printf '%-28s %10s req/s\n' "tracking off (median)" "$off"
printf '%-28s %10s req/s  ratio %s\n' "throttled, 1h (median)" "$throttled" "$(ratio "$throttled" "$off")"
printf '%-28s %10s req/s  ratio %s\n' "every request, 0s (median)" "$every" "$(ratio "$every" "$off")"
