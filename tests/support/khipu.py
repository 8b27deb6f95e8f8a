"""The Khipu sandbox's test credentials and the sandbox app built with them (fixtures in
tests/khipu/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from marketred.sandbox.khipu import create_app

API_KEY = "0b7f1c2e-5d3a-4c8e-9f61-2a4b6c8d0e1f"
SECRET = "5c0f2a9e7b1d4c3a8e6f0b2d4a6c8e0f1a3b5c7d"
RECEIVER_ID = 985101
SANDBOX_URL = "http://khipu.test"


def build_sandbox(state_path: Path | None = None) -> FastAPI:
    return create_app(
        api_key=API_KEY,
        secret=SECRET,
        receiver_id=RECEIVER_ID,
        public_url=SANDBOX_URL,
        state_path=state_path,
    )
