"""The object rules in services/accounts/authz.py: another party's object is 404, a forbidden
action on a visible object is 403, operators see everything."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from marketred.schemas.accounts import Principal
from marketred.services.accounts import authz
from marketred.services.errors import Forbidden, NotFound

VENDOR_A, VENDOR_B = uuid.uuid4(), uuid.uuid4()
BUYER_A = Principal(user_id=uuid.uuid4(), role="buyer")
BUYER_B = Principal(user_id=uuid.uuid4(), role="buyer")
STAFF_A = Principal(user_id=uuid.uuid4(), role="vendor", vendor_id=VENDOR_A)
STAFF_B = Principal(user_id=uuid.uuid4(), role="vendor", vendor_id=VENDOR_B)
OPERATOR = Principal(user_id=uuid.uuid4(), role="operator")


@dataclass
class Thing:
    buyer_id: uuid.UUID
    vendor_id: uuid.UUID


QUOTE = Thing(BUYER_A.user_id, VENDOR_A)


@pytest.mark.parametrize(
    ("who", "action", "outcome"),
    [
        (BUYER_A, "view", None),
        (BUYER_A, "pay", None),
        (BUYER_A, "accept", Forbidden),
        (STAFF_A, "accept", None),
        (STAFF_A, "pay", Forbidden),
        (BUYER_B, "view", NotFound),
        (STAFF_B, "accept", NotFound),
        (OPERATOR, "view", None),
        (OPERATOR, "cancel", None),
        (OPERATOR, "deliver", None),  # decided: support confirms a delivery
        (OPERATOR, "extend", None),
        (OPERATOR, "recheck_payment", None),
        (OPERATOR, "accept", Forbidden),
        (OPERATOR, "pay", Forbidden),
        (STAFF_A, "extend", None),
        (BUYER_A, "extend", Forbidden),
        (STAFF_A, "recheck_payment", Forbidden),
    ],
)
def test_quote_rules(who, action, outcome):
    if outcome is None:
        authz.authorize_quote(who, QUOTE, action)
    else:
        with pytest.raises(outcome):
            authz.authorize_quote(who, QUOTE, action)


def test_carts_products_payouts():
    cart = Thing(BUYER_A.user_id, VENDOR_A)
    authz.authorize_cart(BUYER_A, cart, "change")
    with pytest.raises(NotFound):
        authz.authorize_cart(BUYER_B, cart)
    with pytest.raises(Forbidden):
        authz.authorize_cart(OPERATOR, cart, "change")
    with pytest.raises(Forbidden):
        authz.cart_owner(STAFF_A)
    assert authz.cart_owner(BUYER_A, "change") == BUYER_A.user_id

    product = Thing(BUYER_A.user_id, VENDOR_A)
    authz.authorize_product(None, product)  # active products are public
    with pytest.raises(NotFound):
        authz.authorize_product(STAFF_B, product, "manage")
    with pytest.raises(NotFound):
        authz.authorize_product(OPERATOR, product, "manage")
    with pytest.raises(NotFound):
        authz.authorize_product(STAFF_B, product, active=False)
    authz.authorize_product(STAFF_A, product, "manage")
    authz.authorize_product(OPERATOR, product, active=False)
    assert authz.catalog_owner(STAFF_A) == VENDOR_A
    with pytest.raises(Forbidden):
        authz.catalog_owner(OPERATOR)

    payout = Thing(BUYER_A.user_id, VENDOR_A)
    authz.authorize_payout(STAFF_A, payout)
    with pytest.raises(Forbidden):
        authz.authorize_payout(STAFF_A, payout, "approve")
    with pytest.raises(NotFound):
        authz.authorize_payout(STAFF_B, payout)
    authz.authorize_payout(OPERATOR, payout, "approve")
    assert authz.payout_scope(OPERATOR) is None
    assert authz.payout_scope(STAFF_A) == VENDOR_A
    with pytest.raises(NotFound):
        authz.payout_scope(BUYER_A)

    token = Thing(BUYER_A.user_id, VENDOR_A)
    token.user_id = STAFF_A.user_id  # type: ignore[attr-defined]
    authz.authorize_token(STAFF_A, token)  # type: ignore[arg-type]
    authz.authorize_token(OPERATOR, token)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        authz.authorize_token(STAFF_B, token)  # type: ignore[arg-type]


def test_policy_vocabulary():
    assert authz.object_policy("quote:vendor") == ("quote", frozenset({"vendor"}))
    assert authz.object_policy("quote:deliver") == ("quote", frozenset({"buyer", "operator"}))
    assert authz.roles_allowed("quote:vendor") == frozenset({"buyer", "vendor", "operator"})
    assert authz.roles_allowed("public") is None
    assert authz.is_known_policy("signed:khipu")
    assert not authz.is_known_policy("quote:everyone")
    assert not authz.is_known_policy("buyers")
