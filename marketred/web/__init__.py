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
        carts,
        i18n,
        operator_accounts,
        operator_console,
        operator_payouts,
        payouts_pages,
        quotes_pages,
        return_forms,
        storefront,
        vendor_bank_account,
        vendor_catalog,
        vendor_office,
    )

    modules = (
        storefront,
        carts,
        quotes_pages,
        return_forms,
        vendor_office,
        vendor_catalog,
        vendor_bank_account,
        operator_console,
        operator_accounts,
        operator_payouts,
        payouts_pages,
        i18n,
    )
    for module in modules:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
