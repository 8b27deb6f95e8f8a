import pytest

pytestmark = pytest.mark.db


async def test_healthz(client):
    r = await client.get("/healthz")
    assert r.status_code == 200


async def test_readyz_is_503_while_temporal_is_unreachable(client):
    # The test settings point Temporal at a port nobody listens on.
    r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"] == "ok"
    assert r.json()["checks"]["temporal"].startswith("unavailable")


async def test_metrics_exposes_request_counters(client):
    await client.get("/healthz")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert "marketred_http_requests_total" in r.text
