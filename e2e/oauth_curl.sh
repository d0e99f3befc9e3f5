#!/usr/bin/env bash
# The curl walk-through of docs/oauth.md, run as written against KH_URL with KH_TOKEN
# (an admin secret). Prints `oauth-curl: 1 passed, 0 failed` on success.
set -euo pipefail
KH="${KH_URL:?}"
ADMIN="${KH_TOKEN:?}"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
fail() { echo "oauth-curl: FAIL: $*" >&2; echo "oauth-curl: 0 passed, 1 failed"; exit 1; }

# 1. An account for the client, with a secret.
SECRET=$(curl -sf -X POST "$KH/api/v1/service-accounts" -H "Authorization: Bearer $ADMIN" \
  -H 'Content-Type: application/json' -d '{"name": "curl-client", "roles": ["viewer"], "initial_secret": {}}' \
  | json '["secret"]["secret"]')

# 2. A token (client_secret_basic), narrowed to one permission.
TOKEN=$(curl -sf -u "curl-client:$SECRET" -d grant_type=client_credentials \
  -d scope=service_accounts:read "$KH/oauth2/token" | json '["access_token"]')

# 3. The token on the API.
curl -sf "$KH/api/v1/me" -H "Authorization: Bearer $TOKEN" | json '["name"]' | grep -qx curl-client \
  || fail "/api/v1/me with the token"

# 4. Introspection by the client itself (client_secret_post).
ACTIVE=$(curl -sf -d client_id=curl-client -d "client_secret=$SECRET" -d "token=$TOKEN" \
  "$KH/oauth2/introspect" | json '["active"]')
[ "$ACTIVE" = True ] || fail "introspection says $ACTIVE"

# 5. Revocation: the token stops working at once.
curl -sf -u "curl-client:$SECRET" -d "token=$TOKEN" "$KH/oauth2/revoke"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$KH/api/v1/me" -H "Authorization: Bearer $TOKEN")
[ "$STATUS" = 401 ] || fail "a revoked token answered $STATUS"

echo "oauth-curl: 1 passed, 0 failed"
