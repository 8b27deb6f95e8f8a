"""`marketred dev` (what `make run` calls) as a user runs it: real child processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from marketred.workers import embedded_db
from tests.support.stack import RunningStack, start_stack

# Also `db`: CI reruns it with MARKETRED_TEST_DATABASE_URL, so `marketred dev` is tested
# with DATABASE_URL set (it must use that database instead of embedding one).
pytestmark = [pytest.mark.e2e, pytest.mark.db]


def _database_for_stack(pg_admin_url: str | None) -> str | None:
    """In CI the machine's PostgreSQL is the production path; otherwise the stack embeds."""
    if not pg_admin_url:
        return None
    return embedded_db.ensure_database_sync(
        pg_admin_url, f"mr_stack_{int(time.time())}", fresh=True
    )


def _token(base_url: str) -> int:
    r = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"username": "comprador@marketred.cl", "password": "marketred-demo"},
        timeout=10,
    )
    return r.status_code


def _summary(stack: RunningStack, since: int) -> str:
    """What this start printed (the log from byte `since`) once its summary is out.

    The API may answer /readyz before `marketred dev` has seen every child answer and
    printed its summary, so wait for it as long as a start may take."""
    deadline = time.monotonic() + 120
    while True:
        printed = stack.log_path.read_bytes()[since:].decode(errors="replace")
        if "Press Ctrl-C" in printed:
            return printed
        assert stack.proc.poll() is None, printed[-3000:]
        assert time.monotonic() < deadline, printed[-3000:]
        time.sleep(0.2)


