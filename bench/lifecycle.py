"""Quote lifecycles per second against a dev stack (`marketred dev`).

Drives N full lifecycles through the public API: create → accept (shipping 3.990) → pay
through the Khipu sandbox (its payer control endpoint, then its signed webhook) → ship →
deliver → COMPLETED. In the same run it measures a bare one-activity workflow on the same
Temporal server; the ratio of the two is the figure to watch. It also prints the history
events and the activities per completed lifecycle (all runs of each quote's workflow;
local activities count as activities), the CPU seconds each process of the stack spent
per lifecycle and per bare workflow, and the worker's peak memory (VmHWM).

    .venv/bin/python bench/lifecycle.py --stack --n 60 --concurrency 20 --profile
    .venv/bin/python bench/lifecycle.py --stack --python /work/main/.venv/bin/python  # before
    .venv/bin/python bench/lifecycle.py --n 50 --concurrency 10   # a running `marketred dev`

`--stack` starts `marketred dev` on free ports in a scratch folder (returns close at once,
as in the end-to-end suites); without it the bench drives the stack at `--api`.
`--profile` (with `--stack`) samples the worker and the API with py-spy during the
lifecycles and prints their top functions.

Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


async def _refused(response: httpx.Response) -> None:
    """A refused request fails the bench with what the API said."""
    if response.status_code >= 400:
        await response.aread()
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:500]}"
        )


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


async def lifecycles(
    args: argparse.Namespace, measured: Callable[[], None]
) -> tuple[float, list[str]]:
    """One lifecycle to warm the stack up (the worker's first workflow, the API's first
    update; under load it can take longer than the measured ones), then `measured()`,
    then the N measured lifecycles."""
    async with (
        httpx.AsyncClient(
            base_url=args.api, timeout=120, event_hooks={"response": [_refused]}
        ) as api,
        httpx.AsyncClient(base_url=args.khipu, timeout=120) as khipu,
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

        await run_one()
        measured()
        n = int(args.n)
        started = time.perf_counter()
        workflow_ids = await asyncio.gather(*(run_one() for _ in range(n)))
        return n / (time.perf_counter() - started), list(workflow_ids)


def _patch_id(details: Any) -> str:
    for payloads in details.values():
        for payload in payloads.payloads:
            try:
                return str(json.loads(payload.data)["id"])
            except (ValueError, KeyError, TypeError):
                continue
    return "?"


async def history_shape(client: Client, workflow_ids: list[str]) -> tuple[float, float, str, str]:
    """Mean history events and activities of a completed quote (every run, following
    continue-as-new), and the most frequent event types."""
    from temporalio.api.enums.v1 import EventType, TimeoutType

    total = activities = 0
    kinds: collections.Counter[str] = collections.Counter()
    steps: collections.Counter[str] = collections.Counter()  # activity types, patch ids
    for workflow_id in workflow_ids:
        run_id: str | None = ""
        while run_id is not None:
            history = await client.get_workflow_handle(
                workflow_id, run_id=run_id or None
            ).fetch_history()
            total += len(history.events)
            for event in history.events:
                kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
                if kind == "WORKFLOW_TASK_TIMED_OUT":  # which timeout: sticky pickup or run
                    timeout = event.workflow_task_timed_out_event_attributes.timeout_type
                    kind += f"({TimeoutType.Name(timeout).removeprefix('TIMEOUT_TYPE_')})"
                kinds[kind] += 1
                if kind == "ACTIVITY_TASK_SCHEDULED":
                    activities += 1
                    steps[event.activity_task_scheduled_event_attributes.activity_type.name] += 1
                elif kind == "MARKER_RECORDED":
                    marker = event.marker_recorded_event_attributes
                    if marker.marker_name == "core_local_activity":
                        activities += 1
                        steps["(local activity)"] += 1
                    elif marker.marker_name == "core_patch":
                        steps[f"patch {_patch_id(marker.details)}"] += 1
            started = history.events[0].workflow_execution_started_event_attributes
            run_id = started.continued_execution_run_id or None
    n = len(workflow_ids)
    top = ", ".join(f"{k.lower()} {v / n:.1f}" for k, v in kinds.most_common())
    what = ", ".join(f"{k} {v / n:.1f}" for k, v in steps.most_common())
    return total / n, activities / n, top, what


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


def _role(proc: psutil.Process) -> str | None:
    """The stack's processes by what they are (None: not one we account)."""
    try:
        cmd = proc.cmdline()
    except psutil.Error:
        return None
    if not cmd:
        return None
    if any("marketred" in part for part in cmd) and cmd[-1] in ("worker", "api"):
        return cmd[-1]
    if Path(cmd[0]).name == "temporal":
        return "temporal"
    if "postgres" in Path(cmd[0]).name or (proc.name() or "").startswith("postgres"):
        return "postgres"
    return "other"


