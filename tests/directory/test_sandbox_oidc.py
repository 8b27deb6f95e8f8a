"""The directory sandbox's OpenID provider: code flow with PKCE, tokens a relying party
can verify with the published JWKS, and the one-shot faults for negative tests."""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from tests.support.directory import CLIENT_ID, CLIENT_SECRET, ISSUER, build_sandbox

REDIRECT = "http://127.0.0.1:8000/auth/oidc/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def auth_params(challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "openid email profile",
        "state": "st-123",
        "nonce": "n-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


async def sign_in(
    sandbox: httpx.AsyncClient, person: str, **extra: str
) -> tuple[dict[str, Any], str]:
    """Run the code flow as the browser would; return the token response and verifier."""
    verifier, challenge = pkce()
    params = auth_params(challenge, **extra)
    page = await sandbox.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    assert person in page.text
    r = await sandbox.post("/oauth/authorize", data={**params, "person": person})
    assert r.status_code == 302, r.text
    location = urlparse(r.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == ["st-123"]
    token = await sandbox.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    assert token.status_code == 200, token.text
    return token.json(), verifier


async def verified_claims(sandbox: httpx.AsyncClient, id_token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set((await sandbox.get("/oauth/jwks")).json())
    return dict(jwt.decode(id_token, keys, algorithms=["RS256"]).claims)


async def test_discovery_document_points_at_the_endpoints(sandbox: httpx.AsyncClient) -> None:
    doc = (await sandbox.get("/.well-known/openid-configuration")).json()
    assert doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == f"{ISSUER}/oauth/authorize"
    assert doc["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert doc["jwks_uri"] == f"{ISSUER}/oauth/jwks"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]


async def test_vendor_staff_sign_in_yields_verifiable_token_with_company_claim(
    sandbox: httpx.AsyncClient,
) -> None:
    tokens, _ = await sign_in(sandbox, "staff@cafe-altiplano.cl")
    claims = await verified_claims(sandbox, tokens["id_token"])
    assert claims["iss"] == ISSUER
    assert claims["aud"] == CLIENT_ID
    assert claims["nonce"] == "n-456"
    assert claims["email"] == "staff@cafe-altiplano.cl"
    assert claims["inforedchile_company"] == "inf-1001"
    assert isinstance(claims["groups"], list)
    info = await sandbox.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200
    assert info.json()["sub"] == claims["sub"]
    assert info.json()["inforedchile_company"] == "inf-1001"


async def test_operator_and_buyer_claims(sandbox: httpx.AsyncClient) -> None:
    operator, _ = await sign_in(sandbox, "operador@marketred.cl")
    assert "marketred-operators" in (await verified_claims(sandbox, operator["id_token"]))["groups"]
    buyer, _ = await sign_in(sandbox, "comprador@marketred.cl")
    claims = await verified_claims(sandbox, buyer["id_token"])
    assert claims["groups"] == []
    assert "inforedchile_company" not in claims


async def test_pkce_is_required_and_checked(sandbox: httpx.AsyncClient) -> None:
    params = auth_params("x" * 43)
    params.pop("code_challenge_method")
    r = await sandbox.get("/oauth/authorize", params=params)
    assert r.status_code == 302
    assert "error=invalid_request" in r.headers["location"]
    assert "state=st-123" in r.headers["location"]

    _verifier, challenge = pkce()
    params = auth_params(challenge)
    r = await sandbox.post("/oauth/authorize", data={**params, "person": "comprador@marketred.cl"})
    code = parse_qs(urlparse(r.headers["location"]).query)["code"][0]
    bad = await sandbox.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": "wrong-verifier-" + "x" * 40,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_grant"


async def test_client_secret_and_single_use_codes(sandbox: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    params = auth_params(challenge)
    r = await sandbox.post("/oauth/authorize", data={**params, "person": "comprador@marketred.cl"})
    code = parse_qs(urlparse(r.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    wrong = await sandbox.post("/oauth/token", data=form, auth=(CLIENT_ID, "wrong"))
    assert wrong.status_code == 401
    posted = await sandbox.post(
        "/oauth/token", data={**form, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert posted.status_code == 200, posted.text
    again = await sandbox.post("/oauth/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))
    assert again.status_code == 400


async def test_unknown_client_and_foreign_redirect_are_refused(
    sandbox: httpx.AsyncClient,
) -> None:
    _, challenge = pkce()
    r = await sandbox.get("/oauth/authorize", params=auth_params(challenge, client_id="other"))
    assert r.status_code == 400
    r = await sandbox.get(
        "/oauth/authorize", params=auth_params(challenge, redirect_uri="https://evil.example/cb")
    )
    assert r.status_code == 400


async def test_armed_faults_break_exactly_the_next_token(sandbox: httpx.AsyncClient) -> None:
    armed = await sandbox.post("/_sandbox/oidc/fault", json={"fault": "tampered_signature"})
    assert armed.status_code == 200
    tampered, _ = await sign_in(sandbox, "comprador@marketred.cl")
    with pytest.raises(BadSignatureError):
        await verified_claims(sandbox, tampered["id_token"])
    normal, _ = await sign_in(sandbox, "comprador@marketred.cl")
    assert (await verified_claims(sandbox, normal["id_token"]))["nonce"] == "n-456"
    wrong_nonce, _ = await sign_in(sandbox, "comprador@marketred.cl", sandbox_fault="wrong_nonce")
    assert (await verified_claims(sandbox, wrong_nonce["id_token"]))["nonce"] != "n-456"


def test_signing_key_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "directory-sandbox.sqlite3"
    first = build_sandbox(state).state.oidc.jwks()
    second = build_sandbox(state).state.oidc.jwks()
    assert first == second
    assert first["keys"][0]["alg"] == "RS256"
    assert "d" not in first["keys"][0]
