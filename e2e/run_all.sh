#!/usr/bin/env bash
# Run the whole out-of-cargo end-to-end suite against a fresh keyhouse.
#
# Usage: e2e/run_all.sh [BIN] [-- EXTRA FUZZ ARGS...]
#   BIN defaults to target/release/keyhouse (relative to the repo root).
#   SKIP_OPENAPI=1 / SKIP_CLIENT=1 / SKIP_SWAGGER=1 / SKIP_CONSOLE=1 / SKIP_OAUTH=1 /
#   SKIP_FUZZ=1 skip a part.
# Each part runs against its own fresh server (fresh database), the Swagger UI
# check first. Prints `e2e: N passed, M failed` last; exits non-zero on failure.
set -uo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$E2E_DIR/.." && pwd)"
BIN="${1:-$REPO_DIR/target/release/keyhouse}"
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift

# shellcheck source=lib.sh
source "$E2E_DIR/lib.sh"
trap stop_keyhouse EXIT

passed=0
failed=0
run_part() {  # run_part NAME CMD...
  local name="$1"
  shift
  echo "=== e2e: $name ==="
  if ! start_keyhouse "$BIN"; then
    echo "=== e2e: $name: FAILED (server did not start) ==="
    failed=$((failed + 1))
    return
  fi
  if "$@"; then
    passed=$((passed + 1))
    echo "=== e2e: $name: ok (artifacts in $KH_DIR) ==="
  else
    failed=$((failed + 1))
    echo "=== e2e: $name: FAILED (artifacts and server log in $KH_DIR) ==="
    echo "--- last 50 lines of the server log ---"
    tail -n 50 "$KH_LOG"
  fi
  stop_keyhouse
}

[ "${SKIP_OPENAPI:-0}" = "1" ] || run_part openapi-spec-validator bash "$E2E_DIR/openapi_lint.sh" validator
[ "${SKIP_OPENAPI:-0}" = "1" ] || run_part redocly-lint bash "$E2E_DIR/openapi_lint.sh" redocly
[ "${SKIP_CLIENT:-0}" = "1" ] || run_part generated-client bash "$E2E_DIR/generated_client/run.sh"
[ "${SKIP_SWAGGER:-0}" = "1" ] || run_part swagger-ui node "$E2E_DIR/swagger_ui.mjs"
[ "${SKIP_CONSOLE:-0}" = "1" ] || run_part web-console node "$E2E_DIR/console.mjs"
[ "${SKIP_OAUTH:-0}" = "1" ] || run_part oauth-client "${VENV:-$REPO_DIR/.venv}/bin/python" "$E2E_DIR/oauth_client.py"
[ "${SKIP_OAUTH:-0}" = "1" ] || run_part oauth-curl bash "$E2E_DIR/oauth_curl.sh"
# The fuzzer sends requests without credentials on purpose; with the default limit its
# own address would soon be blocked and the rest of the run would see only 429.
[ "${SKIP_FUZZ:-0}" = "1" ] || KEYHOUSE_SECURITY__MAX_AUTH_FAILURES=1000000 run_part schemathesis "$E2E_DIR/fuzz.sh" "$@"

echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
