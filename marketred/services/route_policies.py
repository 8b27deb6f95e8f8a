"""Who may call each route: (method, path template) → policy (see authz.Policy).

Every route the app registers must appear here (or carry openapi_extra={"x-policy": ...});
tests/accounts/test_authz_matrix.py fails otherwise, and checks each policy's behaviour
for every role. Object ownership inside a route is decided by authz.authorize_*.
"""

from __future__ import annotations

from marketred.services.authz import Policy

_PUBLIC_PAGES = [
    "/", "/buscar", "/tiendas/{slug}", "/productos/{product_id}", "/idioma",
    "/ingresar", "/registro", "/verificar-email/{token}", "/recuperar", "/recuperar/{token}",
    "/auth/oidc/login", "/auth/oidc/callback",
    "/quotes/{quote_id}",  # Khipu's return URL: only redirects to the buyer's pages
    "/api/openapi.json", "/api/docs", "/docs/oauth2-redirect", "/redoc",
    "/healthz", "/readyz", "/metrics",
    "/embed/v1/marketred.js", "/embed/v1/catalog/{vendor_slug}", "/embed/v1/search",
    "/api/v1/vendors", "/api/v1/vendors/{slug}", "/api/v1/vendors/{slug}/products",
    "/api/v1/products/search", "/api/v1/products/{product_id}",
]  # fmt: skip

