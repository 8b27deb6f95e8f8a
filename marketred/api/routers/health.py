"""Liveness, readiness (database + Temporal) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from marketred.api.deps import ResourcesDep, SettingsDep
from marketred.services.errors import NotFound
from marketred.settings import Settings

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(res: ResourcesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(3):
            async with res.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        async with asyncio.timeout(3):
            client = await res.temporal.get()
            await client.service_client.check_health()
        checks["temporal"] = "ok"
    except Exception as exc:
        checks["temporal"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


def metrics_allowed(settings: Settings, authorization: str | None) -> bool:
    """Outside production /metrics is open. In production it answers only a scraper
    sending `Authorization: Bearer <MARKETRED_METRICS_TOKEN>`; with no token set it
    does not exist (404): counters of requests and payments are not for the public."""
    if settings.env != "production":
        return True
    token = settings.metrics_token
    if not token or not authorization:
        return False
    return hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())


@router.get("/metrics")
async def metrics(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    if not metrics_allowed(settings, authorization):
        raise NotFound("not found")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
