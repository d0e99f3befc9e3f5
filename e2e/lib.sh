# shellcheck shell=bash
# Helpers to run a throw-away keyhouse server for end-to-end tests.
#
# Usage (bash):
#   source e2e/lib.sh
#   start_keyhouse target/release/keyhouse || exit 1
#   trap stop_keyhouse EXIT
#   curl -H "Authorization: Bearer $KH_TOKEN" "$KH_URL/api/v1/me"
#
# start_keyhouse BIN [EXTRA_ARGS...]
#   Picks a free 127.0.0.1 port, makes a temp dir, generates an admin token
#   with gen_secret.py, starts `BIN serve EXTRA_ARGS...` in the background with
#     KEYHOUSE_SERVER__LISTEN=127.0.0.1:PORT
#     KEYHOUSE_STORAGE__PATH=$KH_DIR/keyhouse.redb   (fresh, empty)
#     KEYHOUSE_BOOTSTRAP__ADMIN_TOKEN=<token>
#   (log: $KH_DIR/server.log) and waits up to KH_START_TIMEOUT (default 30) s
#   for GET /healthz to answer 200. Exports KH_URL, KH_TOKEN, KH_PID, KH_DIR,
#   KH_LOG. Returns non-zero and prints the server log if it does not come up.
#   Extra environment for the server can simply be exported before the call.
#
# stop_keyhouse
#   SIGTERM, waits up to 10 s for exit, then SIGKILL. Safe to call twice.
#   Keeps $KH_DIR (log, screenshots) unless KH_CLEANUP=1.

KH_E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

_kh_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

_kh_print_log() {
  echo "----- keyhouse server log ($KH_LOG) -----" >&2
  if [ -s "$KH_LOG" ]; then tail -n 200 "$KH_LOG" >&2; else echo "(empty)" >&2; fi
  echo "----- end of server log -----" >&2
}

start_keyhouse() {
  local bin="${1:?usage: start_keyhouse BIN [EXTRA_ARGS...]}"
  shift
  local timeout="${KH_START_TIMEOUT:-30}"

  if [ ! -x "$bin" ]; then
    echo "start_keyhouse: $bin is not an executable file (build it first: cargo build --release)" >&2
    return 1
  fi
  bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
  command -v curl >/dev/null || { echo "start_keyhouse: curl not found (run e2e/install.sh)" >&2; return 1; }

  local port token dir
  port="$(_kh_free_port)" || { echo "start_keyhouse: could not pick a free port" >&2; return 1; }
  token="$(python3 "$KH_E2E_DIR/gen_secret.py")" || { echo "start_keyhouse: gen_secret.py failed" >&2; return 1; }
  dir="$(mktemp -d -t keyhouse-e2e.XXXXXX)" || return 1

  export KH_DIR="$dir"
  export KH_LOG="$dir/server.log"
  export KH_URL="http://127.0.0.1:$port"
  export KH_TOKEN="$token"

  KEYHOUSE_SERVER__LISTEN="127.0.0.1:$port" \
  KEYHOUSE_STORAGE__PATH="$dir/keyhouse.redb" \
  KEYHOUSE_BOOTSTRAP__ADMIN_TOKEN="$token" \
    "$bin" serve "$@" >"$KH_LOG" 2>&1 </dev/null &
  export KH_PID=$!

  local deadline=$((SECONDS + timeout)) code
  while :; do
    if ! kill -0 "$KH_PID" 2>/dev/null; then
      local rc=0
      wait "$KH_PID" 2>/dev/null || rc=$?
      echo "start_keyhouse: FAILED: keyhouse (pid $KH_PID) exited with status $rc before /healthz answered" >&2
      _kh_print_log
      unset KH_PID
      return 1
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$KH_URL/healthz" 2>/dev/null || true)"
    if [ "$code" = "200" ]; then
      echo "start_keyhouse: keyhouse up at $KH_URL (pid $KH_PID, dir $KH_DIR)" >&2
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "start_keyhouse: FAILED: $KH_URL/healthz did not answer 200 within ${timeout}s (last status: ${code:-none})" >&2
      _kh_print_log
      stop_keyhouse
      return 1
    fi
    sleep 0.2
  done
}

stop_keyhouse() {
  local pid="${KH_PID:-}"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "stop_keyhouse: pid $pid ignored SIGTERM for 10 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
  unset KH_PID
  if [ "${KH_CLEANUP:-0}" = "1" ] && [ -n "${KH_DIR:-}" ] && [ -d "$KH_DIR" ]; then
    rm -rf "$KH_DIR"
  fi
  return 0
}
