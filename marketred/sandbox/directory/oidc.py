"""OpenID Connect provider of the directory sandbox (dev and tests only).

Endpoints (issuer = the sandbox's base URL, e.g. http://127.0.0.1:8020):
- `GET /.well-known/openid-configuration`, `GET /oauth/jwks` (RS256 key generated once and
  kept in the sandbox state file, so tokens stay valid across restarts);
- `GET /oauth/authorize`: authorization code flow; PKCE S256 is required; `state` and
  `nonce` are passed through. It shows a page to pick a demo person; the page POSTs back
  to `/oauth/authorize` with `person=<email>`, which redirects to `redirect_uri` with
  `code` and `state`. Tests may POST that form directly (no browser needed).
- `POST /oauth/token`: code → `id_token` + `access_token`; client authentication with
  client_secret_basic or client_secret_post (`client_id`/`client_secret` from settings).
- `GET /oauth/userinfo`: `Authorization: Bearer <access_token>`.

Demo people: buyer `comprador@marketred.cl`; vendor staff `staff@<vendor-slug>.cl` with
`"inforedchile_company": "<directory id>"` and `"groups": ["inforedchile-company-staff"]`;
operator `operador@marketred.cl` with `"groups": ["marketred-operators"]`.

Test hooks (to prove the relying party refuses bad tokens): arm a one-shot fault that the
next issued id_token carries, either with `POST /_sandbox/oidc/fault` and JSON
`{"fault": "<name>"}`, or with an extra `sandbox_fault=<name>` parameter on the
authorize request. Faults: `tampered_signature` (payload changed after signing),
`wrong_nonce`, `wrong_audience`, `wrong_issuer`, `expired`, `unknown_kid`.
`DELETE /_sandbox/oidc/fault` disarms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from html import escape
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlencode, urlparse

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import BaseModel

from marketred.sandbox.directory.store import DirectoryStore

Fault = Literal[
    "tampered_signature", "wrong_nonce", "wrong_audience", "wrong_issuer", "expired", "unknown_kid"
]
FAULTS: tuple[str, ...] = Fault.__args__  # type: ignore[attr-defined]
KEY_SETTING = "oidc_rsa_key"
CODE_TTL = 120
TOKEN_TTL = 3600


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    groups: tuple[str, ...] = ()
    company: str | None = None

    @property
    def sub(self) -> str:
        return "dir-" + hashlib.sha256(self.email.encode()).hexdigest()[:16]

    def claims(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sub": self.sub,
            "email": self.email,
            "email_verified": True,
            "name": self.name,
            "groups": list(self.groups),
        }
        if self.company:
            out["inforedchile_company"] = self.company
        return out


@dataclass
class PendingCode:
    person: DemoPerson
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    scope: str
    fault: str | None
    expires: float


@dataclass
class OidcProvider:
    store: DirectoryStore
    issuer: str
    client_id: str
    client_secret: str
    people: list[DemoPerson]
    allowed_redirect_prefixes: list[str]
    codes: dict[str, PendingCode] = field(default_factory=dict)
    tokens: dict[str, tuple[DemoPerson, float]] = field(default_factory=dict)
    armed_fault: str | None = None
    _key: RSAKey | None = None

    @property
    def key(self) -> RSAKey:
        if self._key is None:
            stored = self.store.get_setting(KEY_SETTING)
            if stored:
                self._key = RSAKey.import_key(json.loads(stored))
            else:
                key = RSAKey.generate_key(2048, private=True)
                kid = key.thumbprint()[:16]
                self._key = RSAKey.import_key(
                    {**key.as_dict(private=True), "kid": kid, "use": "sig", "alg": "RS256"}
                )
                self.store.put_setting(KEY_SETTING, json.dumps(self._key.as_dict(private=True)))
        return self._key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def person(self, email: str) -> DemoPerson | None:
        return next((p for p in self.people if p.email == email), None)

    def redirect_allowed(self, uri: str) -> bool:
        parsed = urlparse(uri)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            return False
        if parsed.hostname in ("127.0.0.1", "localhost", "testserver"):
            return True
        return any(uri.startswith(p) for p in self.allowed_redirect_prefixes)

    def id_token(self, code: PendingCode) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            **code.person.claims(),
            "iss": self.issuer,
            "aud": code.client_id,
            "iat": now,
            "auth_time": now,
            "exp": now + TOKEN_TTL,
        }
        if code.nonce is not None:
            claims["nonce"] = code.nonce
        kid = str(self.key.kid)
        fault = code.fault
        if fault == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-you-sent"
        elif fault == "wrong_audience":
            claims["aud"] = "someone-else"
        elif fault == "wrong_issuer":
            claims["iss"] = "https://evil.example"
        elif fault == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        elif fault == "unknown_kid":
            kid = "unknown-kid"
        token = jwt.encode({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims, self.key)
        if fault == "tampered_signature":
            head, _payload, sig = token.split(".")
            changed = {**claims, "email": "intruso@example.cl"}
            payload = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=")
            token = f"{head}.{payload.decode()}.{sig}"
        return token


router = APIRouter()


def _provider(request: Request) -> OidcProvider:
    provider: OidcProvider = request.app.state.oidc
    return provider


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/.well-known/openid-configuration")
async def discovery(request: Request) -> dict[str, Any]:
    iss = _provider(request).issuer
    return {
        "issuer": iss,
        "authorization_endpoint": f"{iss}/oauth/authorize",
        "token_endpoint": f"{iss}/oauth/token",
        "userinfo_endpoint": f"{iss}/oauth/userinfo",
        "jwks_uri": f"{iss}/oauth/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "groups"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "email",
            "email_verified", "name", "groups", "inforedchile_company",
        ],
    }  # fmt: skip


@router.get("/oauth/jwks")
async def jwks(request: Request) -> dict[str, Any]:
    return _provider(request).jwks()


_AUTH_PARAMS = (
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
    "code_challenge", "code_challenge_method", "sandbox_fault",
)  # fmt: skip


def _check_authorize(provider: OidcProvider, p: dict[str, str]) -> Response | None:
    """None if the request is acceptable; else the error page or redirect to show."""
    if p.get("client_id") != provider.client_id:
        return HTMLResponse("<h1>Unknown client_id</h1>", status_code=400)
    redirect_uri = p.get("redirect_uri", "")
    if not provider.redirect_allowed(redirect_uri):
        return HTMLResponse("<h1>redirect_uri is not allowed</h1>", status_code=400)

    def back(error: str, description: str) -> RedirectResponse:
        query = {"error": error, "error_description": description}
        if p.get("state"):
            query["state"] = p["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{sep}{urlencode(query)}", status_code=302)

    if p.get("response_type") != "code":
        return back("unsupported_response_type", "only the code flow is supported")
    if "openid" not in p.get("scope", "").split():
        return back("invalid_scope", "scope must include openid")
    if p.get("code_challenge_method") != "S256" or len(p.get("code_challenge", "")) < 43:
        return back("invalid_request", "PKCE with code_challenge_method=S256 is required")
    if p.get("sandbox_fault") and p["sandbox_fault"] not in FAULTS:
        return back("invalid_request", f"sandbox_fault must be one of {', '.join(FAULTS)}")
    return None


@router.get("/oauth/authorize", response_class=HTMLResponse)
async def authorize_page(request: Request) -> Response:
    provider = _provider(request)
    params = {k: v for k, v in request.query_params.items() if k in _AUTH_PARAMS}
    problem = _check_authorize(provider, params)
    if problem is not None:
        return problem
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )
    buttons = "".join(
        f'<li><button name="person" value="{escape(p.email)}">{escape(p.name)} '
        f"&lt;{escape(p.email)}&gt;</button> <small>{escape(', '.join(p.groups))}"
        f"{' · empresa ' + escape(p.company) if p.company else ''}</small></li>"
        for p in provider.people
    )
    return HTMLResponse(
        '<!doctype html><html lang="es"><head><meta charset="utf-8"><title>InforedChile — '
        "Ingresar</title></head><body><h1>InforedChile (sandbox)</h1>"
        "<p>Elige con quién ingresar a MarketRed:</p>"
        f'<form method="post" action="/oauth/authorize">{hidden}<ul>{buttons}</ul></form>'
        "</body></html>"
    )


@router.post("/oauth/authorize")
async def authorize_submit(request: Request) -> Response:
    provider = _provider(request)
    form = await request.form()
    params = {k: str(form[k]) for k in _AUTH_PARAMS if k in form}
    problem = _check_authorize(provider, params)
    if problem is not None:
        return problem
    person = provider.person(str(form.get("person", "")))
    if person is None:
        return HTMLResponse("<h1>Unknown person</h1>", status_code=400)
    fault = params.get("sandbox_fault") or provider.armed_fault
    provider.armed_fault = None
    code = secrets.token_urlsafe(24)
    provider.codes[code] = PendingCode(
        person=person,
        client_id=params["client_id"],
        redirect_uri=params["redirect_uri"],
        code_challenge=params["code_challenge"],
        nonce=params.get("nonce"),
        scope=params.get("scope", "openid"),
        fault=fault,
        expires=time.monotonic() + CODE_TTL,
    )
    query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
    sep = "&" if "?" in params["redirect_uri"] else "?"
    return RedirectResponse(f"{params['redirect_uri']}{sep}{urlencode(query)}", status_code=302)


def _client_credentials(
    authorization: str | None, client_id: str | None, client_secret: str | None
) -> tuple[str, str] | None:
    if authorization and authorization.lower().startswith("basic "):
        try:
            raw = base64.b64decode(authorization[6:]).decode()
        except ValueError:
            return None
        cid, _, secret = raw.partition(":")
        return unquote(cid), unquote(secret)
    if client_id and client_secret:
        return client_id, client_secret
    return None


def _pkce_ok(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode()).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


@router.post("/oauth/token")
async def token(
    request: Request,
    grant_type: Annotated[str, Form()],
    code: Annotated[str, Form()] = "",
    redirect_uri: Annotated[str, Form()] = "",
    code_verifier: Annotated[str, Form()] = "",
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    provider = _provider(request)
    creds = _client_credentials(authorization, client_id, client_secret)
    if (
        creds is None
        or creds[0] != provider.client_id
        or not hmac.compare_digest(creds[1], provider.client_secret)
    ):
        return _oauth_error("invalid_client", "client authentication failed", 401)
    if grant_type != "authorization_code":
        return _oauth_error("unsupported_grant_type", "only authorization_code is supported")
    pending = provider.codes.pop(code, None)  # single use, even when the exchange fails
    if pending is None or pending.expires < time.monotonic():
        return _oauth_error("invalid_grant", "unknown, used or expired code")
    if pending.redirect_uri != redirect_uri or pending.client_id != creds[0]:
        return _oauth_error("invalid_grant", "redirect_uri or client does not match the code")
    if not code_verifier or not _pkce_ok(code_verifier, pending.code_challenge):
        return _oauth_error("invalid_grant", "PKCE code_verifier does not match")
    access = secrets.token_urlsafe(32)
    provider.tokens[access] = (pending.person, time.monotonic() + TOKEN_TTL)
    return JSONResponse(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL,
            "scope": pending.scope,
            "id_token": provider.id_token(pending),
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.get("/oauth/userinfo")
async def userinfo(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Response:
    provider = _provider(request)
    token_value = (authorization or "").removeprefix("Bearer ").strip()
    found = provider.tokens.get(token_value)
    if not token_value or found is None or found[1] < time.monotonic():
        return JSONResponse(
            {"error": "invalid_token"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return JSONResponse(found[0].claims())


class FaultIn(BaseModel):
    fault: Fault


@router.post("/_sandbox/oidc/fault")
async def arm_fault(request: Request, body: FaultIn) -> dict[str, str | None]:
    _provider(request).armed_fault = body.fault
    return {"armed": body.fault}


@router.delete("/_sandbox/oidc/fault")
async def disarm_fault(request: Request) -> dict[str, str | None]:
    _provider(request).armed_fault = None
    return {"armed": None}
