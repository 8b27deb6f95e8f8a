"""The codec endpoint: operators read (and the Temporal UI sends) decrypted payloads.

`POST /codec/decode` and `/codec/encode` take and return `{"payloads": [...]}` in
protobuf JSON, which is what the Temporal UI's "codec endpoint" setting and
`temporal workflow show --codec-endpoint <url>/codec --codec-auth "Bearer <token>"` send.
Only operators: by bearer token (API token or access token), or by their web session when
the request comes from the Temporal UI's origin (CORS, api/cors.py) or our own, so a
foreign page cannot make a signed-in operator's browser decrypt for it. A payload whose
key was shredded (an erased buyer) comes back still encrypted.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, Response
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payloads

from marketred.http.deps import ResourcesDep, SettingsDep, get_optional_principal
from marketred.http.principal import get_web_principal
from marketred.schemas.accounts import Principal
from marketred.services.errors import DomainError, Forbidden, Unauthorized
from marketred.settings import Settings

router = APIRouter(prefix="/codec", tags=["ops"])


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _trusted_origins(settings: Settings) -> set[str]:
    return {origin_of(settings.temporal_ui_url), origin_of(settings.public_url)}


async def codec_operator(
    request: Request,
    settings: SettingsDep,
    bearer: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    principal = bearer
    if principal is None and request.headers.get("authorization") is None:
        # A browser: the session counts only from the Temporal UI or our own pages.
        if request.headers.get("origin") in _trusted_origins(settings):
            principal = get_web_principal(request)
        elif get_web_principal(request) is not None:
            raise Forbidden("the codec answers browsers only from the Temporal UI's origin")
    if principal is None:
        raise Unauthorized(
            "operators only: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not principal.is_operator:
        raise Forbidden("the codec endpoint is for operators")
    return principal


CodecOperator = Annotated[Principal, Depends(codec_operator)]


async def _payloads(request: Request) -> Payloads:
    try:
        return json_format.Parse(await request.body(), Payloads())
    except (json_format.ParseError, DecodeError, UnicodeDecodeError) as exc:
        raise DomainError(
            'the body must be {"payloads": [...]} in protobuf JSON',
            errors=[("payloads", str(exc))],
        ) from exc


def _answer(payloads: Payloads) -> Response:
    return Response(json_format.MessageToJson(payloads), media_type="application/json")


@router.post("/decode", include_in_schema=False)
async def decode(request: Request, res: ResourcesDep, operator: CodecOperator) -> Response:
    del operator
    payloads = await _payloads(request)
    decoded = await res.payload_codec().decode_readable(payloads.payloads)
    return _answer(Payloads(payloads=decoded))


@router.post("/encode", include_in_schema=False)
async def encode(request: Request, res: ResourcesDep, operator: CodecOperator) -> Response:
    """What the Temporal UI sends (a signal, an update, a reset) leaves encrypted."""
    del operator
    payloads = await _payloads(request)
    return _answer(Payloads(payloads=await res.payload_codec().encode(payloads.payloads)))
