"""Authorization: the one place that decides who may see and do what.

Two layers, both used by every API and web handler:

1. Route policies — who may call a route at all (`ROUTE_POLICIES`, or a route's
   `openapi_extra={"x-policy": ...}`). tests/accounts/test_authz_matrix.py walks every
   route the app registers and fails when one has no policy.
2. Object rules — `authorize_<resource>(principal, obj, action)`: another party's object
   raises NotFound (404, it does not exist for you); a visible object with an action the
   principal may not take raises Forbidden (403).
"""

from __future__ import annotations

import uuid
from typing import Literal, Protocol

from marketred.schemas.accounts import Principal
from marketred.services.errors import Forbidden, NotFound, Unauthorized

# A route policy is one of:
#   "public"                      anyone, signed in or not
#   "authenticated"               any signed-in person; object rules decide the rest
#   "buyer" | "vendor" | "operator" | "buyer_or_operator" | "vendor_or_operator"
#   "<object>:<actors>"           e.g. "quote:vendor": any signed-in person reaches the
#                                 handler; another party's object is 404; a party whose
#                                 role is not in <actors> gets 403 ("view" = every party)
#   "signed:khipu" | "signed:directory"   no person: a signed machine call
#   "dev"                         development helpers, not mounted in production
Policy = str

ROLES_OF: dict[str, frozenset[str]] = {
    "authenticated": frozenset({"buyer", "vendor", "operator"}),
    "view": frozenset({"buyer", "vendor", "operator"}),
    "buyer": frozenset({"buyer"}),
    "vendor": frozenset({"vendor"}),
    "operator": frozenset({"operator"}),
    "buyer_or_operator": frozenset({"buyer", "operator"}),
    "vendor_or_operator": frozenset({"vendor", "operator"}),
}
OBJECT_KINDS = frozenset({"quote", "payout", "product", "cart", "token"})
MACHINE_POLICIES = frozenset({"signed:khipu", "signed:directory"})


def object_policy(policy: Policy) -> tuple[str, frozenset[str]] | None:
    """("quote", {"vendor"}) for "quote:vendor"; None for a plain role policy."""
    kind, sep, actors = policy.partition(":")
    if not sep or kind not in OBJECT_KINDS or actors not in ROLES_OF:
        return None
    return kind, ROLES_OF[actors]


def is_known_policy(policy: Policy) -> bool:
    return (
        policy in ("public", "dev")
        or policy in MACHINE_POLICIES
        or policy in ROLES_OF
        or object_policy(policy) is not None
    )


def roles_allowed(policy: Policy) -> frozenset[str] | None:
    """Roles a signed-in caller needs to reach the handler, or None when no person is needed."""
    if object_policy(policy) is not None:
        return ROLES_OF["authenticated"]
    return ROLES_OF.get(policy)


# ----------------------------------------------------------------------------- objects


class BuyerOwned(Protocol):
    buyer_id: uuid.UUID


class VendorOwned(Protocol):
    vendor_id: uuid.UUID


class BetweenParties(Protocol):
    buyer_id: uuid.UUID
    vendor_id: uuid.UUID


def _is_buyer_of(p: Principal, obj: BuyerOwned) -> bool:
    return p.role == "buyer" and obj.buyer_id == p.user_id


def _is_vendor_of(p: Principal, obj: VendorOwned) -> bool:
    return p.role == "vendor" and p.vendor_id is not None and obj.vendor_id == p.vendor_id


def _hidden(kind: str) -> NotFound:
    return NotFound(f"no such {kind}")


CartAction = Literal["view", "change"]


def authorize_cart(p: Principal, cart: BuyerOwned, action: CartAction = "view") -> None:
    if p.is_operator:
        if action != "view":
            raise Forbidden("operators can look at carts but not change them")
        return
    if not _is_buyer_of(p, cart):
        raise _hidden("cart")


QuoteAction = Literal[
    "view", "accept", "reject", "ship", "pay", "deliver", "cancel", "refund", "add_note"
]
_QUOTE_VENDOR_ACTIONS = frozenset({"view", "accept", "reject", "ship", "add_note"})
_QUOTE_BUYER_ACTIONS = frozenset({"view", "pay", "deliver", "cancel", "add_note"})


def authorize_quote(p: Principal, quote: BetweenParties, action: QuoteAction = "view") -> None:
    """Buyer and vendor of a quote see it; each may take only their side's actions."""
    if p.is_operator:
        if action in ("view", "cancel", "refund", "add_note"):
            return
        raise Forbidden(f"operators cannot {action} a quote on a party's behalf")
    if _is_buyer_of(p, quote):
        allowed = _QUOTE_BUYER_ACTIONS
    elif _is_vendor_of(p, quote):
        allowed = _QUOTE_VENDOR_ACTIONS
    else:
        raise _hidden("quote")
    if action not in allowed:
        raise Forbidden(f"the {p.role} of this quote cannot {action} it")


def authorize_payment(p: Principal, quote: BetweenParties, action: str = "view") -> None:
    """Payments follow their quote; only operators act on them (refund, release)."""
    authorize_quote(p, quote, "view")
    if action != "view" and not p.is_operator:
        raise Forbidden("only operators act on payments")


ProductAction = Literal["view", "change"]


def authorize_product(
    p: Principal | None,
    product: VendorOwned,
    action: ProductAction = "view",
    *,
    active: bool = True,
) -> None:
    """Active products are public; inactive ones only exist for their vendor and operators."""
    owner = p is not None and (p.is_operator or _is_vendor_of(p, product))
    if not active and not owner:
        raise _hidden("product")
    if action == "change" and not owner:
        raise Forbidden("only the vendor's staff can change this product")


def authorize_vendor_area(p: Principal, vendor_id: uuid.UUID) -> None:
    """Back-office data keyed by a vendor (settings, statements): its staff or operators."""
    if p.is_operator or (p.role == "vendor" and p.vendor_id == vendor_id):
        return
    raise _hidden("vendor")


PayoutAction = Literal["view", "approve", "run"]


def authorize_payout(p: Principal, payout: VendorOwned, action: PayoutAction = "view") -> None:
    if p.is_operator:
        return
    if not _is_vendor_of(p, payout):
        raise _hidden("payout")
    if action != "view":
        raise Forbidden("only operators approve or run payouts")


def require_role(p: Principal | None, policy: Policy) -> None:
    """For handlers that check a route policy themselves (the API deps do it already)."""
    roles = roles_allowed(policy)
    if roles is None:
        return
    if p is None:
        raise Unauthorized("sign in first")
    if p.role not in roles:
        raise Forbidden(f"this is for {' or '.join(sorted(roles))} accounts")
