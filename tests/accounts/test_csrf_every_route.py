"""Finding 2 (docs/security.md): every state-changing web route refuses a request
without a valid CSRF token, with another session's token, or from a foreign Origin —
walked over the whole route table, as a caller the route's policy lets in (so the 403
is the CSRF check's, not the role check's). The authorization matrix always sends a
valid token, which is how three operator forms once slipped through without one."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.app import create_app
from marketred.services.accounts.authz import roles_allowed
from marketred.settings import Settings
from tests.accounts.matrix_support import (
    Caller,
    RouteInfo,
    build_request,
    describe,
    fill_path,
    make_caller,
    registered_routes,
)
from tests.support.factories import make_vendor

pytestmark = pytest.mark.db

WRITES = ("POST", "PUT", "PATCH", "DELETE")
ROUTES = [
    r
    for r in registered_routes(
        create_app(Settings(env="test", log_json=False, log_level="WARNING"))
    )
    if r.is_web and r.method in WRITES and r.policy != "dev"
]


def test_the_walk_covers_the_operator_forms_that_once_lacked_a_token():
    ids = {r.id for r in ROUTES}
    assert "POST /operador/cuentas/{user_id}/desactivar" in ids
    assert "POST /operador/cuentas/{user_id}/reactivar" in ids
    assert "POST /operador/cotizaciones/{quote_id}/verificar-pago" in ids
    assert len(ROUTES) > 20


@pytest.fixture
def client(no_temporal_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return no_temporal_client


async def _caller_for(db: AsyncSession, route: RouteInfo) -> Caller:
    allowed = roles_allowed(str(route.policy))
    if allowed is None:  # public forms (sign-in, sign-up, reset): an anonymous visitor
        return await make_caller(db, None)
    role = sorted(allowed)[0]
    return await make_caller(db, role, await make_vendor(db) if role == "vendor" else None)  # type: ignore[arg-type]


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
async def test_state_changing_route_refuses_a_request_without_a_valid_token(
    route: RouteInfo, client: httpx.AsyncClient, settings: Settings, db: AsyncSession
):
    caller = await _caller_for(db, route)
    path = fill_path(route.path)
    good = build_request(settings, caller, route, path)
    assert good["data"]["csrf_token"]

    without = {**good, "data": {k: v for k, v in good["data"].items() if k != "csrf_token"}}
    r = await client.request(**without)
    assert r.status_code == 403, describe(caller, route, r)

    other = await make_caller(db, "buyer")  # another session's token
    foreign_token = build_request(settings, other, route, path)["data"]["csrf_token"]
    r = await client.request(**{**good, "data": {**good["data"], "csrf_token": foreign_token}})
    assert r.status_code == 403, describe(caller, route, r)

    cross_site = {**good, "headers": {**good["headers"], "Origin": "https://evil.example"}}
    r = await client.request(**cross_site)
    assert r.status_code == 403, describe(caller, route, r)
