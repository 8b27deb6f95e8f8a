"""Authorization: the one place that decides who may see and do what.

Two layers, both used by every API and web handler:

1. Route policies — who may call a route at all (`ROUTE_POLICIES`, or a route's
   `openapi_extra={"x-policy": ...}`). tests/accounts/test_authz_matrix.py walks every
   route the app registers and fails when one has no policy.
2. Object rules — `authorize_<resource>(principal, obj, action)`: another party's object
   raises NotFound (404, it does not exist for you); a visible object with an action the
   principal may not take raises Forbidden (403). Scopes (`payout_scope`,
   `catalog_owner`, `cart_owner`) say whose rows a list or a back office covers. The
   services call these (quotes_access, payout_queries, catalog, carts, api_tokens); no
   service decides ownership on its own. tests/accounts/test_authz_as_run.py checks the
   real routes answer what these functions say.
"""

from __future__ import annotations

import uuid
from typing import Literal, Protocol

from marketred.schemas.accounts import Principal
from marketred.services.errors import Forbidden, NotFound, Reason, Unauthorized

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
    """("quote", {"vendor"}) for "quote:vendor"; for "quote:<action>" the actors this
    module lets take that action (QUOTE_ACTORS); None for a plain role policy."""
    kind, sep, actors = policy.partition(":")
    if not sep or kind not in OBJECT_KINDS:
        return None
    if actors in ROLES_OF:
        return kind, ROLES_OF[actors]
    if kind == "quote" and actors in QUOTE_ACTORS:
        return kind, QUOTE_ACTORS[actors]  # type: ignore[index]
    return None


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


def cart_owner(p: Principal, action: CartAction = "view") -> uuid.UUID:
    """Whose carts `p` works on: a buyer's own, always. Carts are addressed by (buyer,
    vendor), so a buyer cannot even name another's; nobody else has or sees carts (the
    operator console has no cart view: it looks at quotes)."""
    if p.role != "buyer":
        raise Forbidden(f"only buyers {action} carts")
    return p.user_id


def authorize_cart(p: Principal, cart: BuyerOwned, action: CartAction = "view") -> None:
    if cart.buyer_id != cart_owner(p, action):
        raise _hidden("cart")


QuoteAction = Literal[
    "view",
    "accept",
    "reject",
    "ship",
    "extend",
    "pay",
    "deliver",
    "cancel",
    "recheck_payment",
    "retry_now",
    "retry_refund",
    "record_refund",
    "request_return",
    "decide_return",
    "refund",
]
# Who of a quote's parties may take each action: the one table the quote services
# (quotes_access.quote_for), the route policies ("quote:<action>") and the
# authorization matrix all read. Decisions (docs/security.md, finding 7): operators may
# confirm a delivery (the buyer confirmed by phone, or the carrier's proof) and extend a
# deadline (a vendor's or buyer's request to support), both recorded with actor
# "operator" in the workflow; they never accept, reject, ship or pay for a party.
QUOTE_ACTORS: dict[str, frozenset[str]] = {
    "view": frozenset({"buyer", "vendor", "operator"}),
    "accept": frozenset({"vendor"}),
    "reject": frozenset({"vendor"}),
    "ship": frozenset({"vendor"}),
    "extend": frozenset({"vendor", "operator"}),
    "pay": frozenset({"buyer"}),
    "deliver": frozenset({"buyer", "operator"}),
    "cancel": frozenset({"buyer", "operator"}),
    "recheck_payment": frozenset({"operator"}),
    # Cut a failing step's backoff short (the Atascadas triage).
    "retry_now": frozenset({"operator"}),
    # A refund held (REFUND_HELD): ask Khipu again, or record the bank transfer made.
    "retry_refund": frozenset({"operator"}),
    "record_refund": frozenset({"operator"}),
    # Returns: the buyer asks; the vendor decides, an operator decides a disputed one;
    # operators refund part of a completed quote.
    "request_return": frozenset({"buyer"}),
    "decide_return": frozenset({"vendor", "operator"}),
    "refund": frozenset({"operator"}),
}