def test_dev_stack_starts_everything_stops_cleanly_and_keeps_data(tmp_path: Path):
    import os

    external = os.environ.get("MARKETRED_TEST_DATABASE_URL")
    db_url = _database_for_stack(external)
    home = tmp_path / "home"

    stack = start_stack(home, db_url)
    try:
        assert httpx.get(f"{stack.base_url}/readyz", timeout=5).status_code == 200
        assert httpx.get(stack.temporal_ui_url, timeout=5).status_code == 200
        listed = subprocess.run(
            [
                str(Path(sys.executable).parent / "temporal"),
                "operator",
                "search-attribute",
                "list",
                "--address",
                stack.temporal_address,
                "--output",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        for name in ("QuoteStatus", "VendorSlug", "BuyerId", "QuoteTotal", "QuoteDeadline"):
            assert name in listed
        assert _token(stack.base_url) == 200  # demo data loaded on first start
        first_start = _summary(stack, 0)
        assert "Demo data loaded" in first_start
        for shown in ("Temporal Web UI", stack.temporal_ui_url, "comprador@marketred.cl"):
            assert shown in first_start  # every URL and the demo accounts are printed
        children = stack.descendants()
        assert len(children) >= 5  # temporal, mail, khipu sandbox, worker, api (+ more)
    finally:
        code = stack.stop()
    assert code == 0, stack.log_path.read_text()[-3000:]
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left behind: {[p.info for p in alive]}"
    if db_url is not None:
        assert "PostgreSQL: using DATABASE_URL" in stack.log_path.read_text()
        assert not (home / "pgdata").exists()  # nothing embedded was started
    else:
        # the embedded PostgreSQL of the stack is stopped too
        postmaster = home / "pgdata" / "postmaster.pid"
        assert not postmaster.exists()

    logged_before = stack.log_path.stat().st_size
    stack = start_stack(home, db_url)
    try:
        assert _token(stack.base_url) == 200  # same data, not re-seeded
        assert "Demo data loaded" not in _summary(stack, logged_before)
    finally:
        assert stack.stop() == 0
    if db_url and external:
        asyncio.run(embedded_db.drop_database(external, db_url.split("/")[-1].split("?")[0]))


def test_a_taken_temporal_port_stops_the_start_at_once_with_the_reason(tmp_path: Path):
    # As when `make run` is started twice: the second Temporal dev server cannot bind.
    home = tmp_path / "home"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        with pytest.raises(RuntimeError) as failed:
            start_stack(home, None, overrides={"MARKETRED_TEMPORAL_DEV_PORT": port})
    log = str(failed.value)
    # Said by the early-exit check, not by the 60 s connection wait ("connection refused").
    assert "Temporal dev server exited" in log
    assert "address already in use" in log
    assert not (home / "pgdata" / "postmaster.pid").exists()  # its PostgreSQL is stopped


def _dev_state(stack: RunningStack) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((stack.home / "dev-state.json").read_text())
    return state


def _kill_and_wait_back(stack: RunningStack, name: str) -> None:
    """kill -9 one child of `marketred dev`, then wait until it runs again."""
    old = _dev_state(stack)["children"][name]
    os.kill(old["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 120
    while True:
        now = _dev_state(stack)["children"][name]
        if now["restarts"] == old["restarts"] + 1 and now["state"] == "running":
            return
        assert stack.proc.poll() is None, stack.log_path.read_text()[-3000:]
        assert time.monotonic() < deadline, f"{name} not restarted: {now}"
        time.sleep(0.2)


def _wait_quote(api: httpx.Client, qid: str, status: str, h: dict[str, str]) -> None:
    deadline = time.monotonic() + 180
    while True:
        try:
            r = api.get(f"/api/v1/quotes/{qid}", headers=h)
            if r.status_code == 200 and r.json()["status"] == status:
                return
        except httpx.HTTPError:
            pass  # the database or Temporal is coming back
        assert time.monotonic() < deadline, f"quote never reached {status}"
        time.sleep(0.3)


def _bearer(api: httpx.Client, email: str) -> dict[str, str]:
    r = api.post("/api/v1/auth/token", data={"username": email, "password": "marketred-demo"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _post_until_done(api: httpx.Client, path: str, h: dict[str, str], **kw: Any) -> httpx.Response:
    """A button pressed again while a dependency comes back (503, refused)."""
    deadline = time.monotonic() + 180
    while True:
        try:
            r = api.post(path, headers=h, **kw)
            if r.status_code != 503:
                return r
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{path} kept failing"
        time.sleep(0.5)


def test_dev_stack_heals_a_killed_worker_postgres_and_temporal_and_the_quote_finishes(
    tmp_path: Path,
):
    stack = start_stack(tmp_path / "home", None)
    try:
        _summary(stack, 0)
        with (
            httpx.Client(base_url=stack.base_url, timeout=30) as api,
            httpx.Client(base_url=stack.khipu_url, timeout=30) as khipu,
        ):
            buyer = _bearer(api, "comprador@marketred.cl")
            staff = _bearer(api, "staff@cafe-altiplano.cl")
            products = api.get("/api/v1/vendors/cafe-altiplano/products").json()
            variant = products["items"][0]["variants"][0]["id"]
            api.put(
                f"/api/v1/carts/cafe-altiplano/items/{variant}", json={"quantity": 1}, headers=buyer
            ).raise_for_status()
            r = api.post(
                "/api/v1/quotes",
                json={"vendor": "cafe-altiplano", "note": "", "contact": {}},
                headers={**buyer, "Idempotency-Key": "heal-1"},
            )
            assert r.status_code == 201, r.text
            qid = r.json()["id"]
            # The quote is in flight when each part of the stack dies in turn.
            _kill_and_wait_back(stack, "worker")
            accepted = _post_until_done(
                api, f"/api/v1/quotes/{qid}/accept", staff, json={"shipping_cost": 3990}
            )
            assert accepted.status_code == 200, accepted.text
            _kill_and_wait_back(stack, "postgres")
            paid = _post_until_done(api, f"/api/v1/quotes/{qid}/pay", buyer)
            assert paid.status_code == 200, paid.text
            payment_id = paid.json()["payment_url"].rstrip("/").rsplit("/", 1)[-1]
            _kill_and_wait_back(stack, "temporal")
            khipu.post(f"/_sandbox/payments/{payment_id}/pay", json={}).raise_for_status()
            _wait_quote(api, qid, "PAID", buyer)
            shipped = _post_until_done(
                api, f"/api/v1/quotes/{qid}/ship", staff, json={"carrier": "X", "tracking": "1"}
            )
            assert shipped.status_code == 200, shipped.text
            delivered = _post_until_done(api, f"/api/v1/quotes/{qid}/deliver", buyer)
            assert delivered.status_code == 200, delivered.text
            _wait_quote(api, qid, "COMPLETED", buyer)
        log = stack.log_path.read_text()
        for name in ("worker", "postgres", "temporal"):
            assert f"{name} exited (killed by SIGKILL); restarting" in log
            assert f"{name} restarted (restart 1)" in log
    finally:
        code = stack.stop()
    assert code == 0, stack.log_path.read_text()[-3000:]
    # The stop table lists every process with its restarts.
    stopped = stack.log_path.read_text().rsplit("Stopped", 1)[0]
    assert "restarts" in stopped
