"""The REST API (`/api/v1`), webhooks, the embed script and the operational endpoints.

`install_api(app)` mounts its routers; `marketred/app.py` calls it."""

from __future__ import annotations

from fastapi import FastAPI


def install_api(app: FastAPI) -> None:
    from marketred.api.routers import (
        api_tokens,
        auth,
        carts,
        codec,
        directory,
        embed,
        health,
        khipu_webhook,
        media,
        payouts,
        privacy,
        products,
        quotes,
        theme,
        vendor_bank_account,
        vendor_catalog,
        vendors,
    )

    for module in (
        health,
        auth,
        api_tokens,
        directory,
        embed,
        vendors,
        products,
        vendor_catalog,
        vendor_bank_account,
        carts,
        quotes,
        payouts,
        privacy,
        khipu_webhook,
        codec,
        media,
        theme,
    ):
        app.include_router(module.router)
