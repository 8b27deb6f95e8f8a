"""Building blocks of the authorization matrix: the route table, callers, requests."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.app import route_policy as policy_for
from marketred.schemas.accounts import Role
from marketred.services.accounts import api_tokens, sessions, tokens
from marketred.services.accounts import users as accounts
from marketred.services.accounts.users import principal_of
from marketred.services.errors import Unavailable
from marketred.settings import Settings
from marketred.store.models import User, Vendor
from marketred.web.security.cookies import ANON_COOKIE, SESSION_COOKIE, sign
from marketred.web.security.csrf import _mac
from tests.support.factories import make_payout_row, make_product, make_quote_row, make_vendor

API_PREFIXES = (
    "/api/", "/webhooks/", "/embed/", "/healthz", "/readyz", "/metrics", "/docs/", "/codec/"
)  # fmt: skip
API_EXACT = ("/redoc",)
# Routes that exist to check credentials: a 401 (or a trip back to the sign-in page) is
# their normal answer to a caller without valid credentials, whoever calls.
CREDENTIAL_ROUTES = {
    ("POST", "/ingresar"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/auth/oidc/callback"),
}


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    policy: str | None

    @property
    def is_web(self) -> bool:
        return not (self.path.startswith(API_PREFIXES) or self.path in API_EXACT)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _walk(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        if type(route).__name__ == "_IncludedRouter":
            yield from _walk(route.effective_candidates())
        else:
            yield route


def registered_routes(app: FastAPI) -> list[RouteInfo]:
    """Every (method, path) the app answers, with the policy it declares (None if none)."""
    out: list[RouteInfo] = []
    for route in _walk(list(app.routes)):
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None)
        if path is None or not methods:
            continue  # mounts (static files) answer GET only and are public by nature
        original = getattr(route, "original_route", route)
        extra = getattr(original, "openapi_extra", None)
        for method in sorted(methods - {"HEAD"}):
            out.append(RouteInfo(method, path, policy_for(method, path, extra)))
    return out


def fill_path(path: str, values: dict[str, str] | None = None) -> str:
    """Replace {params} with given values, or with values that match nothing."""
    values = values or {}

    def one(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name in values:
            return values[name]
        if name.endswith("_id") and name != "directory_id":
            return str(uuid.uuid4())
        if name == "token":
            return secrets.token_urlsafe(32)
        return f"no-such-{name.replace('_', '-')}"

    return re.sub(r"{([^}]+)}", one, path)


@dataclass
class Caller:
    role: Role | None
    user: User | None = None
    session_raw: str | None = None
    csrf_secret: str | None = None

    @property
    def name(self) -> str:
        return self.role or "anonymous"


async def make_caller(db: AsyncSession, role: Role | None, vendor: Vendor | None = None) -> Caller:
    if role is None:
        return Caller(None)
    user = await accounts.create_user(
        db,
        email=f"matrix-{role}-{uuid.uuid4().hex[:8]}@example.cl",
        password=None,
        role=role,
        vendor_slug=vendor.slug if vendor else None,
    )
    raw, record = await sessions.start_session(db, user)
    return Caller(role, user, raw, record.csrf_secret)


# Bodies for routes that validate their input before looking the object up, so the
# owner / non-owner check reaches the lookup (an empty body would stop at 422).
SAMPLE_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/vendor/products/{product_id}/variants"): {
        "sku": "MATRIX-1",
        "options": {"talla": "M"},
        "price": 1000,
    },
    ("POST", "/vendedor/catalogo/{product_id}/variantes/{variant_id}"): {"price": "1000"},
    ("POST", "/api/v1/quotes/{quote_id}/accept"): {"shipping_cost": 0},
    ("POST", "/api/v1/quotes/{quote_id}/reject"): {"reason": "sin stock"},
    ("POST", "/api/v1/quotes/{quote_id}/ship"): {"carrier": "Starken", "tracking": "MX-1"},
    ("POST", "/api/v1/quotes/{quote_id}/extend"): {"deadline": "respond_by", "hours": 24},
    ("POST", "/api/v1/quotes/{quote_id}/record-refund"): {"reference": "TRF-1", "amount": 1000},
    ("POST", "/api/v1/quotes/{quote_id}/return"): {"reason": "llegó roto"},
    ("POST", "/api/v1/quotes/{quote_id}/return-decision"): {"approve": False},
    ("POST", "/api/v1/quotes/{quote_id}/refund"): {"amount": 1000, "reason": "compensación"},
    ("POST", "/vendedor/cotizaciones/{quote_id}/despachar"): {
        "carrier": "Starken",
        "tracking": "MX-1",
    },
}


class NoTemporal:
    """Stands in for the Temporal client: any use is 'engine unavailable' (503), so the
    matrix sees the authorization answer of every check made before the engine is used."""

    def __getattr__(self, name: str) -> Any:
        raise Unavailable(f"no workflow engine in the authorization matrix ({name})")


def build_request(
    settings: Settings, caller: Caller, route: RouteInfo, path: str
) -> dict[str, Any]:
    """httpx.request kwargs: the caller's credentials the way that kind of route takes them."""
    kw: dict[str, Any] = {"method": route.method, "url": path, "headers": {}}
    cookies: dict[str, str] = {}
    writes = route.method in ("POST", "PUT", "PATCH", "DELETE")
    if route.is_web:
        if caller.session_raw is not None:
            cookies[SESSION_COOKIE] = sign(settings, SESSION_COOKIE, caller.session_raw)
            token = _mac(settings.secret_key, "s:" + str(caller.csrf_secret))
        else:
            seed = "matrix-anonymous-seed"
            cookies[ANON_COOKIE] = sign(settings, ANON_COOKIE, seed)
            token = _mac(settings.secret_key, "a:" + seed)
        kw["headers"]["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if writes:
            sample = SAMPLE_BODIES.get((route.method, route.path), {})
            kw["data"] = {**sample, "csrf_token": token}
    else:
        if caller.user is not None:
            access = tokens.issue_access_token(settings.secret_key, caller.user.id, 5)
            kw["headers"]["Authorization"] = f"Bearer {access}"
        if route.method in ("POST", "PUT", "PATCH"):
            kw["json"] = SAMPLE_BODIES.get((route.method, route.path), {})
    return kw


def is_login_redirect(response: httpx.Response) -> bool:
    return response.status_code in (302, 303) and response.headers.get("location", "").startswith(
        "/ingresar?next="
    )


def describe(caller: Caller, route: RouteInfo, response: httpx.Response) -> str:
    answer = f"{response.status_code} {response.text[:200]}"
    return f"{caller.name} → {route.id} [{route.policy}] = {answer}"


async def make_world(db: AsyncSession) -> dict[str, object]:
    """Two buyers, two vendors with staff; a quote, product and token owned by side A."""
    vendor_a, vendor_b = await make_vendor(db), await make_vendor(db)
    world: dict[str, object] = {
        "buyer_a": await make_caller(db, "buyer"),
        "buyer_b": await make_caller(db, "buyer"),
        "vendor_a": await make_caller(db, "vendor", vendor_a),
        "vendor_b": await make_caller(db, "vendor", vendor_b),
        "operator": await make_caller(db, "operator"),
    }
    product, variants = await make_product(db, vendor_a)
    buyer_a = world["buyer_a"]
    assert isinstance(buyer_a, Caller)
    assert buyer_a.user is not None
    quote = await make_quote_row(db, buyer_a.user, vendor_a)
    payout = await make_payout_row(db, vendor_a, 12990)
    staff_a = world["vendor_a"]
    assert isinstance(staff_a, Caller)
    assert staff_a.user is not None
    _, token = await api_tokens.create(db, principal_of(staff_a.user), "matrix")
    world["values"] = {
        "quote_id": str(quote.id),
        "product_id": str(product.id),
        "variant_id": str(variants[0].id),
        "token_id": str(token.id),
        "payout_id": str(payout.id),
        "vendor_slug": vendor_a.slug,
        "slug": vendor_a.slug,
    }
    return world