class CpuMeter:
    """CPU seconds (user + system) of the stack's processes by role, between marks."""

    def __init__(self, root: int | None) -> None:
        self._root = root

    def sample(self) -> dict[str, float]:
        procs = (
            psutil.Process(self._root).children(recursive=True)
            if self._root is not None
            else list(psutil.process_iter())
        )
        seconds: dict[str, float] = collections.defaultdict(float)
        for proc in procs:
            role = _role(proc)
            if role is None or (self._root is None and role == "other"):
                continue
            try:
                t = proc.cpu_times()
            except psutil.Error:
                continue
            seconds[role] += t.user + t.system
        seconds["bench"] = sum(os.times()[:2])
        return dict(seconds)

    @staticmethod
    def per(before: dict[str, float], after: dict[str, float], n: int) -> str:
        parts = []
        for role in ("temporal", "worker", "api", "postgres", "bench", "other"):
            if role in after:
                parts.append(f"{role} {(after[role] - before.get(role, 0.0)) / n * 1000:.0f}")
        return ", ".join(parts) + " (CPU ms each)"


def start_profiles(pids: dict[str, int], out: Path) -> list[subprocess.Popen[bytes]]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return [
        subprocess.Popen(
            [
                py_spy,
                "record",
                "-p",
                str(pid),
                "-r",
                "50",
                "-f",
                "raw",
                "--nonblocking",
                "-o",
                str(out / f"{role}.pyspy.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for role, pid in pids.items()
    ]


def stop_profiles(profilers: list[subprocess.Popen[bytes]], out: Path) -> None:
    from bench.quote_create import top_functions

    for p in profilers:
        p.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
    for p in profilers:
        p.wait(timeout=120)
    for raw in sorted(out.glob("*.pyspy.txt")):
        total, own, ours = top_functions(raw, 10)
        print(f"\n{raw.name}: {total} samples at 50/s")
        print("  most samples of their own:")
        for name, share in own:
            print(f"    {share:5.1f}%  {name}")
        print("  project functions, inclusive:")
        for name, share in ours:
            print(f"    {share:5.1f}%  {name}")


async def run(args: argparse.Namespace, root: int | None) -> None:
    meter = CpuMeter(root)
    client = await Client.connect(args.temporal, data_converter=pydantic_data_converter)
    profilers: list[subprocess.Popen[bytes]] = []
    pids: dict[str, int] = {}
    if args.profile and root is not None:
        pids = {
            role: p.pid
            for p in psutil.Process(root).children(recursive=True)
            if (role := _role(p)) in ("worker", "api")
        }
        args.profile_out.mkdir(parents=True, exist_ok=True)
    cpu0: dict[str, float] = {}

    def measured() -> None:  # after the warm-up lifecycle
        if args.profile and root is not None:
            profilers.extend(start_profiles(pids, args.profile_out))
        cpu0.update(meter.sample())

    quote_rate, workflow_ids = await lifecycles(args, measured)
    cpu1 = meter.sample()
    if profilers:
        stop_profiles(profilers, args.profile_out)
    bare_rate = await bare(client, args.n, args.concurrency)
    cpu2 = meter.sample()
    events, activities, top, what = await history_shape(client, workflow_ids)
    print(
        f"\nquote lifecycles/s:          {quote_rate:8.2f}  "
        f"(n={args.n}, concurrency {args.concurrency})"
    )
    print(f"history events / lifecycle:  {events:8.1f}")
    print(f"activities / lifecycle:      {activities:8.1f}")
    print(f"  events by type / lifecycle: {top}")
    print(f"  activities and patch markers / lifecycle: {what}")
    print(f"bare one-activity wf/s:      {bare_rate:8.2f}")
    print(f"ratio lifecycle / bare:      {quote_rate / bare_rate:8.3f}")
    print(f"CPU per lifecycle:           {CpuMeter.per(cpu0, cpu1, args.n)}")
    print(f"CPU per bare workflow:       {CpuMeter.per(cpu1, cpu2, args.n)}")
    print(f"worker peak memory (VmHWM):  {worker_peak_mb()}")
    print(f"load average:                {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--khipu", default="http://127.0.0.1:8010")
    parser.add_argument("--temporal", default="127.0.0.1:7233")
    parser.add_argument("--stack", action="store_true", help="start marketred dev on free ports")
    parser.add_argument("--python", help="with --stack: the interpreter of the checkout to run")
    parser.add_argument("--profile", action="store_true", help="with --stack: py-spy worker+API")
    parser.add_argument("--profile-out", type=Path, default=Path("lifecycle-profile"))
    args = parser.parse_args()
    if not args.stack:
        asyncio.run(run(args, None))
        return
    from tests.support.stack import start_stack

    home = Path(tempfile.mkdtemp(prefix="marketred-lifecycle-bench-"))
    if args.python:
        # start_stack runs `python -m marketred.workers.cli dev` from the current folder,
        # which comes first on the path: run it from that interpreter's checkout.
        sys.executable = args.python
        os.chdir(Path(args.python).absolute().parents[2])
    # One buyer drives every lifecycle: its hourly quote limit must not stop the bench.
    overrides = {"MARKETRED_QUOTES_PER_ACCOUNT_HOUR": str(max(20, args.n * 2))}
    stack = start_stack(home, None, timeout=300, overrides=overrides)
    args.api, args.khipu, args.temporal = stack.base_url, stack.khipu_url, stack.temporal_address
    try:
        asyncio.run(run(args, stack.proc.pid))
    except BaseException:
        stack.stop()
        print(f"the stack's folder (logs) is kept: {home}", file=sys.stderr)
        raise
    stack.stop()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
