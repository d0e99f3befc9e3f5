#!/usr/bin/env bash
# Generates a typed client from the OpenAPI document a running keyhouse serves
# (openapi-typescript), type-checks flow.ts against it (tsc, strict), then runs the
# compiled flow with openapi-fetch against that server.
#
# Usage: KH_URL=http://127.0.0.1:PORT KH_TOKEN=kh_... e2e/generated_client/run.sh
# (npm ci in e2e/ first: e2e/install.sh does it.)
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${KH_URL:?KH_URL must be set (base URL of a running keyhouse)}"
: "${KH_TOKEN:?KH_TOKEN must be set (admin bearer secret)}"
cd "$DIR"
rm -rf generated build

npx --no-install openapi-typescript "${KH_URL%/}/api-docs/openapi.json" -o generated/schema.d.ts
npx --no-install tsc -p tsconfig.json || {
  echo "generated_client: FAILED: flow.ts does not type-check against the generated client" >&2
  exit 1
}
node build/flow.js
