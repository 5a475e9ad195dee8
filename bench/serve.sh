# Sourced by bench/ab.sh, bench/threads.sh and bench/instructions.sh: serve
# a release binary on a fresh SQLite database for a flood and register its
# one user.
#
#   serve BINARY WORKDIR   sets base (the server's URL), pid and id (the
#                          user's), in the caller's scope; the server's log
#                          is WORKDIR/log. Rate limits and throttling are
#                          off, logging at warn. The array serve_under, if
#                          the caller sets it, is a command the binary runs
#                          under (valgrind's, say): pid is then that
#                          command's. The server has a minute to start.
serve() {
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  base="http://127.0.0.1:$port"
  "${serve_under[@]}" "$1" --bind "127.0.0.1:$port" --database-url "sqlite://$2/db?mode=rwc" \
    --rate-limit off --login-throttle off --log-level warn > "$2/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 1200); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
  curl -fs "$base/readyz" >/dev/null || { echo "the server did not start:" >&2; cat "$2/log" >&2; return 1; }
  id="$(curl -fs "$base/user/register/" -H 'Content-Type: application/json' \
    -d '{"username":"loaduser","email":"loaduser@example.com","password":"Vq7#kPz!rw-load"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
}
