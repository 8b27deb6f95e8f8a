"""Finding 7 (docs/security.md): services/accounts/authz.py is the one place ownership is
decided, and this checks it *as the code runs*: for every route acting on a quote,
product, payout or API token, each caller (both parties, a stranger of each role, an
operator) gets from the real route exactly what the authz function predicts — let
through, 403 (a party, not their action) or 404 (not theirs). A service that decided on
its own, or an authz rule nobody calls, shows up as a mismatch here."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.app import create_app
from marketred.schemas.accounts import Principal
from marketred.services.accounts import api_tokens, authz
from marketred.services.accounts.users import principal_of
from marketred.services.errors import Forbidden, NotFound
from marketred.settings import Settings
from marketred.store.models import Payout, Product, Quote
from tests.accounts.matrix_support import (
    Caller,
    RouteInfo,
    build_request,
    describe,
    fill_path,
    make_world,
    registered_routes,
)

pytestmark = pytest.mark.db

Q = "quote"
# (method, path) → (object, action): what each route does to its object.
ACTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/api/v1/quotes/{quote_id}"): (Q, "view"),
    ("POST", "/api/v1/quotes/{quote_id}/accept"): (Q, "accept"),
    ("POST", "/api/v1/quotes/{quote_id}/reject"): (Q, "reject"),
    ("POST", "/api/v1/quotes/{quote_id}/ship"): (Q, "ship"),
    ("POST", "/api/v1/quotes/{quote_id}/pay"): (Q, "pay"),
    ("POST", "/api/v1/quotes/{quote_id}/deliver"): (Q, "deliver"),
    ("POST", "/api/v1/quotes/{quote_id}/cancel"): (Q, "cancel"),
    ("POST", "/api/v1/quotes/{quote_id}/extend"): (Q, "extend"),
    ("POST", "/api/v1/quotes/{quote_id}/recheck-payment"): (Q, "recheck_payment"),
    ("POST", "/api/v1/quotes/{quote_id}/retry-now"): (Q, "retry_now"),
    ("POST", "/api/v1/quotes/{quote_id}/retry-refund"): (Q, "retry_refund"),
    ("POST", "/api/v1/quotes/{quote_id}/record-refund"): (Q, "record_refund"),
    ("POST", "/api/v1/quotes/{quote_id}/return"): (Q, "request_return"),
    ("POST", "/api/v1/quotes/{quote_id}/return-decision"): (Q, "decide_return"),
    ("POST", "/api/v1/quotes/{quote_id}/refund"): (Q, "refund"),
    ("GET", "/cotizaciones/{quote_id}"): (Q, "view"),
    ("POST", "/cotizaciones/{quote_id}/pagar"): (Q, "pay"),
    ("POST", "/cotizaciones/{quote_id}/cancelar"): (Q, "cancel"),
    ("POST", "/cotizaciones/{quote_id}/confirmar-entrega"): (Q, "deliver"),
    ("POST", "/vendedor/cotizaciones/{quote_id}/aceptar"): (Q, "accept"),
    ("POST", "/vendedor/cotizaciones/{quote_id}/rechazar"): (Q, "reject"),
    ("POST", "/vendedor/cotizaciones/{quote_id}/extender"): (Q, "extend"),
    ("POST", "/vendedor/cotizaciones/{quote_id}/despachar"): (Q, "ship"),
    ("POST", "/operador/cotizaciones/{quote_id}/extender"): (Q, "extend"),
    ("POST", "/operador/cotizaciones/{quote_id}/cancelar"): (Q, "cancel"),
    ("POST", "/operador/cotizaciones/{quote_id}/verificar-pago"): (Q, "recheck_payment"),
    ("GET", "/api/v1/vendor/products/{product_id}"): ("product", "manage"),
    ("PATCH", "/api/v1/vendor/products/{product_id}"): ("product", "manage"),
    ("DELETE", "/api/v1/vendor/products/{product_id}"): ("product", "manage"),
    ("POST", "/api/v1/vendor/products/{product_id}/variants"): ("product", "manage"),
    ("GET", "/api/v1/products/{product_id}"): ("product", "view"),
    ("GET", "/api/v1/payouts/{payout_id}"): ("payout", "view"),
    ("GET", "/api/v1/payouts/{payout_id}/report.csv"): ("payout", "view"),
    ("POST", "/api/v1/payouts/{payout_id}/approve"): ("payout", "approve"),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): ("token", "revoke"),
    ("POST", "/cuenta/tokens/{token_id}/revocar"): ("token", "revoke"),
}
ROUTES = {
    (r.method, r.path): r
    for r in registered_routes(
        create_app(Settings(env="test", log_json=False, log_level="WARNING"))
    )
}
CALLERS = ("buyer_a", "buyer_b", "vendor_a", "vendor_b", "operator")


def test_every_action_route_is_registered_and_every_quote_action_has_a_route():
    assert set(ACTIONS) <= set(ROUTES)
    assert {a for kind, a in ACTIONS.values() if kind == Q} == set(authz.QUOTE_ACTORS)


@pytest.fixture
def client(no_temporal_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return no_temporal_client


def _predicted(route: RouteInfo, who: Principal, rule: Callable[[Principal], None]) -> str:
    allowed = authz.roles_allowed(str(route.policy))
    if allowed is not None and who.role not in allowed:
        return "403"  # the route's role policy stops the caller before any object
    try:
        rule(who)
    except NotFound:
        return "404"
    except Forbidden:
        return "403"
    return "through"


def _answered(r: httpx.Response) -> str:
    if r.status_code in (403, 404):
        return str(r.status_code)
    assert r.status_code not in (401, 500), r.text[:300]
    return "through"


@pytest.mark.parametrize("key", list(ACTIONS), ids=[f"{m} {p}" for m, p in ACTIONS])
async def test_route_answers_what_authz_decides(
    key: tuple[str, str], client: httpx.AsyncClient, settings: Settings, db: AsyncSession
):
    route = ROUTES[key]
    kind, action = ACTIONS[key]
    world = await make_world(db)
    values: dict[str, str] = world["values"]  # type: ignore[assignment]
    # The objects as they are before any call (a let-through may delete or change them).
    quote = await db.get(Quote, values["quote_id"])
    product = await db.scalar(select(Product).where(Product.id == values["product_id"]))
    payout = await db.get(Payout, values["payout_id"])
    assert quote is not None
    assert product is not None
    assert payout is not None
    for name in CALLERS:
        caller = world[name]
        assert isinstance(caller, Caller)
        assert caller.user is not None
        who = principal_of(caller.user)
        rule: Callable[[Principal], None]
        if kind == Q:
            rule = lambda p: authz.authorize_quote(p, quote, action)  # type: ignore[arg-type]  # noqa: E731
        elif kind == "product":
            rule = lambda p: authz.authorize_product(p, product, action)  # type: ignore[arg-type]  # noqa: E731
        elif kind == "payout":
            rule = lambda p: authz.authorize_payout(p, payout, action)  # type: ignore[arg-type]  # noqa: E731
        else:  # a fresh token each time: a let-through revokes it
            owner = world["vendor_a"]
            assert isinstance(owner, Caller)
            assert owner.user is not None
            _, token = await api_tokens.create(db, principal_of(owner.user), "matrix")
            values = {**values, "token_id": str(token.id)}
            rule = partial(authz.authorize_token, token=token)
        path = fill_path(route.path, values)
        r = await client.request(**build_request(settings, caller, route, path))
        assert _answered(r) == _predicted(route, who, rule), describe(caller, route, r)
