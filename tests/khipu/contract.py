"""Checks every /v3 request and response against Khipu's published OpenAPI file."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

import marketred.sandbox.khipu

SPEC_PATH = Path(marketred.sandbox.khipu.__file__).parent / "khipu-v3-openapi.json"
SPEC_HOST = "https://payment-api.khipu.com"
# The spec marks these GET fields required date-time/e-mail strings, yet they cannot
# have a value before anyone paid; the sandbox answers null for them then (reference §3:
# real answers may null fields that do not apply). This is the only relaxation.
NULL_BEFORE_PAYMENT = ("conciliation_date", "payer_email")


def load_spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return data


def strict_openapi() -> OpenAPI:
    return OpenAPI.from_dict(load_spec())


def relaxed_openapi() -> OpenAPI:
    spec = copy.deepcopy(load_spec())
    props = spec["components"]["schemas"]["payment-get-payment"]["properties"]
    for name in NULL_BEFORE_PAYMENT:
        props[name]["type"] = ["string", "null"]
    return OpenAPI.from_dict(spec)


class OpenAPIRequest:
    def __init__(self, request: httpx.Request) -> None:
        self.host_url = SPEC_HOST  # the contract is about paths and bodies, not our host
        self.path = request.url.path
        self.method = request.method.lower()
        self.body: bytes | None = request.content or None
        self.content_type = request.headers.get("content-type", "application/json")
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )


class OpenAPIResponse:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.data: bytes | None = response.content
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(dict(response.headers))


class ContractTransport(httpx.AsyncBaseTransport):
    """Wraps a transport; raises on any /v3 exchange that breaks the spec."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        openapi: OpenAPI | None = None,
        *,
        check_requests: bool = True,
    ) -> None:
        # check_requests=False for tests that send invalid requests on purpose.
        self.inner = inner
        self.check_requests = check_requests
        self.openapi = openapi or relaxed_openapi()
        self.checked: list[tuple[str, str, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if request.url.path.startswith("/v3/"):
            wrapped = OpenAPIRequest(request)
            if self.check_requests:
                self.openapi.validate_request(wrapped)
            self.openapi.validate_response(wrapped, OpenAPIResponse(response))
            self.checked.append((request.method, request.url.path, response.status_code))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
