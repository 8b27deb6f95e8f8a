"""Liveness, readiness (database + Temporal) and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from marketred.http.deps import ResourcesDep, SettingsDep
from marketred.services.operations import metrics_access

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


@router.get("/metrics")
async def metrics(request: Request, settings: SettingsDep) -> Response:
    token = settings.metrics_token
    if not metrics_access.api_metrics_served(token, production=settings.env == "production"):
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    if not metrics_access.metrics_allowed(token, request.headers.get("authorization")):
        return JSONResponse(
            {"detail": "metrics need the bearer token"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
