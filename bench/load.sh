#!/usr/bin/env bash
# Gatehouse load benchmark: builds the release binary, serves a fresh SQLite
# database on loopback (rate limits and login throttling off), drives each
# scenario with wrk for a fixed time, measures the raw argon2 limit of the
# machine, floods login with 1,000 connections, and prints one table.
#
#   bench/load.sh                 # 10 s per scenario, 15 s flood
#   DURATION=5 FLOOD=10 bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
FLOOD="${FLOOD:-15}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/gatehouse-target}"
export BENCH_DIR="$PWD/bench"
export BENCH_THREADS="$THREADS"

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
ulimit -n 65536 2>/dev/null || ulimit -n 4096

echo "building the release binary and the hash-rate probe" >&2
cargo build --release -q --bin gatehouse --example hash_rate
BIN="$CARGO_TARGET_DIR/release/gatehouse"

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
db="$work/load.db"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

start_server() {
  "$BIN" --bind "127.0.0.1:$port" --database-url "sqlite://$db?mode=rwc" \
    --rate-limit off --login-throttle off --log-level warn "$@" > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 500); do
    curl -fs "$base/readyz" >/dev/null 2>&1 && return 0
    sleep 0.01
  done
  echo "server did not become ready" >&2
  cat "$work/server.log" >&2
  exit 1
}

