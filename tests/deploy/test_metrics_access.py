"""Who may read /metrics (MARKETRED_METRICS_TOKEN): the API's over HTTP in each mode."""

from __future__ import annotations

import httpx
import pytest

from marketred.services.operations.metrics_access import metrics_allowed
from marketred.settings import Settings
from marketred.store.session import create_engine, create_session_factory
from tests.support.api import app_client
from tests.support.production import PRODUCTION as GOOD_PRODUCTION

PRODUCTION: dict[str, object] = {
    **GOOD_PRODUCTION,
    "database_url": "postgresql://nobody@127.0.0.1:1/none",
    "temporal_address": "127.0.0.1:1",
}


async def _get(settings: Settings, headers: dict[str, str] | None = None) -> httpx.Response:
    assert settings.database_url is not None
    engine = create_engine(settings.database_url)  # never connects: /metrics needs no SQL
    async with httpx.AsyncClient() as http:
        sessions = create_session_factory(engine)
        async with app_client(settings, engine, sessions, http) as api:
            response = await api.get("/metrics", headers=headers or {})
    await engine.dispose()
    return response


async def test_api_metrics_in_production_need_the_token_and_are_absent_without_one() -> None:
    assert (await _get(Settings.model_validate(PRODUCTION))).status_code == 404
    guarded = Settings.model_validate({**PRODUCTION, "metrics_token": "s3cret-token"})
    assert (await _get(guarded)).status_code == 401
    r = await _get(guarded, {"Authorization": "Bearer s3cret-token"})
    assert r.status_code == 200
    assert "marketred_http_requests_total" in r.text


async def test_api_metrics_are_open_in_dev_without_a_token() -> None:
    dev = Settings(env="dev", log_json=False, database_url=PRODUCTION["database_url"])
    assert (await _get(dev)).status_code == 200


@pytest.mark.parametrize(
    ("token", "header", "allowed"),
    [
        (None, None, True),
        ("s3cret-token", None, False),
        ("s3cret-token", "Bearer wrong", False),
        ("s3cret-token", "Basic s3cret-token", False),
        ("s3cret-token", "Bearer s3cret-token", True),
        ("s3cret-token", "bearer  s3cret-token ", True),
    ],
)
def test_bearer_token_rule(token: str | None, header: str | None, allowed: bool) -> None:
    assert metrics_allowed(token, header) is allowed


def test_an_empty_token_in_an_env_file_means_no_token() -> None:
    assert Settings(metrics_token="").metrics_token is None
