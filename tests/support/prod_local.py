"""Driving `marketred prod-local` from outside, as a person would: over https through
the proxy, vendor staff signed in with InforedChile (tests/deploy, bench/)."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

SLUG = "cafe-altiplano"
STAFF = f"staff@{SLUG}.cl"
BUYER = ("comprador@marketred.cl", "marketred-demo")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r"<code data-new-token>([^<]+)</code>")


@dataclass
class ProdLocal:
    proc: subprocess.Popen[bytes]
    home: Path
    log_path: Path
    state: dict[str, Any] = field(default_factory=dict)

    def read_state(self) -> dict[str, Any]:
        self.state = json.loads((self.home / "prod-local" / "state.json").read_text())
        return self.state

    def child(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.read_state()["children"][name]
        return found

    @property
    def verify(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.state["ca"])

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def bearer(api: httpx.Client) -> dict[str, str]:
    r = api.post("/api/v1/auth/token", data={"username": BUYER[0], "password": BUYER[1]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def vendor_token(web: httpx.Client) -> dict[str, str]:
    """Sign in with InforedChile (the directory sandbox), then make a personal API token."""
    r = web.get("/auth/oidc/login")
    assert r.status_code == 303, r.text
    authorize_url = r.headers["location"]
    form = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    with httpx.Client(timeout=30) as provider:
        back = provider.post(authorize_url.split("?")[0], data={**form, "person": STAFF})
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    assert web.get(f"{callback.path}?{callback.query}").status_code in (302, 303)
    page = web.get("/cuenta/tokens")
    assert page.status_code == 200, page.text
    csrf = CSRF.search(page.text)
    assert csrf, page.text
    made = web.post("/cuenta/tokens", data={"csrf_token": csrf.group(1), "name": "prod-local"})
    assert made.status_code == 201, made.text
    token = TOKEN.search(made.text)
    assert token, made.text
    return {"Authorization": f"Bearer {token.group(1)}"}


def wait_status(api: httpx.Client, qid: str, status: str, h: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        quote: dict[str, Any] = api.get(f"/api/v1/quotes/{qid}", headers=h).json()
        if quote["status"] == status:
            return quote
        assert time.monotonic() < deadline, f"quote never reached {status}: {quote['status']}"
        time.sleep(0.2)
