"""Production settings that pass every production check (secrets of 32+ bytes, https
everywhere, explicit embed origins, TLS mail, real codec keys): tests change one field to
see a check refuse it."""

from __future__ import annotations

from marketred.integrations.payload_codec import new_key_entry

PRODUCTION: dict[str, object] = {
    "env": "production",
    "secret_key": "s" * 48,
    "khipu_api_key": "real-khipu-key",
    "khipu_webhook_secret": "real-webhook-secret",
    "directory_secret": "d" * 48,
    "indexer_secret": "i" * 48,
    "public_url": "https://marketred.example.cl",
    "khipu_api_base": "https://payment-api.khipu.com",
    "embed_origins": ["https://www.inforedchile.cl"],
    "smtp_url": "smtp+starttls://u:p@smtp.example.cl:587",
    "codec_keys": new_key_entry("2027-01"),
    "database_url": "postgresql://db/marketred",
    "temporal_address": "temporal:7233",
}
