"""One trace from POST /api/v1/quotes to the projection activity: FastAPI's server span →
the response's background task → the Temporal client's StartWorkflow → RunWorkflow →
StartActivity / RunActivity publish_quote → its SQL; and the activity's log line carries
that trace's id, the workflow id and the quote number. Run in a process of its own
(tests/deploy/tracing_probe.py): a tracer provider is global and set once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

pytestmark = pytest.mark.db
ROOT = Path(__file__).resolve().parents[2]


def _run_probe(database_url: str, temporal_address: str, home: Path) -> tuple[dict[str, Any], str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PROBE_TEMPORAL": temporal_address,
        "PROBE_HOME": str(home),
    }
    for name in [k for k in env if k.startswith("OTEL_")]:
        env.pop(name)  # the probe's in-memory exporter only
    done = subprocess.run(
        [sys.executable, "-m", "tests.deploy.tracing_probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_one_trace_from_the_request_to_the_projection_activity(
    database_url: str, dev_server_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    address = dev_server_env.client.service_client.config.target_host
    result, stderr = _run_probe(database_url, address, tmp_path)
    spans = result["spans"]
    request = next(s for s in spans if s["name"] == "POST /api/v1/quotes")
    trace = [s for s in spans if s["trace_id"] == request["trace_id"]]
    by_id = {s["span_id"]: s for s in trace}

    def chain(span: dict[str, Any]) -> list[str]:
        names = [span["name"]]
        while span["parent_id"] in by_id:
            span = by_id[span["parent_id"]]
            names.append(span["name"])
        return names

    activity = next(s for s in trace if s["name"] == "RunActivity:publish_quote")
    # The SDK's interceptor hangs a workflow's spans (each workflow task's RunWorkflow,
    # each StartActivity) under the client's StartWorkflow.
    assert chain(activity) == [
        "RunActivity:publish_quote",
        "StartActivity:publish_quote",
        "StartWorkflow:QuoteWorkflow",
        # The start runs after the commit, in the response's background task (a start
        # left to the API's sweep begins a trace of its own).
        "BackgroundTask start_quote_workflow",
        "POST /api/v1/quotes",
    ]
    run = next(s for s in trace if s["name"] == "RunWorkflow:QuoteWorkflow")
    assert chain(run)[1:] == [
        "StartWorkflow:QuoteWorkflow",
        "BackgroundTask start_quote_workflow",
        "POST /api/v1/quotes",
    ]
    # The activity's SQL is in the same trace, under the activity.
    sql = [s for s in trace if "RunActivity:publish_quote" in chain(s)[1:]]
    assert any(s["attributes"].get("db.system") == "postgresql" for s in sql), sql

    # Its log line: same trace id as the request, with the workflow and the quote number.
    lines = [json.loads(x) for x in stderr.splitlines() if x.startswith("{")]
    logged = [
        x for x in lines if x.get("event") == "activity" and x.get("activity") == "publish_quote"
    ]
    assert logged, stderr[-3000:]
    first = logged[0]
    assert first["trace_id"] == request["trace_id"]
    assert first["workflow_id"] == result["quote"]["workflow_id"]
    assert first["quote"] == result["quote"]["number"]
