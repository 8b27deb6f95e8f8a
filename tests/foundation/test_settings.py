import subprocess
import sys

import pytest
from pydantic import ValidationError

from marketred.integrations.payload_codec import new_key_entry
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


GOOD_PRODUCTION = {
    "MARKETRED_ENV": "production",
    "DATABASE_URL": "postgresql://db/marketred",
    "MARKETRED_TEMPORAL_ADDRESS": "temporal:7233",
    "MARKETRED_SECRET_KEY": "a-real-secret-from-the-vault-0123456789abcdef",
    "MARKETRED_KHIPU_API_KEY": "real-key",
    "MARKETRED_KHIPU_WEBHOOK_SECRET": "real-webhook-secret",
    "MARKETRED_DIRECTORY_SECRET": "real-directory-secret-from-the-vault-0123",
    "MARKETRED_INDEXER_SECRET": "real-indexer-secret-from-the-vault-456789",
    "MARKETRED_PUBLIC_URL": "https://marketred.example.cl",
    "MARKETRED_KHIPU_API_BASE": "https://payment-api.khipu.com",
    "MARKETRED_EMBED_ORIGINS": '["https://www.inforedchile.cl"]',
    "MARKETRED_SMTP_URL": "smtp+starttls://u:p@smtp.example.cl:587",
    "MARKETRED_CODEC_KEYS": new_key_entry("2027-01"),
}


def _production(monkeypatch, **changes: str | None) -> Settings:
    for name, value in {**GOOD_PRODUCTION, **changes}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return Settings()


def test_production_refuses_placeholder_secrets(monkeypatch):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        _production(monkeypatch, MARKETRED_SECRET_KEY=None)
    # The payload codec's development key is refused too (docs/privacy.md).
    with pytest.raises(ValidationError, match="CODEC_KEYS"):
        _production(monkeypatch, MARKETRED_CODEC_KEYS=None)
    assert _production(monkeypatch).env == "production"
    # Payouts go through the bank file there; the sandbox, which pays nobody, is refused.
    assert Settings().payout_provider_name == "bank_file"
    monkeypatch.setenv("MARKETRED_PAYOUT_PROVIDER", "sandbox")
    with pytest.raises(ValidationError, match="moves no money"):
        Settings()


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"MARKETRED_SECRET_KEY": "short-but-not-a-placeholder"}, "SECRET_KEY is shorter"),
        ({"MARKETRED_DIRECTORY_SECRET": "x" * 31}, "DIRECTORY_SECRET is shorter"),
        ({"MARKETRED_INDEXER_SECRET": "y" * 20}, "INDEXER_SECRET is shorter"),
        ({"MARKETRED_INDEXER_SECRET": None}, "INDEXER_SECRET still holds"),
        ({"MARKETRED_PUBLIC_URL": "http://127.0.0.1:8000"}, "PUBLIC_URL must be https"),
        ({"MARKETRED_PUBLIC_URL": None}, "PUBLIC_URL must be https"),
        ({"MARKETRED_KHIPU_API_BASE": "http://khipu.example.com"}, "KHIPU_API_BASE"),
        ({"MARKETRED_EMBED_ORIGINS": None}, "EMBED_ORIGINS"),
        ({"MARKETRED_EMBED_ORIGINS": '["*"]'}, "EMBED_ORIGINS"),
        ({"MARKETRED_EMBED_ORIGINS": "[]"}, "EMBED_ORIGINS"),
        ({"MARKETRED_EMBED_ORIGINS": '["http://dir.example.cl"]'}, "EMBED_ORIGINS"),
        ({"MARKETRED_SMTP_URL": "smtp://smtp.example.cl:25"}, "SMTP_URL must use TLS"),
        ({"MARKETRED_SMTP_URL": None}, None),  # the default is a loopback relay: allowed
    ],
)
def test_production_refuses_weak_secrets_and_cleartext_transport(monkeypatch, change, complaint):
    """Finding 3 (docs/security.md)."""
    if complaint is None:
        assert _production(monkeypatch, **change).env == "production"
        return
    with pytest.raises(ValidationError, match=complaint):
        _production(monkeypatch, **change)


def test_production_allows_plaintext_only_to_loopback_peers(monkeypatch):
    """`marketred prod-local`: the sandboxes and the mail catcher listen on 127.0.0.1."""
    s = _production(
        monkeypatch,
        MARKETRED_SMTP_URL="smtp://127.0.0.1:8025",
        MARKETRED_KHIPU_API_BASE="http://127.0.0.1:8010",
        MARKETRED_EMBED_ORIGINS='["http://127.0.0.1:8020"]',
    )
    assert s.env == "production"


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
    assert shown["codec_keys"] == "***"
    assert shown["database_url"] == "***"
    assert shown["commission_bps"] == 1000


def test_prod_local_children_pass_the_production_checks(monkeypatch, tmp_path):
    """`marketred prod-local` runs with production settings: they must pass finding 3's
    checks (an older secrets file without the indexer key gets one)."""
    import dataclasses
    import json

    from marketred.workers import prod_local_config as plc

    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps({"secret_key": "k" * 43}))
    keys = plc.load_secrets(secrets_file)
    assert set(plc.SECRET_NAMES) <= set(json.loads(secrets_file.read_text()))
    certs = plc.Certs(**{f.name: tmp_path / f.name for f in dataclasses.fields(plc.Certs)})
    env = plc.child_env(tmp_path, plc.Ports(8440), certs, "postgresql://db/x", keys)
    for name in [n for n in env if n.startswith("MARKETRED_")] + ["DATABASE_URL"]:
        monkeypatch.setenv(name, env[name])
    s = Settings()
    assert s.env == "production"
    assert s.indexer_secret != s.directory_secret


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
