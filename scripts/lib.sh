# Shared helpers for the benchmark scripts: start a release instance on a port of its
# own, create an account, and sign in with curl. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PULSE="$ROOT/target/release/pulse"
BENCH_DIR="$(mktemp -d -t pulse-bench.XXXXXX)"
BENCH_PIDS=()
BENCH_PASSWORD="benchmark password 1234"

cleanup() {
  for pid in "${BENCH_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$BENCH_DIR"
}
trap cleanup EXIT

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "needs $1 (apt-get install $1)" >&2; exit 1; }
}

build_release() {
  (cd "$ROOT" && cargo build --release --quiet)
}

# database_of NAME: DATABASE_URL when it is set (an empty PostgreSQL database), else a
# fresh SQLite file of NAME's own.
database_of() {
  echo "${DATABASE_URL:-sqlite://$BENCH_DIR/$1.db}"
}

# start_pulse NAME PORT [VAR=VALUE ...]: serves NAME's database on 127.0.0.1:PORT and
# waits until /health answers.
start_pulse() {
  local name=$1 port=$2; shift 2
  env DATABASE_URL="$(database_of "$name")" "$@" PULSE_BIND="127.0.0.1:$port" RUST_LOG=warn \
    "$PULSE" serve >"$BENCH_DIR/$name.log" 2>&1 &
  BENCH_PIDS+=($!)
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "pulse ($name) did not start:" >&2; cat "$BENCH_DIR/$name.log" >&2; exit 1
}

# create_user NAME EMAIL [VAR=VALUE ...]: creates the account in NAME's database.
create_user() {
  local name=$1 email=$2; shift 2
  env DATABASE_URL="$(database_of "$name")" "$@" PULSE_PASSWORD="$BENCH_PASSWORD" \
    RUST_LOG=warn "$PULSE" user create "$email" >/dev/null
}

# csrf_session PORT: prints "COOKIE TOKEN" of a fresh anonymous session.
csrf_session() {
  local port=$1 jar="$BENCH_DIR/jar.$RANDOM"
  local page token cookie
  page=$(curl -fs -c "$jar" "http://127.0.0.1:$port/login")
  token=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' <<<"$page" | head -n 1)
  cookie=$(awk '$6 == "pulse_session" { print $7 }' "$jar")
  echo "$cookie $token"
}

# sign_in PORT EMAIL: prints the session cookie's value after signing in.
sign_in() {
  local port=$1 email=$2 jar="$BENCH_DIR/jar.$RANDOM"
  local page token
  page=$(curl -fs -c "$jar" -b "$jar" "http://127.0.0.1:$port/login")
  token=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' <<<"$page" | head -n 1)
  curl -fs -o /dev/null -c "$jar" -b "$jar" -H "Origin: http://127.0.0.1:$port" \
    --data-urlencode "email=$email" --data-urlencode "password=$BENCH_PASSWORD" \
    --data-urlencode "csrf_token=$token" "http://127.0.0.1:$port/login"
  awk '$6 == "pulse_session" { print $7 }' "$jar"
}

# rps "WRK ARGS...": runs wrk and prints requests per second.
rps() {
  wrk "$@" 2>/dev/null | awk '/Requests\/sec/ { print $2 }'
}

# median A B C ...
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'
}

# login_lua PORT FILE: writes a wrk script that signs in as admin@example.com.
login_lua() {
  local port=$1 file=$2 cookie token
  read -r cookie token < <(csrf_session "$port")
  cat >"$file" <<LUA
wrk.method = "POST"
wrk.body = "email=admin%40example.com&password=benchmark+password+1234&csrf_token=$token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "pulse_session=$cookie"
wrk.headers["Origin"] = "http://127.0.0.1:$port"
LUA
}

# add_site PORT COOKIE DOMAIN: adds a site through the dashboard's form.
add_site() {
  local port=$1 cookie=$2 domain=$3 page token
  page=$(curl -fs -H "Cookie: pulse_session=$cookie" "http://127.0.0.1:$port/dashboard")
  token=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' <<<"$page" | head -n 1)
  curl -fs -o /dev/null -H "Cookie: pulse_session=$cookie" -H "Origin: http://127.0.0.1:$port" \
    --data-urlencode "domain=$domain" --data-urlencode "csrf_token=$token" \
    "http://127.0.0.1:$port/sites" || echo "could not add $domain" >&2
}
