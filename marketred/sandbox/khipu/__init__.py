"""Faithful simulator of Khipu's v3 API, payer page and signed webhooks."""

from marketred.sandbox.khipu.app import create_app, create_app_from_settings

__all__ = ["create_app", "create_app_from_settings"]
