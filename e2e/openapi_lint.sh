#!/usr/bin/env bash
# Checks the OpenAPI document a running keyhouse serves with a standard tool.
#
# Usage: KH_URL=http://127.0.0.1:PORT e2e/openapi_lint.sh validator|redocly
#   validator  openapi-spec-validator (PyPI, in $VENV): the document against the
#              OpenAPI 3.1 schema; any error fails.
#   redocly    Redocly CLI `lint` with e2e/redocly.yaml (`recommended`); any error fails,
#              warnings are printed (the ones kept are explained in docs/api.md).
# The document is saved as $KH_DIR/openapi.json (or a temp dir) for a look afterwards.
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$E2E_DIR/.." && pwd)"
VENV="${VENV:-$REPO_DIR/.venv}"
: "${KH_URL:?KH_URL must be set (base URL of a running keyhouse)}"
tool="${1:?usage: openapi_lint.sh validator|redocly}"

out_dir="${KH_DIR:-$(mktemp -d -t kh-openapi.XXXXXX)}"
doc="$out_dir/openapi.json"
curl -fsS --max-time 10 -o "$doc" "${KH_URL%/}/api-docs/openapi.json"

case "$tool" in
  validator)
    "$VENV/bin/openapi-spec-validator" --schema 3.1 --validation-errors all "$doc" || {
      echo "openapi_lint.sh: FAILED: openapi-spec-validator rejects $doc" >&2
      exit 1
    }
    ;;
  redocly)
    # No telemetry, no update check: CI must not depend on the network here.
    (cd "$E2E_DIR" && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
      npx --no-install redocly lint --config "$E2E_DIR/redocly.yaml" --format stylish "$doc") || {
      echo "openapi_lint.sh: FAILED: Redocly CLI lint (recommended) reports errors in $doc" >&2
      exit 1
    }
    ;;
  *)
    echo "openapi_lint.sh: unknown tool $tool (validator or redocly)" >&2
    exit 2
    ;;
esac
echo "openapi_lint.sh: $tool: ok"