# Cold start: the first start creates and migrates the database; the
# measured one starts on the migrated file and ends when /readyz answers 200.
start_server
stop_server
cold_ms="$(python3 - "$BIN" "$port" "$db" <<'PY'
import subprocess, sys, time, urllib.request
binary, port, db = sys.argv[1:4]
started = time.perf_counter()
server = subprocess.Popen([binary, "--bind", f"127.0.0.1:{port}", "--database-url", f"sqlite://{db}?mode=rwc",
                           "--log-level", "warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.001)
    print(f"{(time.perf_counter() - started) * 1000:.0f}")
finally:
    server.terminate()
    server.wait()
PY
)"

register() { # name: registers it, prints its id
  curl -fs "$base/user/register/" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"Vq7#kPz!rw-load\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
login() { # name [user agent]: logs in, prints the token
  curl -fs "$base/user/login/" -H 'Content-Type: application/json' -A "${2:-curl}" \
    -d "{\"username\":\"$1\",\"password\":\"Vq7#kPz!rw-load\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

start_server
user_id="$(register loaduser)"
token="$(login loaduser)"
# Enough fresh tokens for a logout run at well above the target rate.
python3 bench/seed_sessions.py "$db" "$user_id" $(( DURATION * 40000 )) > "$work/tokens.txt"
# A user signed in on five devices, for `me` with its sessions.
register devices >/dev/null
for device in 1 2 3 4 5; do devices_token="$(login devices "bench-device/$device")"; done
# A user with sessions enough to revoke a different one per request.
revoke_id="$(register revoker)"
revoke_token="$(login revoker)"
python3 bench/seed_sessions.py "$db" "$revoke_id" $(( DURATION * 20000 )) --ids > "$work/session_ids.txt"

results="$work/results.txt"
run() { # name script connections [extra env]
  local name="$1" script="$2" connections="$3"
  echo "running $name (${DURATION}s, $connections connections)" >&2
  local line
  line="$(wrk -t"$THREADS" -c"$connections" -d"${DURATION}s" --timeout 10s -s "bench/$script" "$base" | grep '^RESULT')"
  echo "$name|$connections|$line" >> "$results"
}

BENCH_USERNAME=loaduser run "login (right password)" login.lua "$CONNECTIONS"
BENCH_USERNAME=nobody run "login (unknown user)" login.lua "$CONNECTIONS"
run "register" register.lua "$CONNECTIONS"
BENCH_USER_ID="$user_id" BENCH_TOKENS="$work/tokens.txt" run "logout" logout.lua "$CONNECTIONS"
BENCH_TOKEN="$token" run "GraphQL me" me.lua "$CONNECTIONS"
BENCH_TOKEN="$devices_token" \
  BENCH_QUERY="{ me { id username sessions { id createdAt lastUsedAt expiresAt userAgent ip current } } }" \
  run "GraphQL me with 5 sessions" me.lua "$CONNECTIONS"
BENCH_TOKEN="$revoke_token" BENCH_IDS="$work/session_ids.txt" run "GraphQL revokeSession" revoke.lua "$CONNECTIONS"
# GraphQL answers an error with 200 too: count the sessions that really ended.
revoked="$(python3 - "$db" "$revoke_id" "$(wc -l < "$work/session_ids.txt")" <<'PY'
import sqlite3, sys, uuid
db, user, seeded = sys.argv[1], uuid.UUID(sys.argv[2]), int(sys.argv[3])
left = sqlite3.connect(db).execute("SELECT count(*) FROM sessions WHERE user_id = ?", (user.bytes,)).fetchone()[0]
print(seeded + 1 - left)
PY
)"
run "/healthz" healthz.lua "$CONNECTIONS"
stop_server

echo "measuring the raw argon2 limit (${DURATION}s, all cores)" >&2
raw="$("$CARGO_TARGET_DIR/release/examples/hash_rate" "$DURATION" 19456 2 1)"

# The flood runs on a fresh process, so its peak RSS is the flood's.
echo "flooding login with 1000 connections (${FLOOD}s)" >&2
start_server
flood_out="$work/flood.txt"
BENCH_USERNAME=loaduser wrk -t"$THREADS" -c1000 -d"${FLOOD}s" --timeout 10s -s bench/flood.lua "$base" > "$flood_out" &
flood_pid=$!
sleep 1
during="$(wrk -t1 -c1 -d"$(( FLOOD - 2 ))s" -s bench/healthz.lua "$base" | grep '^RESULT')"
wait "$flood_pid"
after="$(wrk -t1 -c1 -d5s -s bench/healthz.lua "$base" | grep '^RESULT')"
peak_kib="$(awk '/VmHWM/ { print $2 }' "/proc/$server_pid/status")"
stop_server

python3 - "$results" "$raw" "$(grep '^RESULT' "$flood_out")" "$during" "$after" "$peak_kib" "$cold_ms" \
  "$DURATION" "$FLOOD" "$revoked" <<'PY'
import re, sys
results, raw, flood, during, after, peak_kib, cold_ms, duration, flood_secs, revoked = sys.argv[1:11]

def fields(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))

raw_rate = float(raw.split()[0])
rows = []
for line in open(results):
    name, connections, result = line.rstrip("\n").split("|", 2)
    rows.append((name, connections, fields(result)))

print(f"\nGatehouse load benchmark: {duration} s per scenario, wrk on loopback, SQLite, release build\n")
print("| scenario | connections | requests/s | p50 ms | p99 ms | non-2xx |")
print("|---|---:|---:|---:|---:|---:|")
for name, connections, f in rows:
    print(f"| {name} | {connections} | {float(f['rps']):.0f} | {f['p50_ms']} | {f['p99_ms']} | {f['non2xx']} |")
for name, _, f in rows:
    if name == "GraphQL revokeSession":
        print(f"\nrevokeSession: {revoked} sessions ended by {f['requests']} requests")
print(f"\nRaw argon2 limit (m=19456 t=2 p=1, all cores, outside the server): {raw}")
for name, _, f in rows:
    if name in ("login (right password)", "register"):
        print(f"  {name}: {float(f['rps']) / raw_rate:.3f} × the raw limit")
f, d, a = fields(flood), fields(during), fields(after)
print(f"\nFlood: 1000 connections logging in for {flood_secs} s")
print(f"  requests: {f['requests']} ({float(f['rps']):.0f}/s), statuses: {f['statuses']}, socket errors: {f['socket_errors']}")
print(f"  server peak RSS (VmHWM): {int(peak_kib) / 1024:.1f} MiB")
print(f"  /healthz during the flood: p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms ({d['requests']} requests)")
print(f"  /healthz after the flood:  p50 {a['p50_ms']} ms, p99 {a['p99_ms']} ms ({a['requests']} requests)")
print(f"\nCold start to ready (migrations already applied): {cold_ms} ms")
PY
