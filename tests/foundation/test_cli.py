"""The admin CLI against the test database, as an operator would run it."""

import os
import subprocess
import sys
import uuid

import pytest

from tests.support.api import bearer
from tests.support.factories import random_rut

pytestmark = pytest.mark.db


def _cli(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "MARKETRED_LOG_JSON": "false"}
    return subprocess.run(
        [sys.executable, "-m", "marketred.workers.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_vendor_add_then_user_add_then_token(database_url, client):
    slug = f"ferreteria-{uuid.uuid4().hex[:6]}"
    r = _cli(database_url, "vendor", "add", slug, "--name", "Ferretería Sur", "--rut", random_rut())
    assert r.returncode == 0, r.stderr
    email = f"staff-{uuid.uuid4().hex[:6]}@ferreteria.cl"
    r = _cli(
        database_url,
        "user",
        "add",
        email,
        "--role",
        "vendor",
        "--vendor",
        slug,
        stdin="una clave larga y segura\n",
    )
    assert r.returncode == 0, r.stderr
    headers = await bearer(client, email, "una clave larga y segura")
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    assert me["role"] == "vendor"
    assert me["vendor"] == slug


def test_cli_refuses_bad_rut_and_unknown_vendor(database_url):
    r = _cli(database_url, "vendor", "add", "x-y", "--name", "X", "--rut", "76.086.428-4")
    assert r.returncode == 1
    assert "check digit" in r.stderr
    r = _cli(
        database_url,
        "user",
        "add",
        "a@b.cl",
        "--role",
        "vendor",
        "--vendor",
        "no-such-vendor",
        stdin="una clave larga y segura\n",
    )
    assert r.returncode == 1
    assert "does not exist" in r.stderr
