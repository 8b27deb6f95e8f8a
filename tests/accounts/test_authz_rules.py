"""The object rules in services/authz.py: another party's object is 404, a forbidden
action on a visible object is 403, operators see everything."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from marketred.schemas.accounts import Principal
from marketred.services import authz
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
        (OPERATOR, "refund", None),
        (OPERATOR, "accept", Forbidden),
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

    product = Thing(BUYER_A.user_id, VENDOR_A)
    authz.authorize_product(None, product)  # active products are public
    with pytest.raises(Forbidden):
        authz.authorize_product(STAFF_B, product, "change")
    with pytest.raises(NotFound):
        authz.authorize_product(STAFF_B, product, active=False)
    authz.authorize_product(STAFF_A, product, "change", active=False)

    payout = Thing(BUYER_A.user_id, VENDOR_A)
    authz.authorize_payout(STAFF_A, payout)
    with pytest.raises(Forbidden):
        authz.authorize_payout(STAFF_A, payout, "approve")
    with pytest.raises(NotFound):
        authz.authorize_payout(STAFF_B, payout)
    authz.authorize_payout(OPERATOR, payout, "approve")


def test_policy_vocabulary():
    assert authz.object_policy("quote:vendor") == ("quote", frozenset({"vendor"}))
    assert authz.roles_allowed("quote:vendor") == frozenset({"buyer", "vendor", "operator"})
    assert authz.roles_allowed("public") is None
    assert authz.is_known_policy("signed:khipu")
    assert not authz.is_known_policy("quote:everyone")
    assert not authz.is_known_policy("buyers")