ROUTE_POLICIES: dict[tuple[str, str], Policy] = {
    ("GET", "/dev/mail"): "dev",
    **{("GET", path): "public" for path in _PUBLIC_PAGES},
    # Accounts (API)
    ("POST", "/api/v1/auth/register"): "public",
    ("POST", "/api/v1/auth/token"): "public",
    ("GET", "/api/v1/auth/me"): "authenticated",
    ("POST", "/api/v1/auth/verify-email/{token}"): "public",
    ("POST", "/api/v1/auth/password-reset"): "public",
    ("POST", "/api/v1/auth/password-reset/confirm"): "public",
    ("POST", "/api/v1/auth/password"): "authenticated",
    ("POST", "/api/v1/auth/tokens"): "vendor_or_operator",
    ("GET", "/api/v1/auth/tokens"): "authenticated",
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): "authenticated",
    # Accounts (web forms; CSRF-checked)
    ("POST", "/ingresar"): "public",
    ("POST", "/registro"): "public",
    ("POST", "/verificar-email/{token}"): "public",
    ("POST", "/recuperar"): "public",
    ("POST", "/recuperar/{token}"): "public",
    ("POST", "/salir"): "public",
    ("GET", "/cuenta"): "authenticated",
    ("GET", "/cuenta/contrasena"): "authenticated",
    ("POST", "/cuenta/contrasena"): "authenticated",
    ("GET", "/cuenta/tokens"): "authenticated",
    ("POST", "/cuenta/tokens"): "vendor_or_operator",
    ("POST", "/cuenta/tokens/{token_id}/revocar"): "authenticated",
    # Directory
    ("PUT", "/api/v1/directory/companies/{directory_id}"): "signed:directory",
    # Vendor catalog (API)
    ("GET", "/api/v1/vendor/products"): "vendor",
    ("POST", "/api/v1/vendor/products"): "vendor",
    ("POST", "/api/v1/vendor/products/import"): "vendor",
    ("GET", "/api/v1/vendor/products/{product_id}"): "vendor",
    ("PATCH", "/api/v1/vendor/products/{product_id}"): "vendor",
    ("DELETE", "/api/v1/vendor/products/{product_id}"): "vendor",
    ("POST", "/api/v1/vendor/products/{product_id}/variants"): "vendor",
    ("PATCH", "/api/v1/vendor/products/{product_id}/variants/{variant_id}"): "vendor",
    ("DELETE", "/api/v1/vendor/products/{product_id}/variants/{variant_id}"): "vendor",
    # Carts (API + web)
    ("GET", "/api/v1/carts"): "buyer",
    ("PUT", "/api/v1/carts/{vendor_slug}/items/{variant_id}"): "buyer",
    ("DELETE", "/api/v1/carts/{vendor_slug}"): "buyer",
    ("GET", "/carros"): "buyer",
    ("POST", "/carros/agregar"): "buyer",
    ("POST", "/carros/{vendor_slug}/items/{variant_id}"): "buyer",
    ("POST", "/carros/{vendor_slug}/vaciar"): "buyer",
    ("POST", "/carros/{vendor_slug}/cotizar"): "buyer",
    # Buyer quote pages
    ("GET", "/cotizaciones"): "buyer",
    ("GET", "/cotizaciones/{quote_id}"): "quote:view",
    ("POST", "/cotizaciones/{quote_id}/pagar"): "buyer",
    ("GET", "/cotizaciones/{quote_id}/pago"): "buyer",
    ("GET", "/cotizaciones/{quote_id}/estado.json"): "quote:view",
    ("POST", "/cotizaciones/{quote_id}/cancelar"): "buyer",
    ("POST", "/cotizaciones/{quote_id}/devolucion"): "buyer",
    ("POST", "/cotizaciones/{quote_id}/confirmar-entrega"): "buyer",
    # Vendor back office
    ("GET", "/vendedor"): "vendor",
    ("GET", "/vendedor/cotizaciones/{quote_id}"): "vendor",
    ("POST", "/vendedor/cotizaciones/{quote_id}/aceptar"): "vendor",
    ("POST", "/vendedor/cotizaciones/{quote_id}/rechazar"): "vendor",
    ("POST", "/vendedor/cotizaciones/{quote_id}/extender"): "vendor",
    ("POST", "/vendedor/cotizaciones/{quote_id}/devolucion"): "vendor",
    ("GET", "/vendedor/pedidos"): "vendor",
    ("POST", "/vendedor/cotizaciones/{quote_id}/despachar"): "vendor",
    ("GET", "/vendedor/catalogo"): "vendor",
    ("GET", "/vendedor/catalogo/nuevo"): "vendor",
    ("POST", "/vendedor/catalogo/nuevo"): "vendor",
    ("GET", "/vendedor/catalogo/{product_id}"): "vendor",
    ("POST", "/vendedor/catalogo/{product_id}"): "vendor",
    ("POST", "/vendedor/catalogo/{product_id}/variantes"): "vendor",
    ("POST", "/vendedor/catalogo/{product_id}/variantes/{variant_id}"): "vendor",
    ("GET", "/vendedor/catalogo-importar"): "vendor",
    ("POST", "/vendedor/catalogo-importar"): "vendor",
    ("POST", "/vendedor/catalogo-importar/confirmar"): "vendor",
    # Operator console
    ("GET", "/operador"): "operator",
    ("GET", "/operador/retenidas"): "operator",
    ("GET", "/operador/atrasos"): "operator",
    ("GET", "/operador/cotizaciones/{quote_id}"): "operator",
    ("POST", "/operador/cotizaciones/{quote_id}/cancelar"): "operator",
    ("POST", "/operador/cotizaciones/{quote_id}/extender"): "operator",
    ("POST", "/operador/cotizaciones/{quote_id}/verificar-pago"): "operator",
    ("POST", "/operador/cotizaciones/{quote_id}/reintentar-reembolso"): "operator",
    ("POST", "/operador/cotizaciones/{quote_id}/registrar-reembolso"): "operator",
    ("POST", "/operador/cotizaciones/{quote_id}/devolucion"): "operator",
    ("POST", "/operador/cotizaciones/{quote_id}/reembolso"): "operator",
    ("GET", "/operador/cuentas"): "operator",
    ("POST", "/operador/cuentas/{user_id}/desactivar"): "operator",
    ("POST", "/operador/cuentas/{user_id}/reactivar"): "operator",
    # Quotes (API): parties see them; each side has its own actions
    ("POST", "/api/v1/quotes"): "buyer",
    ("GET", "/api/v1/quotes"): "authenticated",
    ("GET", "/api/v1/quotes/{quote_id}"): "quote:view",
    ("POST", "/api/v1/quotes/{quote_id}/accept"): "quote:vendor",
    ("POST", "/api/v1/quotes/{quote_id}/reject"): "quote:vendor",
    ("POST", "/api/v1/quotes/{quote_id}/ship"): "quote:vendor",
    ("POST", "/api/v1/quotes/{quote_id}/pay"): "quote:buyer",
    ("POST", "/api/v1/quotes/{quote_id}/deliver"): "quote:buyer_or_operator",
    ("POST", "/api/v1/quotes/{quote_id}/cancel"): "quote:buyer_or_operator",
    ("POST", "/api/v1/quotes/{quote_id}/extend"): "quote:vendor_or_operator",
    ("POST", "/api/v1/quotes/{quote_id}/recheck-payment"): "quote:operator",
    ("POST", "/api/v1/quotes/{quote_id}/retry-refund"): "quote:operator",
    ("POST", "/api/v1/quotes/{quote_id}/record-refund"): "quote:operator",
    ("POST", "/api/v1/quotes/{quote_id}/return"): "quote:buyer",
    ("POST", "/api/v1/quotes/{quote_id}/return-decision"): "quote:vendor_or_operator",
    ("POST", "/api/v1/quotes/{quote_id}/refund"): "quote:operator",
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
    ("GET", "/vendedor/datos-bancarios"): "vendor",
    ("POST", "/vendedor/datos-bancarios"): "vendor",
    # Payout pages
    ("GET", "/vendedor/pagos"): "vendor",
    ("GET", "/vendedor/pagos/{payout_id}"): "vendor_or_operator",
    ("GET", "/operador/pagos/{payout_id}"): "vendor_or_operator",
    ("GET", "/pagos/{payout_id}/informe.csv"): "vendor_or_operator",
    ("GET", "/operador/pagos"): "operator",
    ("POST", "/operador/pagos/{payout_id}/aprobar"): "operator",
    ("POST", "/operador/pagos/generar"): "operator",
    ("POST", "/operador/pagos/{payout_id}/rechazar"): "operator",
    ("POST", "/operador/pagos/{payout_id}/confirmar"): "operator",
    ("POST", "/operador/pagos/{payout_id}/no-ejecutado"): "operator",
    ("POST", "/operador/pagos/{payout_id}/reintentar"): "operator",
    ("GET", "/operador/pagos/nominas/{bank_file_id}.csv"): "operator",
}


def policy_for(method: str, path: str, openapi_extra: dict[str, object] | None) -> Policy | None:
    declared = (openapi_extra or {}).get("x-policy")
    if isinstance(declared, str):
        return declared  # type: ignore[return-value]
    return ROUTE_POLICIES.get((method, path))
