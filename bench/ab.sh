#!/usr/bin/env bash
# A/B of two release binaries of gatehouse on the write-bound scenarios:
# login with the right password, login as an unknown user, and logout (a
# fresh seeded token per request). Alternates the binaries, ROUNDS rounds of
# DURATION seconds per scenario, each on a fresh SQLite database, rate limits
# and throttling off. Build each binary into a target directory of its own
# (cargo may reuse another checkout's artefacts from a shared one).
#
#   bench/ab.sh BEFORE_BINARY AFTER_BINARY
#   ROUNDS=3 DURATION=8 bench/ab.sh /var/tmp/a/release/gatehouse target/release/gatehouse
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: bench/ab.sh BEFORE_BINARY AFTER_BINARY" >&2; exit 2; }
DURATION="${DURATION:-8}"
ROUNDS="${ROUNDS:-3}"
export BENCH_DIR="$PWD/bench" BENCH_THREADS=2
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }

run() { # label binary
  local work port base pid id
  work="$(mktemp -d)"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  base="http://127.0.0.1:$port"
  "$2" --bind "127.0.0.1:$port" --database-url "sqlite://$work/db?mode=rwc" \
    --rate-limit off --login-throttle off --log-level warn > "$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
  id="$(curl -fs "$base/user/register/" -H 'Content-Type: application/json' \
    -d '{"username":"loaduser","email":"loaduser@example.com","password":"Vq7#kPz!rw-load"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  python3 bench/seed_sessions.py "$work/db" "$id" $(( DURATION * 40000 )) > "$work/tokens.txt"
  for scenario in "login, right password:loaduser" "login, unknown user:nobody"; do
    echo "$1 | ${scenario%%:*} | $(BENCH_USERNAME="${scenario##*:}" wrk -t2 -c32 -d"${DURATION}s" -s bench/login.lua "$base" | grep -o 'rps=[0-9.]* p50_ms=[0-9.]* p99_ms=[0-9.]*')"
  done
  echo "$1 | logout | $(BENCH_USER_ID="$id" BENCH_TOKENS="$work/tokens.txt" wrk -t2 -c32 -d"${DURATION}s" -s bench/logout.lua "$base" | grep -o 'rps=[0-9.]* p50_ms=[0-9.]* p99_ms=[0-9.]*')"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}

for round in $(seq 1 "$ROUNDS"); do
  run "round $round before" "$1"
  run "round $round after" "$2"
done
