"""Every error leaves the API as application/problem+json (RFC 9457)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from marketred.logs import get_logger
from marketred.services.errors import DomainError, code_of

PROBLEM_JSON = "application/problem+json"
log = get_logger(__name__)


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: list[dict[str, str]] | None = None,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    code: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if code:
        body["code"] = code
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "variants", 0, "price") → "variants[0].price"; the location kind is dropped.
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or str(loc[0] if loc else "body")


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{"field": _field_name(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
    names = ", ".join(e["field"] for e in errors)
    return problem_response(
        422,
        "Unprocessable content",
        f"invalid fields: {names}",
        errors=errors,
        instance=request.url.path,
    )


def _field_error(field: str, message: str) -> dict[str, str]:
    code = code_of(message)
    return {"field": field, "message": str(message), **({"code": code} if code else {})}


async def _domain(request: Request, exc: DomainError) -> JSONResponse:
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        errors=[_field_error(f, m) for f, m in exc.errors],
        type_=exc.type,
        headers=exc.headers,
        instance=request.url.path,
        code=exc.code,
    )


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    titles = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed"}
    return problem_response(
        exc.status_code,
        titles.get(exc.status_code, "Error"),
        str(exc.detail) if exc.detail else None,
        headers=dict(exc.headers) if exc.headers else None,
        instance=request.url.path,
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", path=request.url.path, error=type(exc).__name__, exc_info=exc)
    return problem_response(500, "Internal server error", "something went wrong on our side")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unhandled)
