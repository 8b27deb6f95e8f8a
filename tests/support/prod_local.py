"""Driving `marketred prod-local` from outside, as a person would: over https through
the proxy, vendor staff signed in with InforedChile (tests/deploy, bench/)."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.journey import SLUG, login
from tests.support.pages import csrf_of

STAFF = f"staff@{SLUG}.cl"
BUYER = ("comprador@marketred.cl", "marketred-demo")
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
    return login(api, *BUYER)


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
    made = web.post("/cuenta/tokens", data={"csrf_token": csrf_of(page.text), "name": "prod-local"})
    assert made.status_code == 201, made.text
    token = TOKEN.search(made.text)
    assert token, made.text
    return {"Authorization": f"Bearer {token.group(1)}"}
