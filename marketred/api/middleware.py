"""Request id + access log + request metrics, as a pure ASGI middleware (why pure:
http/asgi.py)."""

from __future__ import annotations

import time
import uuid

import structlog
from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from marketred.http.asgi import HttpMiddleware
from marketred.logs import get_logger

log = get_logger("marketred.http")
REQUESTS = Counter("marketred_http_requests_total", "HTTP requests", ["method", "status"])
LATENCY = Histogram("marketred_http_request_seconds", "HTTP request latency", ["method"])


def route_template(scope: Scope) -> str:
    """The matched route's template (`/recuperar/{token}`), never the path itself: paths
    carry secrets (reset and verification tokens) that must not reach the logs. A path
    no route matched is logged as a placeholder for the same reason."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        return template
    mount = scope.get("root_path", "")
    return f"{mount}<unmatched>"


class RequestContext(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"]
            REQUESTS.labels(method, str(status)).inc()
            LATENCY.labels(method).observe(elapsed)
            log.info(
                "request",
                method=method,
                path=route_template(scope),
                status=status,
                ms=round(elapsed * 1000, 1),
            )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
