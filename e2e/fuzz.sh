#!/usr/bin/env bash
# Property-based API fuzzing of a running keyhouse with schemathesis 4.
#
# Usage:
#   KH_URL=http://127.0.0.1:PORT KH_TOKEN=kh_... e2e/fuzz.sh [EXTRA SCHEMATHESIS ARGS...]
#   (or: source e2e/lib.sh; start_keyhouse target/release/keyhouse; e2e/fuzz.sh)
#
# Env (all optional except KH_URL / KH_TOKEN):
#   VENV            virtualenv with schemathesis (default: <repo>/.venv, see install.sh)
#   CHECKS          comma-separated checks (default: all)
#   EXCLUDE_CHECKS  checks left out of CHECKS (default: positive_data_acceptance; why:
#                   e2e/README.md), empty for none
#   MAX_EXAMPLES    test cases per operation and phase (default: 100)
#   STATEFUL_STEPS  most calls in one stateful scenario (default: 10)
#   SEED            random seed, for reproducible runs (default: 1)
#   WORKERS         concurrent workers (default: 1)
#   PHASES          comma-separated phases (default: examples,coverage,fuzzing,stateful;
#                   the stateful one follows the document's links from each create)
#   FUZZ_TIMEOUT    hard wall-clock limit in seconds (default: 1200)
#   REPORT_DIR      JUnit report + crash cache (default: $KH_DIR/schemathesis or a temp dir)
#   ST_CONFIG       a schemathesis.toml to use (default: a generated one that only
#                   moves the crash cache into REPORT_DIR)
#
# Extra args are passed to `schemathesis run` unchanged, e.g. to skip an operation:
#   e2e/fuzz.sh --exclude-operation-id delete_token
#   e2e/fuzz.sh --exclude-path-regex '^/api/v1/admin' --exclude-method DELETE
# (schemathesis runs with REPORT_DIR as its working directory: give path-valued
# extra args as absolute paths.)
#
# Exits non-zero if schemathesis reports any failure or error. Prints a final
# `schemathesis: 1 passed, 0 failed` / `schemathesis: 0 passed, 1 failed` line.
set -uo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$E2E_DIR/.." && pwd)"
VENV="${VENV:-$REPO_DIR/.venv}"

: "${KH_URL:?KH_URL must be set (base URL of a running keyhouse)}"
: "${KH_TOKEN:?KH_TOKEN must be set (admin bearer secret)}"
KH_URL="${KH_URL%/}"

ST="$VENV/bin/schemathesis"
if [ ! -x "$ST" ]; then
  echo "fuzz.sh: $ST not found (run e2e/install.sh or set VENV)" >&2
  echo "schemathesis: 0 passed, 1 failed"
  exit 1
fi

CHECKS="${CHECKS:-all}"
EXCLUDE_CHECKS="${EXCLUDE_CHECKS-positive_data_acceptance}"
MAX_EXAMPLES="${MAX_EXAMPLES:-100}"
SEED="${SEED:-1}"
# One worker: concurrent workers crash schemathesis inside CPython 3.11 (SystemError:
# "AST constructor recursion depth mismatch") now and then.
WORKERS="${WORKERS:-1}"
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-1200}"
if [ -z "${REPORT_DIR:-}" ]; then
  if [ -n "${KH_DIR:-}" ]; then REPORT_DIR="$KH_DIR/schemathesis"; else REPORT_DIR="$(mktemp -d -t kh-schemathesis.XXXXXX)"; fi
fi
mkdir -p "$REPORT_DIR"
REPORT_DIR="$(cd "$REPORT_DIR" && pwd)"

# Keep schemathesis' crash cache (for `schemathesis replay`) out of the work
# tree: a generated config puts it under $REPORT_DIR. ST_CONFIG=path/to/
# schemathesis.toml uses that file instead.
if [ -z "${ST_CONFIG:-}" ]; then
  ST_CONFIG="$REPORT_DIR/schemathesis.toml"
  printf '[cache]\ndirectory = "%s"\n\n[phases.stateful]\nmax-steps = %s\n' \
    "$REPORT_DIR/cache" "${STATEFUL_STEPS:-10}" >"$ST_CONFIG"
fi

args=(
  --config-file "$ST_CONFIG"
  run "$KH_URL/api-docs/openapi.json"
  --url "$KH_URL"
  --header "Authorization: Bearer $KH_TOKEN"
  --checks "$CHECKS"
  --max-examples "$MAX_EXAMPLES"
  --seed "$SEED"
  --workers "$WORKERS"
  --generation-database none
  --wait-for-schema 15
  --request-timeout 10
  --report junit
  --report-dir "$REPORT_DIR"
)
[ -n "$EXCLUDE_CHECKS" ] && args+=(--exclude-checks "$EXCLUDE_CHECKS")
args+=(--phases "${PHASES:-examples,coverage,fuzzing,stateful}")
[ -t 1 ] || args+=(--no-color)

echo "fuzz.sh: schemathesis $("$ST" --version 2>/dev/null | awk '{print $NF}') against $KH_URL (checks=$CHECKS${EXCLUDE_CHECKS:+ but $EXCLUDE_CHECKS}, max-examples=$MAX_EXAMPLES, seed=$SEED, workers=$WORKERS)"
rc=0
# The Authorization value is redacted in schemathesis' output (output sanitization is on by default).
# Run from REPORT_DIR so hypothesis' own cache (.hypothesis/) stays out of the
# work tree; so give path-valued extra args (e.g. --baseline) as absolute paths.
export PYTHONPATH="$E2E_DIR${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=fuzz_hooks
(cd "$REPORT_DIR" && exec timeout --kill-after=30 "$FUZZ_TIMEOUT" "$ST" "${args[@]}" "$@") || rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "fuzz.sh: FAILED: schemathesis did not finish within ${FUZZ_TIMEOUT}s" >&2
fi
echo "fuzz.sh: JUnit report in $REPORT_DIR"
if [ "$rc" -eq 0 ]; then
  echo "schemathesis: 1 passed, 0 failed"
else
  echo "fuzz.sh: FAILED (schemathesis exit status $rc)" >&2
  echo "schemathesis: 0 passed, 1 failed"
  exit 1
fi
