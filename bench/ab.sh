#!/usr/bin/env bash
# A/B of two (or more) release binaries of gatehouse on the write-bound scenarios:
# login with the right password, login as an unknown user, and logout (a
# fresh seeded token per request). Alternates the binaries, ROUNDS rounds of
# DURATION seconds per scenario, each on a fresh SQLite database, rate limits
# and throttling off. Build each binary into a target directory of its own
# (cargo may reuse another checkout's artefacts from a shared one).
#
#   bench/ab.sh BEFORE_BINARY AFTER_BINARY [MORE_BINARIES...]
#   ROUNDS=3 DURATION=8 bench/ab.sh /var/tmp/a/release/gatehouse target/release/gatehouse
#
# Each round runs every binary in the order given; their lines are labelled
# before, after, after2, after3 and so on.
#
# SCENARIOS picks some of "right unknown logout" (all by default); logout
# runs on the same server after whichever login scenarios ran. USERS=N
# adds N more accounts first (bench/seed_users.py).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/ab.sh BEFORE_BINARY AFTER_BINARY [MORE_BINARIES...]" >&2; exit 2; }
DURATION="${DURATION:-8}"
ROUNDS="${ROUNDS:-3}"
SCENARIOS="${SCENARIOS:-right unknown logout}"
USERS="${USERS:-0}"
export BENCH_DIR="$PWD/bench" BENCH_THREADS=2
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }

# Runs wrk (the arguments after PID) against the server PID and prints its
# throughput, latency, and the server's CPU time per request (user and
# system, all threads, from /proc): a figure less moved than throughput by
# whatever else the machine is running.
measure() { # pid wrk-arguments...
  local pid=$1 before after out requests
  shift
  before="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
  out="$(wrk "$@")"
  after="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
  requests="$(grep -o 'requests=[0-9]*' <<<"$out" | cut -d= -f2)"
  echo "$(grep -o 'rps=[0-9.]* p50_ms=[0-9.]* p99_ms=[0-9.]*' <<<"$out")" \
    "cpu_us=$(( (after - before) * 1000000 / TICKS / (requests > 0 ? requests : 1) ))"
}
TICKS="$(getconf CLK_TCK)"
# shellcheck source=bench/serve.sh
. bench/serve.sh

run() { # label binary
  local work base pid id
  work="$(mktemp -d)"
  serve "$2" "$work"
  [ "$USERS" -eq 0 ] || python3 bench/seed_users.py "$work/db" "$id" "$USERS"
  python3 bench/seed_sessions.py "$work/db" "$id" $(( DURATION * 40000 )) > "$work/tokens.txt"
  for scenario in "right:login, right password:loaduser" "unknown:login, unknown user:nobody"; do
    case " $SCENARIOS " in *" ${scenario%%:*} "*) ;; *) continue ;; esac
    scenario="${scenario#*:}"
    echo "$1 | ${scenario%%:*} | $(BENCH_USERNAME="${scenario##*:}" measure "$pid" -t2 -c32 -d"${DURATION}s" -s bench/login.lua "$base")"
  done
  case " $SCENARIOS " in *" logout "*)
    echo "$1 | logout | $(BENCH_USER_ID="$id" BENCH_TOKENS="$work/tokens.txt" measure "$pid" -t2 -c32 -d"${DURATION}s" -s bench/logout.lua "$base")" ;;
  esac
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}

for round in $(seq 1 "$ROUNDS"); do
  run "round $round before" "$1"
  run "round $round after" "$2"
  for i in $(seq 3 $#); do
    run "round $round after$(( i - 1 ))" "${!i}"
  done
done
