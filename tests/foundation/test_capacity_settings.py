"""Capacity settings (issue 16): quote limits, API processes, database pools and worker
concurrency are read from the environment and reach what they configure."""

from __future__ import annotations

from typing import Any, cast

import pytest
from pydantic import ValidationError
from temporalio.client import Client
from typer.testing import CliRunner

from marketred.services.accounts import rate_limits
from marketred.settings import Settings
from marketred.workers import cli
from marketred.workers.deps import WorkerDeps


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(f"MARKETRED_{name.upper()}", value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_quote_limits_come_from_settings_and_zero_turns_the_address_ceiling_off(monkeypatch):
    s = _settings(monkeypatch, quotes_per_account_hour="5", quotes_per_ip_hour="0")
    per_account, per_ip = rate_limits.quote_limits(s.quotes_per_account_hour, s.quotes_per_ip_hour)
    assert (per_account.max_hits, per_account.window_seconds) == (5, 3600)
    assert per_ip is None
    s = _settings(monkeypatch, quotes_per_ip_hour="2500")
    assert rate_limits.quote_limits(20, s.quotes_per_ip_hour)[1] == rate_limits.Limit(
        "quote-ip", 2500, 3600
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("quotes_per_account_hour", "0"),
        ("quotes_per_ip_hour", "-1"),
        ("api_workers", "0"),
        ("db_pool_size", "0"),
        ("worker_max_concurrent_activities", "many"),
    ],
)
def test_nonsense_capacity_values_are_refused(monkeypatch, name, value):
    with pytest.raises(ValidationError, match=name):
        _settings(monkeypatch, **{name: value})


async def test_the_worker_keeps_a_connection_per_concurrent_activity(monkeypatch):
    s = _settings(
        monkeypatch, db_pool_size="4", db_max_overflow="3", worker_max_concurrent_activities="12"
    )
    s = s.model_copy(update={"database_url": "postgresql://u@127.0.0.1:1/none"})
    deps = WorkerDeps.build(s, cast(Client, object()))  # connects lazily: nothing opened
    try:
        assert deps.engine.pool.size() == 12  # type: ignore[attr-defined]
        assert deps.engine.pool._max_overflow == 3  # type: ignore[attr-defined]
    finally:
        await deps.close()


def test_api_workers_start_that_many_uvicorn_processes_from_the_factory(monkeypatch):
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1:1/none")
    monkeypatch.setenv("MARKETRED_API_WORKERS", "3")
    result = CliRunner().invoke(cli.app, ["api"])
    assert result.exit_code == 0, result.output
    app, options = calls[0]
    assert app == "marketred.app:create_app_from_environment"
    assert (options["factory"], options["workers"]) == (True, 3)
    assert options["forwarded_allow_ips"] == "127.0.0.1"
