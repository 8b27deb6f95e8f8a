"""Run by tests/deploy/test_tracing.py in a process of its own (tracing is global to a
process: the tracer provider is set once): the API app and a real worker (the
production `build_worker`, all real activities, mail to a catcher) with tracing into an
in-memory exporter; a buyer requests a quote through POST /api/v1/quotes; once the
projection wrote it, the spans are printed to stdout as JSON. Logs go to stderr as JSON
lines, as in production.

Environment: DATABASE_URL, PROBE_TEMPORAL (host:port), PROBE_HOME.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import httpx
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import func, select

from marketred import tracing
from marketred.app import create_app
from marketred.http.resources import Resources, TemporalHandle
from marketred.integrations import temporal
from marketred.sandbox.mailcatcher import start_catcher
from marketred.settings import Settings
from marketred.store.models.quotes import QuoteEvent
from marketred.workers.deps import WorkerDeps
from marketred.workers.worker import build_worker
from tests.support.factories import auth_headers, make_product, make_user, make_vendor
from tests.support.ports import free_port


async def main() -> None:
    exporter = InMemorySpanExporter()
    tracing.install(SimpleSpanProcessor(exporter), "probe")
    home = Path(os.environ["PROBE_HOME"])
    smtp_port = free_port()
    catcher = start_catcher(home / "mail", "127.0.0.1", smtp_port)
    settings = Settings(
        env="test",
        database_url=os.environ["DATABASE_URL"],
        home=home,
        temporal_address=os.environ["PROBE_TEMPORAL"],
        temporal_task_queue=f"tq-{uuid.uuid4()}",
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        log_json=True,
        log_level="INFO",
    )
    client = await temporal.connect(settings)
    deps = WorkerDeps.build(settings, client)
    tracing.instrument_clients(deps.engine)
    async with deps.sessions() as db:
        vendor = await make_vendor(db, email=f"ventas-{uuid.uuid4().hex[:6]}@example.cl")
        _, variants = await make_product(db, vendor, "Taladro", prices=(10_000,))
        buyer = await make_user(db, "buyer")
        await db.commit()
    headers = auth_headers(settings, buyer)
    resources = Resources(
        settings=settings,
        engine=deps.engine,
        sessions=deps.sessions,
        temporal=TemporalHandle(settings, client=client),
        http=deps.http,
    )
    app = create_app(settings, resources)
    async with (
        build_worker(client, deps),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as api,
    ):
        r = await api.put(
            f"/api/v1/carts/{vendor.slug}/items/{variants[0].id}",
            json={"quantity": 1},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        r = await api.post(
            "/api/v1/quotes",
            json={"vendor": vendor.slug, "note": "trace", "contact": {}},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        quote = r.json()
        for _ in range(1200):  # the projection activity ran (its span ended) and wrote
            async with deps.sessions() as db:
                rows = await db.scalar(
                    select(func.count()).where(QuoteEvent.quote_id == uuid.UUID(quote["id"]))
                )
            ended = {s.name for s in exporter.get_finished_spans()}
            if rows and "RunActivity:publish_quote" in ended:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the projection never wrote the quote's timeline")
    spans = [
        {
            "name": s.name,
            "trace_id": format(s.context.trace_id, "032x"),
            "span_id": format(s.context.span_id, "016x"),
            "parent_id": format(s.parent.span_id, "016x") if s.parent else None,
            "attributes": {k: str(v) for k, v in (s.attributes or {}).items()},
        }
        for s in exporter.get_finished_spans()
    ]
    print(json.dumps({"quote": quote, "spans": spans}))  # noqa: T201
    await deps.close()
    catcher.stop()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
