#!/usr/bin/env bash
# Where a release binary's CPU goes during one flood, by thread: the tokio
# workers (summed, with any blocking-pool threads), each SQLite
# connection's thread on its own (sqlx runs one per connection; the
# writer's is the one that is busy when nothing but the audit trail
# writes), the hashing pool. Prints CPU µs per request and context switches
# per request for each, read from /proc before and after one wrk run
# (clock ticks of 10 ms: differences under about 0.2 µs per request are not
# resolved; a thread that exits during the run is left out). A single
# thread's figure (the writer's, say) is steadier than the whole process's
# when a change touches only that thread; alternate binaries all the same.
#
#   bench/threads.sh BINARY unknown|logout
#   DURATION=5 bench/threads.sh target/release/gatehouse unknown
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: bench/threads.sh BINARY unknown|logout" >&2; exit 2; }
case $2 in unknown | logout) ;; *) echo "unknown scenario: $2 (unknown|logout)" >&2; exit 2 ;; esac
bin="$(realpath "$1")"
cd "$(dirname "$0")/.."

DURATION="${DURATION:-5}"
export BENCH_DIR="$PWD/bench" BENCH_THREADS=2
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }

# shellcheck source=bench/serve.sh
. bench/serve.sh
work="$(mktemp -d)"
pid=""
trap '[ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$work"' EXIT
serve "$bin" "$work"
[ "$2" != logout ] || python3 bench/seed_sessions.py "$work/db" "$id" $(( DURATION * 40000 )) > "$work/tokens.txt"

# One line per thread: tid, name, CPU ticks (user + system), voluntary and
# involuntary context switches.
snapshot() {
  for task in /proc/"$pid"/task/*; do
    echo "$(basename "$task") $(tr ' ' _ < "$task/comm")" \
      "$(sed 's/.*) //' "$task/stat" | awk '{print $12 + $13}')" \
      "$(awk '/^(voluntary|nonvoluntary)_ctxt_switches/ {printf "%s ", $2}' "$task/status")"
  done
}
snapshot > "$work/before"
case $2 in
  unknown) out="$(BENCH_USERNAME=nobody wrk -t2 -c32 -d"${DURATION}s" -s bench/login.lua "$base")" ;;
  logout) out="$(BENCH_USER_ID="$id" BENCH_TOKENS="$work/tokens.txt" wrk -t2 -c32 -d"${DURATION}s" -s bench/logout.lua "$base")" ;;
esac
snapshot > "$work/after"
grep -o 'requests=[0-9]* rps=[0-9.]*' <<<"$out"
python3 - "$work/before" "$work/after" "$(grep -o 'requests=[0-9]*' <<<"$out" | cut -d= -f2)" "$(getconf CLK_TCK)" <<'PY'
import sys
def load(path):
    return {line.split()[0]: line.split() for line in open(path)}
before, after = load(sys.argv[1]), load(sys.argv[2])
requests, ticks = max(int(sys.argv[3]), 1), int(sys.argv[4])
groups = {}
for tid, (_, name, cpu, vol, invol) in after.items():
    _, _, cpu0, vol0, invol0 = before.get(tid, [tid, name, 0, 0, 0])
    # Each SQLite connection's thread is shown on its own; the rest by kind.
    key = f"{name} ({tid})" if name.startswith("sqlx") else name.rstrip("0123456789-")
    g = groups.setdefault(key, [0, 0, 0, 0])
    g[0] += int(cpu) - int(cpu0); g[1] += int(vol) - int(vol0); g[2] += int(invol) - int(invol0); g[3] += 1
total = 0.0
for key, (cpu, vol, invol, n) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
    us = cpu * 1e6 / ticks / requests
    total += us
    if us >= 0.05:
        print(f"  {key:32} x{n:<2} cpu_us/req {us:6.1f}  switches/req {vol / requests:5.2f} voluntary, {invol / requests:5.2f} not")
print(f"  total cpu_us/req {total:.1f}")
PY
