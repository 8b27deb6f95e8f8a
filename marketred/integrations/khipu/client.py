"""Async client of Khipu's v3 instant-payments API.

Only GETs are retried (they are safe). A create that times out or gets a 5xx may still
have created a payment, and Khipu offers no idempotency key (reference §7), so the
client raises a typed error and leaves the decision to the caller.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from marketred import metrics
from marketred.integrations.khipu.errors import (
    FieldError,
    KhipuAuthError,
    KhipuError,
    KhipuNotFound,
    KhipuServerError,
    KhipuTimeout,
    KhipuUnavailable,
    KhipuValidationError,
)
from marketred.integrations.khipu.models import (
    BankList,
    Payment,
    PaymentCreated,
    PaymentCreateRequest,
    RefundRequest,
    SuccessMessage,
)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=5.0)
USER_AGENT = "marketred-khipu/1.0"

M = TypeVar("M", bound=BaseModel)


class KhipuClient:
    """One instance per process; pass the process's shared `httpx.AsyncClient`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        http: httpx.AsyncClient | None = None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        read_attempts: int = 3,
        retry_backoff: float = 0.25,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient()
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._read_attempts = max(1, read_attempts)
        self._retry_backoff = retry_backoff

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # -- operations ---------------------------------------------------------------------

    async def create_payment(self, request: PaymentCreateRequest) -> PaymentCreated:
        """POST /v3/payments. Never retried: see the module docstring."""
        return await self._send(
            "postPayment", "POST", "/v3/payments", PaymentCreated, json_body=request.to_json()
        )

    async def get_payment(self, payment_id: str) -> Payment:
        return await self._read("getPaymentById", f"/v3/payments/{_seg(payment_id)}", Payment)

    async def delete_payment(self, payment_id: str) -> SuccessMessage:
        """DELETE /v3/payments/{id}: only pending payments can be deleted (else 400)."""
        path = f"/v3/payments/{_seg(payment_id)}"
        return await self._send("deletePaymentById", "DELETE", path, SuccessMessage)

    async def refund_payment(self, payment_id: str, amount: int | None = None) -> SuccessMessage:
        """Full refund when `amount` is None. Not retried: a second refund would move money."""
        body = RefundRequest(amount=amount).to_json()
        path = f"/v3/payments/{_seg(payment_id)}/refunds"
        return await self._send(
            "postPaymentRefundsById", "POST", path, SuccessMessage, json_body=body
        )

    async def get_banks(self) -> BankList:
        return await self._read("getBanks", "/v3/banks", BankList)

    # -- transport ----------------------------------------------------------------------

    async def _read(self, operation: str, path: str, model: type[M]) -> M:
        """GET with retries on timeouts, connection failures and 5xx, with backoff."""
        for attempt in range(1, self._read_attempts + 1):
            try:
                return await self._send(operation, "GET", path, model)
            except (KhipuTimeout, KhipuUnavailable, KhipuServerError):
                if attempt == self._read_attempts:
                    raise
                await asyncio.sleep(self._retry_backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        model: type[M],
        *,
        json_body: dict[str, Any] | None = None,
    ) -> M:
        with metrics.khipu_call(operation):
            return await self._exchange(operation, method, path, model, json_body)

    async def _exchange(
        self,
        operation: str,
        method: str,
        path: str,
        model: type[M],
        json_body: dict[str, Any] | None,
    ) -> M:
        headers = {"x-api-key": self._api_key, "accept": "application/json"}
        headers["user-agent"] = USER_AGENT
        content: bytes | None = None
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False).encode()
            headers["content-type"] = "application/json"
        try:
            response = await self._http.request(
                method,
                self._base_url + path,
                content=content,
                headers=headers,
                timeout=self._timeout,
            )
        except httpx.TimeoutException as exc:
            raise KhipuTimeout(f"no answer from Khipu: {exc!r}", operation=operation) from exc
        except httpx.TransportError as exc:
            raise KhipuUnavailable(f"cannot reach Khipu: {exc!r}", operation=operation) from exc
        if response.status_code != 200:
            raise _error_for(operation, response)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise KhipuError(
                f"unexpected response body: {exc}",
                status=response.status_code,
                raw_body=response.text,
                operation=operation,
            ) from exc


def _seg(value: str) -> str:
    return quote(value, safe="")


def _error_for(operation: str, response: httpx.Response) -> KhipuError:
    """Map a non-200 answer to a typed error, keeping Khipu's message and field list."""
    raw = response.text
    message = response.reason_phrase or f"HTTP {response.status_code}"
    errors: tuple[FieldError, ...] = ()
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        if isinstance(data.get("message"), str) and data["message"]:
            message = data["message"]
        if isinstance(data.get("errors"), list):
            errors = tuple(
                FieldError(field=str(e.get("field", "")), message=str(e.get("message", "")))
                for e in data["errors"]
                if isinstance(e, dict)
            )
    code = response.status_code
    kwargs: dict[str, Any] = {
        "status": code,
        "errors": errors,
        "raw_body": raw,
        "operation": operation,
    }
    if code == 400:
        return KhipuValidationError(message, **kwargs)
    if code in (401, 403):
        return KhipuAuthError(message, **kwargs)
    if code == 404:
        return KhipuNotFound(message, **kwargs)
    if code >= 500:
        return KhipuServerError(message, **kwargs)
    return KhipuError(message, **kwargs)