def is_quote_party(p: Principal, quote: BetweenParties) -> bool:
    return p.is_operator or _is_buyer_of(p, quote) or _is_vendor_of(p, quote)


def authorize_quote(p: Principal, quote: BetweenParties, action: QuoteAction = "view") -> None:
    """Buyer and vendor of a quote (and operators) see it; each may take only the
    actions QUOTE_ACTORS gives their role. Not a party: 404."""
    if not is_quote_party(p, quote):
        raise _hidden("quote")
    if p.role not in QUOTE_ACTORS[action]:
        roles = " or ".join(sorted(QUOTE_ACTORS[action]))
        raise Forbidden(
            Reason("QUOTE_ACTOR_FORBIDDEN", f"this action on a quote is for {roles} accounts")
        )


def authorize_payment(p: Principal, quote: BetweenParties, action: str = "view") -> None:
    """Payments follow their quote; only operators act on them (refund, release)."""
    authorize_quote(p, quote, "view")
    if action != "view" and not p.is_operator:
        raise Forbidden("only operators act on payments")


ProductAction = Literal["view", "manage"]


def authorize_product(
    p: Principal | None,
    product: VendorOwned,
    action: ProductAction = "view",
    *,
    active: bool = True,
) -> None:
    """Active products are public; inactive ones exist only for their vendor and
    operators. Managing one (the vendor back office) is its vendor's staff's alone:
    another vendor's product does not exist there (404)."""
    if action == "manage":
        if p is None or not _is_vendor_of(p, product):
            raise _hidden("product")
        return
    owner = p is not None and (p.is_operator or _is_vendor_of(p, product))
    if not active and not owner:
        raise _hidden("product")


def catalog_owner(p: Principal) -> uuid.UUID:
    """The vendor whose catalog `p` manages (vendor staff only)."""
    if p.role != "vendor" or p.vendor_id is None:
        raise Forbidden(Reason("CATALOG_VENDOR_ONLY", "only vendor staff manage a catalog"))
    return p.vendor_id


def authorize_vendor_area(p: Principal, vendor_id: uuid.UUID) -> None:
    """Back-office data keyed by a vendor (settings, statements): its staff or operators."""
    if p.is_operator or (p.role == "vendor" and p.vendor_id == vendor_id):
        return
    raise _hidden("vendor")


PayoutAction = Literal["view", "approve", "run"]


def payout_scope(p: Principal) -> uuid.UUID | None:
    """Which vendor's payouts `p` sees: None means every vendor (operators); vendor
    staff are pinned to their vendor; anyone else sees none."""
    if p.is_operator:
        return None
    if p.role != "vendor" or p.vendor_id is None:
        raise _hidden("payout")
    return p.vendor_id


def authorize_payout(p: Principal, payout: VendorOwned, action: PayoutAction = "view") -> None:
    if p.is_operator:
        return
    if not _is_vendor_of(p, payout):
        raise _hidden("payout")
    if action != "view":
        raise Forbidden("only operators approve or run payouts")


TokenAction = Literal["revoke"]


class UserOwned(Protocol):
    user_id: uuid.UUID


def authorize_token(p: Principal, token: UserOwned, action: TokenAction = "revoke") -> None:
    """Owners revoke their personal API tokens; operators may revoke anyone's (a leaked
    token); others' tokens do not exist for you."""
    del action  # one action today; named so call sites say what they do
    if not (p.is_operator or token.user_id == p.user_id):
        raise _hidden("token")


def require_role(p: Principal | None, policy: Policy) -> None:
    """For handlers that check a route policy themselves (the API deps do it already)."""
    roles = roles_allowed(policy)
    if roles is None:
        return
    if p is None:
        raise Unauthorized("sign in first")
    if p.role not in roles:
        raise Forbidden(f"this is for {' or '.join(sorted(roles))} accounts")
