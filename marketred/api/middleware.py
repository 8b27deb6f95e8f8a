"""Request id + access log + request metrics, as pure ASGI-friendly middleware."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from fastapi import Request, Response
from prometheus_client import Counter, Histogram

from marketred.logs import get_logger

log = get_logger("marketred.http")
REQUESTS = Counter("marketred_http_requests_total", "HTTP requests", ["method", "status"])
LATENCY = Histogram("marketred_http_request_seconds", "HTTP request latency", ["method"])


def route_template(request: Request) -> str:
    """The matched route's template (`/recuperar/{token}`), never the path itself: paths
    carry secrets (reset and verification tokens) that must not reach the logs. A path
    no route matched is logged as a placeholder for the same reason."""
    route = request.scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        return template
    mount = request.scope.get("root_path", "")
    return f"{mount}<unmatched>"


async def request_context(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    response = await call_next(request)
    elapsed = time.perf_counter() - started
    response.headers["X-Request-ID"] = request_id
    REQUESTS.labels(request.method, str(response.status_code)).inc()
    LATENCY.labels(request.method).observe(elapsed)
    log.info(
        "request",
        method=request.method,
        path=route_template(request),
        status=response.status_code,
        ms=round(elapsed * 1000, 1),
    )
    return response
