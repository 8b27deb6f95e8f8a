"""Both /metrics after a quote's whole lifecycle on the real stack (`marketred dev`: API
and worker processes, Temporal dev server, Khipu sandbox, mail catcher): the API counts
the webhook outcomes (a forged one as bad_signature), the worker counts each transition
once, Khipu and SMTP calls, and exports the Temporal SDK's own metrics. Both need the
metrics token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import journey
from tests.support.ports import free_port
from tests.support.stack import RunningStack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.db]
TOKEN = "metrics-test-token-0123456789"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[RunningStack]:
    del database_url  # the stack brings its own embedded PostgreSQL
    overrides = {
        "MARKETRED_WORKER_HEALTH_PORT": str(free_port()),
        "MARKETRED_METRICS_TOKEN": TOKEN,
        "MARKETRED_OPS_GAUGES_SECONDS": "1",
    }
    with running_stack(Path(tmp_path_factory.mktemp("stack")), overrides=overrides) as running:
        yield running


def _scrape(url: str) -> Samples:
    r = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert r.status_code == 200, r.text
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples named `name` whose labels include `labels`."""
    return sum(
        v for (n, lbls), v in samples.items() if n == name and set(labels.items()) <= set(lbls)
    )


def _lifecycle(stack: RunningStack) -> None:
    with (
        httpx.Client(base_url=stack.base_url, timeout=30) as api,
        httpx.Client(base_url=stack.khipu_url, timeout=30) as khipu,
    ):
        buyer = journey.login(api, "comprador@marketred.cl")
        staff = journey.login(api, f"staff@{journey.SLUG}.cl")
        journey.fill_cart(api, buyer, journey.first_variant(api))
        r = api.post(
            "/api/v1/quotes",
            json={"vendor": journey.SLUG, "note": "metrics", "contact": {}},
            headers=buyer,
        )
        assert r.status_code == 201, r.text
        quote = r.json()
        qid = quote["id"]
        r = api.post(f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 0}, headers=staff)
        assert r.status_code == 200, r.text
        assert api.post(f"/api/v1/quotes/{qid}/pay", headers=buyer).status_code == 200
        journey.pay_at_khipu(khipu, quote["workflow_id"])
        journey.wait_status(api, qid, "PAID", buyer)
        journey.ship_and_deliver(api, qid, staff, buyer, "M1")
        # A forged notification: answered 401, counted as bad_signature.
        forged = api.post(
            "/webhooks/khipu",
            content=b'{"payment_id": "forged"}',
            headers={"x-khipu-signature": "t=1,s=AAAA", "content-type": "application/json"},
        )
        assert forged.status_code == 401


def test_both_metrics_endpoints_after_a_lifecycle(stack: RunningStack) -> None:
    api_url = f"{stack.base_url}/metrics"
    worker_url = f"http://127.0.0.1:{stack.env['MARKETRED_WORKER_HEALTH_PORT']}/metrics"
    # Not readable without the token.
    assert httpx.get(api_url, timeout=30).status_code == 401
    deadline = time.monotonic() + 120
    while True:  # the worker serves its health port once started
        try:
            assert httpx.get(worker_url, timeout=30).status_code == 401
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "worker health port never answered"
            time.sleep(0.5)

    worker_before, api_before = _scrape(worker_url), _scrape(api_url)
    _lifecycle(stack)
    deadline = time.monotonic() + 60
    while True:
        worker, api = _scrape(worker_url), _scrape(api_url)
        completed = _value(worker, "marketred_quote_transitions_total", transition="completed")
        done = _value(
            worker, "temporal_workflow_completed_total", workflow_type="QuoteWorkflow"
        ) - _value(
            worker_before, "temporal_workflow_completed_total", workflow_type="QuoteWorkflow"
        )
        if (
            completed
            - _value(worker_before, "marketred_quote_transitions_total", transition="completed")
            >= 1
            and done >= 1
        ):
            break
        assert time.monotonic() < deadline, "the worker never counted the completed quote"
        time.sleep(0.5)

    def delta(after: Samples, before: Samples, name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    # Business counters: each transition of this quote once (the projection counts rows
    # it writes the first time, so retries and replays do not count twice).
    for kind in ("requested", "accepted", "payment_started", "paid", "shipped", "delivered"):
        assert (
            delta(worker, worker_before, "marketred_quote_transitions_total", transition=kind) == 1
        ), kind
    assert (
        delta(worker, worker_before, "marketred_quote_transitions_total", transition="completed")
        == 1
    )
    assert (
        delta(worker, worker_before, "marketred_quote_transitions_total", transition="other") == 0
    )
    assert (
        delta(
            worker, worker_before, "marketred_khipu_request_seconds_count", operation="postPayment"
        )
        == 1
    )
    assert (
        delta(
            worker,
            worker_before,
            "marketred_khipu_request_seconds_count",
            operation="getPaymentById",
        )
        >= 1
    )
    assert delta(worker, worker_before, "marketred_smtp_send_seconds_count") >= 4
    assert _value(worker, "marketred_smtp_errors_total") == 0
    assert _value(worker, "marketred_holds_open", kind="payment") == 0
    assert ("marketred_indexer_outbox_pending", ()) in worker
    assert _value(worker, "marketred_quote_starts_pending") == 0
    # The SDK's own metrics, from the same scrape: one QuoteWorkflow completed, its
    # activities ran, tasks were polled from our queue.
    assert done == 1
    assert delta(worker, worker_before, "temporal_activity_execution_latency_count",
                 activity_type="publish_quote") >= 7  # fmt: skip
    assert _value(worker, "temporal_workflow_task_schedule_to_start_latency_count",
                  task_queue="marketred") > 0  # fmt: skip

    # The API: the forged webhook as bad_signature; the sandbox's real one received.
    assert (
        delta(
            api, api_before, "marketred_khipu_webhook_notifications_total", outcome="bad_signature"
        )
        == 1
    )
    assert (
        delta(api, api_before, "marketred_khipu_webhook_notifications_total", outcome="received")
        >= 1
    )
    assert delta(api, api_before, "marketred_http_requests_total", method="POST", status="401") >= 1
