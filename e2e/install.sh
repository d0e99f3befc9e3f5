#!/usr/bin/env bash
# Idempotent installer for the keyhouse end-to-end harness.
# Needs: root (for apt), Python 3.11+ with pip/venv, Node + npm.
# Installs: Debian chromium + curl, the pinned npm packages of e2e/package.json
# (npm ci: playwright-core, axe-core, @redocly/cli, openapi-typescript, openapi-fetch,
# typescript), and a virtualenv at $VENV (default: <repo>/.venv) with
# schemathesis, openapi-spec-validator, authlib and pyjwt[crypto].
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$E2E_DIR/.." && pwd)"
VENV="${VENV:-$REPO_DIR/.venv}"

# Pinned versions (keep in sync with the report / docs).
SCHEMATHESIS_VERSION="4.32.5"
AUTHLIB_VERSION="1.9.9"
PYJWT_VERSION="2.15.1"
OPENAPI_SPEC_VALIDATOR_VERSION="0.9.0"

LOG="$(mktemp -t keyhouse-e2e-install.XXXXXX.log)"
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "install.sh: FAILED (exit $rc); log follows:" >&2; cat "$LOG" >&2; fi; rm -f "$LOG"' EXIT

run() {  # run quietly, output goes to the log (printed on failure)
  echo "+ $*" >>"$LOG"
  "$@" >>"$LOG" 2>&1
}

# 1. System packages: chromium and curl.
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install.sh: apt-get install ${need_apt[*]}"
  run $SUDO apt-get update
  run env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need_apt[@]}"
fi
[ -x /usr/bin/chromium ] || { echo "install.sh: /usr/bin/chromium missing after install" >&2; exit 1; }

# 2. Node dependencies, pinned in package-lock.json (never 'playwright install').
echo "install.sh: npm ci in e2e/"
(cd "$E2E_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 run npm ci --no-audit --no-fund)

# 3. Python virtualenv.
if [ ! -x "$VENV/bin/python" ]; then
  echo "install.sh: creating venv at $VENV"
  if ! run python3 -m venv "$VENV"; then
    # Debian's system python needs python3-venv for ensurepip.
    run apt-get install -y --no-install-recommends python3-venv
    rm -rf "$VENV"
    run python3 -m venv "$VENV"
  fi
fi
echo "install.sh: pip install into $VENV"
run "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "schemathesis==$SCHEMATHESIS_VERSION" \
  "authlib==$AUTHLIB_VERSION" \
  "pyjwt[crypto]==$PYJWT_VERSION" \
  "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"

# 4. Sanity checks.
run "$VENV/bin/schemathesis" --version
run "$VENV/bin/python" -c "import authlib, jwt, cryptography"
run "$VENV/bin/openapi-spec-validator" --help
(cd "$E2E_DIR" && run node -e "require('playwright-core')")
(cd "$E2E_DIR" && run npx --no-install tsc --version && run npx --no-install redocly --version && run npx --no-install openapi-typescript --version)
echo "install.sh: ok ($("$VENV/bin/schemathesis" --version 2>/dev/null | tr -d '\n'), playwright-core $(cd "$E2E_DIR" && node -p "require('playwright-core/package.json').version"), $(/usr/bin/chromium --version 2>/dev/null | tr -d '\n'))"
