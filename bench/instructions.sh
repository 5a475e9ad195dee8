#!/usr/bin/env bash
# Instructions per request of a release binary on an unknown-user login
# flood, counted by valgrind (callgrind): the server on a fresh SQLite
# database, 16 clients, N requests (2000 by default) after 320 to warm up,
# counters zeroed in between. Unlike CPU time, the count does not move with
# whatever else the machine runs, so two binaries compare in one run each
# (two runs of one binary differ by about 1 %: thread timing changes how
# batches form). It counts user-space instructions only: not the kernel
# (sockets, context switches, the hand-offs to SQLite's threads), not
# cache misses, so it says where the instructions go, not what is faster;
# a change that counted a third fewer instructions per audit event was
# slower on the machine (BENCHMARKS). The profile stays in OUT for
# callgrind_annotate.
#
#   bench/instructions.sh BINARY OUT [N]      (apt-get install valgrind)
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: bench/instructions.sh BINARY OUT [N]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 2; }
mkdir -p "$2"
bin="$(realpath "$1")" out="$(realpath "$2")" n="${3:-2000}"
rm -f "$out"/cg.out*
work="$(mktemp -d)"
pid=""
trap '[ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$work"' EXIT
cd "$(dirname "$0")/.."
# shellcheck source=bench/serve.sh
. bench/serve.sh
serve_under=(valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" --dump-instr=no)
serve "$bin" "$work"
port="${base##*:}"
# A fixed number of requests from 16 threads with keep-alive connections.
flood() {
  python3 - "$port" "$1" <<'PY'
import http.client, json, sys, threading
port, n = int(sys.argv[1]), int(sys.argv[2])
body = json.dumps({"username": "nobody", "password": "Vq7#kPz!rw-load"})
def client(k):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for _ in range(k):
        conn.request("POST", "/user/login/", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        assert response.status == 400, response.status
threads = [threading.Thread(target=client, args=(n // 16,)) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
PY
}
flood 320
sleep 0.5
callgrind_control -z "$pid" >/dev/null
flood "$n"
sleep 0.5
callgrind_control -d "$pid" >/dev/null
sleep 1
total="$(grep -h '^summary' "$out"/cg.out.* | awk '{s += $2} END {print s}')"
echo "requests=$(( n / 16 * 16 )) instructions_per_request=$(( total / (n / 16 * 16) ))"
