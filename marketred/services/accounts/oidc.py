"""Relying party for the directory's OpenID Connect ("Ingresar con InforedChile").

Authorization code flow with PKCE (S256), `state` and `nonce`; the ID token is verified
against the issuer's JWKS (signature, iss, aud, exp, nonce) before any claim is used.
Who the person is in MarketRed comes from the claims: the group `marketred-operators`
makes an operator, the claim `inforedchile_company` (a directory company id) makes
staff of the vendor with that directory id, anyone else is a buyer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Role
from marketred.services.accounts import credentials, sessions
from marketred.services.errors import Forbidden, Reason, Unauthorized, Unavailable
from marketred.settings import Settings
from marketred.store.models import User
from marketred.store.repositories import users as users_repo
from marketred.store.repositories import vendors as vendors_repo

OPERATOR_GROUP = "marketred-operators"
COMPANY_CLAIM = "inforedchile_company"
SCOPE = "openid email profile"
CALLBACK_PATH = "/auth/oidc/callback"
ID_TOKEN_ALGORITHMS = ("RS256", "ES256")
_METADATA_TTL = 300.0
_metadata_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def redirect_uri(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + CALLBACK_PATH


@dataclass(frozen=True)
class PendingLogin:
    """What the browser keeps (signed) between the redirect out and the callback."""

    state: str
    nonce: str
    code_verifier: str
    next_url: str


async def _get_json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        response = await http.get(url)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unavailable("InforedChile sign-in is not reachable right now") from exc
    return data


async def metadata(settings: Settings, http: httpx.AsyncClient) -> dict[str, Any]:
    issuer = (settings.oidc_issuer or "").rstrip("/")
    cached = _metadata_cache.get(issuer)
    if cached and time.monotonic() - cached[0] < _METADATA_TTL:
        return cached[1]
    data = await _get_json(http, issuer + "/.well-known/openid-configuration")
    if str(data.get("issuer", "")).rstrip("/") != issuer:
        raise Unavailable("the OpenID provider announces a different issuer")
    _metadata_cache[issuer] = (time.monotonic(), data)
    return data


def _client(settings: Settings) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        scope=SCOPE,
        redirect_uri=redirect_uri(settings),
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
        timeout=10.0,
    )


async def start_login(
    settings: Settings, http: httpx.AsyncClient, next_url: str
) -> tuple[str, PendingLogin]:
    """The provider URL to send the browser to, and what to remember until the callback."""
    meta = await metadata(settings, http)
    pending = PendingLogin(
        state=generate_token(32),
        nonce=generate_token(32),
        code_verifier=generate_token(64),
        next_url=next_url,
    )
    async with _client(settings) as client:
        url, _ = client.create_authorization_url(
            meta["authorization_endpoint"],
            state=pending.state,
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
        )
    return str(url), pending


async def verify_id_token(
    settings: Settings, http: httpx.AsyncClient, id_token: str, nonce: str
) -> dict[str, Any]:
    meta = await metadata(settings, http)
    # Pinned: the provider's metadata may list more (HS256 with our client secret,
    # "none"); we take asymmetric signatures only, whatever it announces.
    algorithms = [
        a
        for a in ID_TOKEN_ALGORITHMS
        if a in (meta.get("id_token_signing_alg_values_supported") or ["RS256"])
    ]
    if not algorithms:
        raise Unavailable("the OpenID provider offers no ID token algorithm we accept")
    keys = KeySet.import_key_set(await _get_json(http, meta["jwks_uri"]))  # type: ignore[arg-type]
    try:
        token = jwt.decode(id_token, keys, registry=JWSRegistry(algorithms=list(algorithms)))
        claims = CodeIDToken(
            token.claims,
            token.header,  # type: ignore[arg-type]
            options={
                "iss": {"essential": True, "value": meta["issuer"]},
                "aud": {"essential": True, "value": settings.oidc_client_id},  # type: ignore[typeddict-item]
                "sub": {"essential": True},
                "exp": {"essential": True},
            },
            params={"nonce": nonce, "client_id": settings.oidc_client_id},
        )
        claims.validate(leeway=60)
    except (JoseError, ValueError, KeyError) as exc:
        raise Unauthorized("InforedChile's sign-in answer could not be verified") from exc
    if claims.get("nonce") != nonce:
        raise Unauthorized("InforedChile's sign-in answer does not belong to this sign-in")
    return dict(claims)


async def finish_login(
    settings: Settings,
    http: httpx.AsyncClient,
    pending: PendingLogin,
    *,
    code: str,
    state: str,
) -> dict[str, Any]:
    """Exchange the code (with the PKCE verifier) and return the verified ID token claims."""
    import hmac

    if not hmac.compare_digest(state, pending.state):
        raise Unauthorized("the sign-in state does not match; start again")
    meta = await metadata(settings, http)
    async with _client(settings) as client:
        try:
            token = await client.fetch_token(
                meta["token_endpoint"],
                code=code,
                code_verifier=pending.code_verifier,
                grant_type="authorization_code",
            )
        except Exception as exc:  # authlib raises OAuthError / httpx errors
            raise Unauthorized("InforedChile refused the sign-in code") from exc
    id_token = token.get("id_token")
    if not id_token:
        raise Unauthorized("InforedChile sent no ID token")
    return await verify_id_token(settings, http, str(id_token), pending.nonce)


async def user_from_claims(session: AsyncSession, claims: dict[str, Any]) -> User:
    """Find or create the account the directory asserts; keep role and vendor in sync.

    A local account is linked only when its email was verified here (a mailed link or a
    password reset) or when nobody can sign in to it (no password: made by an operator
    for directory sign-in). Otherwise whoever registered the address first, without
    proving it, would receive the powers the directory grants its real owner.
    Linking drops the local password; linking and any change of role or vendor revoke
    every session, API token and JWT the account held before.
    """
    subject = str(claims["sub"])
    email = str(claims.get("email") or "").strip().lower()
    groups = claims.get("groups") or []
    company = claims.get(COMPANY_CLAIM)
    vendor_id = None
    role: Role
    if OPERATOR_GROUP in groups:
        role = "operator"
    elif company:
        vendor = await vendors_repo.get_by_directory_id(session, str(company))
        if vendor is None or not vendor.active:
            raise Forbidden("tu empresa todavía no vende en MarketRed")
        role, vendor_id = "vendor", vendor.id
    else:
        role = "buyer"
    user = await users_repo.get_by_oidc_subject(session, subject)
    linking = False
    if user is None and email and claims.get("email_verified"):
        user = await users_repo.get_by_email(session, email)
        if user is not None and user.oidc_subject not in (None, subject):
            raise Forbidden("this email is linked to another InforedChile account")
        if user is not None and user.email_verified_at is None and user.password_hash:
            raise Forbidden(
                Reason(
                    "OIDC_UNVERIFIED_ACCOUNT",
                    "an unverified account uses this email; confirm it with the link we "
                    "mailed or reset its password, then sign in with InforedChile again",
                )
            )
        linking = user is not None
    if user is None:
        if not email:
            raise Forbidden("InforedChile did not share an email address")
        if await users_repo.get_by_email(session, email) is not None:
            raise Forbidden("an account with this email exists; sign in with its password first")
        user = User(email=email, password_hash=None, role=role, vendor_id=vendor_id, active=True)
        session.add(user)
    if not user.active:
        raise Forbidden("this account is disabled")
    changed = user.id is not None and (user.role, user.vendor_id) != (role, vendor_id)
    if linking or changed:
        # The account's powers now come from the directory: nothing minted under the
        # old identity or role may keep working, and the password is not a second door.
        user.password_hash = None
        await credentials.revoke_all(session, user)
    user.oidc_subject = subject
    user.role = role
    user.vendor_id = vendor_id
    user.name = str(claims.get("name") or user.name or "")
    if claims.get("email_verified") and user.email_verified_at is None:
        user.email_verified_at = sessions.now_utc()
    await session.flush()
    return user
