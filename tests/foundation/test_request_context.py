"""The request middleware (pure ASGI): every answer carries X-Request-ID (the caller's, or
a new one) and is counted in the request metrics, errors included."""

from __future__ import annotations

import pytest

from marketred.api.middleware import REQUESTS

pytestmark = pytest.mark.db


async def test_answers_carry_the_callers_request_id_or_a_new_one(client):
    r = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    first = (await client.get("/healthz")).headers["x-request-id"]
    second = (await client.get("/healthz")).headers["x-request-id"]
    assert len(first) == 32
    assert first != second


async def test_error_answers_are_counted_with_their_status(client):
    before = REQUESTS.labels("GET", "404")._value.get()
    r = await client.get("/api/v1/products/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404
    assert r.headers["x-request-id"]
    assert REQUESTS.labels("GET", "404")._value.get() == before + 1
