#!/usr/bin/env python3
"""keyhouse with OAuth software it did not write.

authlib gets access tokens with client_secret_basic and with private_key_jwt (an ES256
key made by `cryptography`), and for an account of a project (`name@project`) with
client_secret_basic and client_secret_post; PyJWT verifies each against the server's JWKS (signature,
issuer, audience, expiry); each token then calls /api/v1/me. The same code is the
Python example of docs/oauth.md.

Needs KH_URL (the server) and KH_TOKEN (an admin secret). Prints
`oauth-client: 1 passed, 0 failed` on success and exits non-zero on any failure.
"""

import os
import sys
import time
import uuid

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

URL = os.environ["KH_URL"].rstrip("/")
ADMIN = os.environ["KH_TOKEN"]


class ShortLivedPrivateKeyJWT(PrivateKeyJWT):
    """authlib's assertions live an hour and reuse one `claims` dict (and so one jti);
    keyhouse accepts assertions that expire within five minutes, each jti once."""

    def sign(self, auth, token_endpoint):
        self.claims = {"exp": int(time.time()) + 60}
        return super().sign(auth, token_endpoint)


def fail(what):
    print(f"oauth-client: FAIL: {what}", file=sys.stderr)
    print("oauth-client: 0 passed, 1 failed")
    sys.exit(1)


def check(condition, what):
    if not condition:
        fail(what)


def api(method, path, token, **kwargs):
    return requests.request(
        method, URL + path, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kwargs
    )


def verify(access_token, metadata, client_id):
    """What a resource server does offline: check the token against the JWKS."""
    typ = jwt.get_unverified_header(access_token).get("typ")
    check(typ == "at+jwt", f"the header's typ is {typ!r}, not at+jwt (RFC 9068)")
    signing_key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(access_token)
    claims = jwt.decode(
        access_token,
        signing_key.key,
        algorithms=["ES256"],
        audience="keyhouse",
        issuer=metadata["issuer"],
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
    )
    check(claims["client_id"] == client_id, f"client_id claim {claims['client_id']!r}")
    check(claims["exp"] > time.time(), "the token is already expired")
    return claims


def me(access_token, client_id):
    answer = api("GET", "/api/v1/me", access_token)
    check(answer.status_code == 200, f"/api/v1/me answered {answer.status_code}: {answer.text}")
    body = answer.json()
    check(body["name"] == client_id, f"/api/v1/me is {body['name']!r}")
    check(body["authenticated_by"]["kind"] == "access_token", "not authenticated by the token")
    return body


def main():
    metadata = requests.get(f"{URL}/.well-known/oauth-authorization-server", timeout=10).json()
    token_endpoint = metadata["token_endpoint"]
    check("private_key_jwt" in metadata["token_endpoint_auth_methods_supported"], "metadata")

    client_id = "py-" + uuid.uuid4().hex[:8]
    created = api(
        "POST",
        "/api/v1/service-accounts",
        ADMIN,
        json={"name": client_id, "roles": ["viewer"], "initial_secret": {}},
    )
    check(created.status_code == 201, f"creating the client: {created.status_code} {created.text}")
    secret = created.json()["secret"]["secret"]

    # client_secret_basic
    session = OAuth2Session(client_id, secret, token_endpoint_auth_method="client_secret_basic")
    token = session.fetch_token(token_endpoint, grant_type="client_credentials")
    claims = verify(token["access_token"], metadata, client_id)
    check(claims["sub"] == created.json()["id"], "sub is the account id")
    me(token["access_token"], client_id)

    # private_key_jwt, with a key pair made here; only the public key is uploaded.
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    uploaded = api(
        "POST",
        f"/api/v1/service-accounts/{client_id}/credentials",
        ADMIN,
        json={"type": "public_key", "name": "python", "public_key": public_pem},
    )
    check(uploaded.status_code == 201, f"uploading the key: {uploaded.status_code} {uploaded.text}")
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    session = OAuth2Session(
        client_id, ECKey.import_key(private_pem), token_endpoint_auth_method="private_key_jwt"
    )
    session.register_client_auth_method(ShortLivedPrivateKeyJWT(token_endpoint, alg="ES256"))
    for _ in range(2):  # a second token needs a second assertion, with a new jti
        token = session.fetch_token(
            token_endpoint, grant_type="client_credentials", scope="service_accounts:read"
        )
        claims = verify(token["access_token"], metadata, client_id)
        check(claims["scope"] == "service_accounts:read", f"scope {claims['scope']!r}")
        check(me(token["access_token"], client_id)["permissions"] == ["service_accounts:read"], "scope")
    refused = api("GET", "/api/v1/groups", token["access_token"])
    check(refused.status_code == 403, f"a narrowed token read groups: {refused.status_code}")

    project_client()
    print("oauth-client: 1 passed, 0 failed")


def project_client():
    """An account of a project is the client `name@project`, unmodified for authlib."""
    metadata = requests.get(f"{URL}/.well-known/oauth-authorization-server", timeout=10).json()
    project = "py-" + uuid.uuid4().hex[:8]
    made = api("POST", "/api/v1/projects", ADMIN, json={"name": project})
    check(made.status_code == 201, f"creating the project: {made.status_code} {made.text}")
    created = api(
        "POST",
        f"/api/v1/projects/{project}/service-accounts",
        ADMIN,
        json={"name": "worker", "roles": ["viewer"], "initial_secret": {}},
    )
    check(created.status_code == 201, f"creating the client: {created.status_code} {created.text}")
    client_id = created.json()["client_id"]
    check(client_id == f"worker@{project}", f"the account's client_id is {client_id!r}")
    secret = created.json()["secret"]["secret"]
    for method in ("client_secret_basic", "client_secret_post"):
        session = OAuth2Session(client_id, secret, token_endpoint_auth_method=method)
        token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
        claims = verify(token["access_token"], metadata, client_id)
        check(claims.get("project") == project, f"project claim {claims.get('project')!r}")
        check(claims["sub"] == created.json()["id"], "sub is the account id")
        me(token["access_token"], "worker")
        listed = api("GET", f"/api/v1/projects/{project}/service-accounts", token["access_token"])
        check(listed.status_code == 200, f"listing its project: {listed.status_code}")
        outside = api("GET", "/api/v1/service-accounts", token["access_token"])
        check(outside.status_code == 403, f"a project token listed the root: {outside.status_code}")
    introspected = requests.post(
        metadata["introspection_endpoint"],
        auth=(client_id, secret),
        data={"token": token["access_token"]},
        timeout=10,
    ).json()
    check(introspected.get("active") is True, f"introspection: {introspected}")
    check(introspected.get("client_id") == client_id, f"introspection: {introspected}")


if __name__ == "__main__":
    main()
