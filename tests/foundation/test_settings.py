import subprocess
import sys

import pytest
from pydantic import ValidationError

from marketred.logs import safe_settings
from marketred.settings import Settings, SettingsInvalid, load_settings


def test_dev_defaults_need_nothing(monkeypatch):
    for var in ("DATABASE_URL", "MARKETRED_TEMPORAL_ADDRESS", "MARKETRED_ENV"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert s.env == "dev"
    assert s.database_url is None
    assert s.commission_bps == 1000
    assert s.temporal_target() == "127.0.0.1:7233"
    assert s.payout_provider_name == "sandbox"


def test_production_refuses_placeholder_secrets(monkeypatch):
    monkeypatch.setenv("MARKETRED_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/marketred")
    monkeypatch.setenv("MARKETRED_TEMPORAL_ADDRESS", "temporal:7233")
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings()
    monkeypatch.setenv("MARKETRED_SECRET_KEY", "a-real-secret-from-the-vault-0123456789abcdef")
    monkeypatch.setenv("MARKETRED_KHIPU_API_KEY", "real-key")
    monkeypatch.setenv("MARKETRED_KHIPU_WEBHOOK_SECRET", "real-webhook-secret")
    monkeypatch.setenv("MARKETRED_DIRECTORY_SECRET", "real-directory-secret")
    assert Settings().env == "production"
    # Payouts go through the bank file there; the sandbox, which pays nobody, is refused.
    assert Settings().payout_provider_name == "bank_file"
    monkeypatch.setenv("MARKETRED_PAYOUT_PROVIDER", "sandbox")
    with pytest.raises(ValidationError, match="moves no money"):
        Settings()


def test_environment_variables_are_read_with_prefix(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@db:5432/x")
    monkeypatch.setenv("MARKETRED_COMMISSION_BPS", "750")
    monkeypatch.setenv("MARKETRED_EMBED_ORIGINS", '["https://dir.example"]')
    s = Settings()
    assert s.database_url == "postgresql://u:pw@db:5432/x"
    assert s.commission_bps == 750
    assert s.embed_origins == ["https://dir.example"]


def test_secrets_are_masked_for_logging():
    s = Settings(database_url="postgresql://u:pw@db/x")
    shown = safe_settings(s)
    assert shown["secret_key"] == "***"
    assert shown["khipu_webhook_secret"] == "***"
    assert shown["database_url"] == "***"
    assert shown["commission_bps"] == 1000


def test_embed_origins_accept_a_comma_separated_list_or_json(monkeypatch):
    monkeypatch.setenv("MARKETRED_EMBED_ORIGINS", "https://a.cl, https://b.cl")
    assert Settings().embed_origins == ["https://a.cl", "https://b.cl"]
    monkeypatch.setenv("MARKETRED_EMBED_ORIGINS", '["https://a.cl","https://b.cl"]')
    assert Settings().embed_origins == ["https://a.cl", "https://b.cl"]
    monkeypatch.setenv("MARKETRED_EMBED_ORIGINS", "https://solo.cl")
    assert Settings().embed_origins == ["https://solo.cl"]


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MARKETRED_EMBED_ORIGINS", '["https://a.cl"', "MARKETRED_EMBED_ORIGINS: not a JSON list"),
        ("MARKETRED_PORT", "ochenta", "MARKETRED_PORT: Input should be a valid integer"),
        ("MARKETRED_COMMISSION_BPS", "20000", "MARKETRED_COMMISSION_BPS: Input should be less"),
        ("MARKETRED_ENV", "staging", "MARKETRED_ENV: Input should be 'dev', 'test'"),
    ],
)
def test_every_settings_error_is_one_readable_line(monkeypatch, variable, value, says):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsInvalid) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert says in message


def test_a_bad_variable_stops_the_cli_with_one_line_not_a_traceback(monkeypatch):
    monkeypatch.setenv("MARKETRED_PORT", "ochenta")
    done = subprocess.run(
        [sys.executable, "-m", "marketred.workers.cli", "migrate"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: invalid settings: MARKETRED_PORT: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]
