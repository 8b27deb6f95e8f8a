"""Signed company updates as the directory sends them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from marketred.integrations.directory import SIGNATURE_HEADER, sign
from tests.support.factories import random_rut


def company_body(name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "rut": random_rut(),
        "email": "contacto@empresa.cl",
        "phone": "+56 2 2222 3333",
        "address": "Av. Providencia 100, Santiago",
        "logo_url": "https://inforedchile.cl/logos/empresa.png",
        "categories": ["Alimentos", "Café"],
        "active": True,
        "updated_at": datetime.now(UTC).isoformat(),
    }
    body.update(overrides)
    return body


def at(minutes: int) -> str:
    return (datetime(2026, 11, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=minutes)).isoformat()


async def put_company(
    client: httpx.AsyncClient,
    directory_id: str,
    body: dict[str, Any] | bytes,
    secret: str,
    *,
    timestamp: int | None = None,
    signed_body: bytes | None = None,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    path = f"/api/v1/directory/companies/{directory_id}"
    signed = signed_body if signed_body is not None else raw
    header = sign(secret, "PUT", path, signed, timestamp=timestamp)
    return await client.put(
        path,
        content=raw,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: header},
    )
