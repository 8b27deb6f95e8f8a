"""The invariants the fault harness checks after the run, each printed as a figure.

Money comes from where it lives: Khipu's payments and refunds from the sandbox's own
records, the ledger and payouts from PostgreSQL, mail from the catcher's folder, workflow
task failures from every Temporal history.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from marketred.store.session import create_engine


@dataclass
class Figures:
    rows: list[tuple[str, str, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: object, ok: bool = True) -> None:
        self.rows.append((name, str(value), ok))

    @property
    def failed(self) -> list[str]:
        return [name for name, _, ok in self.rows if not ok]

    def print(self) -> None:
        width = max(len(name) for name, _, _ in self.rows)
        for name, value, ok in self.rows:
            print(f"  {name:<{width}}  {value:>14}  {'ok' if ok else 'FAILED'}")
        for note in self.notes:
            print(f"  - {note}")


async def khipu_payments(
    khipu: httpx.AsyncClient, workflow_ids: set[str], completed: set[str], api_key: str, f: Figures
) -> None:
    """Every completed quote paid exactly once at Khipu; no quote paid twice."""
    payments: list[dict[str, Any]] = (await khipu.get("/_sandbox/payments")).json()
    ours = [p for p in payments if p.get("transaction_id") in workflow_ids]
    paid = Counter(p["transaction_id"] for p in ours if p["status"] == "done")
    twice = {wf: n for wf, n in paid.items() if n > 1}
    unpaid = completed - set(paid)
    f.add(
        "completed quotes paid at Khipu once",
        sum(1 for wf in completed if paid[wf] == 1),
        not unpaid,
    )
    f.add("Khipu payments paid twice+", len(twice), not twice)
    orphans = [p for p in ours if p["status"] != "done" and not p.get("deleted")]
    f.add("orphan Khipu payments", len(orphans))
    deleted = 0
    for p in orphans:  # never paid: deleting them at Khipu leaves no payable link behind
        r = await khipu.delete(f"/v3/payments/{p['payment_id']}", headers={"x-api-key": api_key})
        deleted += r.status_code == 200
    if orphans:
        f.notes.append(f"{deleted} of {len(orphans)} orphan payments deleted at Khipu")
    refunds = sum(len(p.get("refunds", [])) for p in ours)
    f.add("refunds at Khipu", refunds, refunds == 0)


async def ledger_and_payouts(
    database_url: str, env: dict[str, str], quote_ids: list[str], f: Figures
) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT status, count(*), coalesce(sum(total), 0) FROM quotes"
                        " WHERE id::text = ANY(:ids) GROUP BY status"
                    ),
                    {"ids": quote_ids},
                )
            ).all()
            by_status = {r[0]: (r[1], r[2]) for r in rows}
            completed_total = by_status.get("COMPLETED", (0, 0))[1]
            sales = (
                await conn.execute(
                    text(
                        "SELECT count(DISTINCT txn_id), coalesce(sum(amount), 0)"
                        " FROM ledger_entries"
                        " WHERE account = 'buyer_payments' AND key LIKE 'quote:%:sale:%'"
                        " AND quote_id::text = ANY(:ids)"
                    ),
                    {"ids": quote_ids},
                )
            ).one()
            completed_n = by_status.get("COMPLETED", (0, 0))[0]
            f.add("ledger sale postings", sales[0], sales[0] == completed_n)
            f.add("ledger sales (CLP)", sales[1], sales[1] == completed_total)
            f.add("sum of completed totals (CLP)", completed_total, sales[1] == completed_total)
            all_sales = (
                await conn.execute(
                    text(
                        "SELECT coalesce(sum(amount), 0) FROM ledger_entries"
                        " WHERE account = 'buyer_payments' AND key LIKE 'quote:%:sale:%'"
                    )
                )
            ).scalar_one()
        run = subprocess.run(
            [sys.executable, "-m", "marketred.workers.cli", "payouts", "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if run.returncode != 0:
            f.add("payout run", f"exit {run.returncode}", False)
            f.notes.append(run.stdout[-500:] + run.stderr[-500:])
            return
        async with engine.connect() as conn:
            payouts = (
                await conn.execute(
                    text("SELECT vendor_id, count(*), sum(gross) FROM payouts GROUP BY vendor_id")
                )
            ).all()
        f.add("vendors paid out", len(payouts), all(p[1] == 1 for p in payouts))
        gross = sum(p[2] for p in payouts)
        f.add("payout gross (CLP)", gross, gross == all_sales)
        if all_sales != sales[1]:
            f.notes.append(f"the database holds other sales too (all sales {all_sales} CLP)")
    finally:
        await engine.dispose()


def mails(home: Path, workflow_ids: set[str], completed: set[str], f: Figures) -> None:
    """Every (quote, event, party) mailed under exactly one Message-ID; every completed
    quote got the same mails.

    The quote mail outbox (services/quotes/notifications.py) claims a mail before the mail
    server is called and waits out a database outage to mark it sent, so a killed
    PostgreSQL sends nothing twice. Only a worker killed between the server's "accepted"
    and the mark makes the retry send the mail again — with the claim's Message-ID, which
    mail clients show as one message. So raw copies are counted and shown; more than one
    Message-ID for one (quote, event, party) fails the run (docs/reliability.md)."""
    copies_of: Counter[str] = Counter()
    ids_of: dict[str, set[str]] = {}
    for path in (home / "mail").glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        key = str(msg["X-MarketRed-Key"] or "")
        if key.rsplit(":", 2)[0] in workflow_ids:
            copies_of[key] += 1
            ids_of.setdefault(key, set()).add(str(msg["Message-ID"] or "").strip())
    copies = sum(n - 1 for n in copies_of.values())
    several_ids = sum(1 for ids in ids_of.values() if len(ids) != 1)
    per_quote = Counter(k.rsplit(":", 2)[0] for k in copies_of if k.rsplit(":", 2)[0] in completed)
    missing = completed - set(per_quote)
    shapes = Counter(per_quote.values())
    f.add("mails (distinct quote, event, party)", len(copies_of))
    f.add(
        "mails per completed quote",
        "/".join(f"{n}×{c}" for n, c in sorted(shapes.items())),
        len(shapes) <= 1 and not missing,
    )
    f.add("(quote, event, party) with ≠ 1 Message-ID", several_ids, several_ids == 0)
    owners = Counter(i for ids in ids_of.values() for i in ids)
    shared = sum(1 for n in owners.values() if n > 1)
    f.add("Message-IDs shared by two mails", shared, shared == 0)
    f.add("raw mail copies sent twice+ (same Message-ID)", copies)


def api_logs(logs: Path, f: Figures) -> None:
    """Degrade, don't flood: outages are answered 503 and logged once per interval."""
    paths = sorted(logs.glob("api-*.log"))
    tracebacks = sum(p.read_text(errors="replace").count("Traceback") for p in paths)
    outage_lines = sum(p.read_text(errors="replace").count("answering 503") for p in paths)
    size = sum(p.stat().st_size for p in paths)
    f.add("API tracebacks logged", tracebacks, tracebacks == 0)
    f.add("API outage log lines", outage_lines)
    f.add("API logs (KB)", size // 1024)


async def wait_closed(
    address: str, namespace: str, workflow_ids: set[str], f: Figures, timeout: float = 300
) -> None:
    """A quote shows COMPLETED before its workflow has sent the last mails and closed:
    the mail and history checks wait for every workflow to end first."""
    from temporalio.client import Client, WorkflowExecutionStatus

    client = await Client.connect(address, namespace=namespace)
    deadline = asyncio.get_running_loop().time() + timeout
    running = set(workflow_ids)
    while running and asyncio.get_running_loop().time() < deadline:
        for wf in list(running):
            described = await client.get_workflow_handle(wf).describe()
            if described.status != WorkflowExecutionStatus.RUNNING:
                running.discard(wf)
        if running:
            await asyncio.sleep(2)
    f.add("workflows still running", len(running), not running)


async def histories(address: str, namespace: str, workflow_ids: set[str], f: Figures) -> None:
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import Client

    client = await Client.connect(address, namespace=namespace)
    failed = timed_out = nondeterminism = longest = 0
    gate = asyncio.Semaphore(8)

    async def one(wf: str) -> None:
        nonlocal failed, timed_out, nondeterminism, longest
        async with gate:
            history = await client.get_workflow_handle(wf).fetch_history()
        longest = max(longest, len(history.events))
        for e in history.events:
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                failed += 1
                message = e.workflow_task_failed_event_attributes.failure.message
                nondeterminism += "nondetermin" in message.lower()
            elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                timed_out += 1

    await asyncio.gather(*(one(wf) for wf in workflow_ids))
    f.add("workflow task failures", failed, failed == 0)
    f.add("non-determinism errors", nondeterminism, nondeterminism == 0)
    f.add("workflow task timeouts (kills)", timed_out)
    f.add("longest history (events)", longest, longest < 10_240)
