"""Quote lifecycles per second against a running dev stack (`marketred dev`).

Drives N full lifecycles through the public API: create → accept (shipping 3.990) → pay
through the Khipu sandbox (its payer control endpoint, then its signed webhook) → ship →
deliver → COMPLETED. In the same run it measures a bare one-activity workflow on the same
Temporal server; the ratio of the two is the figure to watch. It also prints the history
events per completed lifecycle (all runs of each quote's workflow), and finally the
worker's peak memory (VmHWM of the `marketred worker` process).

    .venv/bin/python bench/lifecycle.py --n 50 --concurrency 10

Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import psutil
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

BUYER = ("comprador@marketred.cl", "marketred-demo")
VENDOR_SLUG = "cafe-altiplano"
STAFF = (f"staff@{VENDOR_SLUG}.cl", "marketred-demo")


@activity.defn(name="bench_noop")
async def bench_noop(n: int) -> int:
    return n


@workflow.defn(name="BenchBareWorkflow")
class BenchBareWorkflow:
    @workflow.run
    async def run(self, n: int) -> int:
        result: int = await workflow.execute_activity(
            "bench_noop", n, start_to_close_timeout=timedelta(seconds=10)
        )
        return result


async def token(api: httpx.AsyncClient, who: tuple[str, str]) -> dict[str, str]:
    r = await api.post("/api/v1/auth/token", data={"username": who[0], "password": who[1]})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def wait_status(api: httpx.AsyncClient, qid: str, status: str, h: dict[str, str]) -> None:
    for _ in range(600):
        r = await api.get(f"/api/v1/quotes/{qid}", headers=h)
        if r.json()["status"] == status:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"quote {qid} never reached {status}")


async def khipu_payment_id(khipu: httpx.AsyncClient, workflow_id: str, url: str) -> str:
    listed = (await khipu.get("/_sandbox/payments")).json()
    rows = listed if isinstance(listed, list) else listed.get("items", [])
    for row in rows:
        if row.get("transaction_id") == workflow_id:
            return str(row["payment_id"])
    return url.rstrip("/").rsplit("/", 1)[-1]


async def one_lifecycle(
    api: httpx.AsyncClient,
    khipu: httpx.AsyncClient,
    buyer: dict[str, str],
    staff: dict[str, str],
    variant_id: str,
    cart_lock: asyncio.Lock,
) -> str:
    # One buyer has one cart per vendor: filling it and quoting it is serialized; the
    # rest of the lifecycles run concurrently.
    async with cart_lock:
        r = await api.put(
            f"/api/v1/carts/{VENDOR_SLUG}/items/{variant_id}", json={"quantity": 1}, headers=buyer
        )
        r.raise_for_status()
        r = await api.post(
            "/api/v1/quotes",
            json={"vendor": VENDOR_SLUG, "note": "bench", "contact": {}},
            headers={**buyer, "Idempotency-Key": uuid.uuid4().hex},
        )
        r.raise_for_status()
    quote = r.json()
    qid = quote["id"]
    r = await api.post(f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 3990}, headers=staff)
    r.raise_for_status()
    r = await api.post(f"/api/v1/quotes/{qid}/pay", headers=buyer)
    r.raise_for_status()
    payment_id = await khipu_payment_id(khipu, quote["workflow_id"], r.json()["payment_url"])
    (await khipu.post(f"/_sandbox/payments/{payment_id}/pay", json={})).raise_for_status()
    await wait_status(api, qid, "PAID", buyer)
    r = await api.post(
        f"/api/v1/quotes/{qid}/ship", json={"carrier": "Bench", "tracking": qid[:8]}, headers=staff
    )
    r.raise_for_status()
    (await api.post(f"/api/v1/quotes/{qid}/deliver", headers=buyer)).raise_for_status()
    await wait_status(api, qid, "COMPLETED", buyer)
    return str(quote["workflow_id"])


async def lifecycles(args: argparse.Namespace) -> tuple[float, list[str]]:
    async with (
        httpx.AsyncClient(base_url=args.api, timeout=30) as api,
        httpx.AsyncClient(base_url=args.khipu, timeout=30) as khipu,
    ):
        buyer, staff = await token(api, BUYER), await token(api, STAFF)
        products = (await api.get(f"/api/v1/vendors/{VENDOR_SLUG}/products")).json()
        items = products["items"] if isinstance(products, dict) else products
        variant_id = items[0]["variants"][0]["id"]
        gate = asyncio.Semaphore(args.concurrency)
        cart_lock = asyncio.Lock()

        async def run_one() -> str:
            async with gate:
                return await one_lifecycle(api, khipu, buyer, staff, variant_id, cart_lock)

        n = int(args.n)
        started = time.perf_counter()
        workflow_ids = await asyncio.gather(*(run_one() for _ in range(n)))
        return n / (time.perf_counter() - started), list(workflow_ids)


async def events_per_lifecycle(client: Client, workflow_ids: list[str]) -> float:
    """Mean history events of a completed quote (every run, following continue-as-new)."""
    total = 0
    for workflow_id in workflow_ids:
        run_id: str | None = ""
        while run_id is not None:
            history = await client.get_workflow_handle(
                workflow_id, run_id=run_id or None
            ).fetch_history()
            total += len(history.events)
            started = history.events[0].workflow_execution_started_event_attributes
            run_id = started.continued_execution_run_id or None
    return total / len(workflow_ids)


async def bare(client: Client, n: int, concurrency: int) -> float:
    queue = f"bench-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[BenchBareWorkflow],
        activities=[bench_noop],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                await client.execute_workflow(
                    BenchBareWorkflow.run, i, id=f"bench-{uuid.uuid4()}", task_queue=queue
                )

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - started)


def worker_peak_mb() -> str:
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "marketred" in cmd and cmd.rstrip().endswith("worker"):
            status = Path(f"/proc/{proc.pid}/status")
            if status.exists():
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        return f"{int(line.split()[1]) / 1024:.1f} MB (pid {proc.pid})"
            return f"{proc.memory_info().rss / 2**20:.1f} MB rss now (pid {proc.pid})"
    return "worker process not found"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--khipu", default="http://127.0.0.1:8010")
    parser.add_argument("--temporal", default="127.0.0.1:7233")
    args = parser.parse_args()
    client = await Client.connect(args.temporal, data_converter=pydantic_data_converter)
    quote_rate, workflow_ids = await lifecycles(args)
    bare_rate = await bare(client, args.n, args.concurrency)
    events = await events_per_lifecycle(client, workflow_ids)
    print(f"quote lifecycles/s:          {quote_rate:8.2f}  (n={args.n})")
    print(f"history events / lifecycle:  {events:8.1f}")
    print(f"bare one-activity wf/s:      {bare_rate:8.2f}")
    print(f"ratio lifecycle / bare:      {quote_rate / bare_rate:8.3f}")
    print(f"worker peak memory (VmHWM):  {worker_peak_mb()}")


if __name__ == "__main__":
    asyncio.run(main())
