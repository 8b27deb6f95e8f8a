"""Who may call each API route: (method, path template) → policy (authz.Policy).

The web pages' table, `web/route_policies.py`, says the rules both tables follow (every
registered route declares its policy; tests/accounts/test_authz_matrix.py checks them)."""

from __future__ import annotations

from marketred.services.accounts.authz import Policy

_PUBLIC = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/embed/v1/marketred.js",
    "/embed/v1/catalog/{vendor_slug}",
    "/embed/v1/search",
    "/api/v1/vendors",
    "/api/v1/vendors/{slug}",
    "/api/v1/vendors/{slug}/products",
    "/api/v1/products/search",
    "/api/v1/products/{product_id}",
]

API_ROUTE_POLICIES: dict[tuple[str, str], Policy] = {
    **{("GET", path): "public" for path in _PUBLIC},
    # Accounts (API)
    ("POST", "/api/v1/auth/register"): "public",
    ("POST", "/api/v1/auth/token"): "public",
    ("GET", "/api/v1/auth/me"): "authenticated",
    ("POST", "/api/v1/auth/verify-email/{token}"): "public",
    ("POST", "/api/v1/auth/password-reset"): "public",
    ("POST", "/api/v1/auth/password-reset/confirm"): "public",
    ("POST", "/api/v1/auth/password"): "authenticated",
    ("POST", "/api/v1/auth/revoke-all"): "authenticated",
    ("POST", "/api/v1/auth/tokens"): "vendor_or_operator",
    ("GET", "/api/v1/auth/tokens"): "authenticated",
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): "authenticated",
    # A buyer's personal data (services/accounts/privacy.py)
    ("GET", "/api/v1/me/data"): "buyer",
    ("PATCH", "/api/v1/me"): "buyer",
    ("POST", "/api/v1/me/erase"): "buyer",
    # Temporal payload codec (operators; the Temporal UI and `temporal --codec-endpoint`)
    ("POST", "/codec/decode"): "operator",
    ("POST", "/codec/encode"): "operator",
    # Directory
    ("PUT", "/api/v1/directory/companies/{directory_id}"): "signed:directory",
    ("PUT", "/api/v1/directory/theme"): "signed:directory",
    ("GET", "/theme.css"): "public",
    ("GET", "/api/v1/theme"): "public",
    # Vendor catalog (API)
    ("GET", "/api/v1/vendor/products"): "vendor",
    ("POST", "/api/v1/vendor/products"): "vendor",
    ("POST", "/api/v1/vendor/products/import"): "vendor",
    ("GET", "/api/v1/vendor/products/{product_id}"): "vendor",
    ("PATCH", "/api/v1/vendor/products/{product_id}"): "vendor",
    ("DELETE", "/api/v1/vendor/products/{product_id}"): "vendor",
    ("POST", "/api/v1/vendor/products/{product_id}/variants"): "vendor",
    ("POST", "/api/v1/vendor/products/{product_id}/images"): "vendor",
    ("GET", "/media/{key}"): "public",
    ("PATCH", "/api/v1/vendor/products/{product_id}/variants/{variant_id}"): "vendor",
    ("DELETE", "/api/v1/vendor/products/{product_id}/variants/{variant_id}"): "vendor",
    # Carts (API + web)
    ("GET", "/api/v1/carts"): "buyer",
    ("PUT", "/api/v1/carts/{vendor_slug}/items/{variant_id}"): "buyer",
    ("DELETE", "/api/v1/carts/{vendor_slug}"): "buyer",
    # Quotes (API): parties see them; each side has its own actions
    ("POST", "/api/v1/quotes"): "buyer",
    ("GET", "/api/v1/quotes"): "authenticated",
    ("GET", "/api/v1/quotes/{quote_id}"): "quote:view",
    # "quote:<action>": the actors are authz.QUOTE_ACTORS[action], the table the
    # services enforce, so a policy cannot drift from the code.
    ("POST", "/api/v1/quotes/{quote_id}/accept"): "quote:accept",
    ("POST", "/api/v1/quotes/{quote_id}/reject"): "quote:reject",
    ("POST", "/api/v1/quotes/{quote_id}/ship"): "quote:ship",
    ("POST", "/api/v1/quotes/{quote_id}/pay"): "quote:pay",
    ("POST", "/api/v1/quotes/{quote_id}/deliver"): "quote:deliver",
    ("POST", "/api/v1/quotes/{quote_id}/cancel"): "quote:cancel",
    ("POST", "/api/v1/quotes/{quote_id}/extend"): "quote:extend",
    ("POST", "/api/v1/quotes/{quote_id}/recheck-payment"): "quote:recheck_payment",
    ("POST", "/api/v1/quotes/{quote_id}/retry-now"): "quote:retry_now",
    ("POST", "/api/v1/quotes/{quote_id}/retry-refund"): "quote:retry_refund",
    ("POST", "/api/v1/quotes/{quote_id}/record-refund"): "quote:record_refund",
    ("POST", "/api/v1/quotes/{quote_id}/return"): "quote:request_return",
    ("POST", "/api/v1/quotes/{quote_id}/return-decision"): "quote:decide_return",
    ("POST", "/api/v1/quotes/{quote_id}/refund"): "quote:refund",
    # Payouts
    ("GET", "/api/v1/payouts"): "vendor_or_operator",
    ("POST", "/api/v1/payouts/run"): "operator",
    ("GET", "/api/v1/payouts/{payout_id}"): "vendor_or_operator",
    ("GET", "/api/v1/payouts/{payout_id}/report.csv"): "vendor_or_operator",
    ("POST", "/api/v1/payouts/{payout_id}/approve"): "operator",
    ("POST", "/api/v1/payouts/{payout_id}/reject"): "operator",
    ("POST", "/api/v1/payouts/{payout_id}/confirm-transfer"): "operator",
    ("POST", "/api/v1/payouts/{payout_id}/release"): "operator",
    ("POST", "/api/v1/payouts/{payout_id}/retry-transfer"): "operator",
    ("GET", "/api/v1/payouts/bank-files"): "operator",
    ("GET", "/api/v1/payouts/bank-files/{bank_file_id}.csv"): "operator",
    ("GET", "/api/v1/reconciliation"): "operator",
    # Where payouts go (vendor staff, their own vendor)
    ("GET", "/api/v1/banks"): "public",
    ("GET", "/api/v1/vendor/bank-account"): "vendor",
    ("PUT", "/api/v1/vendor/bank-account"): "vendor",
    ("GET", "/api/v1/vendor/bank-account/changes"): "vendor",
}
