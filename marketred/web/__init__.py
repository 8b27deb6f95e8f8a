"""Server-rendered web UI: storefront, vendor back office, operator console.

`install_web(app)` mounts the page routers and the static files (served by us: no CDN).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    from marketred.web.routes import (
        auth_pages,
        carts,
        i18n,
        operator_accounts,
        operator_console,
        operator_featured,
        operator_payouts,
        operator_theme,
        operator_triage,
        operator_vendors,
        payouts_pages,
        privacy_pages,
        quotes_pages,
        reports_pages,
        return_forms,
        storefront,
        vendor_bank_account,
        vendor_catalog,
        vendor_office,
        vendor_photos,
        vendor_settings,
    )

    modules = (
        auth_pages,
        storefront,
        carts,
        quotes_pages,
        return_forms,
        vendor_office,
        vendor_catalog,
        vendor_photos,
        vendor_bank_account,
        vendor_settings,
        operator_console,
        operator_triage,
        operator_accounts,
        operator_featured,
        operator_payouts,
        operator_theme,
        operator_vendors,
        payouts_pages,
        privacy_pages,
        reports_pages,
        i18n,
    )
    for module in modules:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
