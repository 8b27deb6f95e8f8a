import pytest
from pydantic import ValidationError

from marketred.integrations.payload_codec import new_key_entry
from marketred.logs import safe_settings
from marketred.settings import Settings


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
    # The payload codec's development key is refused too (docs/privacy.md).
    with pytest.raises(ValidationError, match="CODEC_KEYS"):
        Settings()
    monkeypatch.setenv("MARKETRED_CODEC_KEYS", new_key_entry("2027-01"))
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
    assert shown["codec_keys"] == "***"
    assert shown["database_url"] == "***"
    assert shown["commission_bps"] == 1000
