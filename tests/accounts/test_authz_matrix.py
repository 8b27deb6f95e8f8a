"""The authorization matrix, generated from the route table.

- every route the app registers declares a policy ({api,web}/route_policies.py or
  openapi_extra x-policy); a route added without one fails `test_every_route_has_a_policy`;
- for every route × role (anonymous, buyer, vendor staff, operator) the answer matches
  the policy: anonymous → 401 (API) or the sign-in page (web); a signed-in role outside
  the policy → 403; a role inside it is let through (no 401/403);
- for every route on an object (quote, product, variant, API token) × owner / non-owner:
  the owner gets through, a non-owner of an allowed role gets 404.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.app import create_app
from marketred.services.accounts.authz import is_known_policy, object_policy, roles_allowed
from marketred.settings import Settings
from tests.accounts.matrix_support import (
    CREDENTIAL_ROUTES,
    Caller,
    RouteInfo,
    build_request,
    describe,
    fill_path,
    is_login_redirect,
    make_caller,
    make_world,
    registered_routes,
)
from tests.support.factories import make_vendor

pytestmark = pytest.mark.db

ROUTES = registered_routes(create_app(Settings(env="test", log_json=False, log_level="WARNING")))
ROLES = (None, "buyer", "vendor", "operator")


def test_every_route_has_a_policy():
    missing = [r.id for r in ROUTES if r.policy is None]
    assert not missing, f"routes without an authorization policy: {missing}"


def test_every_policy_is_one_the_matrix_understands():
    unknown = [f"{r.id} [{r.policy}]" for r in ROUTES if r.policy and not is_known_policy(r.policy)]
    assert not unknown


def test_a_new_route_without_a_policy_is_caught():
    app = create_app(Settings(env="test", log_json=False, log_level="WARNING"))
    before = {r.id for r in registered_routes(app) if r.policy is None}

    @app.post("/api/v1/brand-new-thing")
    async def brand_new_thing() -> dict[str, str]:
        return {}

    after = {r.id for r in registered_routes(app) if r.policy is None}
    assert after - before == {"POST /api/v1/brand-new-thing"}


async def _call(client: httpx.AsyncClient, settings: Settings, caller: Caller, route: RouteInfo,
                path: str) -> httpx.Response:  # fmt: skip
    return await client.request(**build_request(settings, caller, route, path))


def _assert_let_through(caller: Caller, route: RouteInfo, r: httpx.Response) -> None:
    # A route that checks credentials answers a caller without valid ones with 401 (or the
    # sign-in page again): that is its normal answer, never a refusal by policy (403).
    if (route.method, route.path) not in CREDENTIAL_ROUTES:
        assert r.status_code != 401, describe(caller, route, r)
        assert not is_login_redirect(r), describe(caller, route, r)
    assert r.status_code != 403, describe(caller, route, r)
    assert r.status_code < 500 or r.status_code == 503, describe(caller, route, r)


@pytest.fixture
def client(no_temporal_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return no_temporal_client


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
async def test_route_answers_each_role_as_its_policy_says(
    route: RouteInfo, client: httpx.AsyncClient, settings: Settings, db: AsyncSession
):
    if route.policy == "dev":
        return
    vendor = await make_vendor(db)
    for role in ROLES:
        caller = await make_caller(db, role, vendor if role == "vendor" else None)  # type: ignore[arg-type]
        r = await _call(client, settings, caller, route, fill_path(route.path))
        allowed = roles_allowed(str(route.policy))
        if str(route.policy).startswith("signed:"):
            assert r.status_code == 401, describe(caller, route, r)
        elif allowed is None:  # public
            _assert_let_through(caller, route, r)
        elif role is None:
            if route.is_web:
                assert is_login_redirect(r), describe(caller, route, r)
            else:
                assert r.status_code == 401, describe(caller, route, r)
        elif role not in allowed:
            assert r.status_code == 403, describe(caller, route, r)
        else:
            _assert_let_through(caller, route, r)


# ------------------------------------------------------------------ owner / non-owner

OBJECT_PARAMS = ("quote_id", "product_id", "variant_id", "token_id", "payout_id")
# Carts have no owner/non-owner axis: a buyer always addresses their own cart by vendor.
OBJECT_ROUTES = [
    r
    for r in ROUTES
    if any("{" + p + "}" in r.path for p in OBJECT_PARAMS)
    and roles_allowed(str(r.policy))
    and "{vendor_slug}" not in r.path
]
ROLE_ORDER = ("buyer", "vendor", "operator")  # operators last: they may revoke a token


def _owner_and_stranger(route: RouteInfo, world: dict[str, object], role: str
                        ) -> tuple[Caller, Caller | None]:  # fmt: skip
    """Who owns the route's object in `role`, and a same-role caller who does not."""
    if role == "operator" and "{token_id}" not in route.path:
        return world["operator"], None  # type: ignore[return-value]
    if "{token_id}" in route.path:
        # Tokens belong to one person, vendor A's staff member, who revokes it here
        # (an operator revoking anyone's token is in test_api_tokens.py).
        if role == "operator":
            return None, None  # type: ignore[return-value]
        if role == "vendor":
            return world["vendor_a"], world["vendor_b"]  # type: ignore[return-value]
        return None, world["buyer_b"]  # type: ignore[return-value]
    return world[f"{role}_a"], world[f"{role}_b"]  # type: ignore[return-value]


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=[r.id for r in OBJECT_ROUTES])
async def test_objects_are_reachable_by_their_owner_and_hidden_from_others(
    route: RouteInfo, client: httpx.AsyncClient, settings: Settings, db: AsyncSession
):
    world = await make_world(db)
    path = fill_path(route.path, world["values"])  # type: ignore[arg-type]
    allowed = roles_allowed(str(route.policy)) or frozenset()
    on_object = object_policy(str(route.policy))
    for role in [r for r in ROLE_ORDER if r in allowed]:
        owner, stranger = _owner_and_stranger(route, world, role)
        if stranger is not None:
            r = await _call(client, settings, stranger, route, path)
            assert r.status_code == 404, describe(stranger, route, r)
        if owner is None:
            continue
        r = await _call(client, settings, owner, route, path)
        if on_object is not None and role not in on_object[1]:
            # A party to the object, but this action is the other side's: 403, not 404.
            assert r.status_code == 403, describe(owner, route, r)
        else:
            _assert_let_through(owner, route, r)
            assert r.status_code != 404, describe(owner, route, r)
