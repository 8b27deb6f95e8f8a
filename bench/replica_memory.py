"""Memory of one API and one worker replica under quote traffic — the figures behind the
Kubernetes requests/limits in deploy/helm/marketred/values.yaml.

Starts `marketred prod-local` (production settings; Caddy, 2 APIs, 2 workers, Temporal
behind mTLS) on a free block of ports, reads each replica's resident memory when idle
(the baseline of this run), drives N full quote lifecycles through the proxy with C at
a time, then prints each replica's peak (VmHWM) and its ratio to the idle figure.

    .venv/bin/python bench/replica_memory.py --n 40 --concurrency 8

Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.journey import SLUG, wait_status
from tests.support.prod_local import ProdLocal, bearer, vendor_token

REPLICAS = ("api-1", "api-2", "worker-1", "worker-2")
CART_LOCK = threading.Lock()


def _free_block(count: int = 14) -> int:
    for first in range(21000, 31000, 20):
        ok = True
        for port in range(first, first + count):
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return first
    raise RuntimeError("no free block of ports")


def _memory_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def one_lifecycle(prod: ProdLocal, h: dict[str, dict[str, str]], variant: str) -> None:
    base = prod.state["public_url"]
    with (
        httpx.Client(base_url=base, verify=prod.verify, timeout=60) as api,
        httpx.Client(base_url=prod.state["khipu_url"], timeout=60) as khipu,
    ):
        buyer, staff = h["buyer"], h["staff"]
        # One buyer has one cart per vendor: filling and quoting it is serialized.
        with CART_LOCK:
            api.put(f"/api/v1/carts/{SLUG}/items/{variant}", json={"quantity": 1}, headers=buyer)
            r = api.post(
                "/api/v1/quotes",
                json={"vendor": SLUG, "note": "bench", "contact": {}},
                headers={**buyer, "Idempotency-Key": uuid.uuid4().hex},
            )
            r.raise_for_status()
        quote = r.json()
        qid = quote["id"]
        api.post(
            f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 3990}, headers=staff
        ).raise_for_status()
        api.post(f"/api/v1/quotes/{qid}/pay", headers=buyer).raise_for_status()
        rows = khipu.get("/_sandbox/payments").json()
        rows = rows if isinstance(rows, list) else rows["items"]
        pid = next(p["payment_id"] for p in rows if p["transaction_id"] == quote["workflow_id"])
        khipu.post(f"/_sandbox/payments/{pid}/pay", json={}).raise_for_status()
        wait_status(api, qid, "PAID", buyer)
        api.post(
            f"/api/v1/quotes/{qid}/ship", json={"carrier": "Bench", "tracking": "B"}, headers=staff
        ).raise_for_status()
        api.post(f"/api/v1/quotes/{qid}/deliver", headers=buyer).raise_for_status()
        wait_status(api, qid, "COMPLETED", buyer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="marketred-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETRED_")}
    env.pop("DATABASE_URL", None)
    env["MARKETRED_HOME"] = str(home)
    log = home / "prod-local.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "marketred.workers.cli",
            "prod-local",
            "--base-port",
            str(_free_block()),
        ],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    prod = ProdLocal(proc, home, log)
    try:
        deadline = time.monotonic() + 300
        while not (home / "prod-local" / "state.json").exists() or not prod.read_state().get(
            "ready"
        ):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"prod-local did not start:\n{prod.output()}")
            time.sleep(0.5)
        time.sleep(5)  # let start-up settle before the idle baseline
        pids = {name: prod.child(name)["pid"] for name in REPLICAS}
        idle = {name: _memory_mb(pid, "VmRSS") for name, pid in pids.items()}
        with httpx.Client(base_url=prod.state["public_url"], verify=prod.verify) as web:
            headers = {"staff": vendor_token(web), "buyer": bearer(web)}
            products = web.get(f"/api/v1/vendors/{SLUG}/products").json()
        variant = products["items"][0]["variants"][0]["id"]
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(lambda _: one_lifecycle(prod, headers, variant), range(args.n)))
        elapsed = time.perf_counter() - started
        print(
            f"{args.n} lifecycles through the proxy, {args.concurrency} at a time: "
            f"{args.n / elapsed:.2f}/s"
        )
        print(f"{'replica':10} {'idle RSS MB':>12} {'peak (VmHWM) MB':>16} {'peak/idle':>10}")
        for name, pid in pids.items():
            peak = _memory_mb(pid, "VmHWM")
            print(f"{name:10} {idle[name]:12.1f} {peak:16.1f} {peak / idle[name]:10.2f}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)


if __name__ == "__main__":
    main()
