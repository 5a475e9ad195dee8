#!/usr/bin/env bash
# Instructions per request of a release binary on an unknown-user login
# flood (or, with SCENARIO=logout, a logout flood, a fresh seeded token per
# request), counted by valgrind (callgrind): the server on a fresh SQLite
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
#   SCENARIO=logout bench/instructions.sh BINARY OUT
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: [SCENARIO=unknown|logout] bench/instructions.sh BINARY OUT [N]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 2; }
mkdir -p "$2"
bin="$(realpath "$1")" out="$(realpath "$2")" n="${3:-2000}" scenario="${SCENARIO:-unknown}"
case $scenario in unknown | logout) ;; *) echo "unknown scenario: $scenario (unknown|logout)" >&2; exit 2 ;; esac
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
# A fixed number of requests from 16 threads with keep-alive connections:
# unknown-user logins, or logouts each spending a fresh seeded token
# (`flood FIRST COUNT` takes tokens FIRST to FIRST+COUNT-1).
if [ "$scenario" = logout ]; then
  python3 bench/seed_sessions.py "$work/db" "$id" $(( n + 320 )) > "$work/tokens.txt"
fi
flood() {
  python3 - "$port" "$scenario" "$id" "$work/tokens.txt" "$1" "$2" <<'PY'
import http.client, json, sys, threading
port, scenario, user_id, tokens_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
first, n = int(sys.argv[5]), int(sys.argv[6])
if scenario == "logout":
    tokens = open(tokens_file).read().split()[first:first + n]
    requests = [("POST", f"/user/logout/{user_id}/", "", {"Authorization": "Bearer " + t}, 200)
                for t in tokens]
else:
    body = json.dumps({"username": "nobody", "password": "Vq7#kPz!rw-load"})
    requests = [("POST", "/user/login/", body, {"Content-Type": "application/json"}, 400)] * n
def client(share):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for method, path, body, headers, status in share:
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        response.read()
        assert response.status == status, response.status
shares = [requests[k::16] for k in range(16)]
threads = [threading.Thread(target=client, args=(share,)) for share in shares]
for t in threads: t.start()
for t in threads: t.join()
PY
}
flood 0 320
sleep 0.5
callgrind_control -z "$pid" >/dev/null
flood 320 "$n"
sleep 0.5
callgrind_control -d "$pid" >/dev/null
sleep 1
total="$(grep -h '^summary' "$out"/cg.out.* | awk '{s += $2} END {print s}')"
echo "requests=$n instructions_per_request=$(( total / n ))"
