"""OpenTelemetry tracing: FastAPI → Temporal client → workflow → activities → Khipu
(httpx) / PostgreSQL (SQLAlchemy), one trace per request.

Off unless configured by the standard variables: an OTLP endpoint
(`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or
`OTEL_TRACES_EXPORTER=otlp|console`; `OTEL_SDK_DISABLED=true` wins. The exporter reads
the rest itself (`OTEL_EXPORTER_OTLP_HEADERS`, `_PROTOCOL`, `OTEL_SERVICE_NAME`, …).

Each process calls `configure(service)` once at start. Whether tracing is on is then
read from the global tracer provider (`enabled()`): the Temporal client gets the SDK's
TracingInterceptor (integrations/temporal.connect), which a worker built from that
client inherits, so trace context crosses Temporal in the headers of each call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def _exporter(env: Mapping[str, str]) -> SpanExporter | None:
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    kind = env.get("OTEL_TRACES_EXPORTER", "").lower()
    if kind == "none":
        return None
    if kind == "console":
        return ConsoleSpanExporter()
    if kind == "otlp" or any(env.get(name) for name in _ENDPOINTS):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


def configure(service: str, env: Mapping[str, str] | None = None) -> bool:
    """Install the global tracer provider if OTEL_* ask for an exporter; True if on."""
    exporter = _exporter(os.environ if env is None else env)
    if exporter is None:
        return enabled()
    install(BatchSpanProcessor(exporter), service)
    return True


def install(processor: SpanProcessor, service: str) -> TracerProvider:
    """Make `processor` receive every span of this process (tests: an in-memory one)."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):  # set once per process (OpenTelemetry's rule)
        current.add_span_processor(processor)
        return current
    name = os.environ.get("OTEL_SERVICE_NAME") or f"marketred-{service}"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    return provider


def enabled() -> bool:
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def temporal_interceptors() -> list[Any]:
    """For Client.connect: the Temporal SDK's tracing interceptor, when tracing is on."""
    if not enabled():
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def instrument_app(app: Any) -> None:
    """A server span for every request (not probes or scrapes); nothing when off."""
    if not enabled():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics,static")


def instrument_clients(engine: Any) -> None:
    """Client spans for httpx calls (Khipu, indexer, directory) and SQL spans for the
    engine (API lifespan, worker start); nothing when tracing is off."""
    if not enabled():
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    if not HTTPXClientInstrumentor().is_instrumented_by_opentelemetry:
        HTTPXClientInstrumentor().instrument()
    # The instrumentation declares SQLAlchemy < 2.1; its engine events are the same in
    # 2.1 (tests/deploy/test_tracing.py checks the SQL spans).
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, skip_dep_check=True)


def current_ids() -> dict[str, str]:
    """trace_id / span_id of the current span, for log lines (empty outside a trace)."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return {}
    return {"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}
