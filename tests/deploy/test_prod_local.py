"""`make prod-local` as an operator would test a rollout: a quote driven through the
proxy (https, Caddy) survives one API replica and one worker replica stopping mid-flight.

The shape under test is the real one: `marketred prod-local` starts PostgreSQL, Temporal
behind mutual TLS, Caddy in front of two `marketred api` processes, two `marketred worker`
processes, with production settings; only Khipu, the directory and mail are sandboxes.
Vendor staff sign in with InforedChile (production refuses their passwords) and make a
personal API token, as a vendor integration would.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from marketred.workers import embedded_db
from tests.support import journey
from tests.support.ports import free_port_block
from tests.support.prod_local import STAFF, ProdLocal, bearer, vendor_token

# Also `db`: CI reruns it with MARKETRED_TEST_DATABASE_URL, so the shape runs on the
# machine's PostgreSQL server (DATABASE_URL) as well as on an embedded one.
pytestmark = [pytest.mark.e2e, pytest.mark.db]


def _database() -> str | None:
    external = os.environ.get("MARKETRED_TEST_DATABASE_URL")
    if not external:
        return None  # prod-local embeds its own PostgreSQL
    return embedded_db.ensure_database_sync(external, f"mr_prodlocal_{os.getpid()}", fresh=True)


@pytest.fixture(scope="module")
def prod_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProdLocal]:
    home = tmp_path_factory.mktemp("prod-local")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETRED_")}
    env.pop("DATABASE_URL", None)
    env.update({"MARKETRED_HOME": str(home), "PYTHONUNBUFFERED": "1"})
    if database_url := _database():
        env["DATABASE_URL"] = database_url
    log_path = home / "prod-local.log"
    base = free_port_block(14)
    proc = subprocess.Popen(
        [sys.executable, "-m", "marketred.workers.cli", "prod-local", "--base-port", str(base)],
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    running = ProdLocal(proc, home, log_path)
    deadline = time.monotonic() + 300
    while True:
        assert proc.poll() is None, f"prod-local exited:\n{running.output()}"
        assert time.monotonic() < deadline, f"prod-local not ready:\n{running.output()}"
        try:
            if running.read_state().get("ready"):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    try:
        yield running
    finally:
        pids = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(120)
        assert code == 0, running.output()
        left = [pid for pid in pids if psutil.pid_exists(pid) and _not_zombie(pid)]
        assert not left, f"children left running: {left}"
        if database_url:
            import asyncio

            external = os.environ["MARKETRED_TEST_DATABASE_URL"]
            asyncio.run(embedded_db.drop_database(external, database_url.rsplit("/", 1)[-1]))


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Poller(threading.Thread):
    """Reads the quote through the proxy without pause while replicas go away."""

    def __init__(self, base_url: str, verify: ssl.SSLContext, path: str, h: dict[str, str]):
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base_url, verify=verify, timeout=30)
        self.path, self.headers = path, h
        self.answers: list[int | str] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                self.answers.append(self.client.get(self.path, headers=self.headers).status_code)
            except httpx.HTTPError as exc:
                self.answers.append(type(exc).__name__)
            time.sleep(0.02)
        self.client.close()


def _stop(prod: ProdLocal, name: str) -> int:
    """SIGTERM a replica (a rollout takes it away); wait until it has exited."""
    pid = prod.child(name)["pid"]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while prod.child(name)["state"] == "running":
        assert time.monotonic() < deadline, f"{name} did not stop"
        time.sleep(0.2)
    return int(pid)


def test_quote_completes_through_the_proxy_while_an_api_and_a_worker_stop(
    prod_local: ProdLocal,
) -> None:
    state = prod_local.read_state()
    base_url = state["public_url"]
    assert base_url.startswith("https://")
    with (
        httpx.Client(base_url=base_url, verify=prod_local.verify, timeout=30) as api,
        httpx.Client(base_url=base_url, verify=prod_local.verify, timeout=30) as web,
        httpx.Client(base_url=state["khipu_url"], timeout=30) as khipu,
    ):
        # Production refuses vendor passwords: staff come through InforedChile.
        refused = api.post("/api/v1/auth/token", data={"username": STAFF, "password": "x"})
        assert refused.status_code in (401, 403)
        buyer = bearer(api)
        staff = vendor_token(web)

        variant = journey.first_variant(api)
        journey.fill_cart(api, buyer, variant, 2)
        r = api.post(
            "/api/v1/quotes",
            json={"vendor": journey.SLUG, "note": "prod-local", "contact": {}},
            headers=buyer,
        )
        assert r.status_code == 201, r.text
        quote = r.json()
        qid = quote["id"]
        r = api.post(f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 3990}, headers=staff)
        assert r.status_code == 200, r.text
        r = api.post(f"/api/v1/quotes/{qid}/pay", headers=buyer)
        assert r.status_code == 200, r.text

        # Mid-flight: the quote waits for its payment. One API and one worker go away
        # while a reader keeps asking the proxy for the quote.
        poller = Poller(base_url, prod_local.verify, f"/api/v1/quotes/{qid}", buyer)
        poller.start()
        time.sleep(1)
        _stop(prod_local, "api-1")
        _stop(prod_local, "worker-1")
        time.sleep(2)
        poller.done.set()
        poller.join(30)
        assert poller.answers, "the reader never got an answer"
        assert set(poller.answers) == {200}, poller.answers

        # Khipu's payer pays; its signed webhook comes back through the proxy to the
        # API still running, and the worker still running carries the quote on.
        journey.pay_at_khipu(khipu, quote["workflow_id"])
        journey.wait_status(api, qid, "PAID", buyer)
        final = journey.ship_and_deliver(api, qid, staff, buyer, "PRODLOCAL")
        assert final["total"] == 2 * variant["price"] + 3990
        assert [e["kind"] for e in final["timeline"]] == journey.COMPLETED_TIMELINE

    # Stopped cleanly, they stayed down: the other replicas did the work.
    for name in ("api-1", "worker-1"):
        child = prod_local.child(name)
        assert (child["state"], child["restarts"]) == ("stopped", 0), child
        # The worker exits 0; uvicorn re-raises the SIGTERM it handled gracefully.
        assert child["exit_code"] in (0, -signal.SIGTERM), child
    for name in ("api-2", "worker-2"):
        assert prod_local.child(name)["state"] == "running"


def test_a_crashed_replica_is_restarted(prod_local: ProdLocal) -> None:
    before = prod_local.child("api-2")
    os.kill(before["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 120
    while True:
        after = prod_local.child("api-2")
        if after["state"] == "running" and after["pid"] != before["pid"]:
            break
        assert time.monotonic() < deadline, after
        time.sleep(0.2)
    assert after["restarts"] == before["restarts"] + 1
    url = f"http://127.0.0.1:{after['port']}/readyz"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "restarted api-2 never became ready"
        time.sleep(0.3)
    # And the proxy serves again through it.
    with httpx.Client(base_url=prod_local.state["public_url"], verify=prod_local.verify) as api:
        assert api.get("/readyz", timeout=30).status_code == 200
